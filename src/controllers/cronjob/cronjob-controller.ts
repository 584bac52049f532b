/**
 * @module The CronJob controller, as upstream's cronjob_controllerv2: keeps `status.active`
 * in step with the Jobs it owns, records lastSuccessfulTime, starts a Job from the template
 * at each scheduled time (deterministic name `<cronjob>-<minutes>`, scheduled-timestamp
 * annotation), honouring suspend, timeZone, startingDeadlineSeconds and concurrencyPolicy
 * Allow / Forbid / Replace, trims finished Jobs to the history limits, and asks to be called
 * again exactly when the next start is due (no polling). The clock is injectable.
 */
import { isAlreadyExists, isNotFound } from "../../api/status-error.ts";
import type { CronJob, CronJobStatus, Job } from "../../api/types/batch-v1.ts";
import type { ObjectReference } from "../../api/types/core-v1.ts";
import { deepEqual, formatTimestamp } from "../../api/meta.ts";
import { timeZoneError } from "../../api/validation/cron-schedule.ts";
import { Controller, type Request, type Result } from "../../client/controller.ts";
import type { EventRecorder } from "../../client/events.ts";
import type { Informer, InformerFactory } from "../../client/informer.ts";
import type { Client, ResourceClient } from "../../client/types.ts";
import { finishedCondition } from "../job/job-conditions.ts";
import { childHandlers } from "../statefulset/statefulset-child-handlers.ts";
import { addOwnerIndexes, BY_CONTROLLER_UID, newControllerRef } from "../util/owner-refs.ts";
import {
  jobNameFor,
  mostRecentScheduleTime,
  nextScheduleDelayMs,
  rfc1123z,
  rfc3339In,
  scheduleOf,
} from "./cronjob-schedule.ts";

/** Event source component, as upstream. */
export const CRONJOB_COMPONENT = "cronjob-controller";
/** Annotation with the time a Job was scheduled for. */
export const SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp";

export interface CronJobControllerOptions {
  client: Client;
  informers: InformerFactory;
  recorder: EventRecorder;
  workers?: number;
  now?: () => Date;
}

export class CronJobController {
  readonly controller: Controller;
  private readonly cronJobs: Informer<CronJob>;
  private readonly jobs: Informer<Job>;
  private readonly cjClient: ResourceClient<CronJob>;
  private readonly jobClient: ResourceClient<Job>;
  private readonly recorder: EventRecorder;
  private readonly now: () => Date;

  constructor(opts: CronJobControllerOptions) {
    this.recorder = opts.recorder;
    this.now = opts.now ?? (() => new Date());
    this.cronJobs = opts.informers.informer<CronJob>("batch", "cronjobs");
    this.jobs = opts.informers.informer<Job>("batch", "jobs");
    addOwnerIndexes(this.jobs);
    this.cjClient = opts.client.resource<CronJob>("batch", "cronjobs");
    this.jobClient = opts.client.resource<Job>("batch", "jobs");
    this.controller = new Controller({
      name: CRONJOB_COMPONENT,
      workers: opts.workers ?? 5,
      reconcile: (req) => this.reconcile(req),
    });
    this.cronJobs.addHandlers({
      add: (cj) => this.controller.enqueue(cj),
      update: (_o, cj) => this.controller.enqueue(cj),
    });
    this.jobs.addHandlers(
      childHandlers<CronJob, Job>({
        ownerKind: "CronJob",
        owners: this.cronJobs,
        enqueue: (k) => this.controller.enqueue(k),
      }),
    );
  }

  /** One sync of the CronJob `req`. */
  async reconcile(req: Request): Promise<Result | void> {
    const cached = this.cronJobs.get(req.namespace, req.name);
    if (!cached) return;
    const cj = structuredClone(cached);
    const status: CronJobStatus = (cj.status ??= {});
    const jobs = this.jobs.byIndex(BY_CONTROLLER_UID, cj.metadata.uid ?? "");
    const nowMs = this.now().getTime();

    let result: Result | void = undefined;
    let syncError: unknown;
    try {
      result = await this.syncCronJob(cj, status, jobs, nowMs);
    } catch (e) {
      syncError = e;
    }
    await this.cleanupFinishedJobs(cj, status, jobs);
    if (status.active?.length === 0) delete status.active;
    if (!deepEqual(cached.status ?? {}, status)) {
      await this.cjClient.updateStatus(cj);
    }
    if (syncError) throw syncError;
    return result;
  }

