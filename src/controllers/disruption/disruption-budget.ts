/**
 * @module The pure arithmetic of upstream's disruption controller: the expected pod count
 * and desired healthy count of a PodDisruptionBudget, the healthy count, the pruned
 * disruptedPods map and the status a budget should carry. No I/O: the reconciler feeds it.
 */
import type { Pod } from "../../api/types/core-v1.ts";
import type { PodDisruptionBudget } from "../../api/types/policy-v1.ts";
import type { Condition } from "../../api/types/meta-v1.ts";
import { isPodReady } from "../util/pod-util.ts";

/** How long an eviction recorded in disruptedPods waits for its pod's deletion (upstream: 2 min). */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

/** Upstream's GetScaledValueFromIntOrPercent, rounding up. */
export function scaledValue(v: number | string, total: number): number {
  if (typeof v === "number") return v;
  const m = /^([0-9]+)%$/.exec(v);
  if (!m) {
    if (/^[0-9]+$/.test(v)) return Number(v);
    throw new Error(`invalid value for IntOrString: invalid value "${v}"`);
  }
  return Math.ceil((Number(m[1]) * total) / 100);
}

/** Expected and desired healthy counts; `scale()` gives the controllers' total replicas. */
export function expectedCounts(
  pdb: PodDisruptionBudget,
  pods: readonly Pod[],
  scale: () => number,
): { expectedCount: number; desiredHealthy: number } {
  const spec = pdb.spec ?? {};
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    const expectedCount = scale();
    const maxUnavailable = scaledValue(spec.maxUnavailable, expectedCount);
    return { expectedCount, desiredHealthy: Math.max(0, expectedCount - maxUnavailable) };
  }
  const min = spec.minAvailable;
  if (min !== undefined && min !== null) {
    if (typeof min === "number" || /^[0-9]+$/.test(min)) {
      return { expectedCount: pods.length, desiredHealthy: Number(min) };
    }
    const expectedCount = scale();
    return { expectedCount, desiredHealthy: scaledValue(min, expectedCount) };
  }
  return { expectedCount: pods.length, desiredHealthy: 0 };
}

/**
 * The disruptedPods entries still pending: pods present, not yet deleting, recorded less than
 * DELETION_TIMEOUT_MS ago. `recheckMs` is when the next kept entry expires.
 */
export function pruneDisrupted(
  pdb: PodDisruptionBudget,
  pods: readonly Pod[],
  nowMs: number,
): { disrupted: Record<string, string>; recheckMs: number | undefined } {
  const old = pdb.status?.disruptedPods ?? {};
  const disrupted: Record<string, string> = {};
  let recheckMs: number | undefined;
  for (const pod of pods) {
    const name = pod.metadata.name ?? "";
    if (pod.metadata.deletionTimestamp) continue;
    const at = old[name];
    if (at === undefined) continue;
    const expires = Date.parse(at) + DELETION_TIMEOUT_MS;
    if (expires < nowMs) continue;
    disrupted[name] = at;
    if (recheckMs === undefined || expires < recheckMs) recheckMs = expires;
  }
  return { disrupted, recheckMs };
}

/** Ready pods that are neither deleting nor awaiting an eviction's delete. */
export function countHealthy(pods: readonly Pod[], disrupted: Record<string, string>): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    if (disrupted[pod.metadata.name ?? ""] !== undefined) continue;
    if (isPodReady(pod)) n++;
  }
  return n;
}

/** The DisruptionAllowed condition for a status, keeping the old transition time if unchanged. */
export function disruptionCondition(
  old: readonly Condition[] | undefined,
  allowed: boolean,
  observedGeneration: number,
  now: string,
  reason = allowed ? "SufficientPods" : "InsufficientPods",
  message = "",
): Condition[] {
  const want: Condition = {
    type: "DisruptionAllowed",
    status: allowed ? "True" : "False",
    reason,
    message,
    observedGeneration,
    lastTransitionTime: now,
  };
  const list = old ?? [];
  const i = list.findIndex((c) => c.type === "DisruptionAllowed");
  const prev = i >= 0 ? list[i] : undefined;
  if (prev && prev.status === want.status) want.lastTransitionTime = prev.lastTransitionTime;
  return prev ? list.map((c, j) => (j === i ? want : c)) : [...list, want];
}
