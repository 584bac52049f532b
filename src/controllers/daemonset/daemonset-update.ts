/**
 * @module The DaemonSet rolling update, as upstream's daemon/update.go: given each node's
 * daemon pods, decide which old pods to delete and which nodes get a new pod, within
 * `maxUnavailable` (delete old, then the manage pass creates the new) or, when `maxSurge`
 * is set, within `maxSurge` (create the new pod beside the old, delete the old once the new
 * one is available). Both are scaled from percentages against the desired number of nodes,
 * rounding up; 0 and 0 means maxUnavailable 1. Pure: the controller carries the plan out.
 */
import type { DaemonSet } from "../../api/types/apps-v1.ts";
import type { Pod } from "../../api/types/core-v1.ts";
import { isPodAvailable } from "../util/pod-util.ts";
import { isPodUpdated } from "./daemonset-pods.ts";

/** One eligible-or-occupied node in the plan. */
export interface NodePods {
  node: string;
  /** The daemon pods on the node (terminating ones included; they are skipped). */
  pods: readonly Pod[];
  /** Whether the DaemonSet should run on the node. */
  shouldRun: boolean;
}

/** What to do. */
export interface UpdatePlan {
  deletePods: Pod[];
  createOnNodes: string[];
}

/** An IntOrString as a count of `total`, percentages rounded up (upstream's GetScaledValueFromIntOrPercent). */
export function scaledValue(v: number | string | undefined, total: number, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v === "number") return v;
  const m = /^([0-9]+)%$/.exec(v);
  if (m) return Math.ceil((Number(m[1]) * total) / 100);
  const n = Number(v);
  return Number.isInteger(n) ? n : fallback;
}

/** maxSurge and maxUnavailable for `desired` nodes. */
export function surgeAndUnavailable(
  ds: DaemonSet,
  desired: number,
): { maxSurge: number; maxUnavailable: number } {
  const strategy = ds.spec?.updateStrategy;
  if (strategy?.type === "OnDelete") return { maxSurge: 0, maxUnavailable: 0 };
  const ru = strategy?.rollingUpdate;
  const maxSurge = scaledValue(ru?.maxSurge, desired, 0);
  let maxUnavailable = scaledValue(ru?.maxUnavailable, desired, 1);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

interface NodeSplit {
  ok: boolean;
  newPod?: Pod;
  oldPod?: Pod;
}

/** The one new and one old pod on a node; not ok when there are more (the manage pass cleans up). */
function split(pods: readonly Pod[], hash: string, generation: string): NodeSplit {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    if (isPodUpdated(p, hash, generation)) {
      if (newPod) return { ok: false };
      newPod = p;
    } else {
      if (oldPod) return { ok: false };
      oldPod = p;
    }
  }
  return { ok: true, ...(newPod ? { newPod } : {}), ...(oldPod ? { oldPod } : {}) };
}

/**
 * Plans one rolling-update step. `nodes` lists every node that has daemon pods or should run
 * one (nodes without pods have `pods: []`), sorted by name for a stable order.
 */
export function planRollingUpdate(
  ds: DaemonSet,
  nodes: readonly NodePods[],
  hash: string,
  generation: string,
  nowMs: number,
): UpdatePlan {
  const minReady = ds.spec?.minReadySeconds ?? 0;
  let desired = 0;
  for (const n of nodes) if (n.shouldRun) desired++;
  const { maxSurge, maxUnavailable } = surgeAndUnavailable(ds, desired);
  const available = (p: Pod): boolean => isPodAvailable(p, minReady, nowMs);

  if (maxSurge === 0) {
    let numUnavailable = 0;
    const allowed: Pod[] = [];
    const candidates: Pod[] = [];
    for (const n of nodes) {
      const s = split(n.pods, hash, generation);
      if (!s.ok) {
        numUnavailable++;
        continue;
      }
      if ((!s.oldPod && !s.newPod) || (s.oldPod && s.newPod)) {
        numUnavailable++;
      } else if (s.newPod) {
        if (!available(s.newPod)) numUnavailable++;
      } else if (s.oldPod) {
        if (!available(s.oldPod)) allowed.push(s.oldPod);
        else if (numUnavailable < maxUnavailable) candidates.push(s.oldPod);
      }
    }
    const remaining = Math.min(Math.max(0, maxUnavailable - numUnavailable), candidates.length);
    return { deletePods: [...allowed, ...candidates.slice(0, remaining)], createOnNodes: [] };
  }

  let numSurge = 0;
  let numAvailable = 0;
  const deletePods: Pod[] = [];
  const shouldNotRun: Pod[] = [];
  const allowedNew: string[] = [];
  const candidateNew: string[] = [];
  for (const n of nodes) {
    const s = split(n.pods, hash, generation);
    if (!s.ok) {
      numSurge++;
      continue;
    }
    if (s.oldPod && available(s.oldPod)) numAvailable++;
    if (!s.oldPod) continue;
    if (!s.newPod) {
      if (!available(s.oldPod)) {
        if (!n.shouldRun) {
          shouldNotRun.push(s.oldPod);
          continue;
        }
        allowedNew.push(n.node);
      } else if (numSurge < maxSurge) {
        candidateNew.push(n.node);
      }
      continue;
    }
    if (!available(s.newPod)) {
      numSurge++;
      continue;
    }
    deletePods.push(s.oldPod);
  }
  const deletable = Math.min(numAvailable - desired, shouldNotRun.length);
  for (let i = 0; i < deletable; i++) deletePods.push(shouldNotRun[i]!);
  const remaining = Math.min(Math.max(0, maxSurge - numSurge), candidateNew.length);
  return { deletePods, createOnNodes: [...allowedNew, ...candidateNew.slice(0, remaining)] };
}
