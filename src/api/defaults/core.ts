/**
 * @module Defaulting for the core/v1 kinds, as upstream's pkg/apis/core/v1/defaults.go plus
 * the few normalisations its registry and conversion do before validation: Pod (spec and
 * Pod-only defaults), Namespace (name label, phase), Node (allocatable), Service (type,
 * session affinity, port protocol and targetPort, traffic policies, clusterIP/clusterIPs),
 * Endpoints (port protocol), Secret (type, `stringData` folded into `data`),
 * ReplicationController (selector, labels, replicas, template). Functions mutate in place.
 */
import type {
  Endpoints,
  Namespace,
  Node,
  Pod,
  ReplicationController,
  Secret,
  Service,
} from "../types/core-v1.ts";
import { defaultPodOnlyFields, defaultPodSpec, defaultPodTemplateSpec } from "./pod-spec.ts";

/** Pod: every pod-spec default, then what upstream defaults on Pods only. */
export function defaultPod(pod: Pod): void {
  pod.spec ??= { containers: [] };
  defaultPodSpec(pod.spec);
  defaultPodOnlyFields(pod.spec);
}

/** Label upstream puts on every named namespace. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** Namespace: the `kubernetes.io/metadata.name` label and phase Active. */
export function defaultNamespace(ns: Namespace): void {
  if (ns.metadata.name) {
    ns.metadata.labels = { ...ns.metadata.labels, [NAMESPACE_NAME_LABEL]: ns.metadata.name };
  }
  ns.status ??= {};
  if (!ns.status.phase) ns.status.phase = "Active";
}

/** Node: allocatable copied from capacity when unset. */
export function defaultNode(node: Node): void {
  const status = node.status;
  if (status?.capacity && !status.allocatable) status.allocatable = { ...status.capacity };
}

/** Upstream's DefaultClientIPServiceAffinitySeconds (three hours). */
export const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;

function externallyAccessible(svc: Service): boolean {
  const t = svc.spec?.type;
  return (
    t === "LoadBalancer" ||
    t === "NodePort" ||
    (t === "ClusterIP" && (svc.spec?.externalIPs?.length ?? 0) > 0)
  );
}

/**
 * Service: type ClusterIP, sessionAffinity None (ClientIP gets a 10800 s timeout), port
 * protocol TCP and targetPort = port, externalTrafficPolicy Cluster when externally
 * reachable, internalTrafficPolicy Cluster, allocateLoadBalancerNodePorts for LoadBalancer,
 * and `clusterIP`/`clusterIPs` kept in step as upstream's registry does. ipFamilies are left
 * to the IP allocator.
 */
export function defaultService(svc: Service): void {
  const spec = (svc.spec ??= {});
  if (!spec.sessionAffinity) spec.sessionAffinity = "None";
  if (spec.sessionAffinity === "None") delete spec.sessionAffinityConfig;
  if (
    spec.sessionAffinity === "ClientIP" &&
    spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined
  ) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_AFFINITY_SECONDS } };
  }
  if (!spec.type) spec.type = "ClusterIP";
  for (const p of spec.ports ?? []) {
    if (!p.protocol) p.protocol = "TCP";
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === "") {
      p.targetPort = p.port;
    }
  }
  if (externallyAccessible(svc) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = "Cluster";
  if (!spec.internalTrafficPolicy && ["NodePort", "LoadBalancer", "ClusterIP"].includes(spec.type)) {
    spec.internalTrafficPolicy = "Cluster";
  }
  if (spec.type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts === undefined) {
    spec.allocateLoadBalancerNodePorts = true;
  }
  if (spec.type !== "ExternalName") {
    if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
    else if (!spec.clusterIP && spec.clusterIPs?.length) spec.clusterIP = spec.clusterIPs[0];
  }
}

/**
 * On update, carries over what the server allocated when the new object leaves it out (a PUT
 * of a manifest without `clusterIP` or `nodePort`), as upstream's registry patchAllocatedValues
 * does before validation: clusterIP(s), nodePorts matched by port and protocol, and
 * healthCheckNodePort.
 */
