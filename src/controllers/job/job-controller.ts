/**
 * @module The Job controller, as upstream's pkg/controller/job: runs pods until
 * `completions` succeed (NonIndexed: any pods; Indexed: one per index 0..completions-1) with
 * at most `parallelism` active, replaces failed pods with exponential backoff (10 s doubling,
 * at most 10 min) until `backoffLimit` failures (Failed / BackoffLimitExceeded), enforces
 * `activeDeadlineSeconds` (DeadlineExceeded), applies podFailurePolicy rules (FailJob,
 * Ignore, Count), suspends and resumes. Pods are tracked with the
 * `batch.kubernetes.io/job-tracking` finalizer: a finished pod's uid first goes into
 * `status.uncountedTerminatedPods`, then its finalizer is removed, then it is counted in
 * succeeded/failed — so a pod deleted early is never lost or counted twice.
 */
import { labelSelectorAsSelector, type Selector } from "../../api/labels.ts";
import { deepEqual, formatTimestamp } from "../../api/meta.ts";
import { isNotFound } from "../../api/status-error.ts";
import type { Job, JobStatus } from "../../api/types/batch-v1.ts";
import type { Pod } from "../../api/types/core-v1.ts";
import { Controller, type Request, type Result } from "../../client/controller.ts";
import type { EventRecorder } from "../../client/events.ts";
import { objectKey, type Informer, type InformerFactory } from "../../client/informer.ts";
import type { Client, ResourceClient } from "../../client/types.ts";
import { Expectations } from "../daemonset/daemonset-expectations.ts";
import { childHandlers } from "../statefulset/statefulset-child-handlers.ts";
import {
  addOwnerIndexes,
  BY_CONTROLLER_UID,
  claimCandidates,
  controllerRefOfKind,
  newControllerRef,
  adoptAndRelease,
} from "../util/owner-refs.ts";
import { compareForDeletion, isPodActive, isPodReady } from "../util/pod-util.ts";
import {
  getCondition,
  isJobFinished,
  MESSAGE_BACKOFF_LIMIT,
  MESSAGE_COMPLETIONS_REACHED,
  MESSAGE_DEADLINE,
  REASON_BACKOFF_LIMIT,
  REASON_COMPLETIONS_REACHED,
  REASON_DEADLINE,
  REASON_POD_FAILURE_POLICY,
  setCondition,
} from "./job-conditions.ts";
import { matchPodFailurePolicy } from "./job-failure-policy.ts";
import { formatIndexes, parseIndexes, podIndex } from "./job-indexes.ts";
import { hasTrackingFinalizer, newJobPod, removeTrackingFinalizerPatch } from "./job-pods.ts";

/** Event source component, as upstream. */
export const JOB_COMPONENT = "job-controller";
/** Upstream's DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 10 * 60_000;
/** At most this many pods created or deleted per sync (upstream's MaxPodCreateDeletePerSync). */
const MAX_PER_SYNC = 500;

export interface JobControllerOptions {
  client: Client;
  informers: InformerFactory;
  recorder: EventRecorder;
  workers?: number;
  now?: () => Date;
}

interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureMs: number;
}

export class JobController {
  readonly controller: Controller;
  readonly expectations: Expectations;
  private readonly jobs: Informer<Job>;
  private readonly pods: Informer<Pod>;
  private readonly jobClient: ResourceClient<Job>;
  private readonly podClient: ResourceClient<Pod>;
  private readonly recorder: EventRecorder;
  private readonly now: () => Date;
  private readonly backoff = new Map<string, BackoffRecord>();
  /** uids of Jobs whose pods may still hold the finalizer after the Job is gone, by key. */
  private readonly goneUids = new Map<string, Set<string>>();

