/**
 * @module Defaulting for the apps/v1 workload kinds, as upstream's pkg/apis/apps/v1/defaults.go:
 * replicas, update strategies, revision history limits, progress deadline, pod management
 * and PVC retention policies, plus the pod template defaults every workload gets. Functions
 * mutate the object they are given, as upstream's defaulters do, and run before validation.
 */
import type { PodTemplateSpec } from "kubernetes-types/core/v1.js";
import type {
  DaemonSet,
  DaemonSetSpec,
  Deployment,
  DeploymentSpec,
  ReplicaSet,
  ReplicaSetSpec,
  StatefulSet,
  StatefulSetSpec,
} from "../types/apps-v1.ts";
import { defaultPodTemplateSpec } from "./pod-spec.ts";

/** Upstream's default revisionHistoryLimit for Deployments, DaemonSets and StatefulSets. */
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
/** Upstream's default Deployment progressDeadlineSeconds. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/** True for `undefined` and `null`: a pointer field Go would see as nil. */
function unset(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

/**
 * A missing spec is created without a selector (so validation reports it required, as
 * upstream, whose selector is a pointer) but with a template (a struct upstream, never nil).
 */
function template(spec: { template?: PodTemplateSpec }): PodTemplateSpec {
  spec.template ??= {};
  defaultPodTemplateSpec(spec.template);
  return spec.template;
}

/**
 * Deployment: replicas 1; strategy RollingUpdate with maxUnavailable and maxSurge 25%;
 * revisionHistoryLimit 10; progressDeadlineSeconds 600; template defaults.
 */
export function defaultDeployment(obj: Deployment): void {
  const spec = (obj.spec ??= {} as DeploymentSpec);
  if (unset(spec.replicas)) spec.replicas = 1;
  const strategy = (spec.strategy ??= {});
  if (!strategy.type) strategy.type = "RollingUpdate";
  if (strategy.type === "RollingUpdate") {
    const ru = (strategy.rollingUpdate ??= {});
    if (unset(ru.maxUnavailable)) ru.maxUnavailable = "25%";
    if (unset(ru.maxSurge)) ru.maxSurge = "25%";
  }
  if (unset(spec.revisionHistoryLimit)) spec.revisionHistoryLimit = DEFAULT_REVISION_HISTORY_LIMIT;
  if (unset(spec.progressDeadlineSeconds)) spec.progressDeadlineSeconds = DEFAULT_PROGRESS_DEADLINE_SECONDS;
  template(spec);
}

/** ReplicaSet: replicas 1; template defaults. */
export function defaultReplicaSet(obj: ReplicaSet): void {
  const spec = (obj.spec ??= {} as ReplicaSetSpec);
  if (unset(spec.replicas)) spec.replicas = 1;
  template(spec);
}

/**
 * DaemonSet: updateStrategy RollingUpdate with maxUnavailable 1 and maxSurge 0;
 * revisionHistoryLimit 10; template defaults.
 */
export function defaultDaemonSet(obj: DaemonSet): void {
  const spec = (obj.spec ??= {} as DaemonSetSpec);
  const strategy = (spec.updateStrategy ??= {});
  if (!strategy.type) strategy.type = "RollingUpdate";
  if (strategy.type === "RollingUpdate") {
    const ru = (strategy.rollingUpdate ??= {});
    if (unset(ru.maxUnavailable)) ru.maxUnavailable = 1;
    if (unset(ru.maxSurge)) ru.maxSurge = 0;
  }
  if (unset(spec.revisionHistoryLimit)) spec.revisionHistoryLimit = DEFAULT_REVISION_HISTORY_LIMIT;
  template(spec);
}

/**
 * StatefulSet: podManagementPolicy OrderedReady; updateStrategy RollingUpdate with
 * partition 0; persistentVolumeClaimRetentionPolicy Retain/Retain; replicas 1;
 * revisionHistoryLimit 10; template defaults. (Volume claim templates are not pod specs
 * and are left as given.)
 */
export function defaultStatefulSet(obj: StatefulSet): void {
  const spec = (obj.spec ??= {} as StatefulSetSpec);
  if (!spec.podManagementPolicy) spec.podManagementPolicy = "OrderedReady";
  const strategy = (spec.updateStrategy ??= {});
  if (!strategy.type) {
    strategy.type = "RollingUpdate";
    strategy.rollingUpdate ??= {};
  }
  if (
    strategy.type === "RollingUpdate" &&
    strategy.rollingUpdate &&
    unset(strategy.rollingUpdate.partition)
  ) {
    strategy.rollingUpdate.partition = 0;
  }
  const retention = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  if (!retention.whenDeleted) retention.whenDeleted = "Retain";
  if (!retention.whenScaled) retention.whenScaled = "Retain";
  if (unset(spec.replicas)) spec.replicas = 1;
  if (unset(spec.revisionHistoryLimit)) spec.revisionHistoryLimit = DEFAULT_REVISION_HISTORY_LIMIT;
  template(spec);
}
