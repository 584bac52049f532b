/**
 * @module PodTopologySpread: `topologySpreadConstraints`. For DoNotSchedule constraints a
 * node fits when placing the pod keeps (matching pods in the node's domain + self − global
 * minimum) ≤ maxSkew, minimum taken over eligible domains (0 when fewer than minDomains);
 * ScheduleAnyway constraints score nodes with fewer matching pods in their domain higher.
 * Only nodes passing the pod's node affinity (nodeAffinityPolicy Honor, the default) and
 * carrying every constraint's key count. Domain counts come from the snapshot's
 * incremental counters: no walk over the cluster's pods per attempt.
 */
import type { NodeInfo } from "../framework/node-info.ts";
import type { PodInfo, SpreadConstraint } from "../framework/pod-info.ts";
import type { Snapshot } from "../framework/snapshot.ts";
import { SKIP, unresolvable, unschedulable, type Status } from "../framework/status.ts";
import {
  MAX_NODE_SCORE,
  type CycleState,
  type FilterPlugin,
  type PreFilterExtensions,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
  type StateData,
} from "../framework/types.ts";
import { bump } from "../framework/match-index.ts";
import { POD_TOPOLOGY_SPREAD } from "./names.ts";
import { firstUntolerated } from "./tolerations.ts";

/** Upstream's `ErrReasonConstraintsNotMatch`. */
export const ERR_REASON_SPREAD = "node(s) didn't match pod topology spread constraints";
/** Upstream's `ErrReasonNodeLabelNotMatch`. */
export const ERR_REASON_SPREAD_LABEL = ERR_REASON_SPREAD + " (missing required label)";
const REJECT = unschedulable(ERR_REASON_SPREAD);
const REJECT_LABEL = unresolvable(ERR_REASON_SPREAD_LABEL);
const HOSTNAME = "kubernetes.io/hostname";

/** Counts for one constraint over the eligible nodes. */
class ConstraintCounts {
  private minCache = -1;
  constructor(
    readonly c: SpreadConstraint,
    /** Domain → matching pods (domains with none may be absent). */
    public counts: Map<string, number>,
    /** Eligible domains → eligible node count. */
    readonly domains: Map<string, number>,
    /** Whether `counts` is this object's own copy (may change). */
    private owned: boolean,
  ) {}

  /** Global minimum of matching pods over eligible domains, honouring minDomains. */
  min(): number {
    if (this.minCache >= 0) return this.minCache;
    let m: number;
    if (this.c.whenUnsatisfiable === "DoNotSchedule" && this.domains.size < this.c.minDomains) m = 0;
    // counts holds only positive counts of eligible domains: fewer entries than domains
    // means some eligible domain has none.
    else if (this.counts.size < this.domains.size) m = 0;
    else {
      m = Number.MAX_SAFE_INTEGER;
      for (const [d, v] of this.counts) if (v < m && this.domains.has(d)) m = v;
    }
    if (m === Number.MAX_SAFE_INTEGER) m = 0;
    this.minCache = m;
    return m;
  }

  change(domain: string, d: number): void {
    if (!this.owned) {
      this.counts = new Map(this.counts);
      this.owned = true;
    }
    bump(this.counts, domain, d);
    this.minCache = -1;
  }

  clone(): ConstraintCounts {
    return new ConstraintCounts(this.c, new Map(this.counts), this.domains, true);
  }
}

class SpreadState implements StateData {
  constructor(
    readonly constraints: ConstraintCounts[],
    /** Whether a node is eligible (affinity/taint policies and keys). */
    readonly eligible: (n: NodeInfo) => boolean,
  ) {}
  clone(): SpreadState {
    return new SpreadState(
      this.constraints.map((c) => c.clone()),
      this.eligible,
    );
  }
}

class ScoreState implements StateData {
  constructor(
    readonly constraints: ConstraintCounts[],
    readonly weights: Float64Array,
    readonly eligible: (n: NodeInfo) => boolean,
    readonly counterOnNode: ((n: NodeInfo) => number)[],
    readonly cs: readonly SpreadConstraint[],
  ) {}
  clone(): ScoreState {
    return this;
  }
}

const FILTER_KEY = "PreFilter" + POD_TOPOLOGY_SPREAD;
const SCORE_KEY = "PreScore" + POD_TOPOLOGY_SPREAD;

function hasAllKeys(n: NodeInfo, cs: readonly SpreadConstraint[]): boolean {
  for (const c of cs) if (n.labels?.[c.topologyKey] === undefined) return false;
  return true;
}

/**
 * Counts matching pods per domain for the constraints, over eligible nodes. Fast path: when
 * every node is eligible, the counters' domain maps are used as they are (no copy).
 */
