/**
 * @module The pod subresources that are plain API writes: `binding` (the scheduler's way of
 * setting `spec.nodeName`) and `eviction` (what `kubectl drain` posts: a delete with its own
 * DeleteOptions), refused with 429 while the pod's PodDisruptionBudget allows no disruption,
 * as upstream's eviction REST: the budget's disruptionsAllowed is decremented and the pod
 * recorded in status.disruptedPods (an optimistic-concurrency status write) before the delete.
 */
import type { KubeObject } from "../api/object.ts";
import { badRequest, conflict, forbidden, internalError, StatusError } from "../api/status-error.ts";
import type { Binding } from "../api/types/core-v1.ts";
import { labelSelectorAsSelector } from "../api/labels.ts";
import { storagePrefix } from "../api/kinds.ts";
import type { Condition } from "../api/types/meta-v1.ts";
import type { Eviction, PodDisruptionBudget } from "../api/types/policy-v1.ts";
import type { Backend } from "../storage/backend.ts";
import type { DeleteRequest, ResourceStore, WriteOptions } from "./registry/store.ts";

/** Where eviction finds PodDisruptionBudgets: their store and the datastore to list them from. */
export interface DisruptionBudgets {
  readonly store: ResourceStore;
  readonly backend: Backend;
}

/** The pod fields eviction reads. */
interface PodView extends KubeObject {
  status?: { phase?: string; conditions?: { type?: string; status?: string }[] };
}

const EVICTION_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";
const MULTIPLE_PDBS = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.";
/** How many unconfirmed evictions a budget may carry, as upstream's MaxDisruptedPodSize. */
const MAX_DISRUPTED_POD_SIZE = 2000;
/** How often a budget write losing a race is retried. */
const MAX_CONFLICT_RETRIES = 5;

function tooManyRequests(retryAfterSeconds: number, cause: string): StatusError {
  return new StatusError(429, "TooManyRequests", EVICTION_MESSAGE, {
    ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}),
    causes: [{ reason: "DisruptionBudget", message: cause }],
  });
}

function isReady(pod: PodView): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

/** The budgets in the pod's namespace whose (non-empty) selector matches its labels. */
async function budgetsFor(pdbs: DisruptionBudgets, pod: PodView, namespace: string): Promise<PodDisruptionBudget[]> {
  const prefix = storagePrefix(pdbs.store.info, namespace);
  const { kvs } = await pdbs.backend.list(prefix);
  const out: PodDisruptionBudget[] = [];
  for (const kv of kvs) {
    const pdb = pdbs.store.codec.decode(kv).obj as unknown as PodDisruptionBudget;
    const sel = pdb.spec?.selector;
    if (!sel) continue;
    let selector;
    try {
      selector = labelSelectorAsSelector(sel);
    } catch {
      continue;
    }
    // A nil or empty selector matches nothing here, as upstream's eviction.
    if (selector.empty() || !selector.matches(pod.metadata.labels)) continue;
    out.push(pdb);
  }
  return out;
}

/** Sets the DisruptionAllowed condition from status.disruptionsAllowed (upstream's helper). */
export function setDisruptionAllowedCondition(status: NonNullable<PodDisruptionBudget["status"]>, now: string): void {
  const allowed = status.disruptionsAllowed > 0;
  const want: Condition = {
    type: "DisruptionAllowed",
    status: allowed ? "True" : "False",
    reason: allowed ? "SufficientPods" : "InsufficientPods",
    message: "",
    observedGeneration: status.observedGeneration ?? 0,
    lastTransitionTime: now,
  };
  const conditions = status.conditions ?? [];
  const i = conditions.findIndex((c) => c.type === "DisruptionAllowed");
  const old = i >= 0 ? conditions[i] : undefined;
  if (old && old.status === want.status) want.lastTransitionTime = old.lastTransitionTime;
  status.conditions = old ? conditions.map((c, j) => (j === i ? want : c)) : [...conditions, want];
}

/**
 * Upstream's checkAndDecrement: refuses (429) when the budget's status is stale or allows no
 * disruption, else takes one disruption and records the pod in disruptedPods with a status
 * write guarded by the budget's resourceVersion (a conflict re-reads and retries).
 */
