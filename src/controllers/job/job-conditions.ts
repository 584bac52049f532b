/**
 * @module Job status conditions and the finished test, with upstream's types, reasons and
 * messages: Complete (with SuccessCriteriaMet, reason CompletionsReached, as 1.31+), Failed
 * (with FailureTarget; reasons BackoffLimitExceeded, DeadlineExceeded, PodFailurePolicy),
 * Suspended (JobSuspended / JobResumed).
 */
import type { Job, JobCondition } from "../../api/types/batch-v1.ts";

export const REASON_BACKOFF_LIMIT = "BackoffLimitExceeded";
export const MESSAGE_BACKOFF_LIMIT = "Job has reached the specified backoff limit";
export const REASON_DEADLINE = "DeadlineExceeded";
export const MESSAGE_DEADLINE = "Job was active longer than specified deadline";
export const REASON_POD_FAILURE_POLICY = "PodFailurePolicy";
export const REASON_COMPLETIONS_REACHED = "CompletionsReached";
export const MESSAGE_COMPLETIONS_REACHED = "Reached expected number of succeeded pods";

/** The Complete or Failed condition that is True, if the Job has finished. */
export function finishedCondition(job: Job): JobCondition | undefined {
  return job.status?.conditions?.find(
    (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
  );
}

/** Whether the Job has finished (Complete or Failed). */
export function isJobFinished(job: Job): boolean {
  return finishedCondition(job) !== undefined;
}

/** The condition of `type`, if present. */
export function getCondition(
  conds: readonly JobCondition[] | undefined,
  type: string,
): JobCondition | undefined {
  return conds?.find((c) => c.type === type);
}

/**
 * Sets a condition in `conds` (in place): a new one is appended; an existing one keeps its
 * lastTransitionTime unless its status changes. Returns whether anything changed.
 */
export function setCondition(
  conds: JobCondition[],
  type: string,
  status: "True" | "False",
  reason: string,
  message: string,
  now: string,
): boolean {
  const existing = conds.find((c) => c.type === type);
  if (!existing) {
    conds.push({ type, status, reason, message, lastProbeTime: now, lastTransitionTime: now });
    return true;
  }
  if (existing.status === status && existing.reason === reason && existing.message === message) return false;
  if (existing.status !== status) existing.lastTransitionTime = now;
  existing.status = status;
  existing.reason = reason;
  existing.message = message;
  existing.lastProbeTime = now;
  return true;
}
