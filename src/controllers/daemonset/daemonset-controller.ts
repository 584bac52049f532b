/**
 * @module The DaemonSet controller: one pod per eligible node (nodeSelector, required node
 * affinity, taints against tolerations plus the automatic daemon tolerations), created with
 * a `metadata.name` node affinity for the scheduler to bind; follows nodes as they come, go
 * and change; replaces failed pods (with a per-node backoff); rolls pods onto new templates
 * with maxUnavailable / maxSurge, or leaves that to the user with OnDelete; keeps
 * ControllerRevisions; writes upstream's status counts. Expectations keep a stale cache from
 * double-creating.
 */
import { labelSelectorAsSelector, type Selector } from "../../api/labels.ts";
import { deepEqual } from "../../api/meta.ts";
import { isNotFound } from "../../api/status-error.ts";
import type { ControllerRevision, DaemonSet, DaemonSetStatus } from "../../api/types/apps-v1.ts";
import type { Node, Pod, PodSpec } from "../../api/types/core-v1.ts";
import { Controller, type Request, type Result } from "../../client/controller.ts";
import type { EventRecorder } from "../../client/events.ts";
import { objectKey, type Informer, type InformerFactory } from "../../client/informer.ts";
import type { Client, ResourceClient } from "../../client/types.ts";
import { childHandlers } from "../statefulset/statefulset-child-handlers.ts";
import { hashOfRevision, syncRevisions, truncateHistory } from "../statefulset/statefulset-history.ts";
import { addOwnerIndexes, claimCandidates, newControllerRef, adoptAndRelease } from "../util/owner-refs.ts";
import { isPodAvailable, isPodReady, msUntilAvailable } from "../util/pod-util.ts";
import { Expectations } from "./daemonset-expectations.ts";
import { nodeShouldRunDaemonPod, type NodeFit } from "./daemonset-node-fit.ts";
import {
  addDaemonTolerations,
  daemonPodTemplate,
  isPodUpdated,
  newDaemonPod,
  targetNodeName,
  templateGeneration,
} from "./daemonset-pods.ts";
import { planRollingUpdate, surgeAndUnavailable, type NodePods } from "./daemonset-update.ts";

/** Event source component, as upstream. */
export const DAEMONSET_COMPONENT = "daemonset-controller";
/** Upstream's burstReplicas: at most this many creations (and deletions) per sync. */
const BURST_REPLICAS = 250;
const FAILED_BACKOFF_INITIAL_MS = 1000;
const FAILED_BACKOFF_MAX_MS = 15 * 60_000;

export interface DaemonSetControllerOptions {
  client: Client;
  informers: InformerFactory;
  recorder: EventRecorder;
  workers?: number;
  now?: () => Date;
}

interface FitCache {
  resourceVersion: string;
  spec: PodSpec;
}

export class DaemonSetController {
  readonly controller: Controller;
  private readonly sets: Informer<DaemonSet>;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly revisions: Informer<ControllerRevision>;
  private readonly dsClient: ResourceClient<DaemonSet>;
  private readonly podClient: ResourceClient<Pod>;
  private readonly revisionClient: ResourceClient<ControllerRevision>;
  private readonly recorder: EventRecorder;
  private readonly now: () => Date;
  readonly expectations: Expectations;
  private readonly fitSpecs = new Map<string, FitCache>();
  private readonly failedBackoff = new Map<string, { delayMs: number; at: number }>();