async function checkAndDecrement(
  pdbs: DisruptionBudgets,
  namespace: string,
  podName: string,
  first: PodDisruptionBudget,
  dryRun: boolean,
): Promise<void> {
  let pdb = first;
  for (let attempt = 0; ; attempt++) {
    const status = pdb.status;
    const generation = pdb.metadata.generation ?? 0;
    if (!status || (status.observedGeneration ?? 0) < generation) {
      throw tooManyRequests(10, `The disruption budget ${pdb.metadata.name} is still being processed by the server.`);
    }
    if (status.disruptionsAllowed < 0) {
      throw forbidden(
        { group: "policy", resource: "poddisruptionbudget" },
        pdb.metadata.name ?? "",
        "pdb disruptions allowed is negative",
      );
    }
    if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
      throw forbidden(
        { group: "policy", resource: "poddisruptionbudget" },
        pdb.metadata.name ?? "",
        "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
      );
    }
    if (status.disruptionsAllowed === 0) {
      throw tooManyRequests(
        0,
        `The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`,
      );
    }
    if (dryRun) return;
    const now = new Date();
    const next: PodDisruptionBudget = structuredClone(pdb);
    const ns = next.status!;
    ns.disruptionsAllowed--;
    if (ns.disruptionsAllowed === 0) setDisruptionAllowedCondition(ns, now.toISOString().replace(/\.\d+Z$/, "Z"));
    ns.disruptedPods = { ...ns.disruptedPods, [podName]: now.toISOString().replace(/\.\d+Z$/, "Z") };
    try {
      await pdbs.store.update(namespace, pdb.metadata.name ?? "", next as unknown as KubeObject, {
        subresource: "status",
      });
      return;
    } catch (e) {
      if (!(e instanceof StatusError) || e.code !== 409 || attempt >= MAX_CONFLICT_RETRIES) throw e;
      pdb = (await pdbs.store.get(namespace, pdb.metadata.name ?? "")).obj as unknown as PodDisruptionBudget;
    }
  }
}

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

/**
 * Evicts a pod as upstream's eviction REST: terminal, pending and terminating pods are
 * deleted at once; otherwise the one PodDisruptionBudget selecting the pod (more than one is a
 * 500) must allow a disruption, which is taken before the delete. A not-ready pod is deleted
 * without taking one when the budget's unhealthyPodEvictionPolicy is AlwaysAllow, or (the
 * default IfHealthyBudget) when the budget is currently healthy. Answers 201 with a Success
 * Status. Without `pdbs` (budgets not wired in) the pod is simply deleted.
 */
export async function evictPod(
  store: ResourceStore,
  namespace: string,
  name: string,
  body: Record<string, unknown>,
  pdbs?: DisruptionBudgets,
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
  if (pdbs) await admitEviction(store, pdbs, namespace, name, req.dryRun === true);
  await store.delete(namespace, name, req);
  return successStatus();
}

/** Throws unless the pod's disruption budget lets it go; takes a disruption when it must. */
async function admitEviction(
  store: ResourceStore,
  pdbs: DisruptionBudgets,
  namespace: string,
  name: string,
  dryRun: boolean,
): Promise<void> {
  const pod = (await store.get(namespace, name)).obj as PodView;
  const phase = pod.status?.phase;
  // Upstream's canIgnorePDB: such pods disrupt nothing a budget protects.
  if (pod.metadata.deletionTimestamp || phase === "Succeeded" || phase === "Failed" || phase === "Pending") return;
  const budgets = await budgetsFor(pdbs, pod, namespace);
  if (budgets.length === 0) return;
  if (budgets.length > 1) throw internalError(MULTIPLE_PDBS);
  const pdb = budgets[0]!;
  if (!isReady(pod)) {
    if (pdb.spec?.unhealthyPodEvictionPolicy === "AlwaysAllow") return;
    const st = pdb.status;
    const fresh = st !== undefined && (st.observedGeneration ?? 0) >= (pdb.metadata.generation ?? 0);
    if (fresh && st.desiredHealthy > 0 && st.currentHealthy >= st.desiredHealthy) return;
  }
  await checkAndDecrement(pdbs, namespace, name, pdb, dryRun);
}

function successStatus(): string {
  return JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
}
