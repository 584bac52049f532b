/**
 * @module NodeResourcesFit: the pod's requests (CPU, memory, ephemeral storage, extended
 * resources, and one pod slot) must fit in the node's allocatable minus what its pods
 * already request (`Insufficient cpu`, `Too many pods`; unresolvable when the request
 * exceeds the node's whole allocatable). Scores by strategy: LeastAllocated (default),
 * MostAllocated, over CPU and memory (weight 1 each) with non-zero requests.
 */
import type { NodeInfo } from "../framework/node-info.ts";
import type { PodInfo } from "../framework/pod-info.ts";
import { Status } from "../framework/status.ts";
import { MAX_NODE_SCORE, type CycleState, type FilterPlugin, type ScorePlugin } from "../framework/types.ts";
import { NODE_RESOURCES_FIT } from "./names.ts";

/** Scoring strategy (upstream's `ScoringStrategyType`). */
export type ScoringStrategy = "LeastAllocated" | "MostAllocated";

const CPU = 1;
const MEM = 2;
const EPH = 4;
const PODS = 8;
const statusCache = new Map<number, Status>();

/** The cached status for a combination of standard shortfalls (bit 16: unresolvable). */
function standardStatus(mask: number): Status {
  let st = statusCache.get(mask);
  if (!st) {
    const reasons: string[] = [];
    if (mask & PODS) reasons.push("Too many pods");
    if (mask & CPU) reasons.push("Insufficient cpu");
    if (mask & MEM) reasons.push("Insufficient memory");
    if (mask & EPH) reasons.push("Insufficient ephemeral-storage");
    st = new Status(mask & 16 ? "UnschedulableAndUnresolvable" : "Unschedulable", reasons);
    statusCache.set(mask, st);
  }
  return st;
}

/**
 * Why a pod does not fit a node's free resources, or null when it fits (upstream's
 * `fitsRequest`). Exported for preemption's simulations.
 */
export function fitsRequest(pod: PodInfo, node: NodeInfo): Status | null {
  const alloc = node.allocatable;
  const used = node.requested;
  let mask = 0;
  if (node.pods.length + 1 > alloc.pods) mask |= PODS;
  const r = pod.requests;
  if (r.milliCPU === 0 && r.memory === 0 && r.ephemeralStorage === 0 && !r.scalar) {
    return mask ? standardStatus(mask) : null;
  }
  if (r.milliCPU > 0 && r.milliCPU > alloc.milliCPU - used.milliCPU) {
    mask |= CPU;
    if (r.milliCPU > alloc.milliCPU) mask |= 16;
  }
  if (r.memory > 0 && r.memory > alloc.memory - used.memory) {
    mask |= MEM;
    if (r.memory > alloc.memory) mask |= 16;
  }
  if (r.ephemeralStorage > 0 && r.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
    mask |= EPH;
    if (r.ephemeralStorage > alloc.ephemeralStorage) mask |= 16;
  }
  let extra: string[] | null = null;
  if (r.scalar) {
    for (const [name, q] of r.scalar) {
      if (q === 0) continue;
      const a = alloc.scalar?.get(name) ?? 0;
      const u = used.scalar?.get(name) ?? 0;
      if (q > a - u) {
        (extra ??= []).push(`Insufficient ${name}`);
        if (q > a) mask |= 16;
      }
    }
  }
  if (!extra) return mask ? standardStatus(mask) : null;
  const base = mask & ~16 ? standardStatus(mask).reasons : [];
  return new Status(mask & 16 ? "UnschedulableAndUnresolvable" : "Unschedulable", [...base, ...extra]);
}

function leastRequested(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

function mostRequested(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  if (requested > capacity) requested = capacity;
  return Math.trunc((requested * MAX_NODE_SCORE) / capacity);
}

export class NodeResourcesFit implements FilterPlugin, ScorePlugin {
  readonly name = NODE_RESOURCES_FIT;
  private readonly scorer: (requested: number, capacity: number) => number;

  constructor(readonly strategy: ScoringStrategy = "LeastAllocated") {
    this.scorer = strategy === "MostAllocated" ? mostRequested : leastRequested;
  }

  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    return fitsRequest(pod, node);
  }

  filterAll(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
    n: number,
    out: (Status | null)[],
  ): void {
    for (let i = 0; i < n; i++) {
      if (out[i] !== null) continue;
      const st = this.filter(state, pod, nodes[i]!);
      if (st) out[i] = st;
    }
  }

  score(_s: CycleState, pod: PodInfo, node: NodeInfo): number {
    const a = node.allocatable;
    const cpu = this.scorer(node.nonZeroCPU + pod.nonZeroCPU, a.milliCPU);
    const mem = this.scorer(node.nonZeroMemory + pod.nonZeroMemory, a.memory);
    return Math.trunc((cpu + mem) / 2);
  }

  scoreAll(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void {
    for (let i = 0; i < nodes.length; i++) out[i] = this.score(state, pod, nodes[i]!);
  }
}
