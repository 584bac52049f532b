/**
 * @module Which surplus pods a ReplicaSet deletes first, as upstream's `ActivePodsWithRanks`
 * (with the PodDeletionCost and LogarithmicScaleDown behaviour upstream enables by default):
 *   1. unassigned < assigned;
 *   2. Pending < Unknown < Running;
 *   3. not ready < ready;
 *   4. lower `controller.kubernetes.io/pod-deletion-cost` < higher;
 *   5. doubled up (more pods of the same family on the node) < not;
 *   6. ready for less time < longer (compared in log2 buckets of age, ties by uid);
 *   7. more container restarts < fewer;
 *   8. newer < older (log2 buckets of age, ties by uid).
 */
import type { Pod } from "../../api/types/core-v1.ts";
import { isPodReady, maxContainerRestarts, podReadySinceMs } from "../util/pod-util.ts";

/** The annotation a user sets to steer which pods go first on scale-down. */
export const POD_DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost";

const PHASE_ORDINAL: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

/** A pod's deletion cost: the annotation as int32, 0 when absent or unparsable. */
export function podDeletionCost(pod: Pod): number {
  const v = pod.metadata.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

/** Go's `int(math.Log2(float64(now - t)))` in nanoseconds, -1 for t at or after now. */
function logRank(tMs: number, nowMs: number): number {
  const d = (nowMs - tMs) * 1e6;
  return d > 0 ? Math.floor(Math.log2(d)) : -1;
}

interface Ranked {
  pod: Pod;
  rank: number;
  assigned: boolean;
  phase: number;
  ready: boolean;
  cost: number;
  readySince: number | undefined;
  restarts: number;
  created: number | undefined;
  uid: string;
}

function parseTime(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** Compares two times as upstream's logarithmic comparison: true if `a` goes first. */
function newerFirst(
  a: number | undefined,
  b: number | undefined,
  ua: string,
  ub: string,
  nowMs: number,
): number {
  // Zero (unknown) times go first; otherwise the later (newer) time first.
  if (a === undefined || b === undefined) return a === undefined ? (b === undefined ? 0 : -1) : 1;
  const diff = logRank(a, nowMs) - logRank(b, nowMs);
  if (diff !== 0) return diff;
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

function compare(x: Ranked, y: Ranked, nowMs: number): number {
  if (x.assigned !== y.assigned) return x.assigned ? 1 : -1;
  if (x.phase !== y.phase) return x.phase - y.phase;
  if (x.ready !== y.ready) return x.ready ? 1 : -1;
  if (x.cost !== y.cost) return x.cost - y.cost;
  if (x.rank !== y.rank) return y.rank - x.rank;
  if (x.ready && y.ready && x.readySince !== y.readySince) {
    const c = newerFirst(x.readySince, y.readySince, x.uid, y.uid, nowMs);
    if (c !== 0) return c;
  }
  if (x.restarts !== y.restarts) return y.restarts - x.restarts;
  if (x.created !== y.created) return newerFirst(x.created, y.created, x.uid, y.uid, nowMs);
  return 0;
}

/**
 * The `count` pods of `pods` to delete first. `related` are the active pods of the same
 * family (for a Deployment's ReplicaSet: the pods of all its ReplicaSets), used to prefer
 * pods doubled up on a node; pass `pods` itself when there is no wider family.
 */
export function podsToDelete(
  pods: readonly Pod[],
  related: readonly Pod[],
  count: number,
  nowMs: number,
): Pod[] {
  if (count <= 0) return [];
  if (count >= pods.length) return pods.slice();
  const onNode = new Map<string, number>();
  for (const p of related) {
    const n = p.spec?.nodeName;
    if (n) onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  const ranked: Ranked[] = pods.map((pod) => {
    const node = pod.spec?.nodeName ?? "";
    return {
      pod,
      rank: node ? (onNode.get(node) ?? 0) : 0,
      assigned: node !== "",
      phase: PHASE_ORDINAL[pod.status?.phase ?? ""] ?? 0,
      ready: isPodReady(pod),
      cost: podDeletionCost(pod),
      readySince: podReadySinceMs(pod),
      restarts: maxContainerRestarts(pod),
      created: parseTime(pod.metadata.creationTimestamp),
      uid: pod.metadata.uid ?? "",
    };
  });
  ranked.sort((a, b) => compare(a, b, nowMs));
  return ranked.slice(0, count).map((r) => r.pod);
}
