/**
 * @module What the service proxy needs from a Service and its EndpointSlices, reduced to
 * one record per service port (upstream kube-proxy's ServicePort + Endpoints): the
 * addresses it is reached on (cluster IP, external IPs, load-balancer IPs, node port), the
 * session affinity, and the usable endpoints with the port resolved for *this* service port
 * (slice ports are matched to service ports by name and protocol; the slice carries the
 * number a named targetPort resolved to per pod). Pure functions, no I/O.
 */
import type { Service, ServicePort } from "../api/types/core-v1.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";

/** Label on a Service that hands it to another proxy implementation (upstream's). */
export const SERVICE_PROXY_NAME_LABEL = "service.kubernetes.io/service-proxy-name";
/** Label joining an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
/** Default `sessionAffinityConfig.clientIP.timeoutSeconds` (3 hours), as upstream. */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

export type L4Protocol = "tcp" | "udp" | "sctp";

/** One endpoint address and port for one service port. */
export interface ProxyEndpoint {
  ip: string;
  port: number;
}

/** One port of one Service, with everything the rules are made of. */
export interface ServicePortInfo {
  /** `namespace/name` of the Service. */
  service: string;
  /** The port's name ("" for an unnamed single port). */
  portName: string;
  protocol: L4Protocol;
  /** `namespace/name/protocol/portName`, the stem of every chain name. */
  nameString: string;
  clusterIP: string | undefined;
  port: number;
  /** Set for NodePort and LoadBalancer Services that have one. */
  nodePort: number | undefined;
  externalIPs: string[];
  /** `status.loadBalancer.ingress[].ip` (IPv4, not ipMode Proxy). */
  loadBalancerIPs: string[];
  /** ClientIP affinity timeout in seconds; undefined without session affinity. */
  affinityTimeoutSeconds: number | undefined;
  /** Usable endpoints, sorted and de-duplicated. */
  endpoints: ProxyEndpoint[];
  /**
   * The usable endpoints on this node (ready ones; when none, serving-and-terminating
   * ones), for the Local traffic policies; empty when neither policy is Local.
   */
  localEndpoints: ProxyEndpoint[];
  /** `internalTrafficPolicy: Local`: cluster-IP traffic only to local endpoints. */
  internalLocal: boolean;
  /**
   * `externalTrafficPolicy: Local` on an externally reachable Service (NodePort,
   * LoadBalancer or external IPs): external traffic only to local endpoints, source kept.
   */
  externalLocal: boolean;
}

/** Which node the proxy runs on; undefined: every endpoint counts as local (one node). */
export type LocalNode = string | undefined;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** True for a dotted-quad IPv4 address (the only family this proxy programs). */
export function isIPv4(s: string | undefined): s is string {
  const m = s ? IPV4.exec(s) : null;
  return !!m && m.slice(1).every((p) => Number(p) <= 255);
}

/** Whether the proxy ignores this Service (headless, ExternalName, or another proxy's). */
export function skipService(svc: Service): boolean {
  if (svc.metadata.labels?.[SERVICE_PROXY_NAME_LABEL] !== undefined) return true;
  const spec = svc.spec;
  if (!spec || spec.type === "ExternalName") return true;
  const ip = spec.clusterIP;
  return !ip || ip === "None";
}

function protocolOf(p: string | undefined): L4Protocol | undefined {
  switch (p ?? "TCP") {
    case "TCP":
      return "tcp";
    case "UDP":
      return "udp";
    case "SCTP":
      return "sctp";
    default:
      return undefined;
  }
}

function compareIPv4(a: string, b: string): number {
  const pa = a.split(".");
  const pb = b.split(".");
  for (let i = 0; i < 4; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d;
  }
  return 0;
}

interface Candidates {
  ready: Map<string, ProxyEndpoint>;
  terminating: Map<string, ProxyEndpoint>;
}

function sortedChoice(c: Candidates): ProxyEndpoint[] {
  const chosen = c.ready.size > 0 ? c.ready : c.terminating;
  return [...chosen.values()].sort((a, b) => compareIPv4(a.ip, b.ip) || a.port - b.port);
}

/**
 * The usable endpoints of one service port across the Service's slices, for all nodes and
 * for this node only (`local`; computed when `wantLocal`): ready endpoints
 * (`conditions.ready` true or absent, not terminating); when there are none, the
 * serving-and-terminating ones instead (upstream's ProxyTerminatingEndpoints behaviour, so
 * connections still land while a rollout drains the last pods), each list on its own.
 */
