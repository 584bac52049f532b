/**
 * @module One StatefulSet sync pass over its pods, as upstream's stateful_set_control.go:
 * replace failed or succeeded replicas, create missing ones, scale down from the highest
 * ordinal, then roll pods onto the update revision from the highest ordinal down to the
 * partition. With OrderedReady (`monotonic`) every step waits for the pods before it to be
 * Running and Ready (and available for minReadySeconds) and does one pod at a time; with
 * Parallel, creations and deletions all go at once (rolling updates still go one at a time).
 * The pass returns the status it observed and changed along the way.
 */
import { isAlreadyExists, isNotFound } from "../../api/status-error.ts";
import type { StatefulSet, StatefulSetStatus } from "../../api/types/apps-v1.ts";
import type { Pod, PodTemplateSpec } from "../../api/types/core-v1.ts";
import type { EventRecorder } from "../../client/events.ts";
import type { ResourceClient } from "../../client/types.ts";
import {
  identityMatches,
  newStatefulSetPod,
  ordinalOf,
  podRevision,
  startOrdinal,
  updateIdentity,
} from "./statefulset-pods.ts";
import { isPodAvailable, isRunningAndReady, msUntilAvailable } from "../util/pod-util.ts";

/** The two revisions a pass works between, by name, with their templates. */
export interface RevisionPair {
  current: string;
  currentTemplate: PodTemplateSpec;
  update: string;
  updateTemplate: PodTemplateSpec;
}

/** What a pass needs besides the set and its pods. */
export interface ControlDeps {
  pods: ResourceClient<Pod>;
  recorder: EventRecorder;
  nowMs: number;
}

/** The outcome of a pass: the status to write, and when to look again (minReadySeconds). */
export interface PassResult {
  status: StatefulSetStatus;
  requeueAfterMs?: number;
}

const isCreated = (pod: Pod): boolean => !!pod.metadata.uid;
const isTerminating = (pod: Pod): boolean => !!pod.metadata.deletionTimestamp;
const isFailedOrSucceeded = (pod: Pod): boolean =>
  pod.status?.phase === "Failed" || pod.status?.phase === "Succeeded";
const isHealthy = (pod: Pod): boolean => isRunningAndReady(pod) && !isTerminating(pod);

/** Status counts over the pods the set owns (upstream's computeReplicaStatus). */
export function computeStatus(
  set: StatefulSet,
  pods: readonly Pod[],
  revs: RevisionPair,
  nowMs: number,
): StatefulSetStatus {
  const minReady = set.spec?.minReadySeconds ?? 0;
  const status: StatefulSetStatus = {
    replicas: 0,
    readyReplicas: 0,
    currentReplicas: 0,
    updatedReplicas: 0,
    availableReplicas: 0,
    currentRevision: revs.current,
    updateRevision: revs.update,
  };
  for (const pod of pods) {
    status.replicas++;
    if (isRunningAndReady(pod)) {
      status.readyReplicas!++;
      if (isPodAvailable(pod, minReady, nowMs)) status.availableReplicas!++;
    }
    if (!isTerminating(pod)) {
      const rev = podRevision(pod);
      if (rev === revs.current) status.currentReplicas!++;
      if (rev === revs.update) status.updatedReplicas!++;
    }
  }
  return status;
}

/** Once every pod is updated and ready, the update revision becomes the current one. */
export function completeRollingUpdate(set: StatefulSet, status: StatefulSetStatus): void {
  if (
    set.spec?.updateStrategy?.type !== "OnDelete" &&
    status.updatedReplicas === status.replicas &&
    status.readyReplicas === status.replicas
  ) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
}

/** Upstream's newVersionedStatefulSetPod: below the partition, pods keep the current revision. */
function versionedPod(set: StatefulSet, revs: RevisionPair, ordinal: number): Pod {
  const strategy = set.spec?.updateStrategy;
  if (strategy?.type !== "OnDelete") {
    const start = startOrdinal(set);
    const limit = strategy?.rollingUpdate
      ? start + (strategy.rollingUpdate.partition ?? 0)
      : start + (set.status?.currentReplicas ?? 0);
    if (ordinal < limit) return newStatefulSetPod(set, revs.currentTemplate, ordinal, revs.current);
  }
  return newStatefulSetPod(set, revs.updateTemplate, ordinal, revs.update);
}

/**
 * Runs one pass for `set` over `pods` (the pods it owns, already claimed). Throws on API
 * errors (the caller retries); AlreadyExists on a create and NotFound on a delete are taken
 * as a stale cache and simply waited out.
 */
