/**
 * @module NodeAffinity: `spec.nodeSelector` and required node affinity filter nodes (all
 * operators: In, NotIn, Exists, DoesNotExist, Gt, Lt; matchFields on metadata.name);
 * preferred node affinity scores a node by the summed weights of the terms it matches,
 * normalized to 0..100.
 */
import type { NodeInfo } from "../framework/node-info.ts";
import { preferredNodeTermMatches, type PodInfo } from "../framework/pod-info.ts";
import { SKIP, unresolvable, type Status } from "../framework/status.ts";
import {
  MAX_NODE_SCORE,
  defaultNormalizeScore,
  type CycleState,
  type FilterPlugin,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from "../framework/types.ts";
import { NODE_AFFINITY } from "./names.ts";

/** Upstream's `ErrReasonPod`. */
export const ERR_REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
const REJECT = unresolvable(ERR_REASON_NODE_AFFINITY);

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = NODE_AFFINITY;

  preFilter(_s: CycleState, pod: PodInfo): Status | null {
    return pod.nodeAffinity.constrains ? null : SKIP;
  }

  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    return pod.nodeAffinity.matches(node.labels, node.name) ? null : REJECT;
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

  preScore(_s: CycleState, pod: PodInfo): Status | null {
    return pod.preferredNodeTerms.length ? null : SKIP;
  }

  score(_s: CycleState, pod: PodInfo, node: NodeInfo): number {
    let total = 0;
    for (const p of pod.preferredNodeTerms) {
      if (p.weight !== 0 && preferredNodeTermMatches(p, node.labels, node.name)) total += p.weight;
    }
    return total;
  }

  scoreAll(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void {
    for (let i = 0; i < nodes.length; i++) out[i] = this.score(state, pod, nodes[i]!);
  }

  normalizeScore(_s: CycleState, _p: PodInfo, _n: readonly NodeInfo[], scores: Float64Array): void {
    defaultNormalizeScore(MAX_NODE_SCORE, false, scores);
  }
}