export function categorizeEndpoints(
  slices: readonly EndpointSlice[],
  portName: string,
  protocol: L4Protocol,
  wantLocal: boolean,
  node: LocalNode,
): { cluster: ProxyEndpoint[]; local: ProxyEndpoint[] } {
  const all: Candidates = { ready: new Map(), terminating: new Map() };
  const local: Candidates = { ready: new Map(), terminating: new Map() };
  for (const slice of slices) {
    if (slice.addressType !== "IPv4") continue;
    const sp = slice.ports?.find((p) => (p.name ?? "") === portName && protocolOf(p.protocol) === protocol);
    const port = sp?.port;
    if (port === undefined || port <= 0) continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (!isIPv4(ip)) continue;
      const c = ep.conditions ?? {};
      const isReady = c.ready !== false;
      const isTerminating = c.terminating === true;
      const key = `${ip}:${port}`;
      let into: "ready" | "terminating" | undefined;
      if (isReady && !isTerminating) into = "ready";
      else if (isTerminating && (c.serving ?? isReady)) into = "terminating";
      if (!into) continue;
      const e = { ip, port };
      all[into].set(key, e);
      if (wantLocal && (node === undefined || ep.nodeName === node)) local[into].set(key, e);
    }
  }
  return { cluster: sortedChoice(all), local: wantLocal ? sortedChoice(local) : [] };
}

/** The usable endpoints of one service port on all nodes (see categorizeEndpoints). */
export function endpointsFor(
  slices: readonly EndpointSlice[],
  portName: string,
  protocol: L4Protocol,
): ProxyEndpoint[] {
  return categorizeEndpoints(slices, portName, protocol, false, undefined).cluster;
}

function portInfo(
  svc: Service,
  sp: ServicePort,
  slices: readonly EndpointSlice[],
  node: LocalNode,
): ServicePortInfo | undefined {
  const protocol = protocolOf(sp.protocol);
  if (!protocol) return undefined;
  const spec = svc.spec!;
  const service = `${svc.metadata.namespace ?? ""}/${svc.metadata.name ?? ""}`;
  const portName = sp.name ?? "";
  const clusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP];
  const type = spec.type ?? "ClusterIP";
  const external = type === "NodePort" || type === "LoadBalancer";
  const lbIPs =
    type === "LoadBalancer"
      ? (svc.status?.loadBalancer?.ingress ?? [])
          .filter((i) => i.ipMode !== "Proxy")
          .map((i) => i.ip)
          .filter(isIPv4)
      : [];
  const nodePort = external && sp.nodePort ? sp.nodePort : undefined;
  const externalIPs = [...new Set((spec.externalIPs ?? []).filter(isIPv4))];
  const internalLocal = spec.internalTrafficPolicy === "Local";
  const externalLocal = spec.externalTrafficPolicy === "Local" && (external || externalIPs.length > 0);
  const eps = categorizeEndpoints(slices, portName, protocol, internalLocal || externalLocal, node);
  return {
    service,
    portName,
    protocol,
    nameString: `${service}/${protocol}/${portName}`,
    clusterIP: clusterIPs.find(isIPv4),
    port: sp.port,
    nodePort,
    externalIPs,
    loadBalancerIPs: [...new Set(lbIPs)],
    affinityTimeoutSeconds:
      spec.sessionAffinity === "ClientIP"
        ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS)
        : undefined,
    endpoints: eps.cluster,
    localEndpoints: eps.local,
    internalLocal,
    externalLocal,
  };
}

/**
 * The ports of `svc` as the proxy programs them, given the EndpointSlices labelled with its
 * name (other slices are ignored) and the proxy's node (endpoints whose `nodeName` is this
 * node are local; undefined: all are). Empty for Services the proxy skips.
 */
export function servicePorts(
  svc: Service,
  slices: readonly EndpointSlice[],
  node?: LocalNode,
): ServicePortInfo[] {
  if (skipService(svc)) return [];
  const name = svc.metadata.name;
  const own = slices.filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name);
  const out: ServicePortInfo[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const info = portInfo(svc, sp, own, node);
    if (info) out.push(info);
  }
  return out;
}