  private async syncCronJob(
    cj: CronJob,
    status: CronJobStatus,
    jobs: Job[],
    nowMs: number,
  ): Promise<Result | void> {
    const active: ObjectReference[] = [...(status.active ?? [])];
    const owned = new Set<string>();
    for (const j of jobs) {
      const uid = j.metadata.uid ?? "";
      owned.add(uid);
      const inActive = active.some((r) => r.uid === uid);
      const cond = finishedCondition(j);
      if (!inActive && !cond) {
        this.recorder.event(
          cj,
          "Warning",
          "UnexpectedJob",
          `Saw a job that the controller did not create or forgot: ${j.metadata.name}`,
        );
      } else if (inActive && cond) {
        active.splice(
          active.findIndex((r) => r.uid === uid),
          1,
        );
        this.recorder.event(
          cj,
          "Normal",
          "SawCompletedJob",
          `Saw completed job: ${j.metadata.name}, condition: ${cond.type}`,
        );
      }
      const done = j.status?.completionTime;
      if (cond?.type === "Complete" && done) {
        if (!status.lastSuccessfulTime || Date.parse(done) > Date.parse(status.lastSuccessfulTime))
          status.lastSuccessfulTime = done;
      }
    }
    for (const ref of [...active]) {
      if (owned.has(ref.uid ?? "")) continue;
      try {
        await this.jobClient.get(ref.namespace, ref.name ?? "");
      } catch (e) {
        if (!isNotFound(e)) throw e;
        this.recorder.event(cj, "Normal", "MissingJob", `Active job went missing: ${ref.name}`);
        active.splice(active.indexOf(ref), 1);
      }
    }
    status.active = active;

    if (cj.metadata.deletionTimestamp) return;
    const tz = cj.spec?.timeZone;
    if (tz !== undefined && tz !== null) {
      const err = timeZoneError(tz);
      if (err) {
        this.recorder.event(
          cj,
          "Warning",
          "UnknownTimeZone",
          `invalid timeZone: ${JSON.stringify(tz)}: ${err}`,
        );
        return;
      }
    }
    if (cj.spec?.suspend) return;
    const parsed = scheduleOf(cj);
    if (!parsed.ok) {
      this.recorder.event(
        cj,
        "Warning",
        "UnparseableSchedule",
        `unparseable schedule: ${JSON.stringify(cj.spec?.schedule ?? "")} : ${parsed.error}`,
      );
      return;
    }
    const schedule = parsed.schedule;
    const again = (): Result | void => {
      const ms = nextScheduleDelayMs(cj, nowMs, schedule);
      return ms === undefined ? undefined : { requeueAfterMs: ms };
    };

    const recent = mostRecentScheduleTime(cj, nowMs, schedule, true);
    if (recent.missed === "many") {
      this.recorder.event(
        cj,
        "Warning",
        "TooManyMissedTimes",
        "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
      );
    }
    const scheduledMs = recent.mostRecentMs;
    if (scheduledMs === undefined) return again();
    const sds = cj.spec?.startingDeadlineSeconds;
    if (sds !== undefined && sds !== null && scheduledMs + sds * 1000 < nowMs) {
      this.recorder.event(
        cj,
        "Warning",
        "MissSchedule",
        `Missed scheduled time to start a job: ${rfc1123z(scheduledMs)}`,
      );
      return again();
    }
    const name = jobNameFor(cj, scheduledMs);
    const lastSchedule = status.lastScheduleTime ? Date.parse(status.lastScheduleTime) : undefined;
    if (active.some((r) => r.name === name) || lastSchedule === Math.floor(scheduledMs / 1000) * 1000)
      return again();

    const policy = cj.spec?.concurrencyPolicy ?? "Allow";
    if (policy === "Forbid" && active.length > 0) {
      this.recorder.event(
        cj,
        "Normal",
        "JobAlreadyActive",
        "Not starting job because prior execution is running and concurrency policy is Forbid",
      );
      return again();
    }
    if (policy === "Replace") {
      for (const ref of [...active]) {
        await this.deleteJob(cj, ref.name ?? "");
        active.splice(active.indexOf(ref), 1);
      }
    }

    let created: Job;
    try {
      created = await this.jobClient.create(this.jobFromTemplate(cj, name, scheduledMs));
      this.recorder.event(cj, "Normal", "SuccessfulCreate", `Created job ${created.metadata.name}`);
    } catch (e) {
      if (!isAlreadyExists(e)) {
        this.recorder.event(
          cj,
          "Warning",
          "FailedCreate",
          `Error creating job: ${e instanceof Error ? e.message : String(e)}`,
        );
        throw e;
      }
      created = await this.jobClient.get(cj.metadata.namespace, name);
      const ours =
        created.metadata.ownerReferences?.some((r) => r.controller && r.uid === cj.metadata.uid) ?? false;
      if (!ours || active.some((r) => r.uid === created.metadata.uid)) return again();
    }
    active.push({
      kind: "Job",
      namespace: created.metadata.namespace,
      name: created.metadata.name,
      uid: created.metadata.uid,
      apiVersion: "batch/v1",
      resourceVersion: created.metadata.resourceVersion,
    });
    status.lastScheduleTime = formatTimestamp(new Date(scheduledMs));
    return again();
  }

