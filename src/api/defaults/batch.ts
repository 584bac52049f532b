/**
 * @module Defaulting for the batch/v1 kinds, as upstream's pkg/apis/batch/v1/defaults.go,
 * plus the selector and pod labels the Job registry generates on create (upstream does that
 * in the Job strategy's PrepareForCreate; our registry applies defaults, then validation, so
 * it happens here). Functions mutate the object they are given.
 */
import type { PodTemplateSpec } from "kubernetes-types/core/v1.js";
import type { CronJob, CronJobSpec, Job, JobSpec } from "../types/batch-v1.ts";
import { defaultPodTemplateSpec } from "./pod-spec.ts";

/** Label the Job controller puts on its pods with the Job's uid (selected on). */
export const CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid";
/** Label the Job controller puts on its pods with the Job's name. */
export const JOB_NAME_LABEL = "batch.kubernetes.io/job-name";
/** Unprefixed predecessor of {@link CONTROLLER_UID_LABEL}, still set. */
export const LEGACY_CONTROLLER_UID_LABEL = "controller-uid";
/** Unprefixed predecessor of {@link JOB_NAME_LABEL}, still set. */
export const LEGACY_JOB_NAME_LABEL = "job-name";
/** Upstream's default backoffLimit. */
export const DEFAULT_BACKOFF_LIMIT = 6;
/** backoffLimit upstream uses when backoffLimitPerIndex is set (MaxInt32). */
export const MAX_INT32 = 2147483647;

function unset(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

/**
 * The Job spec fields upstream defaults on a Job: completions and parallelism 1 when both
 * are unset, parallelism 1, backoffLimit 6 (MaxInt32 with backoffLimitPerIndex),
 * completionMode NonIndexed, suspend false, podReplacementPolicy (Failed with a
 * podFailurePolicy, else TerminatingOrFailed), manualSelector false, onPodConditions
 * status True, and the pod template defaults.
 */
export function defaultJobSpec(spec: JobSpec): void {
  if (unset(spec.completions) && unset(spec.parallelism)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  if (unset(spec.parallelism)) spec.parallelism = 1;
  if (unset(spec.backoffLimit))
    spec.backoffLimit = unset(spec.backoffLimitPerIndex) ? DEFAULT_BACKOFF_LIMIT : MAX_INT32;
  if (!spec.completionMode) spec.completionMode = "NonIndexed";
  if (unset(spec.suspend)) spec.suspend = false;
  if (!spec.podReplacementPolicy)
    spec.podReplacementPolicy = spec.podFailurePolicy ? "Failed" : "TerminatingOrFailed";
  if (unset(spec.manualSelector)) spec.manualSelector = false;
  defaultJobSpecMembers(spec);
}

/**
 * What upstream's generated defaulters reach inside any JobSpec, a CronJob's job template
 * included: onPodConditions patterns' status True and the pod template defaults.
 */
function defaultJobSpecMembers(spec: JobSpec): void {
  for (const rule of spec.podFailurePolicy?.rules ?? []) {
    for (const pattern of rule.onPodConditions ?? []) if (!pattern.status) pattern.status = "True";
  }
  spec.template ??= {};
  defaultPodTemplateSpec(spec.template);
}

/**
 * Adds what the Job registry generates when `manualSelector` is not true: the
 * `controller-uid` and `job-name` labels (prefixed and legacy) on the pod template, where
 * the user has not set them, and a selector on `batch.kubernetes.io/controller-uid`.
 * Needs the Job's uid and name already in metadata; without a uid it does nothing, and
 * validation then reports `metadata.uid: Required value`.
 */
export function generateJobSelector(job: Job): void {
  const spec = job.spec;
  const uid = job.metadata.uid ?? "";
  if (!spec || spec.manualSelector === true || uid === "") return;
  const tpl: PodTemplateSpec = (spec.template ??= {});
  const meta = (tpl.metadata ??= {});
  const labels = (meta.labels ??= {});
  const name = job.metadata.name ?? "";
  // Labels the user set are kept: a conflict then fails validation.
  for (const key of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(key in labels)) labels[key] = name;
  for (const key of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL])
    if (!(key in labels)) labels[key] = uid;
  const selector = (spec.selector ??= {});
  const matchLabels = (selector.matchLabels ??= {});
  if (!(CONTROLLER_UID_LABEL in matchLabels)) matchLabels[CONTROLLER_UID_LABEL] = uid;
}

/**
 * Job defaults: the spec defaults, the generated selector and pod labels, and the Job's own
 * labels copied from its pod template's when it has none (upstream's defaulting does this
 * each time it decodes the stored Job, so a created Job reads back with them).
 */
export function defaultJob(obj: Job): void {
  const spec = (obj.spec ??= {} as JobSpec);
  defaultJobSpec(spec);
  generateJobSelector(obj);
  const tplLabels = spec.template.metadata?.labels;
  if (tplLabels && Object.keys(obj.metadata.labels ?? {}).length === 0)
    obj.metadata.labels = { ...tplLabels };
}

/**
 * CronJob defaults: concurrencyPolicy Allow, suspend false, successfulJobsHistoryLimit 3,
 * failedJobsHistoryLimit 1. Upstream's Job-level defaults (parallelism, backoffLimit, …) do
 * not reach the job template; they apply when the controller creates the Job. Only the pod
 * template and pod-failure-policy defaults do.
 */
export function defaultCronJob(obj: CronJob): void {
  const spec = (obj.spec ??= {} as CronJobSpec);
  if (!spec.concurrencyPolicy) spec.concurrencyPolicy = "Allow";
  if (unset(spec.suspend)) spec.suspend = false;
  if (unset(spec.successfulJobsHistoryLimit)) spec.successfulJobsHistoryLimit = 3;
  if (unset(spec.failedJobsHistoryLimit)) spec.failedJobsHistoryLimit = 1;
  const jobTemplate = (spec.jobTemplate ??= {});
  defaultJobSpecMembers((jobTemplate.spec ??= {} as JobSpec));
}
