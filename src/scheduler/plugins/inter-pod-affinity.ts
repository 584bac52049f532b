/**
 * @module InterPodAffinity: required pod affinity (the node's domain must hold a pod
 * matching every term — or no such pod exists anywhere and the pod matches its own terms),
 * required anti-affinity (no matching pod in the node's domain), and existing pods'
 * required anti-affinity against the incoming pod. Preferred terms of the pod, and
 * preferred terms (and required affinity, at weight 1) of existing pods, score domains.
 * All counts come from the snapshot's incremental indexes.
 */
import type { NodeInfo } from "../framework/node-info.ts";
import { AllTermsMatcher, type AffinityTerm, type PodInfo } from "../framework/pod-info.ts";
import type { Snapshot } from "../framework/snapshot.ts";
import type { TermKind } from "../framework/match-index.ts";
import { bump } from "../framework/match-index.ts";
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
import { INTER_POD_AFFINITY } from "./names.ts";

/** Upstream's reasons. */
export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
const REJECT_AFFINITY = unresolvable(ERR_REASON_AFFINITY);
const REJECT_ANTI = unschedulable(ERR_REASON_ANTI_AFFINITY);
const REJECT_EXISTING = unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);

/** Upstream's default `hardPodAffinityWeight`. */
export const HARD_POD_AFFINITY_WEIGHT = 1;

/** Counts per domain of one topology key, copied on first write. */
class DomainCounts {
  constructor(
    readonly key: string,
    public domains: Map<string, number>,
    private owned = false,
  ) {}
  at(labels: Readonly<Record<string, string>> | undefined): number {
    const v = labels?.[this.key];
    return v === undefined ? 0 : (this.domains.get(v) ?? 0);
  }
  change(node: NodeInfo, d: number): void {
    const v = node.labels?.[this.key];
    if (v === undefined) return;
    if (!this.owned) {
      this.domains = new Map(this.domains);
      this.owned = true;
    }
    bump(this.domains, v, d);
  }
  clone(): DomainCounts {
    return new DomainCounts(this.key, new Map(this.domains), true);
  }
}

class FilterState implements StateData {
  constructor(
    /** Existing pods' required anti-affinity terms matching the pod, per domain. */
    readonly existingAnti: { term: AffinityTerm; counts: DomainCounts }[],
    /** The pod's required affinity terms: pods matching all terms, per term key. */
    readonly affinity: { term: AffinityTerm; counts: DomainCounts }[],
    /** The pod's required anti-affinity terms: matching pods per domain. */
    readonly anti: { term: AffinityTerm; counts: DomainCounts }[],
  ) {}
  clone(): FilterState {
    const c = (l: { term: AffinityTerm; counts: DomainCounts }[]) =>
      l.map((x) => ({ term: x.term, counts: x.counts.clone() }));
    return new FilterState(c(this.existingAnti), c(this.affinity), c(this.anti));
  }
  get affinityEmpty(): boolean {
    for (const a of this.affinity) if (a.counts.domains.size) return false;
    return true;
  }
}

class ScoreState implements StateData {
  constructor(readonly scores: Map<string, Map<string, number>>) {}
  clone(): ScoreState {
    return this;
  }
}

