/**
 * @module One scheduling attempt for one pod (upstream's `schedulePod`): PreFilter, then
 * Filter over nodes starting where the last attempt stopped, stopping once enough feasible
 * nodes are found (upstream's adaptive `percentageOfNodesToScore`: 50% − nodes/125, at
 * least 5%, at least 100 nodes), then PreScore/Score and the highest total wins (ties broken
 * at random, uniformly). A pod with a nominated node tries that node first. Synchronous:
 * the snapshot does not change during an attempt.
 */
import { FitError, NO_NODES_AVAILABLE } from "./framework/fit-error.ts";
import type { NodeInfo } from "./framework/node-info.ts";
import type { PodInfo } from "./framework/pod-info.ts";
import type { Framework } from "./framework/runtime.ts";
import type { Snapshot } from "./framework/snapshot.ts";
import type { Status } from "./framework/status.ts";
import { CycleState } from "./framework/types.ts";

/** Upstream's `minFeasibleNodesToFind`. */
const MIN_FEASIBLE_NODES = 100;
/** Upstream's `minFeasibleNodesPercentageToFind`. */
const MIN_FEASIBLE_PERCENT = 5;

/** How many feasible nodes to look for (upstream's `numFeasibleNodesToFind`). */
export function numFeasibleNodesToFind(numAllNodes: number, percentage = 0): number {
  if (numAllNodes < MIN_FEASIBLE_NODES) return numAllNodes;
  if (percentage <= 0) {
    percentage = 50 - Math.trunc(numAllNodes / 125);
    if (percentage < MIN_FEASIBLE_PERCENT) percentage = MIN_FEASIBLE_PERCENT;
  }
  const n = Math.trunc((numAllNodes * percentage) / 100);
  return n < MIN_FEASIBLE_NODES ? MIN_FEASIBLE_NODES : n;
}

/** A successful attempt. */
export interface ScheduleResult {
  node: string;
  evaluatedNodes: number;
  feasibleNodes: number;
}

/** A failed attempt: the fit error and the state (for PostFilter). */
export interface ScheduleFailure {
  error: FitError;
  state: CycleState;
}

export interface AlgorithmOptions {
  /** 0 (default) = adaptive, as upstream. */
  percentageOfNodesToScore?: number;
  random?: () => number;
}

export class SchedulingAlgorithm {
  private nextStart = 0;
  private feasible: NodeInfo[] = [];
  private chunk: NodeInfo[] = [];
  private rejNodes: NodeInfo[] = [];
  private rejStatuses: Status[] = [];
  private out: (Status | null)[] = [];
  private total = new Float64Array(64);
  private buf = new Float64Array(64);
  private readonly random: () => number;

  constructor(
    readonly snapshot: Snapshot,
    readonly framework: Framework,
    private readonly opts: AlgorithmOptions = {},
  ) {
    this.random = opts.random ?? Math.random;
  }

  /** Schedules one pod; returns the chosen node, or the failure. */
  schedule(pod: PodInfo): ScheduleResult | ScheduleFailure {
    const snap = this.snapshot;
    const fw = this.framework;
    const state = new CycleState();
    const numNodes = snap.numNodes;
    if (numNodes === 0) {
      const error = new FitError(0, new Map());
      error.preFilterMsg = NO_NODES_AVAILABLE;
      return { error, state };
    }
    const pre = fw.runPreFilter(state, pod, snap);
    if (pre) {
      const statuses = new Map<string, Status>();
      for (const n of snap.nodes) statuses.set(n.name, pre);
      const error = new FitError(numNodes, statuses);
      error.preFilterMsg = pre.message();
      return { error, state };
    }
    // A nominated node (set by preemption) is tried first.
    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      const n = snap.node(nominated);
      if (n && !fw.runFilter(state, pod, n)) return { node: n.name, evaluatedNodes: 1, feasibleNodes: 1 };
    }
    const want = numFeasibleNodesToFind(numNodes, this.opts.percentageOfNodesToScore);
    const feasible = this.feasible;
    feasible.length = 0;
    // Rejections are kept in reusable arrays; the per-node map is built only on failure.
    const rejNodes = this.rejNodes;
    const rejStatuses = this.rejStatuses;
    let rejected = 0;
    const nodes = snap.nodes;
    const start = this.nextStart % numNodes;
    let processed = 0;
    const chunk = this.chunk;
    const out = this.out;
    // Filter in chunks, each plugin looping over a chunk (monomorphic), until enough fit.
    while (processed < numNodes && feasible.length < want) {
      let size = want - feasible.length;
      if (size < 32) size = 32;
      if (size > numNodes - processed) size = numNodes - processed;
      for (let i = 0; i < size; i++) {
        let idx = start + processed + i;
        if (idx >= numNodes) idx -= numNodes;
        chunk[i] = nodes[idx]!;
        out[i] = null;
      }
      fw.runFilterAll(state, pod, chunk, size, out);
      let used = size;
      for (let i = 0; i < size; i++) {
        const st = out[i]!;
        if (st === null) {
          feasible.push(chunk[i]!);
          if (feasible.length >= want) {
            used = i + 1;
            break;
          }
        } else {
          rejNodes[rejected] = chunk[i]!;
          rejStatuses[rejected++] = st;
        }
      }
      processed += used;
    }
    chunk.length = 0;
    this.nextStart = (start + processed) % numNodes;
    if (feasible.length === 0) {
      const statuses = new Map<string, Status>();
      for (let i = 0; i < rejected; i++) statuses.set(rejNodes[i]!.name, rejStatuses[i]!);
      rejNodes.length = 0;
      rejStatuses.length = 0;
      return { error: new FitError(numNodes, statuses), state };
    }
    if (feasible.length === 1)
      return { node: feasible[0]!.name, evaluatedNodes: processed, feasibleNodes: 1 };
    const active = fw.runPreScore(state, pod, feasible, snap);
    const n = feasible.length;
    if (this.total.length < n) {
      this.total = new Float64Array(n * 2);
      this.buf = new Float64Array(n * 2);
    }
    fw.runScore(state, pod, feasible, active, this.total, this.buf);
    // Highest total; ties broken uniformly at random (reservoir sampling, as upstream).
    const total = this.total;
    let best = 0;
    let bestScore = total[0]!;
    let ties = 1;
    for (let i = 1; i < n; i++) {
      const s = total[i]!;
      if (s > bestScore) {
        bestScore = s;
        best = i;
        ties = 1;
      } else if (s === bestScore) {
        ties++;
        if (this.random() * ties < 1) best = i;
      }
    }
    return { node: feasible[best]!.name, evaluatedNodes: processed, feasibleNodes: n };
  }
}
