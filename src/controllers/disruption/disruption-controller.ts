/**
 * @module The disruption controller's reconciler, as upstream's: for each PodDisruptionBudget
 * it finds the pods its selector matches, the expected count (the owning controllers' scale
 * for percentages and maxUnavailable: ReplicaSet, Deployment through its ReplicaSet,
 * StatefulSet, ReplicationController), the healthy count, prunes disruptedPods, and writes
 * status (currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed,
 * observedGeneration, the DisruptionAllowed condition) through the status subresource.
 * A failure sets the fail-safe status (no disruption allowed, reason SyncFailed).
 */
import { labelSelectorAsSelector } from "../../api/labels.ts";
import type { KubeObject } from "../../api/object.ts";
import type { Pod, ReplicationController } from "../../api/types/core-v1.ts";
import type { Deployment, ReplicaSet, StatefulSet } from "../../api/types/apps-v1.ts";
import type { PodDisruptionBudget } from "../../api/types/policy-v1.ts";
import type { Request } from "../../client/controller.ts";
import type { Informer } from "../../client/informer.ts";
import type { EventRecorder } from "../../client/events.ts";
import type { Client } from "../../client/types.ts";
import { controllerRefOf } from "../util/owner-refs.ts";
import { countHealthy, disruptionCondition, expectedCounts, pruneDisrupted } from "./disruption-budget.ts";

/** What the reconciler reads and writes through. */
export interface DisruptionDeps {
  client: Client;
  pdbs: Informer<PodDisruptionBudget>;
  pods: Informer<Pod>;
  replicaSets: Informer<ReplicaSet>;
  deployments: Informer<Deployment>;
  statefulSets: Informer<StatefulSet>;
  replicationControllers: Informer<ReplicationController>;
  recorder?: EventRecorder;
  now?: () => number;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

/** Reconciles PodDisruptionBudget status. */
export class DisruptionReconciler {
  private readonly now: () => number;
  private enqueueAfter: (key: Request, ms: number) => void = () => {};

