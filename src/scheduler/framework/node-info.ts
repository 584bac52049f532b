/**
 * @module A node as the scheduler sees it (upstream's `framework.NodeInfo`): allocatable and
 * the sums of what its pods request (plus pod count), host ports in use, hard and soft
 * taints, cordon state, and its pods (with the ones carrying pod affinity listed apart).
 * Kept current incrementally as pods are added, assumed and removed; filters only read it.
 */
import type { Labels } from "../../api/labels.ts";
import type { Node, Taint } from "../../api/types/core-v1.ts";
import type { PodInfo } from "./pod-info.ts";
import { emptyResources, nodeAllocatable, type Resources } from "./resources.ts";

export class NodeInfo {
  /** The Node object, or null for a placeholder holding pods of a node not (yet) known. */
  node: Node | null = null;
  labels: Labels = undefined;
  /** Position in the snapshot's node list (-1 when not listed). */
  index = -1;
  allocatable: Resources = emptyResources();
  /** Sum of the pods' requests; `pods` unused here (the count is `pods.length`). */
  readonly requested: Resources = emptyResources();
  /** Sums of non-zero CPU and memory requests (scoring). */
  nonZeroCPU = 0;
  nonZeroMemory = 0;
  readonly pods: PodInfo[] = [];
  private readonly podSlot = new Map<string, number>();
  /** Pods with any pod (anti-)affinity. */
  readonly podsWithAffinity: PodInfo[] = [];
  /** Pods with required anti-affinity. */
  readonly podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** `protocol/port` → host IPs in use (one entry per pod using it). */
  readonly usedPorts = new Map<string, string[]>();
  /** NoSchedule and NoExecute taints. */
  hardTaints: readonly Taint[] = [];
  /** PreferNoSchedule taints. */
  softTaints: readonly Taint[] = [];
  unschedulable = false;
  /** Bumped on every change. */
  generation = 0;

  constructor(readonly name: string) {}

  /** Sets (or replaces) the Node object. */
  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata.labels;
    this.allocatable = nodeAllocatable(node);
    const taints = node.spec?.taints ?? [];
    this.hardTaints = taints.filter((t) => t.effect === "NoSchedule" || t.effect === "NoExecute");
    this.softTaints = taints.filter((t) => t.effect === "PreferNoSchedule");
    this.unschedulable = !!node.spec?.unschedulable;
    this.generation++;
  }

  /** Adds a pod's requests, ports and affinity bookkeeping. */
  addPod(p: PodInfo): void {
    if (this.podSlot.has(p.uid)) return;
    this.podSlot.set(p.uid, this.pods.length);
    this.pods.push(p);
    this.account(p, 1);
    if (p.hasAffinity) this.podsWithAffinity.push(p);
    if (p.requiredAntiAffinity.length) this.podsWithRequiredAntiAffinity.push(p);
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      const ips = this.usedPorts.get(k);
      if (ips) ips.push(hp.ip);
      else this.usedPorts.set(k, [hp.ip]);
    }
    this.generation++;
  }

  /** Removes a pod by uid; returns it, or undefined when it was not here. */
  removePod(uid: string): PodInfo | undefined {
    const slot = this.podSlot.get(uid);
    if (slot === undefined) return undefined;
    const p = this.pods[slot]!;
    const last = this.pods.pop()!;
    if (last !== p) {
      this.pods[slot] = last;
      this.podSlot.set(last.uid, slot);
    }
    this.podSlot.delete(uid);
    this.account(p, -1);
    if (p.hasAffinity) removeFrom(this.podsWithAffinity, p);
    if (p.requiredAntiAffinity.length) removeFrom(this.podsWithRequiredAntiAffinity, p);
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      const ips = this.usedPorts.get(k);
      if (!ips) continue;
      const i = ips.indexOf(hp.ip);
      if (i >= 0) ips.splice(i, 1);
      if (ips.length === 0) this.usedPorts.delete(k);
    }
    this.generation++;
    return p;
  }

  /** Whether a pod with this uid is on the node. */
  hasPod(uid: string): boolean {
    return this.podSlot.has(uid);
  }

  private account(p: PodInfo, sign: 1 | -1): void {
    const r = this.requested;
    const q = p.requests;
    r.milliCPU += sign * q.milliCPU;
    r.memory += sign * q.memory;
    r.ephemeralStorage += sign * q.ephemeralStorage;
    if (q.scalar) {
      r.scalar ??= new Map();
      for (const [k, v] of q.scalar) r.scalar.set(k, (r.scalar.get(k) ?? 0) + sign * v);
    }
    this.nonZeroCPU += sign * p.nonZeroCPU;
    this.nonZeroMemory += sign * p.nonZeroMemory;
  }

  /** A copy whose pod list and sums can change without touching this one (preemption). */
  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.labels = this.labels;
    c.index = this.index;
    c.allocatable = this.allocatable;
    c.hardTaints = this.hardTaints;
    c.softTaints = this.softTaints;
    c.unschedulable = this.unschedulable;
    for (const p of this.pods) c.addPod(p);
    c.generation = this.generation;
    return c;
  }
}

function removeFrom(list: PodInfo[], p: PodInfo): void {
  const i = list.indexOf(p);
  if (i >= 0) {
    list[i] = list[list.length - 1]!;
    list.pop();
  }
}
