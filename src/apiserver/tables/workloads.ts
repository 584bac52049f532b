/**
 * @module Tables of the workload kinds, with upstream's columns and cell values: Deployment,
 * ReplicaSet, ReplicationController, DaemonSet, StatefulSet (apps and core), Job and CronJob
 * (batch), and ControllerRevision.
 */
import type {
  ControllerRevision,
  DaemonSet,
  Deployment,
  ReplicaSet,
  StatefulSet,
} from "../../api/types/apps-v1.ts";
import type { CronJob, Job, JobCondition } from "../../api/types/batch-v1.ts";
import type { ReplicationController } from "../../api/types/core-v1.ts";
import { humanDuration, parseTimestamp, timestampSince } from "./age.ts";
import { formatLabels, formatLabelSelector, selectorString } from "./labels.ts";
import {
  AGE_COLUMN,
  CONTAINERS_COLUMN,
  IMAGES_COLUMN,
  age,
  boolPtr,
  column,
  columns,
  containerCells,
  nameColumn,
  printer,
  type TablePrinter,
} from "./table.ts";

const selectorColumn = (what: string) =>
  column("Selector", "string", `Label selector of the ${what}'s pods.`, 1);

/** Deployment: NAME READY UP-TO-DATE AVAILABLE AGE | CONTAINERS IMAGES SELECTOR. */
export const deploymentPrinter: TablePrinter = printer<Deployment>({
  columns: columns(
    nameColumn(),
    column("Ready", "string", "Ready pods out of desired replicas."),
    column("Up-to-date", "string", "Replicas updated to the current pod template."),
    column("Available", "string", "Replicas available to serve (ready for at least minReadySeconds)."),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    selectorColumn("deployment"),
  ),
  cells(d, now) {
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    const status = d.status;
    return [
      d.metadata.name ?? "",
      `${status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
      status?.updatedReplicas ?? 0,
      status?.availableReplicas ?? 0,
      age(d, now),
      names,
      images,
      // Upstream prints the raw selector string here: empty, not <none>.
      selectorString(d.spec?.selector) ?? "<invalid>",
    ];
  },
});

const replicaColumns = (kind: string) =>
  columns(
    nameColumn(),
    column("Desired", "integer", `Number of pods the ${kind} should run (spec.replicas).`),
    column("Current", "integer", `Number of pods the ${kind} currently has (status.replicas).`),
    column("Ready", "integer", `Number of the ${kind}'s pods that are ready.`),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    selectorColumn(kind),
  );

/** ReplicaSet: NAME DESIRED CURRENT READY AGE | CONTAINERS IMAGES SELECTOR. */
export const replicaSetPrinter: TablePrinter = printer<ReplicaSet>({
  columns: replicaColumns("replica set"),
  cells(rs, now) {
    const [names, images] = containerCells(rs.spec?.template?.spec?.containers);
    return [
      rs.metadata.name ?? "",
      rs.spec?.replicas ?? 1,
      rs.status?.replicas ?? 0,
      rs.status?.readyReplicas ?? 0,
      age(rs, now),
      names,
      images,
      formatLabelSelector(rs.spec?.selector),
    ];
  },
});

/** ReplicationController: like ReplicaSet, with a plain label-map selector. */
export const replicationControllerPrinter: TablePrinter = printer<ReplicationController>({
  columns: replicaColumns("replication controller"),
  cells(rc, now) {
    const [names, images] = containerCells(rc.spec?.template?.spec?.containers);
    return [
      rc.metadata.name ?? "",
      rc.spec?.replicas ?? 1,
      rc.status?.replicas ?? 0,
      rc.status?.readyReplicas ?? 0,
      age(rc, now),
      names,
      images,
      formatLabels(rc.spec?.selector),
    ];
  },
});

/** DaemonSet: NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE | CONTAINERS IMAGES SELECTOR. */
export const daemonSetPrinter: TablePrinter = printer<DaemonSet>({
  columns: columns(
    nameColumn(),
    column("Desired", "integer", "Number of nodes that should run the daemon pod."),
    column("Current", "integer", "Number of nodes running at least one daemon pod that should."),
    column("Ready", "integer", "Number of nodes whose daemon pod is ready."),
    column("Up-to-date", "integer", "Number of nodes running the updated daemon pod."),
    column("Available", "integer", "Number of nodes whose daemon pod is available."),
    column("Node Selector", "string", "Node selector of the pod template."),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    selectorColumn("daemon set"),
  ),
  cells(ds, now) {
    const s = ds.status;
    const [names, images] = containerCells(ds.spec?.template?.spec?.containers);
    return [
      ds.metadata.name ?? "",
      s?.desiredNumberScheduled ?? 0,
      s?.currentNumberScheduled ?? 0,
      s?.numberReady ?? 0,
      s?.updatedNumberScheduled ?? 0,
      s?.numberAvailable ?? 0,
      formatLabels(ds.spec?.template?.spec?.nodeSelector),
      age(ds, now),
      names,
      images,
      formatLabelSelector(ds.spec?.selector),
    ];
  },
});

/** StatefulSet: NAME READY AGE | CONTAINERS IMAGES. */
export const statefulSetPrinter: TablePrinter = printer<StatefulSet>({
  columns: columns(
    nameColumn(),
    column("Ready", "string", "Ready pods out of desired replicas."),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
  ),
  cells(sts, now) {
    const [names, images] = containerCells(sts.spec?.template?.spec?.containers);
    return [
      sts.metadata.name ?? "",
      `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 1}`,
      age(sts, now),
      names,
      images,
    ];
  },
});

function jobConditionTrue(conditions: readonly JobCondition[] | undefined, type: string): boolean {
  if (!conditions) return false;
  for (const c of conditions) {
    if (c.type === type) return c.status === "True";
  }
  return false;
}

/** The Job STATUS cell: Complete, Failed, Terminating, Suspended, FailureTarget or Running. */
export function jobStatus(job: Job): string {
  const conditions = job.status?.conditions;
  if (jobConditionTrue(conditions, "Complete")) return "Complete";
  if (jobConditionTrue(conditions, "Failed")) return "Failed";
  if (job.metadata.deletionTimestamp) return "Terminating";
  if (jobConditionTrue(conditions, "Suspended")) return "Suspended";
  if (jobConditionTrue(conditions, "FailureTarget")) return "FailureTarget";
  return "Running";
}

function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  const completions = job.spec?.completions;
  if (completions !== undefined && completions !== null) return `${succeeded}/${completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: Job, now: number): string {
  const start = parseTimestamp(job.status?.startTime);
  if (start === undefined) return "";
  const end = parseTimestamp(job.status?.completionTime);
  return humanDuration((end ?? now) - start);
}

/** Job: NAME STATUS COMPLETIONS DURATION AGE | CONTAINERS IMAGES SELECTOR. */
export const jobPrinter: TablePrinter = printer<Job>({
  columns: columns(
    nameColumn(),
    column("Status", "string", "Summary of the job's conditions."),
    column("Completions", "string", "Succeeded pods out of the completions wanted."),
    column("Duration", "string", "Time the job ran, from start to completion (or until now)."),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    selectorColumn("job"),
  ),
  cells(job, now) {
    const [names, images] = containerCells(job.spec?.template?.spec?.containers);
    return [
      job.metadata.name ?? "",
      jobStatus(job),
      jobCompletions(job),
      jobDuration(job, now),
      age(job, now),
      names,
      images,
      formatLabelSelector(job.spec?.selector),
    ];
  },
});

/** CronJob: NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE | CONTAINERS IMAGES SELECTOR. */
export const cronJobPrinter: TablePrinter = printer<CronJob>({
  columns: columns(
    nameColumn(),
    column("Schedule", "string", "The cron schedule."),
    column("Timezone", "string", "Time zone the schedule is interpreted in."),
    column("Suspend", "boolean", "Whether new runs are suspended."),
    column("Active", "integer", "Number of jobs currently running."),
    column("Last Schedule", "string", "Time since a job was last scheduled."),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    selectorColumn("job template"),
  ),
  cells(cj, now) {
    const jobSpec = cj.spec?.jobTemplate?.spec;
    const [names, images] = containerCells(jobSpec?.template?.spec?.containers);
    const last = cj.status?.lastScheduleTime;
    return [
      cj.metadata.name ?? "",
      cj.spec?.schedule ?? "",
      cj.spec?.timeZone ?? "<none>",
      boolPtr(cj.spec?.suspend),
      cj.status?.active?.length ?? 0,
      last ? timestampSince(last, now) : "<none>",
      age(cj, now),
      names,
      images,
      formatLabelSelector(jobSpec?.selector),
    ];
  },
});

/** `kind.group/name` (lower-cased group kind) of a ControllerRevision's controller, or `<none>`. */
function controllerName(rev: ControllerRevision): string {
  const owners = rev.metadata.ownerReferences;
  if (!owners) return "<none>";
  for (const ref of owners) {
    if (ref.controller !== true) continue;
    const apiVersion = ref.apiVersion ?? "";
    const slash = apiVersion.indexOf("/");
    const group = slash < 0 ? "" : apiVersion.slice(0, slash);
    const kind = ref.kind ?? "";
    if (kind === "" && group === "") return ref.name;
    const groupKind = group === "" ? kind : `${kind}.${group}`;
    return `${groupKind.toLowerCase()}/${ref.name}`;
  }
  return "<none>";
}

/** ControllerRevision: NAME CONTROLLER REVISION AGE. */
export const controllerRevisionPrinter: TablePrinter = printer<ControllerRevision>({
  columns: columns(
    nameColumn(),
    column("Controller", "string", "The controller that owns the revision."),
    column("Revision", "string", "Revision number of the state the object holds."),
    AGE_COLUMN,
  ),
  cells: (rev, now) => [rev.metadata.name ?? "", controllerName(rev), rev.revision ?? 0, age(rev, now)],
});