  constructor(opts: JobControllerOptions) {
    this.recorder = opts.recorder;
    this.now = opts.now ?? (() => new Date());
    this.expectations = new Expectations(() => this.now().getTime());
    this.jobs = opts.informers.informer<Job>("batch", "jobs");
    this.pods = opts.informers.informer<Pod>("", "pods");
    addOwnerIndexes(this.pods);
    this.jobClient = opts.client.resource<Job>("batch", "jobs");
    this.podClient = opts.client.resource<Pod>("", "pods");
    this.controller = new Controller({
      name: JOB_COMPONENT,
      workers: opts.workers ?? 5,
      reconcile: (req) => this.reconcile(req),
    });
    this.jobs.addHandlers({
      add: (j) => this.controller.enqueue(j),
      update: (_o, j) => this.controller.enqueue(j),
      delete: (j) => {
        this.rememberGone(objectKey(j), j.metadata.uid ?? "");
        this.controller.enqueue(j);
      },
    });
    const routed = childHandlers<Job, Pod>({
      ownerKind: "Job",
      owners: this.jobs,
      enqueue: (key) => this.controller.enqueue(key),
      selectorOf,
      onAdd: (key) => this.expectations.creationObserved(key),
      onDelete: (key, pod) => this.expectations.deletionObserved(key, objectKey(pod)),
    });
    this.pods.addHandlers({
      add: (p) => {
        this.noticeOrphanFinalizer(p);
        routed.add?.(p);
      },
      update: (o, p) => {
        this.noticeOrphanFinalizer(p);
        routed.update?.(o, p);
      },
      delete: (p) => routed.delete?.(p),
    });
  }

  private rememberGone(key: string, uid: string): void {
    if (!uid) return;
    let s = this.goneUids.get(key);
    if (!s) this.goneUids.set(key, (s = new Set()));
    s.add(uid);
  }

  /** A pod holding the finalizer whose Job is gone: queue its (missing) Job to strip it. */
  private noticeOrphanFinalizer(p: Pod): void {
    if (!hasTrackingFinalizer(p) || !this.jobs.hasSynced()) return;
    const ref = controllerRefOfKind(p, "Job");
    const job = ref ? this.jobs.get(p.metadata.namespace, ref.name) : undefined;
    if (ref && job && job.metadata.uid === ref.uid) return;
    const key = ref ? `${p.metadata.namespace}/${ref.name}` : `${p.metadata.namespace}/${p.metadata.name}`;
    this.rememberGone(key, ref?.uid ?? "");
    if (!ref) {
      void this.stripFinalizers([p]).catch(() => undefined);
      return;
    }
    this.controller.enqueue(key);
  }

  /** One sync of the Job `req`. */
  async reconcile(req: Request): Promise<Result | void> {
    const key = `${req.namespace}/${req.name}`;
    const job = this.jobs.get(req.namespace, req.name);
    const gone = this.goneUids.get(key);
    if (gone) {
      for (const uid of gone) {
        if (job && job.metadata.uid === uid) continue;
        await this.stripFinalizers(this.pods.byIndex(BY_CONTROLLER_UID, uid).filter(hasTrackingFinalizer));
        gone.delete(uid);
      }
      if (gone.size === 0) this.goneUids.delete(key);
    }
    if (!job) {
      this.expectations.delete(key);
      this.backoff.delete(key);
      return;
    }
    const selector = selectorOf(job);
    if (!selector) return;
    const pods = await this.claimPods(job, selector);
    if (isJobFinished(job)) {
      // Counted or not, a finished Job's pods no longer need the finalizer.
      await this.stripFinalizers(pods.filter(hasTrackingFinalizer));
      return;
    }
    if (!this.expectations.satisfied(key)) return;
    return this.syncJob(key, job, pods);
  }

  private async syncJob(key: string, job: Job, pods: Pod[]): Promise<Result | void> {
    const spec = job.spec!;
    const now = this.now();
    const nowMs = now.getTime();
    const nowStr = formatTimestamp(now);
    const status: JobStatus = structuredClone(job.status ?? {});
    const conditions = (status.conditions ??= []);
    const indexed = spec.completionMode === "Indexed";
    const completions = spec.completions ?? null;
    const backoffLimit = spec.backoffLimit ?? 6;
    const suspended = spec.suspend === true;
    const onlyReplaceFailed = spec.podReplacementPolicy === "Failed" || !!spec.podFailurePolicy;
    let requeueAfterMs: number | undefined;
    const requeue = (ms: number): void => {
      requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, Math.max(1, ms));
    };

