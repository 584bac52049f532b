/**
 * @module Pod predicates every workload controller shares, as upstream's `podutil` and
 * `controller_utils` define them: active (not terminal, not being deleted), terminal, ready
 * (condition Ready=True), available (ready for at least minReadySeconds, by the Ready
 * condition's lastTransitionTime), how long until a ready pod becomes available,
 * running-and-ready (StatefulSet's health test), and the order pods are deleted in.
 */
import type { Pod, PodCondition } from "../../api/types/core-v1.ts";

/** Phase Succeeded or Failed. */
export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/** Whether the pod still counts toward its owner's replicas: not terminal, not being deleted. */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}

/** The pod's Ready condition, if any. */
export function podReadyCondition(pod: Pod): PodCondition | undefined {
  const conds = pod.status?.conditions;
  if (!conds) return undefined;
  for (let i = 0; i < conds.length; i++) if (conds[i]!.type === "Ready") return conds[i];
  return undefined;
}

/** Whether the pod has condition Ready=True. */
export function isPodReady(pod: Pod): boolean {
  return podReadyCondition(pod)?.status === "True";
}

/** When the pod became ready (ms since the epoch), or undefined when not ready or unknown. */
export function podReadySinceMs(pod: Pod): number | undefined {
  const c = podReadyCondition(pod);
  if (c?.status !== "True" || !c.lastTransitionTime) return undefined;
  const t = Date.parse(c.lastTransitionTime);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Upstream's `IsPodAvailable`: ready, and (when minReadySeconds > 0) ready since at least
 * minReadySeconds before `nowMs`.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = podReadySinceMs(pod);
  return since !== undefined && since + minReadySeconds * 1000 <= nowMs;
}

/**
 * For a ready pod that is not yet available: milliseconds until it is. Undefined when the pod
 * is not ready, already available, or minReadySeconds is 0.
 */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, nowMs: number): number | undefined {
  if (minReadySeconds <= 0) return undefined;
  const since = podReadySinceMs(pod);
  if (since === undefined) return undefined;
  const left = since + minReadySeconds * 1000 - nowMs;
  return left > 0 ? left : undefined;
}

/** The highest restart count among the pod's containers (upstream's `maxContainerRestarts`). */
export function maxContainerRestarts(pod: Pod): number {
  let max = 0;
  const statuses = pod.status?.containerStatuses;
  if (statuses) for (const s of statuses) if (s.restartCount > max) max = s.restartCount;
  return max;
}

/** `namespace/name` of an object. */
export function objectKey(obj: { metadata: { namespace?: string; name?: string } }): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name ?? ""}` : (obj.metadata.name ?? "");
}

/** Phase Running and condition Ready=True (StatefulSet's `isRunningAndReady`). */
export function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === "Running" && isPodReady(pod);
}

function creationMs(pod: Pod): number {
  const t = pod.metadata.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/**
 * Orders pods so the ones to delete first come first, as upstream's `ActivePods` sort:
 * unscheduled before scheduled, Pending before Unknown before Running, not ready before
 * ready, ready for less time first, more restarts first, newer first.
 */
export function compareForDeletion(a: Pod, b: Pod): number {
  const sa = a.spec?.nodeName ? 1 : 0;
  const sb = b.spec?.nodeName ? 1 : 0;
  if (sa !== sb) return sa - sb;
  const rank = (p: Pod): number => {
    const phase = p.status?.phase;
    return phase === "Pending" ? 0 : phase === "Unknown" ? 1 : phase === "Running" ? 2 : 0;
  };
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  const ra = isPodReady(a) ? 1 : 0;
  const rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  if (ra === 1) {
    const ta = Date.parse(podReadyCondition(a)?.lastTransitionTime ?? "") || 0;
    const tb = Date.parse(podReadyCondition(b)?.lastTransitionTime ?? "") || 0;
    if (ta !== tb) return tb - ta;
  }
  const restarts = maxContainerRestarts(a) - maxContainerRestarts(b);
  if (restarts !== 0) return -restarts;
  return creationMs(b) - creationMs(a);
}
