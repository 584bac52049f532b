/**
 * @module TaintToleration: a node's NoSchedule and NoExecute taints keep out pods that do
 * not tolerate them (`node(s) had untolerated taint {key: value}`); PreferNoSchedule taints
 * the pod does not tolerate lower the node's score (fewest wins).
 */
import type { Toleration } from "../../api/types/core-v1.ts";
import type { NodeInfo } from "../framework/node-info.ts";
import type { PodInfo } from "../framework/pod-info.ts";
import { unresolvable, type Status } from "../framework/status.ts";
import {
  MAX_NODE_SCORE,
  defaultNormalizeScore,
  type CycleState,
  type FilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
  type StateData,
} from "../framework/types.ts";
import { TAINT_TOLERATION } from "./names.ts";
import { firstUntolerated, tolerationsTolerate } from "./tolerations.ts";

/** Upstream's reason text for a taint. */
export function untoleratedTaintReason(key: string, value: string | undefined): string {
  return `node(s) had untolerated taint {${key}: ${value ?? ""}}`;
}

class PreScoreState implements StateData {
  constructor(readonly tolerations: readonly Toleration[]) {}
  clone(): StateData {
    return this;
  }
}

const STATE_KEY = "PreScore" + TAINT_TOLERATION;

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = TAINT_TOLERATION;
  private readonly reasons = new Map<string, Status>();

  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    if (node.hardTaints.length === 0) return null;
    const t = firstUntolerated(node.hardTaints, pod.tolerations);
    if (!t) return null;
    const reason = untoleratedTaintReason(t.key, t.value);
    let st = this.reasons.get(reason);
    if (!st) {
      st = unresolvable(reason);
      if (this.reasons.size < 1000) this.reasons.set(reason, st);
    }
    return st;
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

  preScore(state: CycleState, pod: PodInfo): Status | null {
    const ts = pod.tolerations.filter((t) => !t.effect || t.effect === "PreferNoSchedule");
    state.write(STATE_KEY, new PreScoreState(ts));
    return null;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    if (node.softTaints.length === 0) return 0;
    const ts = state.read<PreScoreState>(STATE_KEY)?.tolerations ?? [];
    let n = 0;
    for (const taint of node.softTaints) if (!tolerationsTolerate(ts, taint)) n++;
    return n;
  }

  scoreAll(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void {
    for (let i = 0; i < nodes.length; i++) out[i] = this.score(state, pod, nodes[i]!);
  }

  normalizeScore(_s: CycleState, _p: PodInfo, _n: readonly NodeInfo[], scores: Float64Array): void {
    defaultNormalizeScore(MAX_NODE_SCORE, true, scores);
  }
}
