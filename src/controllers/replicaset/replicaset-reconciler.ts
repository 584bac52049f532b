/**
 * @module The replica reconciler behind the ReplicaSet and ReplicationController controllers
 * (upstream's `syncReplicaSet`): claim pods (keep owned pods that match the selector, adopt
 * matching orphans, release owned pods that stopped matching), create or delete pods toward
 * spec.replicas (creations in slow-start batches, deletions ranked as upstream, at most 500
 * per round, gated by expectations), then write status. One implementation; the owner kind
 * comes in through a {@link ReplicaOwnerAdapter}.
 */
import type { Selector } from "../../api/labels.ts";
import type { KubeObject } from "../../api/object.ts";
import { isNotFound } from "../../api/status-error.ts";
import type { Pod } from "../../api/types/core-v1.ts";
import type { OwnerReference } from "../../api/types/meta-v1.ts";
import type { Request, Result } from "../../client/controller.ts";
import type { EventRecorder } from "../../client/events.ts";
import type { Informer } from "../../client/informer.ts";
import type { Client, ResourceClient } from "../../client/types.ts";
import type { ReplicaOwnerAdapter, ReplicaStatus } from "./replicaset-adapters.ts";
import { ControllerExpectations } from "./replicaset-expectations.ts";
import { addOwnerIndexes, BY_CONTROLLER_UID, ORPHANS_BY_NAMESPACE } from "../util/owner-refs.ts";
import { adoptPatch, controllerRefOf, newControllerRef, releasePatch } from "../util/owner-refs.ts";
import { isPodActive, msUntilAvailable, objectKey } from "../util/pod-util.ts";
import { podsToDelete } from "./replicaset-ranking.ts";
import { SLOW_START_INITIAL_BATCH, slowStartBatch } from "./replicaset-slow-start.ts";
import { calculateReplicaStatus, replicaStatusEqual } from "./replicaset-status.ts";

/** Upstream's BurstReplicas: at most this many creations or deletions per reconcile. */
export const BURST_REPLICAS = 500;

/** Where events go (an `EventRecorder`, or a stub in tests). */
export type EventSink = Pick<EventRecorder, "event">;

/** Where keys go (a `Controller`, or a stub in tests). */
export interface WorkQueue {
  enqueue(target: KubeObject | Request | string): void;
  enqueueAfter(target: KubeObject | Request | string, ms: number): void;
}

export interface ReplicaReconcilerOptions<T extends KubeObject> {
  client: Client;
  adapter: ReplicaOwnerAdapter<T>;
  owners: Informer<T>;
  pods: Informer<Pod>;
  events: EventSink;
  /** The clock (ms); tests pin it. */
  now?: () => number;
  burstReplicas?: number;
}

/** Reconciles owners of one kind (ReplicaSet or ReplicationController) to their replica count. */
export class ReplicaReconciler<T extends KubeObject> {
  readonly expectations: ControllerExpectations;
  private readonly adapter: ReplicaOwnerAdapter<T>;
  private readonly owners: Informer<T>;
  private readonly pods: Informer<Pod>;
  private readonly ownerClient: ResourceClient<T>;
  private readonly podClient: ResourceClient<Pod>;
  private readonly events: EventSink;
  private readonly now: () => number;
  private readonly burst: number;
  private queue: WorkQueue | undefined;

  constructor(opts: ReplicaReconcilerOptions<T>) {
    this.adapter = opts.adapter;
    this.owners = opts.owners;
    this.pods = opts.pods;
    this.events = opts.events;
    this.now = opts.now ?? Date.now;
    this.burst = opts.burstReplicas ?? BURST_REPLICAS;
    this.expectations = new ControllerExpectations(this.now);
    this.ownerClient = opts.client.resource<T>(opts.adapter.group, opts.adapter.plural);
    this.podClient = opts.client.resource<Pod>("", "pods");
    addOwnerIndexes(this.pods);
    addOwnerIndexes(this.owners);
  }

