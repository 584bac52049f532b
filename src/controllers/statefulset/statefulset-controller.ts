/**
 * @module The StatefulSet controller: keeps `<set>-0..N-1` pods with stable identities,
 * ordered (OrderedReady) or parallel, rolls them onto new revisions from the highest ordinal
 * down to the partition (or leaves that to the user with OnDelete), records revisions as
 * ControllerRevisions (what `kubectl rollout history|undo sts` read) and writes the status.
 * Reconciles re-read the set and its pods from the informer caches (pods through the
 * controller-uid index), adopt matching orphans and release pods that stop matching.
 */
import { labelSelectorAsSelector, type Selector } from "../../api/labels.ts";
import { deepEqual } from "../../api/meta.ts";
import type { ControllerRevision, StatefulSet, StatefulSetStatus } from "../../api/types/apps-v1.ts";
import type { Pod } from "../../api/types/core-v1.ts";
import { Controller, type Request, type Result } from "../../client/controller.ts";
import type { EventRecorder } from "../../client/events.ts";
import type { Informer, InformerFactory } from "../../client/informer.ts";
import type { Client, ResourceClient } from "../../client/types.ts";
import { childHandlers } from "./statefulset-child-handlers.ts";
import { completeRollingUpdate, syncStatefulSetPods, type RevisionPair } from "./statefulset-control.ts";
import { syncRevisions, templateOfRevision, truncateHistory } from "./statefulset-history.ts";
import { addOwnerIndexes, claimCandidates, newControllerRef, adoptAndRelease } from "../util/owner-refs.ts";
import { isMemberOf, podRevision } from "./statefulset-pods.ts";

/** Event source component, as upstream. */
export const STATEFULSET_COMPONENT = "statefulset-controller";

export interface StatefulSetControllerOptions {
  client: Client;
  informers: InformerFactory;
  recorder: EventRecorder;
  workers?: number;
  /** The clock (tests inject one). */
  now?: () => Date;
}

/** Status fields upstream omits when zero (`omitempty`). */
const OMIT_ZERO = ["readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas"] as const;

export class StatefulSetController {
  readonly controller: Controller;
  private readonly sets: Informer<StatefulSet>;
  private readonly pods: Informer<Pod>;
  private readonly revisions: Informer<ControllerRevision>;
  private readonly setClient: ResourceClient<StatefulSet>;
  private readonly podClient: ResourceClient<Pod>;
  private readonly revisionClient: ResourceClient<ControllerRevision>;
  private readonly recorder: EventRecorder;
  private readonly now: () => Date;

  constructor(opts: StatefulSetControllerOptions) {
    this.recorder = opts.recorder;
    this.now = opts.now ?? (() => new Date());
    this.sets = opts.informers.informer<StatefulSet>("apps", "statefulsets");
    this.pods = opts.informers.informer<Pod>("", "pods");
    this.revisions = opts.informers.informer<ControllerRevision>("apps", "controllerrevisions");
    addOwnerIndexes(this.pods);
    addOwnerIndexes(this.revisions);
    this.setClient = opts.client.resource<StatefulSet>("apps", "statefulsets");
    this.podClient = opts.client.resource<Pod>("", "pods");
    this.revisionClient = opts.client.resource<ControllerRevision>("apps", "controllerrevisions");
    this.controller = new Controller({
      name: STATEFULSET_COMPONENT,
      workers: opts.workers ?? 5,
      reconcile: (req) => this.reconcile(req),
    });
    const enqueue = (key: string): void => this.controller.enqueue(key);
    this.sets.addHandlers({
      add: (s) => this.controller.enqueue(s),
      update: (_o, s) => this.controller.enqueue(s),
      delete: (s) => this.controller.enqueue(s),
    });
    this.pods.addHandlers(
      childHandlers<StatefulSet, Pod>({
        ownerKind: "StatefulSet",
        owners: this.sets,
        enqueue,
        selectorOf: (s) => selectorOf(s),
      }),
    );
  }

  /** One sync of the StatefulSet `req`. */
  async reconcile(req: Request): Promise<Result | void> {
    const cached = this.sets.get(req.namespace, req.name);
    if (!cached) return;
    const set = cached;
    const selector = selectorOf(set);
    if (!selector) {
      this.recorder.event(set, "Warning", "InvalidSelector", "invalid label selector");
      return;
    }
    // A set being deleted is left to the garbage collector.
    if (set.metadata.deletionTimestamp) return;
    const pods = await this.claimPods(set, selector);

    const history = await syncRevisions({
      owner: set,
      ownerApiVersion: "apps/v1",
      ownerKind: "StatefulSet",
      template: set.spec?.template,
      collisionCount: set.status?.collisionCount ?? 0,
      client: this.revisionClient,
      informer: this.revisions,
    });
    const update = history.update;
    const current = history.revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    const revs: RevisionPair = {
      current: current.metadata.name ?? "",
      currentTemplate: templateOfRevision(current),
      update: update.metadata.name ?? "",
      updateTemplate: set.spec?.template ?? templateOfRevision(update),
    };

    const nowMs = this.now().getTime();
    const pass = await syncStatefulSetPods(set, pods, revs, {
      pods: this.podClient,
      recorder: this.recorder,
      nowMs,
    });
    const status = pass.status;
    completeRollingUpdate(set, status);
    status.observedGeneration = set.metadata.generation ?? 0;
    if (history.collisionCount > 0 || set.status?.collisionCount !== undefined)
      status.collisionCount = history.collisionCount;
    if (set.status?.conditions) status.conditions = set.status.conditions;
    for (const f of OMIT_ZERO) if (status[f] === 0) delete status[f];
    await this.writeStatus(set, status);

    const live = new Set<string>([revs.current, revs.update, status.currentRevision ?? ""]);
    for (const p of pods) {
      const r = podRevision(p);
      if (r) live.add(r);
    }
    await truncateHistory(this.revisionClient, history.revisions, live, set.spec?.revisionHistoryLimit ?? 10);
    return pass.requeueAfterMs !== undefined ? { requeueAfterMs: pass.requeueAfterMs } : undefined;
  }

  private async writeStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    if (deepEqual(set.status ?? {}, status)) return;
    const next = structuredClone(set);
    next.status = status;
    await this.setClient.updateStatus(next);
  }

  /** The pods the set controls after adopting matching orphans and releasing strays. */
  private async claimPods(set: StatefulSet, selector: Selector): Promise<Pod[]> {
    const { owned, adopt, release } = claimCandidates(this.pods, set, selector);
    const pods: Pod[] = [];
    for (const p of owned) {
      if (isMemberOf(set, p)) pods.push(p);
      else release.push(p);
    }
    const adoptable = adopt.filter((p) => isMemberOf(set, p));
    const ref = newControllerRef(set, "apps/v1", "StatefulSet");
    pods.push(...(await adoptAndRelease(this.podClient, this.setClient, set, ref, adoptable, release)));
    return pods;
  }
}

function selectorOf(set: StatefulSet): Selector | undefined {
  try {
    return labelSelectorAsSelector(set.spec?.selector);
  } catch {
    return undefined;
  }
}