    // 1. Newly finished pods go into uncountedTerminatedPods before their finalizers go.
    const uncounted = {
      succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])],
      failed: [...(status.uncountedTerminatedPods?.failed ?? [])],
    };
    const known = new Set([...uncounted.succeeded, ...uncounted.failed]);
    const completed = parseIndexes(status.completedIndexes, completions ?? undefined);
    const toStrip: Pod[] = [];
    let newSucceeded = 0;
    let newFailed = 0;
    let failJobMessage: string | undefined;
    for (const pod of pods) {
      if (!hasTrackingFinalizer(pod)) continue;
      const uid = pod.metadata.uid ?? "";
      if (known.has(uid)) {
        toStrip.push(pod);
        continue;
      }
      const phase = pod.status?.phase;
      if (phase === "Succeeded") {
        toStrip.push(pod);
        if (indexed) {
          const ix = podIndex(pod);
          if (ix < 0 || completions === null || ix >= completions || completed.has(ix)) continue;
          completed.add(ix);
        }
        uncounted.succeeded.push(uid);
        newSucceeded++;
        continue;
      }
      const failed = phase === "Failed" || (!onlyReplaceFailed && !!pod.metadata.deletionTimestamp);
      if (!failed) continue;
      toStrip.push(pod);
      if (phase === "Failed") {
        const match = matchPodFailurePolicy(spec.podFailurePolicy, pod);
        if (match?.action === "Ignore") continue;
        if (match?.action === "FailJob") failJobMessage ??= match.message;
      }
      uncounted.failed.push(uid);
      newFailed++;
    }
    if (newSucceeded > 0 || newFailed > 0) {
      status.uncountedTerminatedPods = uncounted;
      if (indexed) status.completedIndexes = formatIndexes(completed) || undefined;
      if (!status.startTime && !suspended) status.startTime = nowStr;
      job = await this.jobClient.updateStatus({ ...structuredClone(job), status: structuredClone(status) });
    }
    if (newFailed > 0 || newSucceeded > 0) this.recordOutcome(key, newSucceeded, newFailed, nowMs);
    // 2. Finalizers off; 3. the uncounted pods are counted.
    await this.stripFinalizers(toStrip);
    const succeeded = indexed ? completed.size : (status.succeeded ?? 0) + uncounted.succeeded.length;
    const failedCount = (status.failed ?? 0) + uncounted.failed.length;
    status.succeeded = succeeded;
    status.failed = failedCount;
    status.uncountedTerminatedPods = {};
    if (indexed) status.completedIndexes = formatIndexes(completed);

    let active = pods.filter(isPodActive);
    const terminating = pods.filter((p) => !!p.metadata.deletionTimestamp && !isTerminal(p)).length;

    // Suspend / resume.
    const suspendedCond = getCondition(conditions, "Suspended");
    if (suspended) {
      if (setCondition(conditions, "Suspended", "True", "JobSuspended", "Job suspended", nowStr))
        this.recorder.event(job, "Normal", "Suspended", "Job suspended");
    } else if (suspendedCond?.status === "True") {
      setCondition(conditions, "Suspended", "False", "JobResumed", "Job resumed", nowStr);
      this.recorder.event(job, "Normal", "Resumed", "Job resumed");
      status.startTime = nowStr;
    }
    if (!suspended && !status.startTime) status.startTime = nowStr;

    // Finished?
    let failure: { reason: string; message: string } | undefined;
    if (failJobMessage) failure = { reason: REASON_POD_FAILURE_POLICY, message: failJobMessage };
    else if (failedCount > backoffLimit)
      failure = { reason: REASON_BACKOFF_LIMIT, message: MESSAGE_BACKOFF_LIMIT };
    else if (!suspended && spec.activeDeadlineSeconds !== undefined && status.startTime) {
      const deadline = Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000;
      if (nowMs >= deadline) failure = { reason: REASON_DEADLINE, message: MESSAGE_DEADLINE };
      else requeue(deadline - nowMs);
    }

    if (failure) {
      await this.deletePods(job, key, active);
      status.failed = failedCount + active.length;
      active = [];
      setCondition(conditions, "FailureTarget", "True", failure.reason, failure.message, nowStr);
      setCondition(conditions, "Failed", "True", failure.reason, failure.message, nowStr);
      this.recorder.event(job, "Warning", failure.reason, failure.message);
    } else if (suspended) {
      await this.deletePods(job, key, active);
      active = [];
    } else {
      const r = await this.manage(job, key, active, succeeded, completed, nowMs);
      active = r.active;
      if (r.requeueAfterMs !== undefined) requeue(r.requeueAfterMs);
      const complete =
        active.length === 0 &&
        (indexed || completions !== null ? succeeded >= (completions ?? 1) : succeeded > 0);
      if (complete) {
        setCondition(
          conditions,
          "SuccessCriteriaMet",
          "True",
          REASON_COMPLETIONS_REACHED,
          MESSAGE_COMPLETIONS_REACHED,
          nowStr,
        );
        setCondition(
          conditions,
          "Complete",
          "True",
          REASON_COMPLETIONS_REACHED,
          MESSAGE_COMPLETIONS_REACHED,
          nowStr,
        );
        status.completionTime = nowStr;
        this.recorder.event(job, "Normal", "Completed", "Job completed");
        requeueAfterMs = undefined;
      }
    }
    if (failure) requeueAfterMs = undefined;

    status.active = active.length;
    status.ready = active.filter(isPodReady).length;
    status.terminating = terminating;
    for (const f of ["active", "succeeded", "failed"] as const) if (status[f] === 0) delete status[f];
    if (conditions.length === 0) delete status.conditions;
    if (status.completedIndexes === "") delete status.completedIndexes;
    if (!deepEqual(job.status ?? {}, status)) {
      await this.jobClient.updateStatus({ ...structuredClone(job), status });
    }
    return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
  }

  /** Tracks failures since the last success for the pod-creation backoff. */
  private recordOutcome(key: string, succeeded: number, failed: number, nowMs: number): void {
    const r = this.backoff.get(key) ?? { failuresAfterLastSuccess: 0, lastFailureMs: 0 };
    if (succeeded > 0) r.failuresAfterLastSuccess = 0;
    if (failed > 0) {
      r.failuresAfterLastSuccess += failed;
      r.lastFailureMs = nowMs;
    }
    this.backoff.set(key, r);
  }

  /** How long pod creation must still wait after recent failures (0: none). */
  remainingBackoffMs(key: string, nowMs: number): number {
    const r = this.backoff.get(key);
    if (!r || r.failuresAfterLastSuccess === 0) return 0;
    const delay = Math.min(
      POD_FAILURE_BACKOFF_MS * 2 ** (r.failuresAfterLastSuccess - 1),
      MAX_POD_FAILURE_BACKOFF_MS,
    );
    return Math.max(0, r.lastFailureMs + delay - nowMs);
  }

  /** Upstream's manageJob: creates or deletes pods towards the wanted number of active ones. */
  private async manage(
    job: Job,
    key: string,
    active: Pod[],
    succeeded: number,
    completed: Set<number>,
    nowMs: number,
  ): Promise<{ active: Pod[]; requeueAfterMs?: number }> {
    const spec = job.spec!;
    const parallelism = spec.parallelism ?? 1;
    const completions = spec.completions ?? null;
    const onlyReplaceFailed = spec.podReplacementPolicy === "Failed" || !!spec.podFailurePolicy;

    if (spec.completionMode === "Indexed" && completions !== null) {
      // Extra pods for one index, pods for completed or out-of-range indexes go.
      const byIndex = new Map<number, Pod>();
      const remove: Pod[] = [];
      for (const p of [...active].sort((a, b) => -compareForDeletion(a, b))) {
        const ix = podIndex(p);
        if (ix < 0 || ix >= completions || completed.has(ix) || byIndex.has(ix)) remove.push(p);
        else byIndex.set(ix, p);
      }
      let keep = [...byIndex.values()];
      const want = Math.min(parallelism, completions - completed.size);
      if (keep.length > want) {
        keep.sort(compareForDeletion);
        remove.push(...keep.slice(0, keep.length - want));
        keep = keep.slice(keep.length - want);
      }
      if (remove.length > 0) {
        await this.deletePods(job, key, remove);
        return { active: keep };
      }
      const pending: number[] = [];
      for (let i = 0; i < completions && pending.length < want - keep.length; i++) {
        if (!completed.has(i) && !byIndex.has(i)) pending.push(i);
      }
      if (pending.length === 0) return { active: keep };
      const wait = this.remainingBackoffMs(key, nowMs);
      if (wait > 0) return { active: keep, requeueAfterMs: wait };
      const created = await this.createPods(job, key, pending.slice(0, MAX_PER_SYNC));
      return { active: [...keep, ...created] };
    }

    let want: number;
    if (completions === null) want = succeeded > 0 ? active.length : parallelism;
    else want = Math.max(0, Math.min(completions - succeeded, parallelism));
    if (active.length > want) {
      const sorted = [...active].sort(compareForDeletion);
      const remove = sorted.slice(0, Math.min(active.length - want, MAX_PER_SYNC));
      await this.deletePods(job, key, remove);
      return { active: sorted.slice(remove.length) };
    }
    let diff = want - active.length;
    if (onlyReplaceFailed) {
      const terminatingPods = this.pods
        .byIndex(BY_CONTROLLER_UID, job.metadata.uid ?? "")
        .filter((p) => !!p.metadata.deletionTimestamp && !isTerminal(p)).length;
      diff -= terminatingPods;
    }
    if (diff <= 0) return { active };
    const wait = this.remainingBackoffMs(key, nowMs);
    if (wait > 0) return { active, requeueAfterMs: wait };
    const created = await this.createPods(
      job,
      key,
      new Array<undefined>(Math.min(diff, MAX_PER_SYNC)).fill(undefined),
    );
    return { active: [...active, ...created] };
  }

  /** Creates one pod per entry (its completion index, or undefined), in slow-start batches. */
  private async createPods(job: Job, key: string, indexes: (number | undefined)[]): Promise<Pod[]> {
    this.expectations.expect(key, indexes.length);
    const created: Pod[] = [];
    let next = 0;
    let batch = 1;
    let firstError: unknown;
    while (next < indexes.length) {
      const chunk = indexes.slice(next, next + batch);
      next += chunk.length;
      const results = await Promise.allSettled(chunk.map((ix) => this.podClient.create(newJobPod(job, ix))));
      for (const r of results) {
        if (r.status === "fulfilled") {
          created.push(r.value);
          this.recorder.event(job, "Normal", "SuccessfulCreate", `Created pod: ${r.value.metadata.name}`);
        } else {
          firstError ??= r.reason;
          this.expectations.creationObserved(key);
          this.recorder.event(job, "Warning", "FailedCreate", `Error creating: ${errText(r.reason)}`);
        }
      }
      if (firstError) {
        for (let i = next; i < indexes.length; i++) this.expectations.creationObserved(key);
        throw firstError;
      }
      batch *= 2;
    }
    return created;
  }

  /** Removes the finalizer from and deletes each pod (upstream's deleteJobPods). */
  private async deletePods(job: Job, key: string, pods: readonly Pod[]): Promise<void> {
    if (pods.length === 0) return;
    this.expectations.expect(key, 0, pods.map(objectKey));
    const errors: unknown[] = [];
    await Promise.all(
      pods.map(async (p) => {
        try {
          if (hasTrackingFinalizer(p))
            await this.podClient.patch(
              p.metadata.namespace,
              p.metadata.name ?? "",
              "strategic",
              removeTrackingFinalizerPatch(p),
            );
          await this.podClient.delete(p.metadata.namespace, p.metadata.name ?? "");
          this.recorder.event(job, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`);
        } catch (e) {
          this.expectations.deletionObserved(key, objectKey(p));
          if (isNotFound(e)) return;
          errors.push(e);
          this.recorder.event(job, "Warning", "FailedDelete", `Error deleting: ${errText(e)}`);
        }
      }),
    );
    if (errors.length > 0) throw errors[0];
  }

  /** Drops the tracking finalizer from each pod; pods already gone are fine. */
  private async stripFinalizers(pods: readonly Pod[]): Promise<void> {
    const errors: unknown[] = [];
    await Promise.all(
      pods.map(async (p) => {
        try {
          await this.podClient.patch(
            p.metadata.namespace,
            p.metadata.name ?? "",
            "strategic",
            removeTrackingFinalizerPatch(p),
          );
        } catch (e) {
          if (!isNotFound(e)) errors.push(e);
        }
      }),
    );
    if (errors.length > 0) throw errors[0];
  }

  private async claimPods(job: Job, selector: Selector): Promise<Pod[]> {
    const { owned, adopt } = claimCandidates(this.pods, job, selector);
    if (adopt.length === 0) return owned;
    const ref = newControllerRef(job, "batch/v1", "Job");
    return [...owned, ...(await adoptAndRelease(this.podClient, this.jobClient, job, ref, adopt, []))];
  }
}

function isTerminal(p: Pod): boolean {
  return p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
}

function selectorOf(job: Job): Selector | undefined {
  try {
    return labelSelectorAsSelector(job.spec?.selector);
  } catch {
    return undefined;
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