export function patchAllocatedServiceValues(svc: Service, old: Service): void {
  const spec = (svc.spec ??= {});
  const oldSpec = old.spec ?? {};
  const needsClusterIP = (t: string | undefined): boolean => t !== "ExternalName";
  if (needsClusterIP(spec.type) && needsClusterIP(oldSpec.type)) {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (!spec.clusterIPs?.length && oldSpec.clusterIPs?.length && spec.clusterIP === oldSpec.clusterIPs[0]) {
      spec.clusterIPs = [...oldSpec.clusterIPs];
    }
  }
  const needsNodePort = (t: string | undefined): boolean => t === "NodePort" || t === "LoadBalancer";
  if (needsNodePort(spec.type) && needsNodePort(oldSpec.type)) {
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      const match = (oldSpec.ports ?? []).find(
        (o) => o.port === p.port && (o.protocol ?? "TCP") === (p.protocol ?? "TCP"),
      );
      if (match?.nodePort) p.nodePort = match.nodePort;
    }
  }
  if (!spec.healthCheckNodePort && oldSpec.healthCheckNodePort && spec.externalTrafficPolicy === "Local") {
    spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
  }
}

/**
 * On update, drops what the old type needed and the new one does not, when the writer left it
 * unchanged (a `kubectl patch` of `type` alone), as upstream's dropTypeDependentFields: the
 * cluster IPs when turning into ExternalName, node ports when leaving NodePort/LoadBalancer,
 * and the LoadBalancer-only fields.
 */
export function dropTypeDependentServiceFields(svc: Service, old: Service): void {
  const spec = svc.spec;
  const oldSpec = old.spec;
  if (!spec || !oldSpec) return;
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (
    oldSpec.type !== "ExternalName" &&
    spec.type === "ExternalName" &&
    same(spec.clusterIPs, oldSpec.clusterIPs)
  ) {
    delete spec.clusterIP;
    delete spec.clusterIPs;
    delete spec.ipFamilies;
    delete spec.ipFamilyPolicy;
  }
  const needsNodePort = (t: string | undefined): boolean => t === "NodePort" || t === "LoadBalancer";
  const ports = (s: typeof spec): (number | undefined)[] => (s.ports ?? []).map((p) => p.nodePort);
  if (needsNodePort(oldSpec.type) && !needsNodePort(spec.type) && same(ports(spec), ports(oldSpec))) {
    for (const p of spec.ports ?? []) delete p.nodePort;
  }
  const external = (x: typeof spec): boolean => needsNodePort(x.type) || (x.externalIPs?.length ?? 0) > 0;
  if (external(oldSpec) && !external(spec) && spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) {
    delete spec.externalTrafficPolicy;
  }
  if (oldSpec.type === "LoadBalancer" && spec.type !== "LoadBalancer") {
    if (spec.healthCheckNodePort === oldSpec.healthCheckNodePort) delete spec.healthCheckNodePort;
    if (spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts)
      delete spec.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
  }
}

/** Endpoints: port protocol TCP. */
export function defaultEndpoints(ep: Endpoints): void {
  for (const ss of ep.subsets ?? []) for (const p of ss.ports ?? []) if (!p.protocol) p.protocol = "TCP";
}

/**
 * Secret: type Opaque, and `stringData` merged into `data` (base64-encoded, overriding keys
 * of the same name) and dropped, as upstream's conversion does on write.
 */
export function defaultSecret(secret: Secret): void {
  if (!secret.type) secret.type = "Opaque";
  if (secret.stringData) {
    const data = (secret.data ??= {});
    for (const [k, v] of Object.entries(secret.stringData))
      data[k] = Buffer.from(v, "utf8").toString("base64");
    delete secret.stringData;
  }
}

/**
 * ReplicationController: selector and labels taken from the template labels when empty,
 * replicas 1, and the template's pod-spec defaults.
 */
export function defaultReplicationController(rc: ReplicationController): void {
  const spec = (rc.spec ??= {});
  const labels = spec.template?.metadata?.labels;
  if (labels) {
    if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
    if (!rc.metadata.labels || Object.keys(rc.metadata.labels).length === 0)
      rc.metadata.labels = { ...labels };
  }
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  if (spec.template) defaultPodTemplateSpec(spec.template);
}