  constructor(private readonly d: DisruptionDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Hooks the informers: budget changes enqueue the budget, pod changes the budgets selecting it. */
  register(enqueue: (key: Request) => void, enqueueAfter: (key: Request, ms: number) => void): void {
    this.enqueueAfter = enqueueAfter;
    const own = (p: PodDisruptionBudget): void =>
      enqueue({ namespace: p.metadata.namespace ?? "", name: p.metadata.name ?? "" });
    this.d.pdbs.addHandlers({ add: own, update: (_o, n) => own(n), delete: own });
    const forPod = (pod: Pod): void => {
      for (const pdb of this.budgetsFor(pod)) own(pdb);
    };
    this.d.pods.addHandlers({
      add: forPod,
      update: (o, n) => {
        forPod(n);
        if (JSON.stringify(o.metadata.labels) !== JSON.stringify(n.metadata.labels)) forPod(o);
      },
      delete: forPod,
    });
  }

  /** The budgets in the pod's namespace whose selector matches it. */
  budgetsFor(pod: Pod): PodDisruptionBudget[] {
    const out: PodDisruptionBudget[] = [];
    for (const pdb of this.d.pdbs.list(pod.metadata.namespace ?? "")) {
      try {
        const sel = labelSelectorAsSelector(pdb.spec?.selector);
        if (!sel.empty() && sel.matches(pod.metadata.labels)) out.push(pdb);
      } catch {
        // an invalid selector selects nothing
      }
    }
    return out;
  }

  /** The pods a budget selects (v1: an empty selector selects every pod in the namespace). */
  podsFor(pdb: PodDisruptionBudget): Pod[] {
    const sel = pdb.spec?.selector;
    if (!sel) return [];
    const selector = labelSelectorAsSelector(sel);
    return this.d.pods.list(pdb.metadata.namespace ?? "").filter((p) => selector.matches(p.metadata.labels));
  }

  /** The total replicas of the controllers owning the pods; throws for a pod with no known controller. */
  expectedScale(pdb: PodDisruptionBudget, pods: readonly Pod[]): number {
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = controllerRefOf(pod as unknown as KubeObject);
      if (!ref) {
        unmanaged.push(pod.metadata.name ?? "");
        continue;
      }
      if (scales.has(ref.uid)) continue;
      const found = this.scaleOf(pod.metadata.namespace ?? "", ref.kind, ref.name, ref.uid, ref.apiVersion);
      if (!found) {
        this.d.recorder?.event(pdb as unknown as KubeObject, "Warning", "NoControllers", `found no controllers for pod "${pod.metadata.name}"`);
        throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
      }
      scales.set(found.uid, found.replicas);
    }
    if (unmanaged.length > 0) {
      this.d.recorder?.event(
        pdb as unknown as KubeObject,
        "Warning",
        "UnmanagedPods",
        `Pods selected by this PodDisruptionBudget (selector: ${JSON.stringify(pdb.spec?.selector ?? {})}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }
    let total = 0;
    for (const n of scales.values()) total += n;
    return total;
  }

  /** The scale behind a controller reference: a Deployment's for its ReplicaSets. */
  private scaleOf(
    ns: string,
    kind: string,
    name: string,
    uid: string,
    apiVersion: string,
  ): { uid: string; replicas: number } | undefined {
    const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
    if (kind === "ReplicaSet" && group === "apps") {
      const rs = this.d.replicaSets.get(ns, name);
      if (!rs || rs.metadata.uid !== uid) return undefined;
      const owner = controllerRefOf(rs as unknown as KubeObject);
      if (owner && owner.kind === "Deployment" && owner.apiVersion.startsWith("apps/")) {
        const dep = this.d.deployments.get(ns, owner.name);
        if (dep && dep.metadata.uid === owner.uid) return { uid: owner.uid, replicas: dep.spec?.replicas ?? 1 };
        return undefined;
      }
      return { uid, replicas: rs.spec?.replicas ?? 1 };
    }
    if (kind === "StatefulSet" && group === "apps") {
      const sts = this.d.statefulSets.get(ns, name);
      return sts && sts.metadata.uid === uid ? { uid, replicas: sts.spec?.replicas ?? 1 } : undefined;
    }
    if (kind === "ReplicationController" && group === "") {
      const rc = this.d.replicationControllers.get(ns, name);
      return rc && rc.metadata.uid === uid ? { uid, replicas: rc.spec?.replicas ?? 1 } : undefined;
    }
    return undefined;
  }

  /** Brings one budget's status up to date. */
  async reconcile(req: Request): Promise<void> {
    const pdb = this.d.pdbs.get(req.namespace, req.name);
    if (!pdb) return;
    const nowMs = this.now();
    let status: NonNullable<PodDisruptionBudget["status"]>;
    let recheckMs: number | undefined;
    try {
      const pods = this.podsFor(pdb);
      if (pods.length === 0) {
        this.d.recorder?.event(pdb as unknown as KubeObject, "Normal", "NoPods", "No matching pods found");
      }
      const { expectedCount, desiredHealthy } = expectedCounts(pdb, pods, () => this.expectedScale(pdb, pods));
      const pruned = pruneDisrupted(pdb, pods, nowMs);
      recheckMs = pruned.recheckMs;
      const currentHealthy = countHealthy(pods, pruned.disrupted);
      let allowed = currentHealthy - desiredHealthy;
      if (expectedCount <= 0 || allowed <= 0) allowed = 0;
      const generation = pdb.metadata.generation ?? 0;
      status = {
        ...pdb.status,
        currentHealthy,
        desiredHealthy,
        expectedPods: expectedCount,
        disruptionsAllowed: allowed,
        observedGeneration: generation,
        conditions: disruptionCondition(pdb.status?.conditions ?? undefined, allowed > 0, generation, rfc3339(nowMs)),
      };
      if (Object.keys(pruned.disrupted).length > 0) status.disruptedPods = pruned.disrupted;
      else delete status.disruptedPods;
    } catch (e) {
      // Upstream's failSafe: allow nothing while the status cannot be computed.
      const generation = pdb.metadata.generation ?? 0;
      status = {
        ...pdb.status,
        currentHealthy: pdb.status?.currentHealthy ?? 0,
        desiredHealthy: pdb.status?.desiredHealthy ?? 0,
        expectedPods: pdb.status?.expectedPods ?? 0,
        disruptionsAllowed: 0,
        observedGeneration: generation,
        conditions: disruptionCondition(
          pdb.status?.conditions ?? undefined,
          false,
          generation,
          rfc3339(nowMs),
          "SyncFailed",
          e instanceof Error ? e.message : String(e),
        ),
      };
    }
    if (JSON.stringify(status) !== JSON.stringify(pdb.status ?? {})) {
      const next = structuredClone(pdb);
      next.status = status;
      await this.d.client.resource<PodDisruptionBudget>("policy", "poddisruptionbudgets").updateStatus(next);
    }
    if (recheckMs !== undefined) this.enqueueAfter(req, Math.max(0, recheckMs - nowMs) + 1);
  }
}