function countDomains(
  snapshot: Snapshot,
  pod: PodInfo,
  constraints: readonly SpreadConstraint[],
): { counts: ConstraintCounts[]; eligible: (n: NodeInfo) => boolean } {
  const honourAffinity =
    pod.nodeAffinity.constrains && constraints.some((c) => c.nodeAffinityPolicy === "Honor");
  const honourTaints = constraints.some((c) => c.nodeTaintsPolicy === "Honor");
  const allKeyed = constraints.every((c) => snapshot.nodesWithKey(c.topologyKey) === snapshot.numNodes);
  const counters = constraints.map((c) => snapshot.counters.counter(c.matcher));
  if (!honourAffinity && !honourTaints && allKeyed) {
    return {
      counts: constraints.map(
        (c, i) =>
          new ConstraintCounts(
            c,
            counters[i]!.domains(c.topologyKey),
            snapshot.domains(c.topologyKey),
            false,
          ),
      ),
      eligible: () => true,
    };
  }
  const eligibleFor = (c: SpreadConstraint, n: NodeInfo): boolean => {
    if (c.nodeAffinityPolicy === "Honor" && !pod.nodeAffinity.matches(n.labels, n.name)) return false;
    if (c.nodeTaintsPolicy === "Honor" && firstUntolerated(n.hardTaints, pod.tolerations)) return false;
    return true;
  };
  const counts = constraints.map((c) => new ConstraintCounts(c, new Map(), new Map(), true));
  for (const n of snapshot.nodes) {
    if (!hasAllKeys(n, constraints)) continue;
    for (let i = 0; i < constraints.length; i++) {
      const c = constraints[i]!;
      if (!eligibleFor(c, n)) continue;
      const v = n.labels![c.topologyKey]!;
      const cc = counts[i]!;
      bump(cc.domains, v, 1);
      const k = counters[i]!.onNode(n);
      if (k) bump(cc.counts, v, k);
    }
  }
  return {
    counts,
    eligible: (n) => hasAllKeys(n, constraints) && constraints.every((c) => eligibleFor(c, n)),
  };
}

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = POD_TOPOLOGY_SPREAD;

  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status | null {
    const hard = pod.spread.filter((c) => c.whenUnsatisfiable === "DoNotSchedule");
    if (hard.length === 0) return SKIP;
    const { counts, eligible } = countDomains(snapshot, pod, hard);
    state.write(FILTER_KEY, new SpreadState(counts, eligible));
    return null;
  }

  readonly preFilterExtensions: PreFilterExtensions = {
    addPod: (state, pod, added, node) => this.update(state, pod, added, node, 1),
    removePod: (state, pod, removed, node) => this.update(state, pod, removed, node, -1),
  };

  private update(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, d: number): void {
    const s = state.read<SpreadState>(FILTER_KEY);
    if (!s || !s.eligible(node)) return;
    for (const cc of s.constraints) {
      const c = cc.c;
      if (other.namespace !== pod.namespace || other.terminating || !c.selector.matches(other.labels))
        continue;
      const v = node.labels?.[c.topologyKey];
      if (v !== undefined) cc.change(v, d);
    }
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<SpreadState>(FILTER_KEY);
    if (!s) return null;
    const labels = node.labels;
    for (const cc of s.constraints) {
      const c = cc.c;
      const v = labels?.[c.topologyKey];
      if (v === undefined) return REJECT_LABEL;
      const skew = (cc.counts.get(v) ?? 0) + (c.selfMatch ? 1 : 0) - cc.min();
      if (skew > c.maxSkew) return REJECT;
    }
    return null;
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

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): Status | null {
    const soft = pod.spread.filter((c) => c.whenUnsatisfiable === "ScheduleAnyway");
    if (soft.length === 0) return SKIP;
    const { counts, eligible } = countDomains(snapshot, pod, soft);
    const weights = new Float64Array(soft.length);
    for (let i = 0; i < soft.length; i++) {
      const c = soft[i]!;
      let size = 0;
      if (c.topologyKey === HOSTNAME) {
        for (const n of nodes) if (hasAllKeys(n, soft)) size++;
      } else {
        const seen = new Set<string>();
        for (const n of nodes) if (hasAllKeys(n, soft)) seen.add(n.labels![c.topologyKey]!);
        size = seen.size;
      }
      weights[i] = Math.log(size + 2);
    }
    const onNode = soft.map((c) => {
      const counter = snapshot.counters.counter(c.matcher);
      return (n: NodeInfo) => counter.onNode(n);
    });
    state.write(
      SCORE_KEY,
      new ScoreState(counts, weights, (n) => hasAllKeys(n, soft) && eligible(n), onNode, soft),
    );
    return null;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const s = state.read<ScoreState>(SCORE_KEY);
    if (!s) return 0;
    if (!hasAllKeys(node, s.cs)) return -1;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const cc = s.constraints[i]!;
      const v = node.labels![cc.c.topologyKey]!;
      const cnt = cc.c.topologyKey === HOSTNAME ? s.counterOnNode[i]!(node) : (cc.counts.get(v) ?? 0);
      score += cnt * s.weights[i]! + (cc.c.maxSkew - 1);
    }
    return Math.round(score);
  }

  scoreAll(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void {
    for (let i = 0; i < nodes.length; i++) out[i] = this.score(state, pod, nodes[i]!);
  }

  normalizeScore(_s: CycleState, _p: PodInfo, _n: readonly NodeInfo[], scores: Float64Array): void {
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    for (let i = 0; i < scores.length; i++) {
      const v = scores[i]!;
      if (v < 0) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    for (let i = 0; i < scores.length; i++) {
      const v = scores[i]!;
      if (v < 0) scores[i] = 0;
      else if (max === 0) scores[i] = MAX_NODE_SCORE;
      else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - v)) / max);
    }
  }
}
