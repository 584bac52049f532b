/**
 * @module batch/v1 kinds: Job and CronJob, with literal `apiVersion: "batch/v1"`, and the
 * spec/status types the job controllers use.
 */
import type * as k8s from "kubernetes-types/batch/v1.js";
import type { ApiObject, List } from "./meta-v1.ts";

export type {
  CronJobSpec,
  CronJobStatus,
  JobCondition,
  JobSpec,
  JobStatus,
  JobTemplateSpec,
  PodFailurePolicy,
  PodFailurePolicyOnExitCodesRequirement,
  PodFailurePolicyOnPodConditionsPattern,
  PodFailurePolicyRule,
  SuccessPolicy,
  SuccessPolicyRule,
  UncountedTerminatedPods,
} from "kubernetes-types/batch/v1.js";

/** A Job. */
export type Job = ApiObject<k8s.Job, "batch/v1", "Job">;
/** A CronJob. */
export type CronJob = ApiObject<k8s.CronJob, "batch/v1", "CronJob">;

/** A list of Jobs. */
export type JobList = List<Job>;
/** A list of CronJobs. */
export type CronJobList = List<CronJob>;
