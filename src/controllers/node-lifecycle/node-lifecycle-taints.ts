/**
 * @module Taints and tolerations as the node lifecycle controller and its NoExecute taint
 * manager see them: the taints a node's conditions call for (upstream's
 * doNoExecuteTaintingPass and doNoScheduleTaintingPass), toleration matching
 * (ToleratesTaint), and the shortest toleration time among those used.
 */
import type { Node, Taint, Toleration } from "../../api/types/core-v1.ts";

export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

/** NoSchedule taints kept in line with node conditions (condition, status → taint key). */
const CONDITION_TAINTS: readonly [string, string, string][] = [
  ["Ready", "False", TAINT_NOT_READY],
  ["Ready", "Unknown", TAINT_UNREACHABLE],
  ["MemoryPressure", "True", "node.kubernetes.io/memory-pressure"],
  ["DiskPressure", "True", "node.kubernetes.io/disk-pressure"],
  ["NetworkUnavailable", "True", "node.kubernetes.io/network-unavailable"],
  ["PIDPressure", "True", "node.kubernetes.io/pid-pressure"],
];

/** Every taint key:effect this controller owns. */
const MANAGED = new Set<string>([
  `${TAINT_NOT_READY}:NoExecute`,
  `${TAINT_UNREACHABLE}:NoExecute`,
  `${TAINT_UNSCHEDULABLE}:NoSchedule`,
  ...CONDITION_TAINTS.map(([, , key]) => `${key}:NoSchedule`),
]);

const taintId = (t: Taint): string => `${t.key}:${t.effect}`;

/** The managed taints a node should carry given its conditions and `spec.unschedulable`. */
export function desiredTaints(node: Node, noExecute: boolean): Taint[] {
  const status = (type: string) => node.status?.conditions?.find((c) => c.type === type)?.status;
  const out: Taint[] = [];
  for (const [type, value, key] of CONDITION_TAINTS) {
    if (status(type) === value) out.push({ key, effect: "NoSchedule" });
  }
  if (node.spec?.unschedulable) out.push({ key: TAINT_UNSCHEDULABLE, effect: "NoSchedule" });
  if (noExecute) {
    const ready = status("Ready");
    if (ready === "False") out.push({ key: TAINT_NOT_READY, effect: "NoExecute" });
    else if (ready === "Unknown") out.push({ key: TAINT_UNREACHABLE, effect: "NoExecute" });
  }
  return out;
}

/**
 * The node's taints with the managed ones replaced by `want` (existing ones keep their
 * timeAdded; new ones get `now`), or undefined when nothing changes.
 */
export function reconcileTaints(
  current: readonly Taint[],
  want: readonly Taint[],
  now: string,
): Taint[] | undefined {
  const wanted = new Map(want.map((t) => [taintId(t), t]));
  const out: Taint[] = [];
  let changed = false;
  for (const t of current) {
    const id = taintId(t);
    if (!MANAGED.has(id)) out.push(t);
    else if (wanted.has(id)) {
      out.push(t);
      wanted.delete(id);
    } else changed = true;
  }
  for (const t of wanted.values()) {
    out.push({ ...t, timeAdded: now });
    changed = true;
  }
  return changed ? out : undefined;
}

/** Upstream's Toleration.ToleratesTaint. */
export function toleratesTaint(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  const op = tol.operator || "Equal";
  if (op === "Exists") return true;
  if (!tol.key && op === "Equal") return false;
  return (tol.value ?? "") === (taint.value ?? "");
}

/**
 * For NoExecute taints and a pod's tolerations: `evictNow` when some taint is not tolerated;
 * otherwise the shortest tolerationSeconds among the tolerations used (undefined: forever).
 */
export function tolerationVerdict(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
): { evictNow: boolean; seconds?: number } {
  let min: number | undefined;
  for (const taint of taints) {
    let tolerated = false;
    for (const tol of tolerations) {
      if (!toleratesTaint(tol, taint)) continue;
      tolerated = true;
      const s = tol.tolerationSeconds;
      if (s !== undefined && s !== null) {
        if (s <= 0) return { evictNow: true };
        if (min === undefined || s < min) min = s;
      }
    }
    if (!tolerated) return { evictNow: true };
  }
  return min === undefined ? { evictNow: false } : { evictNow: false, seconds: min };
}