  private jobFromTemplate(cj: CronJob, name: string, scheduledMs: number): Job {
    const tpl = cj.spec?.jobTemplate ?? {};
    const annotations = { ...(tpl.metadata?.annotations ?? {}) };
    annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = rfc3339In(scheduledMs, cj.spec?.timeZone ?? undefined);
    const job: Job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        annotations,
        ownerReferences: [newControllerRef(cj, "batch/v1", "CronJob")],
      },
      spec: structuredClone(tpl.spec ?? { template: {} }),
    };
    if (tpl.metadata?.labels) job.metadata.labels = { ...tpl.metadata.labels };
    return job;
  }

  private async deleteJob(cj: CronJob, name: string): Promise<void> {
    try {
      await this.jobClient.delete(cj.metadata.namespace, name, { propagationPolicy: "Background" });
    } catch (e) {
      if (isNotFound(e)) return;
      this.recorder.event(
        cj,
        "Warning",
        "FailedDelete",
        `Deleted job: ${e instanceof Error ? e.message : String(e)}`,
      );
      throw e;
    }
    this.recorder.event(cj, "Normal", "SuccessfulDelete", `Deleted job ${name}`);
  }

  /** Deletes the oldest finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit. */
  private async cleanupFinishedJobs(cj: CronJob, status: CronJobStatus, jobs: Job[]): Promise<void> {
    const okLimit = cj.spec?.successfulJobsHistoryLimit;
    const failLimit = cj.spec?.failedJobsHistoryLimit;
    if ((okLimit === undefined || okLimit === null) && (failLimit === undefined || failLimit === null))
      return;
    const ok: Job[] = [];
    const failed: Job[] = [];
    for (const j of jobs) {
      if (j.metadata.deletionTimestamp) continue;
      const c = finishedCondition(j);
      if (c?.type === "Complete") ok.push(j);
      else if (c?.type === "Failed") failed.push(j);
    }
    const trim = async (list: Job[], limit: number | null | undefined): Promise<void> => {
      if (limit === undefined || limit === null || list.length <= limit) return;
      list.sort(byStartTime);
      for (const j of list.slice(0, list.length - limit)) {
        await this.deleteJob(cj, j.metadata.name ?? "");
        if (status.active) status.active = status.active.filter((r) => r.uid !== j.metadata.uid);
      }
    };
    await trim(ok, okLimit);
    await trim(failed, failLimit);
  }
}

/** Oldest start first; Jobs that never started last; ties by name. */
function byStartTime(a: Job, b: Job): number {
  const sa = a.status?.startTime;
  const sb = b.status?.startTime;
  if (sa && !sb) return -1;
  if (!sa && sb) return 1;
  if (sa && sb && sa !== sb) return Date.parse(sa) - Date.parse(sb);
  return (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");
}
