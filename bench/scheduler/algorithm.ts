/**
 * @module bench/scheduler part (a): the scheduling algorithm alone, in process — the same
 * snapshot, framework and default plugins the Scheduler uses, no API writes. Each pod is
 * scheduled and assumed into the snapshot, as the Scheduler does before binding.
 */
import type { Node, Pod } from "../../src/api/types/core-v1.ts";
import { SchedulingAlgorithm } from "../../src/scheduler/algorithm.ts";
import { PodInfo } from "../../src/scheduler/framework/pod-info.ts";
import { Snapshot } from "../../src/scheduler/framework/snapshot.ts";
import { buildFramework } from "../../src/scheduler/registry.ts";
import { makeNode, makePod, percentile, rng, verifyPlacement } from "./workload.ts";

export interface AlgorithmResult {
  nodes: number;
  pods: number;
  scheduled: number;
  unschedulable: number;
  wallMs: number;
  podsPerSec: number;
  p50Us: number;
  p99Us: number;
  cpuMs: number;
  heapMb: number;
  rssMb: number;
  violations: string[];
}

export function runAlgorithm(numNodes: number, numPods: number): AlgorithmResult {
  const nodes: Node[] = Array.from({ length: numNodes }, (_, i) => makeNode(i));
  const rand = rng(42);
  const pods: Pod[] = Array.from({ length: numPods }, (_, i) => makePod(i, "bench", rand));
  const snapshot = new Snapshot();
  for (const n of nodes) snapshot.upsertNode(n);
  const random = rng(7);
  const fw = buildFramework({ snapshot, random });
  const algo = new SchedulingAlgorithm(snapshot, fw, { random });
  (globalThis as { gc?: () => void }).gc?.();
  const times = new Float64Array(numPods);
  const placement = new Map<string, string>();
  let unschedulable = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < numPods; i++) {
    const s = performance.now();
    const info = new PodInfo(pods[i]!);
    const r = algo.schedule(info);
    if ("node" in r) {
      snapshot.addPod(info, r.node, true);
      placement.set(info.name, r.node);
    } else unschedulable++;
    times[i] = performance.now() - s;
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const mem = process.memoryUsage();
  const sorted = Array.from(times).sort((a, b) => a - b);
  return {
    nodes: numNodes,
    pods: numPods,
    scheduled: placement.size,
    unschedulable,
    wallMs: Math.round(wallMs),
    podsPerSec: Math.round((numPods / wallMs) * 1000),
    p50Us: Math.round(percentile(sorted, 50) * 1000),
    p99Us: Math.round(percentile(sorted, 99) * 1000),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    heapMb: Math.round(mem.heapUsed / 1048576),
    rssMb: Math.round(mem.rss / 1048576),
    violations: verifyPlacement(nodes, pods, placement),
  };
}
