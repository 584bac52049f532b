/**
 * @module What some kinds do differently from the generic store, as upstream's per-kind
 * registry strategies: pods delete gracefully and start Pending with a QoS class; namespaces
 * start Active and go Terminating until their finalizers are done. Everything not listed here uses the generic behaviour.
 */
import type { KindInfo } from "../../api/kinds.ts";
import type { KubeObject } from "../../api/object.ts";
import { formatTimestamp } from "../../api/meta.ts";
import { cmp, parseQuantity, type Quantity } from "../../api/quantity.ts";
import { dropTypeDependentServiceFields, patchAllocatedServiceValues } from "../../api/defaults/core.ts";
import { invalid } from "../../api/status-error.ts";
import { AllocationError, type Allocation, type ServiceAllocator } from "./service-allocator.ts";
import { defaultJob } from "../../api/defaults/batch.ts";
import type { Job } from "../../api/types/batch-v1.ts";
import type { Pod, Service } from "../../api/types/core-v1.ts";

export interface KindStrategy {
  /** A create keeps the status it was sent although status is a subresource (nodes, as upstream). */
  keepsStatusOnCreate?: boolean;
  /** Deletes with a grace period (deletionTimestamp first, removal later). */
  graceful?: boolean;
  /** The grace period for a delete, given the request's. */
  gracePeriod?(obj: KubeObject, requested: number | undefined): number | undefined;
  prepareForCreate?(obj: KubeObject): void;
  /** `subresource` is "status", "finalize", … or undefined for the main resource. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, subresource: string | undefined): void;
  /**
   * Called on DELETE before the generic logic: returns the object to store instead of
   * deleting it (the deletion must wait, e.g. for a namespace's spec.finalizers), or
   * undefined to go on with the generic delete.
   */
  holdDelete?(obj: KubeObject, now: Date): KubeObject | undefined;
  /** Whether an object marked for deletion with no metadata finalizers left may go (default yes). */
  mayRemove?(obj: KubeObject): boolean;
  /** Mutating admission on create, after the prepare step and before validation (pods' priority). */
  admit?(obj: KubeObject): Promise<void>;
  /**
   * Reserves what the server hands out (a Service's cluster IP and node ports) after the
   * strategy's prepare step and before validation; the store commits it once the write is
   * stored and rolls it back otherwise (and always on a dry run).
   */
  allocate?(obj: KubeObject, old: KubeObject | undefined): Promise<Allocation>;
  /** The object was removed from the datastore. */
  removed?(obj: KubeObject): void;
}

/**
 * Upstream's DefaultTolerationSeconds admission: a new pod tolerates the not-ready and
 * unreachable NoExecute taints for 300 s unless it already says how it tolerates them.
 */
function addDefaultTolerations(pod: Pod): void {
  const spec = pod.spec;
  if (!spec) return;
  const tolerations = [...(spec.tolerations ?? [])];
  for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
    const covered = tolerations.some(
      (t) =>
        (t.key === key || (!t.key && t.operator === "Exists")) && (!t.effect || t.effect === "NoExecute"),
    );
    if (!covered) tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
  }
  spec.tolerations = tolerations;
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
    addDefaultTolerations(pod);
    pod.status = { phase: "Pending", qosClass: podQOSClass(pod) };
  },
};

type NamespaceLike = KubeObject & { spec?: { finalizers?: string[] }; status?: { phase?: string } };
const namespaceFinalizers = (o: KubeObject): string[] => (o as NamespaceLike).spec?.finalizers ?? [];

/**
 * Namespaces, as upstream's namespace registry: created Active with the `kubernetes`
 * finalizer in spec.finalizers; a DELETE only marks them Terminating while spec.finalizers
 * is not empty (the namespace controller empties the namespace, then removes its finalizer
 * through `namespaces/<name>/finalize` and deletes again); spec.finalizers changes only
 * through `finalize`.
 */
const namespaceStrategy: KindStrategy = {
  prepareForCreate(obj) {
    const ns = obj as NamespaceLike;
    ns.spec = { ...ns.spec, finalizers: ["kubernetes"] };
    ns.status = { phase: "Active" };
  },
  prepareForUpdate(obj, old, subresource) {
    const ns = obj as NamespaceLike;
    if (subresource === "finalize") {
      const finalizers = namespaceFinalizers(obj);
      Object.assign(obj, structuredClone(old), { metadata: obj.metadata });
      (obj as NamespaceLike).spec = { ...(old as NamespaceLike).spec, finalizers };
      if (finalizers.length === 0) delete (obj as NamespaceLike).spec!.finalizers;
      return;
    }
    if (subresource !== "status") ns.spec = { ...ns.spec, finalizers: namespaceFinalizers(old) };
    if (ns.spec && !ns.spec.finalizers?.length) delete ns.spec.finalizers;
    if (old.metadata.deletionTimestamp) ns.status = { ...ns.status, phase: "Terminating" };
  },
  holdDelete(obj, now) {
    if (namespaceFinalizers(obj).length === 0) return undefined;
    if (obj.metadata.deletionTimestamp) return obj;
    const out = structuredClone(obj) as NamespaceLike;
    out.metadata.deletionTimestamp = formatTimestamp(now);
    out.metadata.deletionGracePeriodSeconds = 0;
    out.status = { ...out.status, phase: "Terminating" };
    return out;
  },
  mayRemove: (obj) => namespaceFinalizers(obj).length === 0,
};

/**
 * Services: cluster IPs and node ports from the server's allocator (restored from the stored
 * Services on first use); a PUT that omits allocated values keeps them, and a type change
 * drops what the old type needed, as upstream.
 */
export function serviceStrategy(
  allocator: ServiceAllocator,
  restore: () => Promise<Service[]>,
): KindStrategy {
  let restored: Promise<void> | undefined;
  const ready = (): Promise<void> =>
    (restored ??= restore().then(
      (svcs) => allocator.restore(svcs),
      (e: unknown) => {
        restored = undefined;
        throw e;
      },
    ));
  return {
    prepareForUpdate(obj, old, subresource) {
      if (subresource) return;
      const svc = obj as unknown as Service;
      dropTypeDependentServiceFields(svc, old as unknown as Service);
      patchAllocatedServiceValues(svc, old as unknown as Service);
    },
    async allocate(obj, old) {
      await ready();
      try {
        return allocator.allocate(obj as unknown as Service, old as unknown as Service | undefined);
      } catch (e) {
        if (e instanceof AllocationError) {
          throw invalid("Service", "", obj.metadata.name ?? "", e.errors);
        }
        throw e;
      }
    },
    removed(obj) {
      if (restored) allocator.release(obj as unknown as Service);
    },
  };
}

/** Jobs: the selector and pod labels on the new uid, generated once the uid exists (upstream's job strategy). */
const jobStrategy: KindStrategy = {
  prepareForCreate(obj) {
    defaultJob(obj as unknown as Job);
  },
};

// A node agent registers its Node with capacity, addresses and conditions in one create.
const nodeStrategy: KindStrategy = { keepsStatusOnCreate: true };

const NONE: KindStrategy = {};

/** The strategy for a kind. */
export function strategyFor(info: KindInfo): KindStrategy {
  if (info.group === "" && info.kind === "Pod") return podStrategy;
  if (info.group === "" && info.kind === "Namespace") return namespaceStrategy;
  if (info.group === "" && info.kind === "Node") return nodeStrategy;
  if (info.group === "batch" && info.kind === "Job") return jobStrategy;
  return NONE;
}