const FILTER_KEY = "PreFilter" + INTER_POD_AFFINITY;
const SCORE_KEY = "PreScore" + INTER_POD_AFFINITY;
const REQUIRED_ANTI: ReadonlySet<TermKind> = new Set(["requiredAnti"]);
const SCORING: ReadonlySet<TermKind> = new Set(["requiredAffinity", "preferredAffinity", "preferredAnti"]);

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = INTER_POD_AFFINITY;

  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status | null {
    const existingAnti: FilterState["existingAnti"] = [];
    snapshot.existingTerms.matching(
      pod,
      (e) => existingAnti.push({ term: e.term, counts: new DomainCounts(e.term.topologyKey, e.domains) }),
      REQUIRED_ANTI,
    );
    if (
      existingAnti.length === 0 &&
      pod.requiredAffinity.length === 0 &&
      pod.requiredAntiAffinity.length === 0
    ) {
      return SKIP;
    }
    const affinity: FilterState["affinity"] = [];
    if (pod.requiredAffinity.length) {
      const counter = snapshot.counters.counter(new AllTermsMatcher(pod.requiredAffinity));
      for (const t of pod.requiredAffinity) {
        affinity.push({ term: t, counts: new DomainCounts(t.topologyKey, counter.domains(t.topologyKey)) });
      }
    }
    const anti = pod.requiredAntiAffinity.map((t) => ({
      term: t,
      counts: new DomainCounts(t.topologyKey, snapshot.counters.counter(t).domains(t.topologyKey)),
    }));
    state.write(FILTER_KEY, new FilterState(existingAnti, affinity, anti));
    return null;
  }

  readonly preFilterExtensions: PreFilterExtensions = {
    addPod: (state, pod, other, node) => this.update(state, pod, other, node, 1),
    removePod: (state, pod, other, node) => this.update(state, pod, other, node, -1),
  };

  private update(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, d: number): void {
    const s = state.read<FilterState>(FILTER_KEY);
    if (!s) return;
    const ns = (): undefined => undefined;
    for (const t of other.requiredAntiAffinity) {
      if (!t.matches(pod, ns)) continue;
      let e = s.existingAnti.find((x) => x.term.key === t.key && x.term.topologyKey === t.topologyKey);
      if (!e) {
        e = { term: t, counts: new DomainCounts(t.topologyKey, new Map(), true) };
        s.existingAnti.push(e);
      }
      e.counts.change(node, d);
    }
    if (s.affinity.length && s.affinity.every((a) => a.term.matches(other, ns))) {
      for (const a of s.affinity) a.counts.change(node, d);
    }
    for (const a of s.anti) if (a.term.matches(other, ns)) a.counts.change(node, d);
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<FilterState>(FILTER_KEY);
    if (!s) return null;
    const labels = node.labels;
    if (s.affinity.length) {
      let exist = true;
      for (const a of s.affinity) {
        if (labels?.[a.term.topologyKey] === undefined) return REJECT_AFFINITY;
        if (a.counts.at(labels) <= 0) exist = false;
      }
      if (!exist) {
        const self = s.affinityEmpty && pod.requiredAffinity.every((t) => t.matches(pod, () => undefined));
        if (!self) return REJECT_AFFINITY;
      }
    }
    for (const a of s.anti) if (a.counts.at(labels) > 0) return REJECT_ANTI;
    for (const e of s.existingAnti) if (e.counts.at(labels) > 0) return REJECT_EXISTING;
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

  preScore(state: CycleState, pod: PodInfo, _nodes: readonly NodeInfo[], snapshot: Snapshot): Status | null {
    const hasOwn = pod.preferredAffinity.length + pod.preferredAntiAffinity.length > 0;
    if (!hasOwn && snapshot.podsWithAffinity === 0) return SKIP;
    const scores = new Map<string, Map<string, number>>();
    const add = (key: string, domains: Map<string, number>, w: number): void => {
      if (w === 0 || domains.size === 0) return;
      let m = scores.get(key);
      if (!m) scores.set(key, (m = new Map()));
      for (const [v, c] of domains) m.set(v, (m.get(v) ?? 0) + w * c);
    };
    for (const w of pod.preferredAffinity) {
      add(w.term.topologyKey, snapshot.counters.counter(w.term).domains(w.term.topologyKey), w.weight);
    }
    for (const w of pod.preferredAntiAffinity) {
      add(w.term.topologyKey, snapshot.counters.counter(w.term).domains(w.term.topologyKey), -w.weight);
    }
    snapshot.existingTerms.matching(
      pod,
      (e) => {
        const w =
          e.kind === "requiredAffinity"
            ? HARD_POD_AFFINITY_WEIGHT
            : e.kind === "preferredAnti"
              ? -e.weight
              : e.weight;
        add(e.term.topologyKey, e.domains, w);
      },
      SCORING,
    );
    if (scores.size === 0) return SKIP;
    state.write(SCORE_KEY, new ScoreState(scores));
    return null;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const s = state.read<ScoreState>(SCORE_KEY);
    if (!s) return 0;
    let total = 0;
    for (const [key, m] of s.scores) {
      const v = node.labels?.[key];
      if (v !== undefined) total += m.get(v) ?? 0;
    }
    return total;
  }

  scoreAll(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void {
    for (let i = 0; i < nodes.length; i++) out[i] = this.score(state, pod, nodes[i]!);
  }

  normalizeScore(_s: CycleState, _p: PodInfo, _n: readonly NodeInfo[], scores: Float64Array): void {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < scores.length; i++) {
      const v = scores[i]!;
      if (v > max) max = v;
      if (v < min) min = v;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) {
      scores[i] = diff > 0 ? Math.trunc((MAX_NODE_SCORE * (scores[i]! - min)) / diff) : 0;
    }
  }
}
