/**
 * @module The plugin registry: every plugin by name (upstream's in-tree registry), and the
 * default profile — which plugins run and their score weights, as upstream's defaults
 * (TaintToleration 3; NodeAffinity, PodTopologySpread, InterPodAffinity 2; the resource
 * scores 1).
 */
import type { Framework } from "./framework/runtime.ts";
import { Framework as FrameworkImpl, type PluginConfig } from "./framework/runtime.ts";
import type { Snapshot } from "./framework/snapshot.ts";
import type { Plugin } from "./framework/types.ts";
import { DefaultPreemption } from "./plugins/default-preemption.ts";
import { InterPodAffinity } from "./plugins/inter-pod-affinity.ts";
import * as names from "./plugins/names.ts";
import { NodeAffinity } from "./plugins/node-affinity.ts";
import { NodeName } from "./plugins/node-name.ts";
import { NodePorts } from "./plugins/node-ports.ts";
import { NodeResourcesBalancedAllocation } from "./plugins/node-resources-balanced-allocation.ts";
import { NodeResourcesFit, type ScoringStrategy } from "./plugins/node-resources-fit.ts";
import { NodeUnschedulable } from "./plugins/node-unschedulable.ts";
import { PodTopologySpread } from "./plugins/pod-topology-spread.ts";
import { TaintToleration } from "./plugins/taint-toleration.ts";

/** What a plugin factory may use. */
export interface PluginContext {
  snapshot: Snapshot;
  /** The framework the plugin belongs to (available once built). */
  framework: () => Framework;
  /** NodeResourcesFit scoring strategy. */
  scoringStrategy?: ScoringStrategy;
  random?: () => number;
}

export type PluginFactory = (ctx: PluginContext) => Plugin;

/** Every plugin, by name. */
export const registry: ReadonlyMap<string, PluginFactory> = new Map<string, PluginFactory>([
  [names.NODE_NAME, () => new NodeName()],
  [names.NODE_UNSCHEDULABLE, () => new NodeUnschedulable()],
  [names.TAINT_TOLERATION, () => new TaintToleration()],
  [names.NODE_AFFINITY, () => new NodeAffinity()],
  [names.NODE_PORTS, () => new NodePorts()],
  [names.NODE_RESOURCES_FIT, (ctx) => new NodeResourcesFit(ctx.scoringStrategy)],
  [names.POD_TOPOLOGY_SPREAD, () => new PodTopologySpread()],
  [names.INTER_POD_AFFINITY, () => new InterPodAffinity()],
  [names.NODE_RESOURCES_BALANCED_ALLOCATION, () => new NodeResourcesBalancedAllocation()],
  [names.DEFAULT_PREEMPTION, (ctx) => new DefaultPreemption(ctx.framework, ctx.snapshot, ctx.random)],
]);

/** The default profile: plugin names in run order, with score weights. */
export const DEFAULT_PLUGINS: readonly { name: string; weight?: number }[] = [
  { name: names.NODE_UNSCHEDULABLE },
  { name: names.NODE_NAME },
  { name: names.TAINT_TOLERATION, weight: 3 },
  { name: names.NODE_AFFINITY, weight: 2 },
  { name: names.NODE_PORTS },
  { name: names.NODE_RESOURCES_FIT, weight: 1 },
  { name: names.POD_TOPOLOGY_SPREAD, weight: 2 },
  { name: names.INTER_POD_AFFINITY, weight: 2 },
  { name: names.NODE_RESOURCES_BALANCED_ALLOCATION, weight: 1 },
  { name: names.DEFAULT_PREEMPTION },
];

/** Builds a framework from plugin names (default: the default profile). */
export function buildFramework(
  ctx: Omit<PluginContext, "framework">,
  plugins: readonly { name: string; weight?: number }[] = DEFAULT_PLUGINS,
): Framework {
  const holder: { fw?: Framework } = {};
  const full: PluginContext = { ...ctx, framework: () => holder.fw! };
  const configs: PluginConfig[] = plugins.map(({ name, weight }) => {
    const f = registry.get(name);
    if (!f) throw new Error(`scheduler: unknown plugin ${JSON.stringify(name)}`);
    return { plugin: f(full), weight };
  });
  const fw = new FrameworkImpl(configs);
  holder.fw = fw;
  return fw;
}
