/**
 * @module NodeResourcesBalancedAllocation: favours nodes whose CPU and memory would be used
 * in similar fractions once the pod is placed: score = (1 − std of the fractions) × 100.
 * Skipped for pods that request nothing.
 */
import type { NodeInfo } from "../framework/node-info.ts";
import type { PodInfo } from "../framework/pod-info.ts";
import { SKIP, type Status } from "../framework/status.ts";
import {
  MAX_NODE_SCORE,
  type CycleState,
  type PreScorePlugin,
  type ScorePlugin,
} from "../framework/types.ts";
import { NODE_RESOURCES_BALANCED_ALLOCATION } from "./names.ts";

export class NodeResourcesBalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = NODE_RESOURCES_BALANCED_ALLOCATION;

  preScore(_s: CycleState, pod: PodInfo): Status | null {
    return pod.requests.milliCPU === 0 && pod.requests.memory === 0 ? SKIP : null;
  }

  score(_s: CycleState, pod: PodInfo, node: NodeInfo): number {
    const a = node.allocatable;
    let f0 = -1;
    let f1 = -1;
    if (a.milliCPU > 0) f0 = Math.min(1, (node.requested.milliCPU + pod.requests.milliCPU) / a.milliCPU);
    if (a.memory > 0) f1 = Math.min(1, (node.requested.memory + pod.requests.memory) / a.memory);
    const std = f0 >= 0 && f1 >= 0 ? Math.abs((f0 - f1) / 2) : 0;
    return Math.trunc((1 - std) * MAX_NODE_SCORE);
  }

  scoreAll(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void {
    for (let i = 0; i < nodes.length; i++) out[i] = this.score(state, pod, nodes[i]!);
  }
}
