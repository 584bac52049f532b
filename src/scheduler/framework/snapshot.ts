/**
 * @module The scheduler's cache of the cluster (upstream's scheduler cache and snapshot in
 * one, since a scheduling cycle here runs to completion without yielding): every node's
 * `NodeInfo`, every placed pod (bound, or assumed by this scheduler and not yet confirmed
 * by the watch), a `k=v` label index over placed pods, topology domains per key, and the
 * incremental match counters the counting plugins read. Everything is updated as events
 * arrive; nothing is rebuilt per scheduling attempt.
 */
import type { Labels } from "../../api/labels.ts";
import type { Node } from "../../api/types/core-v1.ts";
import { ExistingTermIndex, MatchIndex, bump } from "./match-index.ts";
import type { NamespaceLabels, PodInfo } from "./pod-info.ts";
import { NodeInfo } from "./node-info.ts";

interface PlacedPod {
  info: PodInfo;
  node: NodeInfo;
  assumed: boolean;
}

/** What changed in a node update (which plugins' rejections it may lift). */
export interface NodeChange {
  labels: boolean;
  taints: boolean;
  allocatable: boolean;
  unschedulable: boolean;
}

export class Snapshot {
  /** Nodes that exist, in a stable order (sampling rotates over it). */
  readonly nodes: NodeInfo[] = [];
  private readonly byName = new Map<string, NodeInfo>();
  private readonly placed = new Map<string, PlacedPod>();
  private readonly byLabel = new Map<string, Set<PodInfo>>();
  private readonly domainsByKey = new Map<string, { domains: Map<string, number>; nodes: number }>();
  private readonly matchIndex: MatchIndex;
  private readonly termIndex: ExistingTermIndex;
  /** Set when node labels moved under placed pods: counters and terms rebuild on next use. */
  private dirty = false;
  /** Namespace labels (set by the scheduler from its namespace informer). */
  namespaceLabels: NamespaceLabels = () => undefined;
  /** Placed pods with pod (anti-)affinity, cluster-wide. */
  podsWithAffinity = 0;

  constructor() {
    const ns: NamespaceLabels = (n) => this.namespaceLabels(n);
    this.matchIndex = new MatchIndex(
      ns,
      (kv) => this.byLabel.get(kv),
      () => this.allPlaced(),
      (p) => this.placed.get(p.uid)?.node,
    );
    this.termIndex = new ExistingTermIndex(ns);
  }

  /** Counters of pods matching selectors, per node and domain (see match-index.ts). */
  get counters(): MatchIndex {
    if (this.dirty) this.rebuild();
    return this.matchIndex;
  }

  /** The (anti-)affinity terms of placed pods, per domain. */
  get existingTerms(): ExistingTermIndex {
    if (this.dirty) this.rebuild();
    return this.termIndex;
  }

  private rebuild(): void {
    this.dirty = false;
    this.matchIndex.clear();
    this.termIndex.clear();
    for (const pp of this.placed.values()) {
      if (pp.info.hasAffinity) this.termIndex.podChanged(pp.info, pp.node, 1);
    }
  }

  private *allPlaced(): Iterable<[PodInfo, NodeInfo]> {
    for (const pp of this.placed.values()) yield [pp.info, pp.node];
  }

  /** A node by name (only nodes that exist). */
  node(name: string): NodeInfo | undefined {
    const n = this.byName.get(name);
    return n && n.node ? n : undefined;
  }

  get numNodes(): number {
    return this.nodes.length;
  }

  get numPods(): number {
    return this.placed.size;
  }

  /** Adds or replaces a node; returns what changed (all true for a new node). */
  upsertNode(node: Node): NodeChange {
    const name = node.metadata.name ?? "";
    let n = this.byName.get(name);
    if (!n) {
      n = new NodeInfo(name);
      this.byName.set(name, n);
    }
    const old = n.node;
    const change: NodeChange = old
      ? {
          labels: !sameLabels(old.metadata.labels, node.metadata.labels),
          taints: JSON.stringify(old.spec?.taints ?? []) !== JSON.stringify(node.spec?.taints ?? []),
          allocatable:
            JSON.stringify(old.status?.allocatable ?? old.status?.capacity ?? {}) !==
            JSON.stringify(node.status?.allocatable ?? node.status?.capacity ?? {}),
          unschedulable: !!old.spec?.unschedulable !== !!node.spec?.unschedulable,
        }
      : { labels: true, taints: true, allocatable: true, unschedulable: true };
    n.setNode(node);
    if (n.index < 0) {
      n.index = this.nodes.length;
      this.nodes.push(n);
    }
    if (change.labels) this.topologyChanged(n.pods.length > 0);
    return change;
  }

