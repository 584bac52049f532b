/**
 * @module The Deployment reconciler (upstream's `syncDeployment`): claim the ReplicaSets the
 * selector matches (adopt orphans, release strays), then — unless being deleted — record
 * pause/resume on the Progressing condition, and either resize (paused, or spec.replicas
 * changed: proportional scaling) or roll out (RollingUpdate or Recreate, in
 * `deployment-rollout.ts`). It finds or creates the new ReplicaSet `<name>-<pod-template-hash>`,
 * keeps revision annotations right (a template equal to an old ReplicaSet's reuses it and
 * raises its revision, which is how `kubectl rollout undo` works), trims old ReplicaSets to
 * revisionHistoryLimit, and writes status.
 */
import { labelSelectorAsSelector, type Selector } from "../../api/labels.ts";
import { deepEqual } from "../../api/meta.ts";
import { isAlreadyExists, isNotFound } from "../../api/status-error.ts";
import type { Deployment, ReplicaSet } from "../../api/types/apps-v1.ts";
import type { Pod } from "../../api/types/core-v1.ts";
import type { LabelSelector, OwnerReference } from "../../api/types/meta-v1.ts";
import type { Request, Result } from "../../client/controller.ts";
import type { Informer } from "../../client/informer.ts";
import type { Client, ResourceClient } from "../../client/types.ts";
import { addOwnerIndexes, BY_CONTROLLER_UID, ORPHANS_BY_NAMESPACE } from "../util/owner-refs.ts";
import { adoptPatch, controllerRefOf, newControllerRef, releasePatch } from "../util/owner-refs.ts";
import type { EventSink, WorkQueue } from "../replicaset/replicaset-reconciler.ts";
import { computeHash } from "./deployment-hash.ts";
import {
  isScalingEvent,
  newRSNewReplicas,
  rolloutRecreate,
  rolloutRolling,
  scaleDeployment,
  type RolloutOps,
  type ScaleResult,
} from "./deployment-rollout.ts";
import { calculateStatus, rolloutStatus } from "./deployment-status.ts";
import {
  actualReplicaCount,
  byRevision,
  equalIgnoreHash,
  findNewReplicaSet,
  getCondition,
  hasProgressDeadline,
  hasRevisionHistoryLimit,
  maxRevision,
  maxSurge,
  newCondition,
  POD_TEMPLATE_HASH_LABEL,
  Reason,
  replicasAnnotationsNeedUpdate,
  REVISION_ANNOTATION,
  setCondition,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  specReplicas,
} from "./deployment-util.ts";

export interface DeploymentReconcilerOptions {
  client: Client;
  deployments: Informer<Deployment>;
  replicaSets: Informer<ReplicaSet>;
  pods: Informer<Pod>;
  events: EventSink;
  now?: () => number;
}

/** Reconciles Deployments to their ReplicaSets (see the module comment). */
export class DeploymentReconciler implements RolloutOps {
  private readonly deployments: Informer<Deployment>;
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;
  private readonly dClient: ResourceClient<Deployment>;
  private readonly rsClient: ResourceClient<ReplicaSet>;
  private readonly events: EventSink;
  private readonly now: () => number;
  private queue: WorkQueue | undefined;

  constructor(opts: DeploymentReconcilerOptions) {
    this.deployments = opts.deployments;
    this.replicaSets = opts.replicaSets;
    this.pods = opts.pods;
    this.events = opts.events;
    this.now = opts.now ?? Date.now;
    this.dClient = opts.client.resource<Deployment>("apps", "deployments");
    this.rsClient = opts.client.resource<ReplicaSet>("apps", "replicasets");
    addOwnerIndexes(this.replicaSets);
    addOwnerIndexes(this.pods);
  }