export async function syncStatefulSetPods(
  set: StatefulSet,
  pods: readonly Pod[],
  revs: RevisionPair,
  deps: ControlDeps,
): Promise<PassResult> {
  const status = computeStatus(set, pods, revs, deps.nowMs);
  if (set.metadata.deletionTimestamp) return { status };
  const name = set.metadata.name ?? "";
  const replicaCount = set.spec?.replicas ?? 1;
  const start = startOrdinal(set);
  const end = start + replicaCount;
  const minReady = set.spec?.minReadySeconds ?? 0;
  const monotonic = set.spec?.podManagementPolicy !== "Parallel";

  const replicas: Pod[] = new Array<Pod>(replicaCount);
  const condemned: Pod[] = [];
  for (const pod of pods) {
    const ord = ordinalOf(pod, name);
    if (ord < 0) continue;
    if (ord >= start && ord < end) replicas[ord - start] = pod;
    else condemned.push(pod);
  }
  for (let i = 0; i < replicaCount; i++) replicas[i] ??= versionedPod(set, revs, start + i);
  condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));

  let firstUnhealthy: Pod | undefined;
  for (const p of replicas) {
    if (isCreated(p) && !isHealthy(p)) {
      firstUnhealthy = p;
      break;
    }
  }
  if (!firstUnhealthy) firstUnhealthy = condemned.find((p) => !isHealthy(p));

  const adjustRemoved = (pod: Pod): void => {
    const rev = podRevision(pod);
    if (rev === revs.current) status.currentReplicas!--;
    if (rev === revs.update) status.updatedReplicas!--;
  };
  const deletePod = async (pod: Pod): Promise<void> => {
    const podName = pod.metadata.name ?? "";
    try {
      await deps.pods.delete(pod.metadata.namespace, podName, {
        preconditions: { uid: pod.metadata.uid ?? "" },
      });
    } catch (e) {
      if (isNotFound(e)) return;
      deps.recorder.event(
        set,
        "Warning",
        "FailedDelete",
        `delete Pod ${podName} in StatefulSet ${name} failed error: ${errText(e)}`,
      );
      throw e;
    }
    deps.recorder.event(
      set,
      "Normal",
      "SuccessfulDelete",
      `delete Pod ${podName} in StatefulSet ${name} successful`,
    );
    adjustRemoved(pod);
  };
  let requeueAfterMs: number | undefined;
  const waitAvailable = (pod: Pod): void => {
    const ms = msUntilAvailable(pod, minReady, deps.nowMs);
    if (ms !== undefined && ms > 0) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, ms + 1);
  };

  // Replicas in range, lowest ordinal first.
  for (let i = 0; i < replicaCount; i++) {
    const pod = replicas[i]!;
    const podName = pod.metadata.name ?? "";
    if (isCreated(pod) && isFailedOrSucceeded(pod) && !isTerminating(pod)) {
      if (pod.status?.phase === "Failed")
        deps.recorder.event(
          set,
          "Warning",
          "RecreatingFailedPod",
          `StatefulSet ${set.metadata.namespace}/${name} is recreating failed Pod ${podName}`,
        );
      else
        deps.recorder.event(
          set,
          "Normal",
          "RecreatingTerminatedPod",
          `StatefulSet ${set.metadata.namespace}/${name} is recreating terminated Pod ${podName}`,
        );
      await deletePod(pod);
      // The replacement is created once the informer has seen the old pod go.
      if (monotonic) return { status };
      continue;
    }
    if (!isCreated(pod)) {
      try {
        await deps.pods.create(pod);
      } catch (e) {
        if (isAlreadyExists(e)) {
          if (monotonic) return { status };
          continue;
        }
        deps.recorder.event(
          set,
          "Warning",
          "FailedCreate",
          `create Pod ${podName} in StatefulSet ${name} failed error: ${errText(e)}`,
        );
        throw e;
      }
      deps.recorder.event(
        set,
        "Normal",
        "SuccessfulCreate",
        `create Pod ${podName} in StatefulSet ${name} successful`,
      );
      status.replicas!++;
      const rev = podRevision(pod);
      if (rev === revs.current) status.currentReplicas!++;
      if (rev === revs.update) status.updatedReplicas!++;
      if (monotonic) return { status };
      continue;
    }
    if (isTerminating(pod)) {
      if (monotonic) return { status };
      continue;
    }
    if (!isRunningAndReady(pod) && monotonic) return { status };
    if (monotonic && !isPodAvailable(pod, minReady, deps.nowMs)) {
      waitAvailable(pod);
      return withRequeue({ status }, requeueAfterMs);
    }
    if (!identityMatches(set, pod)) {
      const fixed = structuredClone(pod);
      updateIdentity(set, fixed);
      await deps.pods.update(fixed);
      deps.recorder.event(
        set,
        "Normal",
        "SuccessfulUpdate",
        `update Pod ${podName} in StatefulSet ${name} successful`,
      );
    }
  }

  // Condemned pods, highest ordinal first.
  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return { status };
      continue;
    }
    if (monotonic && pod !== firstUnhealthy && !isHealthy(pod)) return { status };
    if (monotonic && pod !== firstUnhealthy && !isPodAvailable(pod, minReady, deps.nowMs)) {
      waitAvailable(pod);
      return withRequeue({ status }, requeueAfterMs);
    }
    await deletePod(pod);
    if (monotonic) return { status };
  }

  // Rolling update, highest ordinal down to the partition.
  const strategy = set.spec?.updateStrategy;
  if (strategy?.type === "OnDelete") return withRequeue({ status }, requeueAfterMs);
  const updateMin = Math.max(0, strategy?.rollingUpdate?.partition ?? 0);
  for (let target = replicaCount - 1; target >= updateMin; target--) {
    const pod = replicas[target]!;
    if (!isCreated(pod)) return withRequeue({ status }, requeueAfterMs);
    if (podRevision(pod) !== revs.update && !isTerminating(pod)) {
      await deletePod(pod);
      return { status };
    }
    if (!isHealthy(pod)) return withRequeue({ status }, requeueAfterMs);
    if (!isPodAvailable(pod, minReady, deps.nowMs)) {
      waitAvailable(pod);
      return withRequeue({ status }, requeueAfterMs);
    }
  }
  return withRequeue({ status }, requeueAfterMs);
}

function withRequeue(r: PassResult, ms: number | undefined): PassResult {
  if (ms !== undefined && Number.isFinite(ms)) r.requeueAfterMs = ms;
  return r;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