  /** Removes a node; pods still on it stay accounted on a placeholder until they go. */
  removeNode(name: string): void {
    const n = this.byName.get(name);
    if (!n || !n.node) return;
    n.node = null;
    n.labels = undefined;
    const i = n.index;
    const last = this.nodes.pop()!;
    if (last !== n) {
      this.nodes[i] = last;
      last.index = i;
    }
    n.index = -1;
    if (n.pods.length === 0) this.byName.delete(name);
    this.topologyChanged(n.pods.length > 0);
  }

  /** Node labels moved: drop per-domain data; counters too when pods sit on the node. */
  private topologyChanged(underPods: boolean): void {
    this.domainsByKey.clear();
    if (underPods) this.dirty = true;
  }

  /** Domain value → number of nodes, for a topology key (nodes lacking the key left out). */
  domains(key: string): Map<string, number> {
    return this.topology(key).domains;
  }

  /** How many nodes carry the topology key. */
  nodesWithKey(key: string): number {
    return this.topology(key).nodes;
  }

  private topology(key: string): { domains: Map<string, number>; nodes: number } {
    let t = this.domainsByKey.get(key);
    if (!t) {
      const domains = new Map<string, number>();
      let nodes = 0;
      for (const n of this.nodes) {
        const v = n.labels?.[key];
        if (v !== undefined) {
          bump(domains, v, 1);
          nodes++;
        }
      }
      t = { domains, nodes };
      this.domainsByKey.set(key, t);
    }
    return t;
  }

  /** The pod placed under this uid, if any. */
  placedPod(uid: string): { info: PodInfo; nodeName: string; assumed: boolean } | undefined {
    const pp = this.placed.get(uid);
    return pp && { info: pp.info, nodeName: pp.node.name, assumed: pp.assumed };
  }

  /**
   * Places a pod on a node (bound as seen by the watch, or `assumed` by this scheduler
   * before its binding is confirmed). Replaces an earlier placement of the same uid.
   */
  addPod(info: PodInfo, nodeName: string, assumed = false): void {
    const prev = this.placed.get(info.uid);
    if (prev) {
      if (prev.node.name === nodeName && prev.info === info) {
        prev.assumed = assumed;
        return;
      }
      this.removePod(info.uid);
    }
    let n = this.byName.get(nodeName);
    if (!n) {
      n = new NodeInfo(nodeName);
      this.byName.set(nodeName, n);
    }
    n.addPod(info);
    this.placed.set(info.uid, { info, node: n, assumed });
    if (info.labels) {
      for (const k in info.labels) {
        const kv = `${k}=${info.labels[k]}`;
        let s = this.byLabel.get(kv);
        if (!s) this.byLabel.set(kv, (s = new Set()));
        s.add(info);
      }
    }
    if (info.hasAffinity) this.podsWithAffinity++;
    if (!this.dirty) {
      this.matchIndex.podChanged(info, n, 1);
      this.termIndex.podChanged(info, n, 1);
    }
  }

  /** Removes a placed pod; returns it and its node name, or undefined. */
  removePod(uid: string): { info: PodInfo; nodeName: string } | undefined {
    const pp = this.placed.get(uid);
    if (!pp) return undefined;
    const { info, node: n } = pp;
    this.placed.delete(uid);
    n.removePod(uid);
    if (info.labels) {
      for (const k in info.labels) {
        const kv = `${k}=${info.labels[k]}`;
        const s = this.byLabel.get(kv);
        if (s) {
          s.delete(info);
          if (s.size === 0) this.byLabel.delete(kv);
        }
      }
    }
    if (info.hasAffinity) this.podsWithAffinity--;
    if (!this.dirty) {
      this.matchIndex.podChanged(info, n, -1);
      this.termIndex.podChanged(info, n, -1);
    }
    if (!n.node && n.pods.length === 0) this.byName.delete(n.name);
    return { info, nodeName: n.name };
  }
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ak = a ? Object.keys(a) : [];
  const bk = b ? Object.keys(b) : [];
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (a![k] !== b?.[k]) return false;
  return true;
}
