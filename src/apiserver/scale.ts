/**
 * @module The `scale` subresource of Deployments, ReplicaSets, StatefulSets and
 * ReplicationControllers, answered as an autoscaling/v1 `Scale` (what `kubectl scale` reads and
 * merge-patches). Writes go through the parent's store as a read-modify-write of
 * `spec.replicas`, so validation and resourceVersion checks are the parent's.
 */
import { labelSelectorAsSelector, selectorFromSet } from "../api/labels.ts";
import type { KubeObject } from "../api/object.ts";
import { badRequest, conflict } from "../api/status-error.ts";
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import type { ResourceStore, WriteOptions } from "./registry/store.ts";

interface Scale {
  kind: "Scale";
  apiVersion: "autoscaling/v1";
  metadata: KubeObject["metadata"];
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

/** The Scale view of a workload object at revision `rev`. */
export function toScale(workload: KubeObject, rev: number): Scale {
  const obj = workload as KubeObject & {
    spec?: { replicas?: number; selector?: LabelSelector | Record<string, string> };
    status?: { replicas?: number };
  };
  const m = obj.metadata;
  const sel = obj.spec?.selector;
  const selector =
    obj.kind === "ReplicationController"
      ? selectorFromSet(sel as Record<string, string> | undefined).toString()
      : labelSelectorAsSelector(sel as LabelSelector | undefined).toString();
  const scale: Scale = {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: String(rev),
      creationTimestamp: m.creationTimestamp,
    },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0 },
  };
  if (selector) scale.status.selector = selector;
  return scale;
}

/**
 * Sets replicas from a Scale body (after `edit` turned the current Scale into the desired one);
 * a resourceVersion in the body must still be current.
 */
export async function writeScale(
  store: ResourceStore,
  namespace: string,
  name: string,
  edit: (cur: Scale) => unknown,
  opts: WriteOptions,
): Promise<Scale> {
  const updated = await store.guaranteedUpdate(
    namespace,
    name,
    (cur) => {
      const curScale = toScale(cur, Number(cur.metadata.resourceVersion));
      const want = edit(curScale) as Partial<Scale> | null;
      if (!want || typeof want !== "object") throw badRequest("the body must be an autoscaling/v1 Scale");
      const rv = want.metadata?.resourceVersion;
      if (rv && rv !== cur.metadata.resourceVersion) throw conflict(store.gr, name);
      const replicas = want.spec?.replicas ?? 0;
      const next = structuredClone(cur) as KubeObject & { spec?: { replicas?: number } };
      next.spec = { ...next.spec, replicas };
      return next;
    },
    opts,
  );
  return toScale(updated.obj, updated.rev);
}
