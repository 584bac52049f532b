/**
 * @module The pod subresources that are plain API writes: `binding` (the scheduler's way of
 * setting `spec.nodeName`) and `eviction` (what `kubectl drain` posts: a delete with its own
 * DeleteOptions). PodDisruptionBudgets are not served yet, so no eviction is refused for one.
 */
import type { KubeObject } from "../api/object.ts";
import { badRequest, conflict, StatusError } from "../api/status-error.ts";
import type { Binding } from "../api/types/core-v1.ts";
import type { Eviction } from "../api/types/policy-v1.ts";
import type { DeleteRequest, ResourceStore, WriteOptions } from "./registry/store.ts";

/** Binds a pod to a node: 201 with a Success Status; 409 when it is already bound. */
export async function bindPod(
  store: ResourceStore,
  namespace: string,
  name: string,
  body: Record<string, unknown>,
  opts: WriteOptions,
): Promise<string> {
  const binding = body as unknown as Binding;
  if (binding.metadata?.name && binding.metadata.name !== name) {
    throw badRequest(`the name of the binding (${binding.metadata.name}) does not match the pod (${name})`);
  }
  const target = binding.target;
  if (!target?.name || (target.kind !== undefined && target.kind !== "" && target.kind !== "Node")) {
    throw new StatusError(
      422,
      "Invalid",
      `Binding.core "${name}" is invalid: target: Required value: must name a Node`,
      {
        name,
        kind: "Binding",
        causes: [
          { reason: "FieldValueRequired", message: "Required value: must name a Node", field: "target" },
        ],
      },
    );
  }
  await store.guaranteedUpdate(
    namespace,
    name,
    (cur) => {
      const spec = (cur.spec ?? {}) as { nodeName?: string };
      if (cur.metadata.deletionTimestamp) {
        throw conflict(store.gr, name, "pod is being deleted, cannot be assigned to a host");
      }
      if (spec.nodeName) {
        throw conflict(store.gr, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
      }
      const next: KubeObject = { ...cur, spec: { ...spec, nodeName: target.name } };
      const annotations = binding.metadata?.annotations;
      if (annotations)
        next.metadata = { ...cur.metadata, annotations: { ...cur.metadata.annotations, ...annotations } };
      return next;
    },
    opts,
  );
  return successStatus();
}

/** Evicts a pod: deletes it with the eviction's DeleteOptions; 201 with a Success Status. */
export async function evictPod(
  store: ResourceStore,
  namespace: string,
  name: string,
  body: Record<string, unknown>,
): Promise<string> {
  const eviction = body as unknown as Eviction;
  if (eviction.metadata?.name && eviction.metadata.name !== name) {
    throw badRequest(`name in URL does not match name in Eviction object`);
  }
  const o = eviction.deleteOptions ?? {};
  const req: DeleteRequest = {};
  if (typeof o.gracePeriodSeconds === "number") req.gracePeriodSeconds = o.gracePeriodSeconds;
  if (o.preconditions) req.preconditions = { ...o.preconditions } as DeleteRequest["preconditions"];
  if (o.dryRun?.length) req.dryRun = true;
  if (o.propagationPolicy) req.propagationPolicy = o.propagationPolicy as DeleteRequest["propagationPolicy"];
  await store.delete(namespace, name, req);
  return successStatus();
}

function successStatus(): string {
  return JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
}
