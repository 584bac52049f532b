/**
 * @module Pod predicates the workload controllers share, with upstream's meanings: active
 * (not terminal, not being deleted), terminal, ready (condition Ready=True), available
 * (ready for at least minReadySeconds, judged by the Ready condition's lastTransitionTime),
 * running-and-ready (StatefulSet's health test), and a comparator ranking pods for deletion.
 * A candidate for `src/controllers/util/`.
 */
import type { Pod, PodCondition } from "../../api/types/core-v1.ts";

/** The pod's Ready condition, if any. */
export function readyCondition(pod: Pod): PodCondition | undefined {
  const conds = pod.status?.conditions;
  if (!conds) return undefined;
  for (let i = 0; i < conds.length; i++) if (conds[i]!.type === "Ready") return conds[i];
  return undefined;
}

/** Phase Succeeded or Failed. */
export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/** Not terminal and not being deleted: upstream's `IsPodActive`. */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}

/** Condition Ready=True. */
export function isPodReady(pod: Pod): boolean {
  return readyCondition(pod)?.status === "True";
}

/**
 * Ready for at least `minReadySeconds` at `nowMs` (upstream's `IsPodAvailable`); with
 * minReadySeconds 0 this is just ready.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const c = readyCondition(pod);
  if (c?.status !== "True") return false;
  if (minReadySeconds <= 0) return true;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= nowMs;
}

/**
 * Milliseconds until a ready pod becomes available (0 when it already is), or undefined when
 * it is not ready: a controller requeues after this to notice availability.
 */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, nowMs: number): number | undefined {
  const c = readyCondition(pod);
  if (c?.status !== "True") return undefined;
  if (minReadySeconds <= 0) return 0;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : nowMs;
  return Math.max(0, since + minReadySeconds * 1000 - nowMs);
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
    const ta = Date.parse(readyCondition(a)?.lastTransitionTime ?? "") || 0;
    const tb = Date.parse(readyCondition(b)?.lastTransitionTime ?? "") || 0;
    if (ta !== tb) return tb - ta;
  }
  const restarts = (p: Pod): number => {
    let n = 0;
    for (const s of p.status?.containerStatuses ?? []) n = Math.max(n, s.restartCount);
    return n;
  };
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  return creationMs(b) - creationMs(a);
}
