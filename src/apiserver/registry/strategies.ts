/**
 * @module What some kinds do differently from the generic store, as upstream's per-kind
 * registry strategies: pods delete gracefully and start Pending with a QoS class; namespaces
 * start Active. Everything not listed here uses the generic behaviour.
 */
import type { KindInfo } from "../../api/kinds.ts";
import type { KubeObject } from "../../api/object.ts";
import { cmp, parseQuantity, type Quantity } from "../../api/quantity.ts";
import { patchAllocatedServiceValues } from "../../api/defaults/core.ts";
import type { Pod, Service } from "../../api/types/core-v1.ts";

export interface KindStrategy {
  /** Deletes with a grace period (deletionTimestamp first, removal later). */
  graceful?: boolean;
  /** The grace period for a delete, given the request's. */
  gracePeriod?(obj: KubeObject, requested: number | undefined): number | undefined;
  prepareForCreate?(obj: KubeObject): void;
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
}

/** A resource amount, or undefined when absent, zero or unparsable (validation reports those). */
function amount(v: unknown): Quantity | undefined {
  if (v === undefined || v === null) return undefined;
  try {
    const q = parseQuantity(v as string | number);
    return q.isZero() ? undefined : q;
  } catch {
    return undefined;
  }
}

/**
 * Upstream's QoS class (GetPodQOS): BestEffort when no container asks for or limits cpu or
 * memory; Guaranteed when every container limits both and every request equals its limit;
 * Burstable otherwise. Amounts compare as quantities (`1` equals `1000m`).
 */
export function podQOSClass(pod: Pod): "Guaranteed" | "Burstable" | "BestEffort" {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ["cpu", "memory"]) {
      const rq = amount(req[r]);
      const lm = amount(lim[r]);
      if (rq || lm) any = true;
      if (!lm || (rq && cmp(rq, lm) !== 0)) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

const podStrategy: KindStrategy = {
  graceful: true,
  gracePeriod(obj, requested) {
    const pod = obj as unknown as Pod;
    // Unbound or finished pods have nothing to stop: they go at once, as upstream.
    if (!pod.spec?.nodeName) return 0;
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") return 0;
    return requested ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  },
  prepareForCreate(obj) {
    const pod = obj as unknown as Pod;
    pod.status = { phase: "Pending", qosClass: podQOSClass(pod) };
  },
};

const namespaceStrategy: KindStrategy = {
  prepareForCreate(obj) {
    obj.status = { phase: "Active" };
  },
};

const serviceStrategy: KindStrategy = {
  // A PUT that omits allocated values (clusterIP, nodePorts) keeps them, as upstream.
  prepareForUpdate(obj, old) {
    patchAllocatedServiceValues(obj as unknown as Service, old as unknown as Service);
  },
};

const NONE: KindStrategy = {};

/** The strategy for a kind. */
export function strategyFor(info: KindInfo): KindStrategy {
  if (info.group === "" && info.kind === "Pod") return podStrategy;
  if (info.group === "" && info.kind === "Namespace") return namespaceStrategy;
  if (info.group === "" && info.kind === "Service") return serviceStrategy;
  return NONE;
}
