/**
 * @module The status a Deployment reports, as upstream's `calculateStatus` and
 * `syncRolloutStatus`: replica counts summed over its ReplicaSets, the Available condition
 * (MinimumReplicasAvailable / MinimumReplicasUnavailable), the Progressing condition
 * (NewReplicaSetAvailable when complete, ReplicaSetUpdated while progressing,
 * ProgressDeadlineExceeded after progressDeadlineSeconds without progress), ReplicaFailure
 * copied from the ReplicaSets, and when to look again for a stuck rollout. Pure functions.
 */
import type {
  Deployment,
  DeploymentCondition,
  DeploymentStatus,
  ReplicaSet,
} from "../../api/types/apps-v1.ts";
import {
  actualReplicaCount,
  availableReplicaCount,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  getCondition,
  hasProgressDeadline,
  maxUnavailable,
  newCondition,
  readyReplicaCount,
  Reason,
  removeCondition,
  replicaCount,
  setCondition,
  specReplicas,
} from "./deployment-util.ts";

/** Upstream's `calculateStatus`: counts, observedGeneration, and the Available condition. */
export function calculateStatus(
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
  d: Deployment,
  nowMs: number,
): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const total = replicaCount(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount(newRS ? [newRS] : []),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (d.status?.conditions) status.conditions = d.status.conditions.map((c) => ({ ...c }));
  if (available >= specReplicas(d) - maxUnavailable(d)) {
    setCondition(
      status,
      newCondition(
        "Available",
        "True",
        Reason.MinimumReplicasAvailable,
        "Deployment has minimum availability.",
        nowMs,
      ),
    );
  } else {
    setCondition(
      status,
      newCondition(
        "Available",
        "False",
        Reason.MinimumReplicasUnavailable,
        "Deployment does not have minimum availability.",
        nowMs,
      ),
    );
  }
  return status;
}

/** ReplicaFailure conditions of the new ReplicaSet, else of any ReplicaSet (upstream's order). */
function replicaFailures(
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
): DeploymentCondition[] {
  const conv = (rs: ReplicaSet): DeploymentCondition[] =>
    (rs.status?.conditions ?? [])
      .filter((c) => c.type === "ReplicaFailure")
      .map((c) => ({
        type: c.type,
        status: c.status,
        lastTransitionTime: c.lastTransitionTime,
        lastUpdateTime: c.lastTransitionTime,
        reason: c.reason,
        message: c.message,
      }));
  const fromNew = newRS ? conv(newRS) : [];
  if (fromNew.length > 0) return fromNew;
  return allRSs.flatMap(conv);
}

/** Result of {@link rolloutStatus}. */
export interface RolloutStatus {
  status: DeploymentStatus;
  /** When nothing changed but the rollout may time out: look again after this long. */
  requeueAfterMs?: number;
}

/**
 * Upstream's `syncRolloutStatus` without the write: the new status with the Progressing
 * and ReplicaFailure conditions, and the stuck-rollout requeue.
 */
export function rolloutStatus(
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
  d: Deployment,
  nowMs: number,
): RolloutStatus {
  const status = calculateStatus(allRSs, newRS, d, nowMs);
  if (!hasProgressDeadline(d)) removeCondition(status, "Progressing");
  const current = getCondition(d.status, "Progressing");
  const complete =
    status.replicas === status.updatedReplicas &&
    current !== undefined &&
    current.reason === Reason.NewRSAvailable;
  if (hasProgressDeadline(d) && !complete) {
    const name = d.metadata.name ?? "";
    if (deploymentComplete(d, status)) {
      const msg = newRS
        ? `ReplicaSet "${newRS.metadata.name}" has successfully progressed.`
        : `Deployment "${name}" has successfully progressed.`;
      setCondition(status, newCondition("Progressing", "True", Reason.NewRSAvailable, msg, nowMs));
    } else if (deploymentProgressing(d, status)) {
      const msg = newRS
        ? `ReplicaSet "${newRS.metadata.name}" is progressing.`
        : `Deployment "${name}" is progressing.`;
      const cond = newCondition("Progressing", "True", Reason.ReplicaSetUpdated, msg, nowMs);
      if (current) {
        if (current.status === "True") cond.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, "Progressing");
      }
      setCondition(status, cond);
    } else if (deploymentTimedOut(d, status, nowMs)) {
      const msg = newRS
        ? `ReplicaSet "${newRS.metadata.name}" has timed out progressing.`
        : `Deployment "${name}" has timed out progressing.`;
      setCondition(status, newCondition("Progressing", "False", Reason.TimedOut, msg, nowMs));
    }
  }
  const failures = replicaFailures(allRSs, newRS);
  if (failures.length > 0) setCondition(status, failures[0]!);
  else removeCondition(status, "ReplicaFailure");
  if (status.conditions?.length === 0) delete status.conditions;
  return { status, requeueAfterMs: stuckRequeue(d, status, nowMs) };
}

/**
 * Upstream's `requeueStuckDeployment`: with a deadline and a Progressing condition, an
 * incomplete rollout is looked at again when its deadline passes (plus a second).
 */
function stuckRequeue(d: Deployment, status: DeploymentStatus, nowMs: number): number | undefined {
  const current = getCondition(d.status, "Progressing");
  if (!hasProgressDeadline(d) || !current) return undefined;
  if (deploymentComplete(d, status) || current.reason === Reason.TimedOut) return undefined;
  const last = current.lastUpdateTime ? Date.parse(current.lastUpdateTime) : nowMs;
  const after = last + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - nowMs;
  return Math.max(after, 0) + 1000;
}
