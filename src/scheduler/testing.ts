/**
 * @module Test builders for scheduler unit tests: nodes and pods with just the fields that
 * matter, a snapshot from them, and a helper that runs one filter/score plugin the way the
 * framework does.
 */
import type { Node, Pod } from "../api/types/core-v1.ts";
import { PodInfo } from "./framework/pod-info.ts";
import { Snapshot } from "./framework/snapshot.ts";
import type { Status } from "./framework/status.ts";
import { CycleState, type FilterPlugin, type PreFilterPlugin } from "./framework/types.ts";

/** A node with cpu/memory/pods allocatable, labels and optional taints/cordon. */
export function node(
  name: string,
  opts: {
    cpu?: string;
    memory?: string;
    pods?: string;
    labels?: Record<string, string>;
    taints?: NonNullable<Node["spec"]>["taints"];
    unschedulable?: boolean;
    extra?: Record<string, string>;
  } = {},
): Node {
  const alloc = {
    cpu: opts.cpu ?? "4",
    memory: opts.memory ?? "8Gi",
    pods: opts.pods ?? "110",
    ...(opts.extra ?? {}),
  };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...(opts.labels ?? {}) } },
    spec: { taints: opts.taints, unschedulable: opts.unschedulable },
    status: { capacity: alloc, allocatable: alloc },
  };
}

let uidSeq = 0;

/** A pod with one container requesting `cpu`/`memory`, plus any spec fields. */
export function pod(
  name: string,
  opts: {
    cpu?: string;
    memory?: string;
    labels?: Record<string, string>;
    namespace?: string;
    spec?: Partial<NonNullable<Pod["spec"]>>;
    priority?: number;
  } = {},
): Pod {
  const requests: Record<string, string> = {};
  if (opts.cpu) requests.cpu = opts.cpu;
  if (opts.memory) requests.memory = opts.memory;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: opts.namespace ?? "default",
      uid: `uid-${name}-${++uidSeq}`,
      labels: opts.labels,
      creationTimestamp: new Date(1_700_000_000_000 + uidSeq * 1000).toISOString(),
    },
    spec: {
      containers: [{ name: "c", image: "busybox", resources: { requests } }],
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      ...(opts.spec ?? {}),
    },
  };
}

/** A snapshot with the nodes, and the pods placed as `[pod, nodeName]`. */
export function snapshotOf(nodes: Node[], placed: [Pod, string][] = []): Snapshot {
  const s = new Snapshot();
  for (const n of nodes) s.upsertNode(n);
  for (const [p, n] of placed) s.addPod(new PodInfo(p), n);
  return s;
}

/** Runs PreFilter (if any) then Filter of one plugin for a pod on one node. */
export function runFilter(
  plugin: FilterPlugin & Partial<PreFilterPlugin>,
  snap: Snapshot,
  p: Pod,
  nodeName: string,
): Status | null {
  const state = new CycleState();
  const info = new PodInfo(p);
  if (plugin.preFilter) {
    const st = plugin.preFilter(state, info, snap);
    if (st?.code === "Skip") return null;
    if (st) return st;
  }
  const n = snap.node(nodeName);
  if (!n) throw new Error(`no node ${nodeName}`);
  return plugin.filter(state, info, n);
}