  /** Registers informer handlers; they only enqueue Deployment keys. */
  register(queue: WorkQueue): void {
    this.queue = queue;
    this.deployments.addHandlers({
      add: (d) => queue.enqueue(d),
      update: (_o, d) => queue.enqueue(d),
      delete: (d) => queue.enqueue(d),
    });
    this.replicaSets.addHandlers({
      add: (rs) => this.rsChanged(undefined, rs),
      update: (old, rs) => this.rsChanged(old, rs),
      delete: (rs) => {
        const d = this.ownerOf(rs);
        if (d) queue.enqueue(d);
      },
    });
    this.pods.addHandlers({
      delete: (pod) => {
        // Recreate waits for old pods to be gone.
        const ref = controllerRefOf(pod);
        if (!ref || ref.kind !== "ReplicaSet") return;
        const rs = this.replicaSets.get(pod.metadata.namespace, ref.name);
        if (!rs || rs.metadata.uid !== ref.uid) return;
        const d = this.ownerOf(rs);
        if (d?.spec?.strategy?.type === "Recreate") queue.enqueue(d);
      },
    });
  }

  private ownerOf(
    rs: ReplicaSet,
    ref: OwnerReference | undefined = controllerRefOf(rs),
  ): Deployment | undefined {
    if (!ref || ref.kind !== "Deployment" || !ref.apiVersion.startsWith("apps/")) return undefined;
    const d = this.deployments.get(rs.metadata.namespace, ref.name);
    return d && d.metadata.uid === ref.uid ? d : undefined;
  }

  private matchingDeployments(rs: ReplicaSet): Deployment[] {
    const out: Deployment[] = [];
    for (const d of this.deployments.list(rs.metadata.namespace ?? "")) {
      let sel: Selector;
      try {
        sel = labelSelectorAsSelector(d.spec?.selector);
      } catch {
        continue;
      }
      if (!sel.empty() && sel.matches(rs.metadata.labels)) out.push(d);
    }
    return out;
  }

  private rsChanged(old: ReplicaSet | undefined, rs: ReplicaSet): void {
    if (old && old.metadata.resourceVersion === rs.metadata.resourceVersion) return;
    const q = this.queue;
    if (!q) return;
    const ref = controllerRefOf(rs);
    const oldRef = old ? controllerRefOf(old) : undefined;
    if (old && oldRef && oldRef.uid !== ref?.uid) {
      const prev = this.ownerOf(old, oldRef);
      if (prev) q.enqueue(prev);
    }
    if (ref) {
      const d = this.ownerOf(rs, ref);
      if (d) q.enqueue(d);
      return;
    }
    if (rs.metadata.deletionTimestamp) return;
    if (!old || oldRef || !deepEqual(old.metadata.labels, rs.metadata.labels)) {
      for (const d of this.matchingDeployments(rs)) q.enqueue(d);
    }
  }

