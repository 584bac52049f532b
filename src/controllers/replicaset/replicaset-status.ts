/**
 * @module The status a ReplicaSet (or ReplicationController) reports, as upstream's
 * `calculateStatus`: replicas, fullyLabeledReplicas (pods carrying all the template's
 * labels), readyReplicas, availableReplicas (ready for minReadySeconds), and the
 * ReplicaFailure condition (FailedCreate / FailedDelete with the error text) while managing
 * replicas fails; plus the comparison that skips writes when nothing changed.
 */
import { deepEqual, formatTimestamp } from "../../api/meta.ts";
import { selectorFromSet } from "../../api/labels.ts";
import type { Pod, PodTemplateSpec } from "../../api/types/core-v1.ts";
import type { ReplicaCondition, ReplicaStatus } from "./replicaset-adapters.ts";
import { isPodAvailable, isPodReady } from "../util/pod-util.ts";

/** The ReplicaSet/ReplicationController condition type upstream sets when pods cannot be managed. */
export const REPLICA_FAILURE = "ReplicaFailure";

/** Inputs of {@link calculateReplicaStatus}. */
export interface StatusInput {
  previous: ReplicaStatus | undefined;
  template: PodTemplateSpec | undefined;
  /** The active pods the owner controls. */
  pods: readonly Pod[];
  desiredReplicas: number;
  minReadySeconds: number;
  /** The error of this round's create/delete, if any. */
  manageError: Error | undefined;
  nowMs: number;
}

/** The new status (observedGeneration left as it was; the caller sets it). */
export function calculateReplicaStatus(input: StatusInput): ReplicaStatus {
  const { previous, template, pods, desiredReplicas, minReadySeconds, manageError, nowMs } = input;
  const templateLabels = selectorFromSet(template?.metadata?.labels);
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const p of pods) {
    if (templateLabels.matches(p.metadata.labels)) fullyLabeled++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReadySeconds, nowMs)) available++;
    }
  }
  let conditions = previous?.conditions ?? [];
  const failure = conditions.find((c) => c.type === REPLICA_FAILURE);
  if (manageError && !failure) {
    const diff = pods.length - desiredReplicas;
    const reason = diff < 0 ? "FailedCreate" : diff > 0 ? "FailedDelete" : "";
    const cond: ReplicaCondition = {
      type: REPLICA_FAILURE,
      status: "True",
      lastTransitionTime: formatTimestamp(new Date(nowMs)),
      reason,
      message: manageError.message,
    };
    conditions = [...conditions, cond];
  } else if (!manageError && failure) {
    conditions = conditions.filter((c) => c.type !== REPLICA_FAILURE);
  }
  const status: ReplicaStatus = {
    replicas: pods.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
  };
  if (previous?.observedGeneration !== undefined) status.observedGeneration = previous.observedGeneration;
  if (conditions.length > 0) status.conditions = conditions;
  return status;
}

/** Whether two statuses report the same thing (missing counts equal 0, as upstream compares). */
export function replicaStatusEqual(a: ReplicaStatus | undefined, b: ReplicaStatus): boolean {
  if (!a) return false;
  return (
    (a.replicas ?? 0) === b.replicas &&
    (a.fullyLabeledReplicas ?? 0) === (b.fullyLabeledReplicas ?? 0) &&
    (a.readyReplicas ?? 0) === (b.readyReplicas ?? 0) &&
    (a.availableReplicas ?? 0) === (b.availableReplicas ?? 0) &&
    a.observedGeneration === b.observedGeneration &&
    deepEqual(a.conditions ?? [], b.conditions ?? [])
  );
}
