/**
 * @module What the Endpoints and EndpointSlice controllers share about pods and services
 * (upstream's endpointslice util package): whether a pod belongs in a service's endpoints,
 * its readiness, named targetPort resolution, hostnames for subdomain services, which pod
 * changes matter, the services a pod belongs to (by namespace, through a compiled selector
 * cache), and the last-change-trigger-time tracker.
 */
import { selectorFromSet, type Selector } from "../../api/labels.ts";
import type { Pod, Service, ServicePort } from "../../api/types/core-v1.ts";
import { isPodReady } from "../util/pod-util.ts";
import type { Informer } from "../../client/informer.ts";

/** Annotation with the time of the oldest change the endpoints reflect. */
export const TRIGGER_TIME_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time";
/** Label set on endpoints of headless services. */
export const HEADLESS_LABEL = "service.kubernetes.io/headless";

export { isPodReady };

/**
 * Upstream's ShouldPodBeInEndpoints: the pod is not terminal (Succeeded or Failed), has an
 * IP, and is not terminating unless `includeTerminating`.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return false;
  if (!podIP(pod)) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** The pod's primary IP. */
export function podIP(pod: Pod): string | undefined {
  return pod.status?.podIP || pod.status?.podIPs?.[0]?.ip || undefined;
}

/** Whether a pod gets a hostname in a service's endpoints (`spec.hostname` and matching `spec.subdomain`). */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return (
    !!pod.spec?.hostname &&
    pod.spec.subdomain === svc.metadata.name &&
    svc.metadata.namespace === pod.metadata.namespace
  );
}

/**
 * The container port a service port targets on a pod: a number is used as is; a name is
 * looked up among the containers' ports with the same protocol. Undefined when not found.
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === "number") return target;
  const asNumber = /^\d+$/.test(target) ? Number(target) : undefined;
  if (asNumber !== undefined) return asNumber;
  const protocol = sp.protocol ?? "TCP";
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? "TCP") === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** Whether a pod change can change any endpoints (upstream's podEndpointsChanged, plus labels). */
export function podEndpointsChanged(a: Pod, b: Pod): boolean {
  if (isPodReady(a) !== isPodReady(b)) return true;
  if (podIP(a) !== podIP(b)) return true;
  if (!!a.metadata.deletionTimestamp !== !!b.metadata.deletionTimestamp) return true;
  if (a.status?.phase !== b.status?.phase) return true;
  if (a.spec?.nodeName !== b.spec?.nodeName) return true;
  if (a.spec?.hostname !== b.spec?.hostname || a.spec?.subdomain !== b.spec?.subdomain) return true;
  if (!sameLabels(a.metadata.labels, b.metadata.labels)) return true;
  return false;
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === b) return true;
  const ka = a ? Object.keys(a) : [];
  const kb = b ? Object.keys(b) : [];
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (a![k] !== b?.[k]) return false;
  return true;
}

/** Compiled selectors of services, cached per cached service object. */
const selectorCache = new WeakMap<Service, Selector>();

/** The compiled selector of a service with one (undefined for selectorless services). */
export function serviceSelector(svc: Service): Selector | undefined {
  const set = svc.spec?.selector;
  if (!set) return undefined;
  let sel = selectorCache.get(svc);
  if (!sel) {
    sel = selectorFromSet(set);
    selectorCache.set(svc, sel);
  }
  return sel;
}

/** The services in the pod's namespace whose selector matches it (only that namespace is scanned). */
export function servicesForPod(services: Informer<Service>, pod: Pod): Service[] {
  const out: Service[] = [];
  const labels = pod.metadata.labels ?? {};
  for (const svc of services.byIndex("namespace", pod.metadata.namespace ?? "")) {
    const sel = serviceSelector(svc);
    if (sel && !sel.empty() && sel.matches(labels)) out.push(svc);
  }
  return out;
}

/** The pods in a service's namespace that its selector matches. */
export function podsForService(pods: Informer<Pod>, svc: Service): Pod[] {
  const sel = serviceSelector(svc);
  if (!sel || sel.empty()) return [];
  return pods
    .byIndex("namespace", svc.metadata.namespace ?? "")
    .filter((p) => sel.matches(p.metadata.labels ?? {}));
}

/** When a pod last changed in a way endpoints see: its Ready transition, else its creation. */
function podTriggerTime(pod: Pod): string | undefined {
  const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
  return ready?.lastTransitionTime ?? pod.metadata.creationTimestamp;
}

/**
 * Upstream's TriggerTimeTracker: remembers, per service, the trigger times of its pods (and
 * of the service) at the last sync, and reports the earliest among those that changed since —
 * the `last-change-trigger-time` annotation.
 */
export class TriggerTimeTracker {
  private readonly state = new Map<string, { pods: Map<string, string>; service: string | undefined }>();

  /** The trigger time for this sync, or undefined when nothing changed. */
  compute(key: string, svc: Service, pods: readonly Pod[]): string | undefined {
    const prev = this.state.get(key);
    const next = new Map<string, string>();
    let min: string | undefined;
    const consider = (t: string | undefined): void => {
      if (t && (min === undefined || Date.parse(t) < Date.parse(min))) min = t;
    };
    for (const pod of pods) {
      const t = podTriggerTime(pod);
      if (!t) continue;
      next.set(pod.metadata.name!, t);
      if (prev?.pods.get(pod.metadata.name!) !== t) consider(t);
    }
    const svcTime = svc.metadata.creationTimestamp;
    if (!prev || prev.service !== svcTime) consider(svcTime);
    this.state.set(key, { pods: next, service: svcTime });
    return min;
  }

  delete(key: string): void {
    this.state.delete(key);
  }
}