  /** One reconcile of the Deployment `req`. Throws to be retried. */
  async reconcile(req: Request): Promise<Result | void> {
    const cached = this.deployments.get(req.namespace, req.name);
    if (!cached) return;
    const d = structuredClone(cached);
    if (deepEqual(d.spec?.selector, {})) {
      this.events.event(
        d,
        "Warning",
        "SelectingAll",
        "This deployment is selecting all pods. A non-empty selector is required.",
      );
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        d.status = { ...d.status, observedGeneration: d.metadata.generation ?? 0 };
        await this.writeStatus(d);
      }
      return;
    }
    let selector: Selector;
    try {
      selector = labelSelectorAsSelector(d.spec?.selector);
    } catch {
      return; // Validation refuses such selectors; nothing to do until the object changes.
    }
    const rsList = await this.claimReplicaSets(d, selector);
    if (d.metadata.deletionTimestamp) {
      const { newRS, oldRSs } = await this.allReplicaSets(d, rsList, false);
      await this.syncDeploymentStatus(compact([...oldRSs, newRS]), newRS, d);
      return;
    }
    await this.checkPausedConditions(d);
    if (d.spec?.paused) return this.sync(d, rsList);
    const { newRS, oldRSs } = await this.allReplicaSets(d, rsList, false);
    if (isScalingEvent(d, newRS, oldRSs)) return this.sync(d, rsList);
    if (d.spec?.strategy?.type === "Recreate") return rolloutRecreate(this, d, rsList);
    return rolloutRolling(this, d, rsList);
  }

  /** Upstream's `sync`: resize only (paused or scaling), cleanup when paused, status. */
  private async sync(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.allReplicaSets(d, rsList, false);
    await scaleDeployment(this, d, newRS, oldRSs);
    if (d.spec?.paused) await this.cleanupDeployment(oldRSs, d);
    await this.syncDeploymentStatus(compact([...oldRSs, newRS]), newRS, d);
  }

  /** Upstream's `checkPausedConditions`: Progressing Unknown DeploymentPaused / DeploymentResumed. */
  private async checkPausedConditions(d: Deployment): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, "Progressing");
    if (cond?.reason === Reason.TimedOut) return;
    const pausedCondExists = cond?.reason === Reason.Paused;
    const status = (d.status ??= {});
    if (d.spec?.paused && !pausedCondExists) {
      setCondition(
        status,
        newCondition("Progressing", "Unknown", Reason.Paused, "Deployment is paused", this.now()),
      );
    } else if (!d.spec?.paused && pausedCondExists) {
      setCondition(
        status,
        newCondition("Progressing", "Unknown", Reason.Resumed, "Deployment is resumed", this.now()),
      );
    } else {
      return;
    }
    await this.writeStatus(d);
  }

  /** Writes `d` (status and, as upstream's status strategy allows, annotations); keeps `d` current. */
  private async writeStatus(d: Deployment): Promise<void> {
    const out = await this.dClient.updateStatus(d);
    d.metadata.resourceVersion = out.metadata.resourceVersion;
  }

  /** Upstream's ClaimReplicaSets: owned ones that match, plus adopted orphans; strays released. */
  private async claimReplicaSets(d: Deployment, selector: Selector): Promise<ReplicaSet[]> {
    const ns = d.metadata.namespace ?? "";
    const uid = d.metadata.uid ?? "";
    const deleting = !!d.metadata.deletionTimestamp;
    const claimed: ReplicaSet[] = [];
    for (const rs of this.replicaSets.byIndex(BY_CONTROLLER_UID, uid)) {
      if (selector.matches(rs.metadata.labels)) {
        claimed.push(rs);
      } else if (!deleting) {
        try {
          await this.rsClient.patch(
            ns,
            rs.metadata.name ?? "",
            "strategic",
            releasePatch(uid, rs.metadata.uid ?? ""),
          );
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
    if (deleting) return claimed;
    let checked = false;
    for (const rs of this.replicaSets.byIndex(ORPHANS_BY_NAMESPACE, ns)) {
      if (rs.metadata.deletionTimestamp || !selector.matches(rs.metadata.labels)) continue;
      if (!checked) {
        const fresh = await this.dClient.get(ns, d.metadata.name ?? "");
        if (fresh.metadata.uid !== uid) {
          throw new Error(
            `original Deployment ${ns}/${d.metadata.name} is gone: got uid ${fresh.metadata.uid}, wanted ${uid}`,
          );
        }
        if (fresh.metadata.deletionTimestamp) {
          throw new Error(
            `${ns}/${d.metadata.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`,
          );
        }
        checked = true;
      }
      try {
        const ref = newControllerRef(d, "apps/v1", "Deployment");
        claimed.push(
          await this.rsClient.patch(
            ns,
            rs.metadata.name ?? "",
            "strategic",
            adoptPatch(ref, rs.metadata.uid ?? ""),
          ),
        );
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    return claimed;
  }

  /** Upstream's `getAllReplicaSetsAndSyncRevision`. `rsList` entries are replaced by what is written. */
  async allReplicaSets(
    d: Deployment,
    rsList: readonly ReplicaSet[],
    create: boolean,
  ): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    const found = findNewReplicaSet(d, rsList);
    const oldRSs = rsList.filter((rs) => rs !== found);
    const newRS = await this.getNewReplicaSet(d, found, oldRSs, create);
    if (found && newRS && newRS !== found) {
      const list = rsList as ReplicaSet[];
      const i = list.indexOf(found);
      if (i >= 0) list[i] = newRS;
    }
    return { newRS, oldRSs };
  }

  private async getNewReplicaSet(
    d: Deployment,
    existing: ReplicaSet | undefined,
    oldRSs: readonly ReplicaSet[],
    create: boolean,
  ): Promise<ReplicaSet | undefined> {
    const newRevision = String(maxRevision(oldRSs) + 1);
    if (existing) {
      const copy = structuredClone(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReady = d.spec?.minReadySeconds ?? 0;
      if (annotationsUpdated || (copy.spec?.minReadySeconds ?? 0) !== minReady) {
        copy.spec = { ...copy.spec!, minReadySeconds: minReady };
        return this.rsClient.update(copy);
      }
      let needsUpdate = setDeploymentRevision(d, copy.metadata.annotations?.[REVISION_ANNOTATION] ?? "");
      if (hasProgressDeadline(d) && !getCondition(d.status, "Progressing")) {
        const msg = `Found new replica set "${copy.metadata.name}"`;
        setCondition(
          (d.status ??= {}),
          newCondition("Progressing", "True", Reason.FoundNewRS, msg, this.now()),
        );
        needsUpdate = true;
      }
      if (needsUpdate) await this.writeStatus(d);
      return existing;
    }
    if (!create) return undefined;

    const template = structuredClone(d.spec!.template);
    const hash = computeHash(template, d.status?.collisionCount);
    template.metadata = {
      ...template.metadata,
      labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash },
    };
    const selector: LabelSelector = structuredClone(d.spec!.selector);
    selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash };
    const rs: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        ownerReferences: [newControllerRef(d, "apps/v1", "Deployment")],
        labels: { ...template.metadata.labels },
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    const replicas = newRSNewReplicas(d, [...oldRSs, rs], rs);
    rs.spec!.replicas = replicas;
    setNewReplicaSetAnnotations(d, rs, newRevision, false);
    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = await this.rsClient.create(rs);
    } catch (e) {
      if (!isAlreadyExists(e)) {
        if (isNamespaceTerminating(e)) throw e;
        const msg = `Failed to create new replica set "${rs.metadata.name}": ${(e as Error).message}`;
        if (hasProgressDeadline(d)) {
          setCondition(
            (d.status ??= {}),
            newCondition("Progressing", "False", Reason.FailedRSCreate, msg, this.now()),
          );
          await this.writeStatus(d).catch(() => undefined);
        }
        this.events.event(d, "Warning", Reason.FailedRSCreate, msg);
        throw e;
      }
      alreadyExists = true;
      const other =
        this.replicaSets.get(rs.metadata.namespace, rs.metadata.name!) ??
        (await this.rsClient.get(rs.metadata.namespace, rs.metadata.name!));
      const ref = controllerRefOf(other);
      if (!(ref && ref.uid === d.metadata.uid && equalIgnoreHash(d.spec?.template, other.spec?.template))) {
        // A hash collision: bump collisionCount so the next round hashes differently.
        d.status = { ...d.status, collisionCount: (d.status?.collisionCount ?? 0) + 1 };
        await this.writeStatus(d).catch(() => undefined);
        throw e;
      }
      created = other;
    }
    if (!alreadyExists && replicas > 0) {
      this.events.event(
        d,
        "Normal",
        "ScalingReplicaSet",
        `Scaled up replica set ${created.metadata.name} from 0 to ${replicas}`,
      );
    }
    let needsUpdate = setDeploymentRevision(d, newRevision);
    if (!alreadyExists && hasProgressDeadline(d)) {
      const msg = `Created new replica set "${created.metadata.name}"`;
      setCondition((d.status ??= {}), newCondition("Progressing", "True", Reason.NewRS, msg, this.now()));
      needsUpdate = true;
    }
    if (needsUpdate) await this.writeStatus(d);
    return created;
  }

  /** Upstream's `scaleReplicaSet`: size and replicas annotations in one update; event when the size changed. */
  async scaleReplicaSet(
    rs: ReplicaSet,
    newScale: number,
    d: Deployment,
    op: "up" | "down" | "",
  ): Promise<ScaleResult> {
    const oldScale = specReplicas(rs);
    const sizeChanged = oldScale !== newScale;
    const desired = specReplicas(d);
    const max = desired + maxSurge(d);
    if (!sizeChanged && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
    const copy = structuredClone(rs);
    copy.spec = { ...copy.spec!, replicas: newScale };
    setReplicasAnnotations(copy, desired, max);
    const out = await this.rsClient.update(copy);
    if (sizeChanged) {
      const verb = op === "up" ? "up" : "down";
      this.events.event(
        d,
        "Normal",
        "ScalingReplicaSet",
        `Scaled ${verb} replica set ${out.metadata.name} from ${oldScale} to ${newScale}`,
      );
    }
    return { scaled: sizeChanged, rs: out };
  }

  /** Upstream's `cleanupDeployment`: delete the oldest idle ReplicaSets beyond revisionHistoryLimit. */
  async cleanupDeployment(oldRSs: readonly ReplicaSet[], d: Deployment): Promise<void> {
    if (!hasRevisionHistoryLimit(d)) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = cleanable.length - (d.spec?.revisionHistoryLimit ?? 0);
    if (diff <= 0) return;
    cleanable.sort(byRevision);
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i]!;
      if (
        (rs.status?.replicas ?? 0) !== 0 ||
        specReplicas(rs) !== 0 ||
        (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0) ||
        rs.metadata.deletionTimestamp
      ) {
        continue;
      }
      try {
        await this.rsClient.delete(rs.metadata.namespace, rs.metadata.name ?? "");
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  /** Upstream's `syncDeploymentStatus`: counts and Available, written when changed. */
  async syncDeploymentStatus(
    allRSs: readonly ReplicaSet[],
    newRS: ReplicaSet | undefined,
    d: Deployment,
  ): Promise<void> {
    const status = calculateStatus(allRSs, newRS, d, this.now());
    if (deepEqual(d.status, status)) return;
    d.status = status;
    await this.writeStatus(d);
  }

  /** Upstream's `syncRolloutStatus`: with Progressing; requeues a rollout that may time out. */
  async syncRolloutStatus(
    allRSs: readonly ReplicaSet[],
    newRS: ReplicaSet | undefined,
    d: Deployment,
  ): Promise<Result | void> {
    const { status, requeueAfterMs } = rolloutStatus(allRSs, newRS, d, this.now());
    if (deepEqual(d.status, status)) return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
    d.status = status;
    await this.writeStatus(d);
  }

  /** Whether an old ReplicaSet still reports replicas, or has a pod not yet terminal. */
  oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): boolean {
    if (actualReplicaCount(oldRSs) > 0) return true;
    for (const rs of oldRSs) {
      if (newRS && rs.metadata.uid === newRS.metadata.uid) continue;
      for (const pod of this.pods.byIndex(BY_CONTROLLER_UID, rs.metadata.uid ?? "")) {
        const phase = pod.status?.phase;
        if (phase !== "Failed" && phase !== "Succeeded") return true;
      }
    }
    return false;
  }
}

function compact(rss: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((r): r is ReplicaSet => r !== undefined);
}

/** Upstream's `HasStatusCause(err, NamespaceTerminatingCause)`. */
function isNamespaceTerminating(e: unknown): boolean {
  const causes = (e as { status?: { details?: { causes?: { type?: string }[] } } }).status?.details?.causes;
  return !!causes?.some((c) => c.type === "NamespaceTerminating");
}
