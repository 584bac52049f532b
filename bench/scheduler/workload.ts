/**
 * @module bench/scheduler workload: the node fleet (3 zones, 32 CPU / 128Gi / 110 pods each,
 * a quarter labelled `disktype=ssd`) and the pod mix (40% plain, 20% nodeSelector, 20%
 * topology spread over zone and hostname, 20% hostname anti-affinity in groups of 5), plus
 * the placement checker that verifies no node is over-committed and every spread and
 * anti-affinity constraint holds.
 */
import type { Node, Pod } from "../../src/api/types/core-v1.ts";

export const SPREAD_GROUP = 500;
export const ANTI_GROUP = 5;
const ZONES = ["zone-a", "zone-b", "zone-c"];

/** Node `i` of the fleet. */
export function makeNode(i: number): Node {
  const name = `node-${String(i).padStart(5, "0")}`;
  const labels: Record<string, string> = {
    "kubernetes.io/hostname": name,
    "topology.kubernetes.io/zone": ZONES[i % ZONES.length]!,
    "kites.io/simulated": "true",
  };
  if (i % 4 === 0) labels.disktype = "ssd";
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels },
    spec: {},
    status: {
      capacity: { cpu: "32", memory: "128Gi", pods: "110", "ephemeral-storage": "100Gi" },
      allocatable: { cpu: "32", memory: "128Gi", pods: "110", "ephemeral-storage": "100Gi" },
      conditions: [{ type: "Ready", status: "True" }],
    },
  };
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type PodKind = "plain" | "selector" | "spread" | "anti";

/** The kind of pod `i` (40/20/20/20). */
export function kindOf(i: number): PodKind {
  const m = i % 5;
  return m < 2 ? "plain" : m === 2 ? "selector" : m === 3 ? "spread" : "anti";
}

/** Pod `i` of the mix, in namespace `ns`. */
export function makePod(i: number, ns: string, rand: () => number): Pod {
  const kind = kindOf(i);
  const name = `pod-${String(i).padStart(6, "0")}`;
  const cpu = `${100 + Math.floor(rand() * 10) * 100}m`;
  const mem = `${128 * (1 + Math.floor(rand() * 8))}Mi`;
  const labels: Record<string, string> = { kind };
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels, uid: `uid-${i}` },
    spec: { containers: [{ name: "c", image: "busybox", resources: { requests: { cpu, memory: mem } } }] },
  };
  const spec = pod.spec!;
  if (kind === "selector") spec.nodeSelector = { disktype: "ssd" };
  if (kind === "spread") {
    const g = `s${Math.floor(Math.floor(i / 5) / SPREAD_GROUP)}`;
    labels.spread = g;
    spec.topologySpreadConstraints = [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: { spread: g } },
      },
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: { spread: g } },
      },
    ];
  }
  if (kind === "anti") {
    const g = `a${Math.floor(Math.floor(i / 5) / ANTI_GROUP)}`;
    labels.anti = g;
    spec.affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { anti: g } } },
        ],
      },
    };
  }
  return pod;
}

/** Checks a placement; returns the violations found (empty = all constraints held). */
export function verifyPlacement(
  nodes: readonly Node[],
  pods: readonly Pod[],
  placement: ReadonlyMap<string, string>,
): string[] {
  const errs: string[] = [];
  const byNode = new Map<string, { cpu: number; mem: number; pods: number }>();
  const nodeByName = new Map(nodes.map((n) => [n.metadata.name!, n]));
  const milli = (q: string): number => (q.endsWith("m") ? Number(q.slice(0, -1)) : Number(q) * 1000);
  const mib = (q: string): number => Number(q.replace("Mi", ""));
  const spread = new Map<string, { zone: Map<string, number>; host: Map<string, number> }>();
  const anti = new Map<string, Set<string>>();
  for (const p of pods) {
    const name = p.metadata.name!;
    const node = placement.get(name);
    if (!node) continue;
    const n = nodeByName.get(node);
    if (!n) {
      errs.push(`${name} placed on unknown node ${node}`);
      continue;
    }
    const req = p.spec!.containers[0]!.resources!.requests!;
    const u = byNode.get(node) ?? { cpu: 0, mem: 0, pods: 0 };
    u.cpu += milli(String(req.cpu));
    u.mem += mib(String(req.memory));
    u.pods++;
    byNode.set(node, u);
    const labels = p.metadata.labels!;
    if (p.spec!.nodeSelector && n.metadata.labels!.disktype !== "ssd")
      errs.push(`${name} on ${node} violates its nodeSelector`);
    if (labels.spread) {
      let s = spread.get(labels.spread);
      if (!s) spread.set(labels.spread, (s = { zone: new Map(), host: new Map() }));
      const z = n.metadata.labels!["topology.kubernetes.io/zone"]!;
      s.zone.set(z, (s.zone.get(z) ?? 0) + 1);
      s.host.set(node, (s.host.get(node) ?? 0) + 1);
    }
    if (labels.anti) {
      const key = `${labels.anti}@${node}`;
      let s = anti.get(labels.anti);
      if (!s) anti.set(labels.anti, (s = new Set()));
      if (s.has(node)) errs.push(`anti-affinity violated: two pods of ${labels.anti} on ${node} (${key})`);
      s.add(node);
    }
  }
  for (const [node, u] of byNode) {
    if (u.cpu > 32_000) errs.push(`${node} over-committed on cpu: ${u.cpu}m`);
    if (u.mem > 128 * 1024) errs.push(`${node} over-committed on memory: ${u.mem}Mi`);
    if (u.pods > 110) errs.push(`${node} over-committed on pods: ${u.pods}`);
  }
  const zones = new Set(nodes.map((n) => n.metadata.labels!["topology.kubernetes.io/zone"]!));
  for (const [g, s] of spread) {
    const zc = [...zones].map((z) => s.zone.get(z) ?? 0);
    if (Math.max(...zc) - Math.min(...zc) > 1)
      errs.push(`spread ${g}: zone skew ${Math.max(...zc) - Math.min(...zc)} > 1 (${zc})`);
    const hostMax = Math.max(...s.host.values());
    const hostMin = s.host.size < nodes.length ? 0 : Math.min(...s.host.values());
    if (hostMax - hostMin > 1) errs.push(`spread ${g}: hostname skew ${hostMax - hostMin} > 1`);
  }
  return errs;
}

/** p-th percentile of sorted numbers. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