  constructor(opts: DaemonSetControllerOptions) {
    this.recorder = opts.recorder;
    this.now = opts.now ?? (() => new Date());
    this.expectations = new Expectations(() => this.now().getTime());
    this.sets = opts.informers.informer<DaemonSet>("apps", "daemonsets");
    this.pods = opts.informers.informer<Pod>("", "pods");
    this.nodes = opts.informers.informer<Node>("", "nodes");
    this.revisions = opts.informers.informer<ControllerRevision>("apps", "controllerrevisions");
    addOwnerIndexes(this.pods);
    addOwnerIndexes(this.revisions);
    this.dsClient = opts.client.resource<DaemonSet>("apps", "daemonsets");
    this.podClient = opts.client.resource<Pod>("", "pods");
    this.revisionClient = opts.client.resource<ControllerRevision>("apps", "controllerrevisions");
    this.controller = new Controller({
      name: DAEMONSET_COMPONENT,
      workers: opts.workers ?? 2,
      reconcile: (req) => this.reconcile(req),
    });
    this.sets.addHandlers({
      add: (ds) => this.controller.enqueue(ds),
      update: (_o, ds) => this.controller.enqueue(ds),
      delete: (ds) => {
        this.expectations.delete(objectKey(ds));
        this.fitSpecs.delete(ds.metadata.uid ?? "");
        this.controller.enqueue(ds);
      },
    });
    this.pods.addHandlers(
      childHandlers<DaemonSet, Pod>({
        ownerKind: "DaemonSet",
        owners: this.sets,
        enqueue: (key) => this.controller.enqueue(key),
        selectorOf,
        onAdd: (key) => this.expectations.creationObserved(key),
        onDelete: (key, pod) => this.expectations.deletionObserved(key, objectKey(pod)),
      }),
    );
    this.nodes.addHandlers({
      add: (node) => {
        for (const ds of this.sets.list()) if (this.fit(ds, node).shouldRun) this.controller.enqueue(ds);
      },
      update: (old, cur) => {
        if (
          deepEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {}) &&
          deepEqual(old.spec?.taints ?? [], cur.spec?.taints ?? [])
        )
          return;
        for (const ds of this.sets.list()) {
          const a = this.fit(ds, old);
          const b = this.fit(ds, cur);
          if (a.shouldRun !== b.shouldRun || a.shouldContinueRunning !== b.shouldContinueRunning)
            this.controller.enqueue(ds);
        }
      },
      delete: () => {
        for (const ds of this.sets.list()) this.controller.enqueue(ds);
      },
    });
  }

  /** The node fit of `ds` on `node`, using the template with the automatic tolerations (cached per version). */
  private fit(ds: DaemonSet, node: Node): NodeFit {
    const uid = ds.metadata.uid ?? "";
    const rv = ds.metadata.resourceVersion ?? "";
    let c = this.fitSpecs.get(uid);
    if (!c || c.resourceVersion !== rv) {
      const spec = structuredClone(ds.spec?.template?.spec ?? ({ containers: [] } as PodSpec));
      addDaemonTolerations(spec);
      c = { resourceVersion: rv, spec };
      this.fitSpecs.set(uid, c);
    }
    return nodeShouldRunDaemonPod(c.spec, node);
  }

  /** One sync of the DaemonSet `req`. */
  async reconcile(req: Request): Promise<Result | void> {
    const key = req.namespace ? `${req.namespace}/${req.name}` : req.name;
    const ds = this.sets.get(req.namespace, req.name);
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    const selector = selectorOf(ds);
    if (!selector || selector.empty()) {
      this.recorder.event(
        ds,
        "Warning",
        "SelectingAll",
        "This daemon set is selecting all pods. A non-empty selector is required.",
      );
      return;
    }
    if (ds.metadata.deletionTimestamp) return;
    const nowMs = this.now().getTime();
    const pods = await this.claimPods(ds, selector);
    const history = await syncRevisions({
      owner: ds,
      ownerApiVersion: "apps/v1",
      ownerKind: "DaemonSet",
      template: ds.spec?.template,
      collisionCount: ds.status?.collisionCount ?? 0,
      client: this.revisionClient,
      informer: this.revisions,
    });
    const hash = hashOfRevision(history.update);
    const generation = templateGeneration(ds);
    const nodes = this.nodes.list();
    const byNode = groupByNode(pods);
    let requeueAfterMs: number | undefined;

    if (this.expectations.satisfied(key)) {
      const manage = this.manage(ds, nodes, byNode, hash, generation, nowMs);
      if (manage.requeueAfterMs !== undefined) requeueAfterMs = manage.requeueAfterMs;
      await this.syncNodes(ds, key, manage.deletePods, manage.createOnNodes, hash);
      if (this.expectations.satisfied(key) && ds.spec?.updateStrategy?.type !== "OnDelete") {
        const plan = planRollingUpdate(ds, this.nodePods(ds, nodes, byNode), hash, generation, nowMs);
        await this.syncNodes(ds, key, plan.deletePods, plan.createOnNodes, hash);
      }
      const liveHashes = new Set<string>([hash]);
      for (const p of pods) {
        const h = p.metadata.labels?.["controller-revision-hash"];
        if (h) liveHashes.add(h);
      }
      const live = new Set<string>();
      for (const r of history.revisions)
        if (liveHashes.has(hashOfRevision(r))) live.add(r.metadata.name ?? "");
      await truncateHistory(
        this.revisionClient,
        history.revisions,
        live,
        ds.spec?.revisionHistoryLimit ?? 10,
      );
    }

    const st = this.computeStatus(ds, nodes, byNode, hash, generation, nowMs, history.collisionCount);
    if (st.requeueAfterMs !== undefined)
      requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, st.requeueAfterMs);
    if (!deepEqual(ds.status ?? {}, st.status)) {
      const next = structuredClone(ds);
      next.status = st.status;
      await this.dsClient.updateStatus(next);
    }
    return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
  }

  /** Nodes with pods or that should run one, sorted, for the rolling update planner. */
  private nodePods(ds: DaemonSet, nodes: readonly Node[], byNode: Map<string, Pod[]>): NodePods[] {
    const out: NodePods[] = [];
    const seen = new Set<string>();
    for (const node of nodes) {
      const name = node.metadata.name ?? "";
      seen.add(name);
      const shouldRun = this.fit(ds, node).shouldRun;
      const pods = byNode.get(name) ?? [];
      if (shouldRun || pods.length > 0) out.push({ node: name, pods, shouldRun });
    }
    for (const [name, pods] of byNode) if (!seen.has(name)) out.push({ node: name, pods, shouldRun: false });
    return out.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  /** Upstream's manage: which nodes need a pod, which pods must go. */
  private manage(
    ds: DaemonSet,
    nodes: readonly Node[],
    byNode: Map<string, Pod[]>,
    hash: string,
    generation: string,
    nowMs: number,
  ): { createOnNodes: string[]; deletePods: Pod[]; requeueAfterMs?: number } {
    const createOnNodes: string[] = [];
    const deletePods: Pod[] = [];
    let requeueAfterMs: number | undefined;
    const surge = surgeAndUnavailable(ds, 1).maxSurge > 0;
    const nodeNames = new Set<string>();
    for (const node of nodes) {
      const nodeName = node.metadata.name ?? "";
      nodeNames.add(nodeName);
      const fit = this.fit(ds, node);
      const pods = byNode.get(nodeName) ?? [];
      if (fit.shouldRun && pods.length === 0) {
        createOnNodes.push(nodeName);
        continue;
      }
      if (!fit.shouldContinueRunning) {
        for (const p of pods) if (!p.metadata.deletionTimestamp) deletePods.push(p);
        continue;
      }
      const running: Pod[] = [];
      for (const p of pods) {
        if (p.metadata.deletionTimestamp) continue;
        if (p.status?.phase === "Failed") {
          const bkey = `${ds.metadata.uid}/${nodeName}`;
          const b = this.failedBackoff.get(bkey);
          if (b && nowMs - b.at < b.delayMs) {
            requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, b.delayMs - (nowMs - b.at));
            continue;
          }
          const delayMs = b ? Math.min(b.delayMs * 2, FAILED_BACKOFF_MAX_MS) : FAILED_BACKOFF_INITIAL_MS;
          this.failedBackoff.set(bkey, { delayMs, at: nowMs });
          this.recorder.event(
            ds,
            "Warning",
            "FailedDaemonPod",
            `Found failed daemon pod ${p.metadata.namespace}/${p.metadata.name} on node ${nodeName}, will try to kill it`,
          );
          deletePods.push(p);
          continue;
        }
        running.push(p);
      }
      if (running.length <= 1) continue;
      running.sort(byScheduledThenAge);
      if (!surge) {
        deletePods.push(...running.slice(1));
        continue;
      }
      // With surge, keep the oldest updated and the oldest old pod.
      let keptNew = false;
      let keptOld = false;
      for (const p of running) {
        if (isPodUpdated(p, hash, generation)) {
          if (!keptNew) {
            keptNew = true;
            continue;
          }
        } else if (!keptOld) {
          keptOld = true;
          continue;
        }
        deletePods.push(p);
      }
    }
    // Unscheduled pods meant for nodes that no longer exist.
    for (const [nodeName, pods] of byNode) {
      if (nodeNames.has(nodeName)) continue;
      for (const p of pods) if (!p.spec?.nodeName && !p.metadata.deletionTimestamp) deletePods.push(p);
    }
    return { createOnNodes, deletePods, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
  }

  /** Creates pods on `nodes` (slow start: batches of 1, 2, 4, …) and deletes `pods`. */
  private async syncNodes(
    ds: DaemonSet,
    key: string,
    deletePods: Pod[],
    nodes: string[],
    hash: string,
  ): Promise<void> {
    if (deletePods.length === 0 && nodes.length === 0) return;
    const create = nodes.slice(0, BURST_REPLICAS);
    const del = deletePods.slice(0, BURST_REPLICAS);
    this.expectations.expect(key, create.length, del.map(objectKey));
    const errors: unknown[] = [];
    if (create.length > 0) {
      const template = daemonPodTemplate(ds, hash);
      let next = 0;
      let batch = 1;
      while (next < create.length) {
        const chunk = create.slice(next, next + batch);
        next += chunk.length;
        const results = await Promise.allSettled(
          chunk.map((node) => this.podClient.create(newDaemonPod(ds, template, node))),
        );
        let failed = 0;
        for (const r of results) {
          if (r.status === "fulfilled") {
            this.recorder.event(ds, "Normal", "SuccessfulCreate", `Created pod: ${r.value.metadata.name}`);
          } else {
            failed++;
            errors.push(r.reason);
            this.expectations.creationObserved(key);
            this.recorder.event(ds, "Warning", "FailedCreate", `Error creating: ${errText(r.reason)}`);
          }
        }
        if (failed > 0) {
          // Skip the rest, as upstream's slow start does; they are no longer expected.
          for (let i = next; i < create.length; i++) this.expectations.creationObserved(key);
          break;
        }
        batch *= 2;
      }
    }
    await Promise.all(
      del.map(async (p) => {
        try {
          await this.podClient.delete(p.metadata.namespace, p.metadata.name ?? "");
          this.recorder.event(ds, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`);
        } catch (e) {
          this.expectations.deletionObserved(key, objectKey(p));
          if (isNotFound(e)) return;
          errors.push(e);
          this.recorder.event(ds, "Warning", "FailedDelete", `Error deleting: ${errText(e)}`);
        }
      }),
    );
    if (errors.length > 0) throw errors[0];
  }

  private computeStatus(
    ds: DaemonSet,
    nodes: readonly Node[],
    byNode: Map<string, Pod[]>,
    hash: string,
    generation: string,
    nowMs: number,
    collisionCount: number,
  ): { status: DaemonSetStatus; requeueAfterMs?: number } {
    const minReady = ds.spec?.minReadySeconds ?? 0;
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    let requeueAfterMs: number | undefined;
    for (const node of nodes) {
      const pods = byNode.get(node.metadata.name ?? "");
      const scheduled = !!pods && pods.length > 0;
      if (!this.fit(ds, node).shouldRun) {
        if (scheduled) misscheduled++;
        continue;
      }
      desired++;
      if (!scheduled) continue;
      current++;
      const pod = pods.length === 1 ? pods[0]! : [...pods].sort(byScheduledThenAge)[0]!;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, nowMs)) available++;
        else {
          const ms = msUntilAvailable(pod, minReady, nowMs);
          if (ms !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, ms + 1);
        }
      }
      if (isPodUpdated(pod, hash, generation)) updated++;
    }
    const status: DaemonSetStatus = {
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata.generation ?? 0,
    };
    if (updated) status.updatedNumberScheduled = updated;
    if (available) status.numberAvailable = available;
    if (desired - available) status.numberUnavailable = desired - available;
    if (collisionCount > 0 || ds.status?.collisionCount !== undefined) status.collisionCount = collisionCount;
    if (ds.status?.conditions) status.conditions = ds.status.conditions;
    return { status, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
  }

  private async claimPods(ds: DaemonSet, selector: Selector): Promise<Pod[]> {
    const { owned, adopt, release } = claimCandidates(this.pods, ds, selector);
    const ref = newControllerRef(ds, "apps/v1", "DaemonSet");
    return [...owned, ...(await adoptAndRelease(this.podClient, this.dsClient, ds, ref, adopt, release))];
  }
}

/** Daemon pods by the node they are for; terminal pods that are being deleted are left out. */
function groupByNode(pods: readonly Pod[]): Map<string, Pod[]> {
  const out = new Map<string, Pod[]>();
  for (const p of pods) {
    const phase = p.status?.phase;
    if (p.metadata.deletionTimestamp && (phase === "Succeeded" || phase === "Failed")) continue;
    const node = targetNodeName(p);
    if (!node) continue;
    let list = out.get(node);
    if (!list) out.set(node, (list = []));
    list.push(p);
  }
  return out;
}

/** Scheduled pods first, then oldest first, then by name (upstream's podByCreationTimestampAndPhase). */
function byScheduledThenAge(a: Pod, b: Pod): number {
  const sa = a.spec?.nodeName ? 0 : 1;
  const sb = b.spec?.nodeName ? 0 : 1;
  if (sa !== sb) return sa - sb;
  const ta = a.metadata.creationTimestamp ?? "";
  const tb = b.metadata.creationTimestamp ?? "";
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1;
}

function selectorOf(ds: DaemonSet): Selector | undefined {
  try {
    return labelSelectorAsSelector(ds.spec?.selector);
  } catch {
    return undefined;
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
