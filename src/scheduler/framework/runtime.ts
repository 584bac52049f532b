/**
 * @module The framework runtime (upstream's `frameworkImpl`, trimmed): holds one profile's
 * plugins per extension point and runs them — PreFilter (noting which Filters to skip),
 * Filter on one node (first rejection wins, tagged with the plugin name), PreScore and
 * Score (normalized, weighted, summed), PostFilter.
 */
import type { NodeInfo } from "./node-info.ts";
import type { PodInfo } from "./pod-info.ts";
import type { Snapshot } from "./snapshot.ts";
import { Status } from "./status.ts";
import {
  CycleState,
  isFilter,
  isPostFilter,
  isPreFilter,
  isPreScore,
  isScore,
  type FilterPlugin,
  type Plugin,
  type PostFilterPlugin,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from "./types.ts";

/** A plugin enabled in a profile, with its score weight. */
export interface PluginConfig {
  plugin: Plugin;
  /** Score weight (ignored for non-score plugins); default 1. */
  weight?: number;
}

/** Filters that run for one pod (those whose PreFilter did not skip), kept in the state. */
const ACTIVE_FILTERS = Symbol("activeFilters");
interface WithActive {
  [ACTIVE_FILTERS]?: FilterPlugin[];
}

export class Framework {
  readonly preFilters: PreFilterPlugin[] = [];
  readonly filters: FilterPlugin[] = [];
  readonly postFilters: PostFilterPlugin[] = [];
  readonly preScores: PreScorePlugin[] = [];
  readonly scores: { plugin: ScorePlugin; weight: number }[] = [];
  readonly byName = new Map<string, Plugin>();

  constructor(plugins: readonly PluginConfig[]) {
    for (const { plugin, weight } of plugins) {
      this.byName.set(plugin.name, plugin);
      if (isPreFilter(plugin)) this.preFilters.push(plugin);
      if (isFilter(plugin)) this.filters.push(plugin);
      if (isPostFilter(plugin)) this.postFilters.push(plugin);
      if (isPreScore(plugin)) this.preScores.push(plugin);
      if (isScore(plugin)) this.scores.push({ plugin, weight: weight ?? 1 });
    }
  }

  /**
   * Runs every PreFilter. Returns null, or the rejection (Unschedulable for all nodes). Skips
   * are recorded in the state so the matching Filters do not run.
   */
  runPreFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status | null {
    for (const p of this.preFilters) {
      const st = p.preFilter(state, pod, snapshot);
      if (!st) continue;
      if (st.code === "Skip") {
        state.skipFilter.add(p.name);
        continue;
      }
      if (!st.plugin) st.plugin = p.name;
      return st;
    }
    (state as unknown as WithActive)[ACTIVE_FILTERS] = this.filters.filter(
      (f) => !state.skipFilter.has(f.name),
    );
    return null;
  }

  /** Runs the active Filters on one node; the first rejection, tagged with its plugin. */
  runFilter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const fs = (state as unknown as WithActive)[ACTIVE_FILTERS] ?? this.filters;
    for (let i = 0; i < fs.length; i++) {
      const f = fs[i]!;
      const st = f.filter(state, pod, node);
      if (st) {
        if (st.plugin !== f.name) {
          if (st.plugin) return new Status(st.code, st.reasons, f.name);
          st.plugin = f.name;
        }
        return st;
      }
    }
    return null;
  }

  /**
   * Runs the active Filters over `nodes[0..n)`: `out[i]` ends null (fits) or the first
   * rejection, tagged with its plugin. `out` must hold nulls on entry.
   */
  runFilterAll(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
    n: number,
    out: (Status | null)[],
  ): void {
    const fs = (state as unknown as WithActive)[ACTIVE_FILTERS] ?? this.filters;
    for (let k = 0; k < fs.length; k++) {
      const f = fs[k]!;
      if (f.filterAll) f.filterAll(state, pod, nodes, n, out);
      else {
        for (let i = 0; i < n; i++) {
          if (out[i] !== null) continue;
          const st = f.filter(state, pod, nodes[i]!);
          if (st) out[i] = st;
        }
      }
      for (let i = 0; i < n; i++) {
        const st = out[i];
        if (st && !st.plugin) st.plugin = f.name;
      }
    }
  }

  /** Runs every PreScore; returns the Score plugins to run (those not skipped). */
  runPreScore(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
    snapshot: Snapshot,
  ): { plugin: ScorePlugin; weight: number }[] {
    for (const p of this.preScores) {
      const st = p.preScore(state, pod, nodes, snapshot);
      if (st?.code === "Skip") state.skipScore.add(p.name);
    }
    return this.scores.filter((s) => !state.skipScore.has(s.plugin.name));
  }

  /**
   * Scores `nodes` into `total` (weighted sum of normalized plugin scores). `buf` is a
   * scratch array at least `nodes.length` long.
   */
  runScore(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
    active: readonly { plugin: ScorePlugin; weight: number }[],
    total: Float64Array,
    buf: Float64Array,
  ): void {
    const n = nodes.length;
    total.fill(0, 0, n);
    const scores = buf.subarray(0, n);
    for (const { plugin, weight } of active) {
      if (plugin.scoreAll) plugin.scoreAll(state, pod, nodes, scores);
      else for (let i = 0; i < n; i++) scores[i] = plugin.score(state, pod, nodes[i]!);
      plugin.normalizeScore?.(state, pod, nodes, scores);
      for (let i = 0; i < n; i++) total[i] = total[i]! + scores[i]! * weight;
    }
  }
}