  /** Registers the informer handlers; they only enqueue owner keys into `queue`. */
  register(queue: WorkQueue): void {
    this.queue = queue;
    this.owners.addHandlers({
      add: (o) => queue.enqueue(o),
      update: (_old, cur) => queue.enqueue(cur),
      delete: (o) => {
        this.expectations.delete(objectKey(o));
        queue.enqueue(o);
      },
    });
    this.pods.addHandlers({
      add: (pod) => this.podAdded(pod),
      update: (old, cur) => this.podUpdated(old, cur),
      delete: (pod) => this.podDeleted(pod),
    });
  }

  /** The owner a pod's controller reference points at, if it is of our kind and still exists. */
  private resolveOwner(pod: Pod, ref: OwnerReference | undefined): T | undefined {
    if (!ref || ref.kind !== this.adapter.kind || groupOf(ref.apiVersion) !== this.adapter.group)
      return undefined;
    const owner = this.owners.get(pod.metadata.namespace, ref.name);
    return owner && owner.metadata.uid === ref.uid ? owner : undefined;
  }

  /** Owners in the pod's namespace whose selector matches it (for orphans). */
  private matchingOwners(pod: Pod): T[] {
    const out: T[] = [];
    for (const o of this.owners.list(pod.metadata.namespace ?? "")) {
      let sel: Selector;
      try {
        sel = this.adapter.selector(o);
      } catch {
        continue;
      }
      if (!sel.empty() && sel.matches(pod.metadata.labels)) out.push(o);
    }
    return out;
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) {
      // Seen already being deleted (e.g. after a relist): count it as a deletion.
      this.podDeleted(pod);
      return;
    }
    const ref = controllerRefOf(pod);
    if (ref) {
      const owner = this.resolveOwner(pod, ref);
      if (!owner) return;
      this.expectations.creationObserved(objectKey(owner));
      this.queue?.enqueue(owner);
      return;
    }
    for (const o of this.matchingOwners(pod)) this.queue?.enqueue(o);
  }

  private podUpdated(old: Pod, cur: Pod): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const labelsChanged = !sameLabels(old.metadata.labels, cur.metadata.labels);
    if (cur.metadata.deletionTimestamp) {
      this.podDeleted(cur);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = curRef?.uid !== oldRef?.uid;
    if (refChanged && oldRef) {
      const oldOwner = this.resolveOwner(old, oldRef);
      if (oldOwner) this.queue?.enqueue(oldOwner);
    }
    if (curRef) {
      const owner = this.resolveOwner(cur, curRef);
      if (owner) this.queue?.enqueue(owner);
      return;
    }
    if (labelsChanged || refChanged) for (const o of this.matchingOwners(cur)) this.queue?.enqueue(o);
  }

  private podDeleted(pod: Pod): void {
    const owner = this.resolveOwner(pod, controllerRefOf(pod));
    if (!owner) return;
    const key = objectKey(owner);
    this.expectations.deletionObserved(key, objectKey(pod));
    this.queue?.enqueue(owner);
  }

  /** One reconcile of the owner `req` (see the module comment). Throws to be retried. */
  async reconcile(req: Request): Promise<Result | void> {
    const key = `${req.namespace}/${req.name}`;
    const owner = this.owners.get(req.namespace, req.name);
    if (!owner) {
      this.expectations.delete(key);
      return;
    }
    const needsSync = this.expectations.satisfied(key);
    let selector: Selector;
    try {
      selector = this.adapter.selector(owner);
    } catch {
      // Upstream logs an invalid selector and gives up until the object changes.
      return;
    }
    const pods = await this.claimPods(owner, selector);
    let manageError: Error | undefined;
    if (needsSync && !owner.metadata.deletionTimestamp) {
      manageError = await this.manageReplicas(owner, key, pods);
    }
    const nowMs = this.now();
    const minReady = this.adapter.minReadySeconds(owner);
    const replicas = this.adapter.replicas(owner);
    const status = calculateReplicaStatus({
      previous: this.adapter.status(owner),
      template: this.adapter.template(owner),
      pods,
      desiredReplicas: replicas,
      minReadySeconds: minReady,
      manageError,
      nowMs,
    });
    status.observedGeneration = owner.metadata.generation ?? status.observedGeneration;
    if (!replicaStatusEqual(this.adapter.status(owner), status)) await this.writeStatus(owner, status);
    if (manageError) throw manageError;
    // A ready pod becomes available minReadySeconds later: look again then.
    let wait: number | undefined;
    if (minReady > 0) {
      for (const p of pods) {
        const left = msUntilAvailable(p, minReady, nowMs);
        if (left !== undefined && (wait === undefined || left < wait)) wait = left;
      }
    }
    return wait === undefined ? undefined : { requeueAfterMs: wait + 50 };
  }

  private async writeStatus(owner: T, status: ReplicaStatus): Promise<void> {
    const next = { ...owner, status } as T;
    await this.ownerClient.updateStatus(next);
  }

  /**
   * Upstream's ClaimPods over the active pods the owner may control: its own (kept while
   * they match, released when not) and the namespace's orphans that match (adopted).
   */
  private async claimPods(owner: T, selector: Selector): Promise<Pod[]> {
    const ns = owner.metadata.namespace ?? "";
    const uid = owner.metadata.uid ?? "";
    const deleting = !!owner.metadata.deletionTimestamp;
    const claimed: Pod[] = [];
    const errors: Error[] = [];
    const writes: Promise<void>[] = [];
    for (const pod of this.pods.byIndex(BY_CONTROLLER_UID, uid)) {
      if (!isPodActive(pod)) continue;
      if (selector.matches(pod.metadata.labels)) claimed.push(pod);
      else if (!deleting) writes.push(this.release(owner, pod).catch((e: Error) => void errors.push(e)));
    }
    if (!deleting) {
      let canAdopt: Promise<void> | undefined;
      for (const pod of this.pods.byIndex(ORPHANS_BY_NAMESPACE, ns)) {
        if (!isPodActive(pod) || !selector.matches(pod.metadata.labels) || selector.isNothing()) continue;
        canAdopt ??= this.recheckOwner(owner);
        writes.push(
          canAdopt
            .then(() => this.adopt(owner, pod))
            .then((p) => void (p && claimed.push(p)))
            .catch((e: Error) => void errors.push(e)),
        );
      }
    }
    if (writes.length > 0) await Promise.all(writes);
    if (errors.length > 0) throw errors[0]!;
    return claimed;
  }

  /** Upstream's RecheckDeletionTimestamp: a fresh read proves the owner is live before adopting. */
  private async recheckOwner(owner: T): Promise<void> {
    const fresh = await this.ownerClient.get(owner.metadata.namespace, owner.metadata.name ?? "");
    if (fresh.metadata.uid !== owner.metadata.uid) {
      throw new Error(
        `original ${this.adapter.kind} ${objectKey(owner)} is gone: got uid ${fresh.metadata.uid}, wanted ${owner.metadata.uid}`,
      );
    }
    if (fresh.metadata.deletionTimestamp) {
      throw new Error(`${objectKey(owner)} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
    }
  }

  private async adopt(owner: T, pod: Pod): Promise<Pod | undefined> {
    const ref = newControllerRef(owner, this.adapter.apiVersion, this.adapter.kind);
    try {
      return await this.podClient.patch(
        pod.metadata.namespace,
        pod.metadata.name ?? "",
        "strategic",
        adoptPatch(ref, pod.metadata.uid ?? ""),
      );
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async release(owner: T, pod: Pod): Promise<void> {
    try {
      await this.podClient.patch(
        pod.metadata.namespace,
        pod.metadata.name ?? "",
        "strategic",
        releasePatch(owner.metadata.uid ?? "", pod.metadata.uid ?? ""),
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** Creates or deletes pods toward spec.replicas; returns the first error. */
  private async manageReplicas(owner: T, key: string, pods: readonly Pod[]): Promise<Error | undefined> {
    const diff = pods.length - this.adapter.replicas(owner);
    if (diff < 0) {
      const count = Math.min(-diff, this.burst);
      this.expectations.expectCreations(key, count);
      const { successes, error } = await slowStartBatch(count, SLOW_START_INITIAL_BATCH, () =>
        this.createPod(owner),
      );
      // Creations never attempted (or failed) will never be observed.
      for (let i = successes; i < count; i++) this.expectations.creationObserved(key);
      return error;
    }
    if (diff > 0) {
      const count = Math.min(diff, this.burst);
      const victims = podsToDelete(pods, this.relatedPods(owner, pods), count, this.now());
      this.expectations.expectDeletions(key, victims.map(objectKey));
      const errors: Error[] = [];
      await Promise.all(
        victims.map(async (pod) => {
          try {
            await this.podClient.delete(pod.metadata.namespace, pod.metadata.name ?? "");
            this.events.event(owner, "Normal", "SuccessfulDelete", `Deleted pod: ${pod.metadata.name}`);
          } catch (e) {
            this.expectations.deletionObserved(key, objectKey(pod));
            if (!isNotFound(e)) {
              this.events.event(owner, "Warning", "FailedDelete", `Error deleting: ${(e as Error).message}`);
              errors.push(e as Error);
            }
          }
        }),
      );
      return errors[0];
    }
    return undefined;
  }

  /**
   * The active pods of the owner's family, for the doubled-up ranking: for a ReplicaSet run
   * by a Deployment, the pods of every ReplicaSet of that Deployment; otherwise its own.
   */
  private relatedPods(owner: T, own: readonly Pod[]): readonly Pod[] {
    const parent = controllerRefOf(owner);
    if (!parent) return own;
    const out: Pod[] = [];
    for (const sibling of this.owners.byIndex(BY_CONTROLLER_UID, parent.uid)) {
      for (const p of this.pods.byIndex(BY_CONTROLLER_UID, sibling.metadata.uid ?? "")) {
        if (isPodActive(p)) out.push(p);
      }
    }
    return out;
  }

  private async createPod(owner: T): Promise<void> {
    const template = this.adapter.template(owner);
    const labels = template?.metadata?.labels;
    try {
      if (!labels || Object.keys(labels).length === 0) throw new Error("unable to create pods, no labels");
      const pod: Pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          generateName: `${owner.metadata.name}-`,
          namespace: owner.metadata.namespace,
          labels: { ...labels },
          ownerReferences: [newControllerRef(owner, this.adapter.apiVersion, this.adapter.kind)],
        },
        spec: structuredClone(template?.spec ?? { containers: [] }),
      };
      if (template?.metadata?.annotations) pod.metadata.annotations = { ...template.metadata.annotations };
      if (template?.metadata?.finalizers) pod.metadata.finalizers = [...template.metadata.finalizers];
      const created = await this.podClient.create(pod);
      this.events.event(owner, "Normal", "SuccessfulCreate", `Created pod: ${created.metadata.name}`);
    } catch (e) {
      if (isNamespaceTerminating(e)) return;
      this.events.event(owner, "Warning", "FailedCreate", `Error creating: ${(e as Error).message}`);
      throw e;
    }
  }
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === b) return true;
  const ak = a ? Object.keys(a) : [];
  const bk = b ? Object.keys(b) : [];
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (a![k] !== b?.[k]) return false;
  return true;
}

/** Upstream's `HasStatusCause(err, NamespaceTerminatingCause)`. */
function isNamespaceTerminating(e: unknown): boolean {
  const causes = (e as { status?: { details?: { causes?: { type?: string }[] } } }).status?.details?.causes;
  return !!causes?.some((c) => c.type === "NamespaceTerminating");
}
