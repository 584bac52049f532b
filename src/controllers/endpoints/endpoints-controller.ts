/**
 * @module The Endpoints controller (upstream's endpoint-controller): for every Service with a
 * selector, an Endpoints object of the same name listing the matching pods' addresses —
 * ready ones in `addresses`, the others in `notReadyAddresses` (all in `addresses` with
 * `publishNotReadyAddresses`) — per port, with named targetPorts resolved per pod, packed
 * into subsets of ports sharing the same addresses. Services without a selector are left
 * alone; a deleted Service's Endpoints are deleted. At most 1,000 addresses are kept (the
 * object is then annotated `endpoints.kubernetes.io/over-capacity: truncated`).
 */
import { deepEqual } from "../../api/meta.ts";
import { isNotFound } from "../../api/status-error.ts";
import type {
  EndpointAddress,
  EndpointPort,
  Endpoints,
  EndpointSubset,
  Pod,
  Service,
} from "../../api/types/core-v1.ts";
import type { Request } from "../../client/controller.ts";
import type { Informer } from "../../client/informer.ts";
import type { Client } from "../../client/types.ts";
import {
  findPort,
  HEADLESS_LABEL,
  isPodReady,
  podEndpointsChanged,
  podIP,
  podsForService,
  servicesForPod,
  shouldPodBeInEndpoints,
  shouldSetHostname,
  TriggerTimeTracker,
  TRIGGER_TIME_ANNOTATION,
} from "./endpoints-pod-util.ts";

/** Upstream's maxCapacity of one Endpoints object. */
export const MAX_ENDPOINTS_CAPACITY = 1000;
const OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity";

export interface EndpointsControllerConfig {
  client: Client;
  services: Informer<Service>;
  pods: Informer<Pod>;
  endpoints: Informer<Endpoints>;
}

interface PortGroup {
  port: EndpointPort;
  ready: Map<string, EndpointAddress>;
  notReady: Map<string, EndpointAddress>;
}

/** The address key: IP plus target uid (upstream orders addresses by both). */
const addrKey = (a: EndpointAddress): string => `${a.ip}|${a.targetRef?.uid ?? ""}`;
const portKey = (p: EndpointPort): string =>
  `${p.name ?? ""}|${p.port}|${p.protocol ?? "TCP"}|${p.appProtocol ?? ""}`;

function compareAddr(a: EndpointAddress, b: EndpointAddress): number {
  return a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : (a.targetRef?.uid ?? "").localeCompare(b.targetRef?.uid ?? "");
}

function comparePort(a: EndpointPort, b: EndpointPort): number {
  return (
    (a.name ?? "").localeCompare(b.name ?? "") ||
    a.port - b.port ||
    (a.protocol ?? "").localeCompare(b.protocol ?? "")
  );
}

/**
 * The subsets for a service and its pods, as upstream's syncService then RepackSubsets:
 * ports that share exactly the same addresses are one subset; addresses and ports sorted.
 * Returns the subsets and the total address count before truncation.
 */
export function computeSubsets(
  svc: Service,
  pods: readonly Pod[],
): { subsets: EndpointSubset[]; total: number } {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const headless = svc.spec?.clusterIP === "None";
  const servicePorts = svc.spec?.ports ?? [];
  const groups = new Map<string, PortGroup>();
  const portless: { ready: Map<string, EndpointAddress>; notReady: Map<string, EndpointAddress> } = {
    ready: new Map(),
    notReady: new Map(),
  };
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const addr: EndpointAddress = {
      ip: podIP(pod)!,
      ...(shouldSetHostname(pod, svc) ? { hostname: pod.spec!.hostname! } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: {
        kind: "Pod",
        namespace: pod.metadata.namespace!,
        name: pod.metadata.name!,
        uid: pod.metadata.uid!,
      },
    };
    const ready = tolerateUnready || isPodReady(pod);
    if (servicePorts.length === 0) {
      // Headless services without ports still list their pods' addresses.
      if (headless) (ready ? portless.ready : portless.notReady).set(addrKey(addr), addr);
      continue;
    }
    for (const sp of servicePorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = {
        ...(sp.name ? { name: sp.name } : {}),
        port,
        protocol: sp.protocol ?? "TCP",
        ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
      };
      const k = portKey(ep);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { port: ep, ready: new Map(), notReady: new Map() }));
      (ready ? g.ready : g.notReady).set(addrKey(addr), addr);
    }
  }
  // Ports sharing the same address sets make one subset.
  const subsets = new Map<
    string,
    { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }
  >();
  for (const g of groups.values()) {
    const ready = [...g.ready.values()].sort(compareAddr);
    const notReady = [...g.notReady.values()].sort(compareAddr);
    const k = `${ready.map(addrKey).join(",")}/${notReady.map(addrKey).join(",")}`;
    const s = subsets.get(k);
    if (s) s.ports.push(g.port);
    else subsets.set(k, { ports: [g.port], ready, notReady });
  }
  if (portless.ready.size + portless.notReady.size > 0) {
    subsets.set("", {
      ports: [],
      ready: [...portless.ready.values()].sort(compareAddr),
      notReady: [...portless.notReady.values()].sort(compareAddr),
    });
  }
  const out: EndpointSubset[] = [];
  let total = 0;
  for (const s of subsets.values()) {
    s.ports.sort(comparePort);
    total += s.ready.length + s.notReady.length;
    out.push({
      ...(s.ready.length ? { addresses: s.ready } : {}),
      ...(s.notReady.length ? { notReadyAddresses: s.notReady } : {}),
      ...(s.ports.length ? { ports: s.ports } : {}),
    });
  }
  out.sort((a, b) => subsetOrder(a).localeCompare(subsetOrder(b)));
  return { subsets: truncate(out, total), total };
}

