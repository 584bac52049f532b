/**
 * @module The scheduling framework's extension points (upstream's `framework.Plugin` and
 * friends, trimmed): PreFilter, Filter, PostFilter, PreScore, Score (+ NormalizeScore), and
 * the per-attempt `CycleState`. A plugin implements the interfaces of the points it serves;
 * `registry.ts` maps plugin names to factories.
 */
import type { NodeInfo } from "./node-info.ts";
import type { PodInfo } from "./pod-info.ts";
import type { Snapshot } from "./snapshot.ts";
import type { Status } from "./status.ts";

/** Highest score a Score plugin may give (upstream's `MaxNodeScore`). */
export const MAX_NODE_SCORE = 100;

/** State a plugin keeps for one scheduling attempt; `clone` for preemption's simulations. */
export interface StateData {
  clone(): StateData;
}

/** Per-attempt plugin state (upstream's `CycleState`). */
export class CycleState {
  private readonly data = new Map<string, StateData>();
  /** Filter plugins whose PreFilter said Skip. */
  readonly skipFilter = new Set<string>();
  /** Score plugins whose PreScore said Skip. */
  readonly skipScore = new Set<string>();

  read<T extends StateData>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write(key: string, value: StateData): void {
    this.data.set(key, value);
  }

  /** A deep copy (each value cloned). */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, v.clone());
    for (const s of this.skipFilter) c.skipFilter.add(s);
    for (const s of this.skipScore) c.skipScore.add(s);
    return c;
  }
}

/** What every plugin has. */
export interface Plugin {
  readonly name: string;
}

/**
 * Updates PreFilter state when a pod is added to or removed from a node in a simulation
 * (preemption), as upstream's `PreFilterExtensions`.
 */
export interface PreFilterExtensions {
  addPod(state: CycleState, pod: PodInfo, added: PodInfo, node: NodeInfo): void;
  removePod(state: CycleState, pod: PodInfo, removed: PodInfo, node: NodeInfo): void;
}

export interface PreFilterPlugin extends Plugin {
  /** null to go on, `SKIP` to skip this plugin's Filter, or a rejection for every node. */
  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status | null;
  readonly preFilterExtensions?: PreFilterExtensions;
}

export interface FilterPlugin extends Plugin {
  /** null when the pod fits the node, else why not. Must not allocate on success. */
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null;
  /**
   * Batch form (optional, for speed: one monomorphic loop per plugin): for each i < n with
   * `out[i] === null`, sets `out[i]` to the rejection of `nodes[i]`, if any.
   */
  filterAll?(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
    n: number,
    out: (Status | null)[],
  ): void;
}

/** What a PostFilter (preemption) achieved. */
export interface PostFilterResult {
  /** Node nominated for the pod ("" to clear a stale nomination), when set. */
  nominatedNodeName?: string;
}

export interface PostFilterPlugin extends Plugin {
  /**
   * Runs when no node fits. `statuses` holds the rejection per node name. Returns a result
   * (null status = success) — possibly asynchronous (preemption deletes victims).
   */
  postFilter(
    state: CycleState,
    pod: PodInfo,
    statuses: ReadonlyMap<string, Status>,
  ): { result: PostFilterResult | null; status: Status | null; victims?: PodInfo[] };
}

export interface PreScorePlugin extends Plugin {
  /** null to go on, `SKIP` to skip this plugin's Score. `nodes` are the feasible ones. */
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): Status | null;
}

export interface ScorePlugin extends Plugin {
  /** Raw score of a feasible node (normalized afterwards when the plugin normalizes). */
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Batch form (optional): `out[i]` = score of `nodes[i]`. */
  scoreAll?(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void;
  /** Rescales `scores` (one per node of `nodes`) into 0..100 in place. */
  normalizeScore?(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], scores: Float64Array): void;
}

/** Type guards for the extension points. */
export const isPreFilter = (p: Plugin): p is PreFilterPlugin =>
  typeof (p as PreFilterPlugin).preFilter === "function";
export const isFilter = (p: Plugin): p is FilterPlugin => typeof (p as FilterPlugin).filter === "function";
export const isPostFilter = (p: Plugin): p is PostFilterPlugin =>
  typeof (p as PostFilterPlugin).postFilter === "function";
export const isPreScore = (p: Plugin): p is PreScorePlugin =>
  typeof (p as PreScorePlugin).preScore === "function";
export const isScore = (p: Plugin): p is ScorePlugin => typeof (p as ScorePlugin).score === "function";

/** Upstream's `DefaultNormalizeScore`: scale to 0..max by the highest score, optionally reversed. */
export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: Float64Array): void {
  let max = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > max) max = scores[i]!;
  if (max === 0) {
    if (reverse) scores.fill(maxPriority);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = Math.trunc((maxPriority * scores[i]!) / max);
    if (reverse) s = maxPriority - s;
    scores[i] = s;
  }
}