function subsetOrder(s: EndpointSubset): string {
  const p = s.ports?.[0];
  const a = s.addresses?.[0] ?? s.notReadyAddresses?.[0];
  return `${p ? portKey(p) : ""}#${a ? addrKey(a) : ""}`;
}

/** Keeps at most MAX_ENDPOINTS_CAPACITY addresses, ready ones first, each subset in proportion. */
function truncate(subsets: EndpointSubset[], total: number): EndpointSubset[] {
  if (total <= MAX_ENDPOINTS_CAPACITY) return subsets;
  let budget = MAX_ENDPOINTS_CAPACITY;
  return subsets.map((s, i) => {
    const n = (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0);
    const share =
      i === subsets.length - 1 ? budget : Math.min(budget, Math.floor((n * MAX_ENDPOINTS_CAPACITY) / total));
    budget -= share;
    const ready = (s.addresses ?? []).slice(0, share);
    const notReady = (s.notReadyAddresses ?? []).slice(0, share - ready.length);
    return {
      ...(ready.length ? { addresses: ready } : {}),
      ...(notReady.length ? { notReadyAddresses: notReady } : {}),
      ...(s.ports ? { ports: s.ports } : {}),
    };
  });
}

export class EndpointsReconciler {
  private readonly tracker = new TriggerTimeTracker();

  constructor(private readonly config: EndpointsControllerConfig) {}

  /** Services queue themselves; pods queue the services of their namespace that select them. */
  register(enqueue: (key: string) => void): void {
    const { services, pods, endpoints } = this.config;
    const key = (o: { metadata: { namespace?: string; name?: string } }) =>
      `${o.metadata.namespace}/${o.metadata.name}`;
    services.addHandlers({
      add: (s) => enqueue(key(s)),
      update: (_, s) => enqueue(key(s)),
      delete: (s) => enqueue(key(s)),
    });
    const podChanged = (pod: Pod) => {
      for (const svc of servicesForPod(services, pod)) enqueue(key(svc));
    };
    pods.addHandlers({
      add: podChanged,
      update: (old, cur) => {
        if (!podEndpointsChanged(old, cur)) return;
        podChanged(cur);
        // A pod whose labels changed may have left some services.
        if (!deepEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {})) podChanged(old);
      },
      delete: podChanged,
    });
    endpoints.addHandlers({
      // Endpoints deleted by someone else are put back.
      delete: (ep) => enqueue(key(ep)),
    });
  }

  async reconcile(req: Request): Promise<void> {
    const { client, services, pods, endpoints } = this.config;
    const epClient = client.resource<Endpoints>("", "endpoints");
    const key = `${req.namespace}/${req.name}`;
    const svc = services.get(req.namespace, req.name);
    if (!svc) {
      this.tracker.delete(key);
      if (!endpoints.get(req.namespace, req.name)) return;
      await epClient.delete(req.namespace, req.name).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
      return;
    }
    if (!svc.spec?.selector || svc.spec.type === "ExternalName") return;
    const selected = podsForService(pods, svc);
    const { subsets, total } = computeSubsets(svc, selected);
    const triggerTime = this.tracker.compute(key, svc, selected);

    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    if (svc.spec.clusterIP === "None") labels[HEADLESS_LABEL] = "";
    else delete labels[HEADLESS_LABEL];
    const overCapacity = total > MAX_ENDPOINTS_CAPACITY;

    const current = endpoints.get(req.namespace, req.name);
    if (!current) {
      const annotations: Record<string, string> = {};
      if (triggerTime) annotations[TRIGGER_TIME_ANNOTATION] = triggerTime;
      if (overCapacity) annotations[OVER_CAPACITY_ANNOTATION] = "truncated";
      // AlreadyExists (our cache lags) throws: the retry compares against the cached object.
      await epClient.create({
        apiVersion: "v1",
        kind: "Endpoints",
        metadata: {
          name: req.name,
          namespace: req.namespace,
          labels,
          ...(Object.keys(annotations).length ? { annotations } : {}),
        },
        subsets,
      });
      return;
    }
    const capacityOk =
      (current.metadata.annotations?.[OVER_CAPACITY_ANNOTATION] === "truncated") === overCapacity;
    if (
      deepEqual(current.subsets ?? [], subsets) &&
      deepEqual(current.metadata.labels ?? {}, labels) &&
      capacityOk
    ) {
      return;
    }
    const next = structuredClone(current);
    next.subsets = subsets;
    next.metadata.labels = labels;
    const annotations = { ...(next.metadata.annotations ?? {}) };
    if (triggerTime) annotations[TRIGGER_TIME_ANNOTATION] = triggerTime;
    if (overCapacity) annotations[OVER_CAPACITY_ANNOTATION] = "truncated";
    else delete annotations[OVER_CAPACITY_ANNOTATION];
    next.metadata.annotations = annotations;
    await epClient.update(next);
  }
}
