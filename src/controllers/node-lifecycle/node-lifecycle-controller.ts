/**
 * @module The node lifecycle controller (upstream's node-lifecycle-controller, monitoring and
 * tainting parts). A node is healthy while its Lease in `kube-node-lease` is renewed (or its
 * Ready condition's heartbeat moves); silent for the grace period (40 s), all its conditions
 * become Unknown ("Kubelet stopped posting node status.") and it gets the
 * `node.kubernetes.io/unreachable` NoSchedule taint at once. When this controller turns a
 * Ready node not ready it records `NodeNotReady` on the node and, as upstream's
 * MarkPodsNotReady, sets the Ready condition of every pod bound there to False (with a
 * `NodeNotReady` Warning on each pod), retrying until that succeeded or the node is Ready
 * again — so Services stop sending traffic there long before eviction. Each node is re-examined
 * exactly when its grace period would run out (requeueAfter), never by polling; the clock is
 * injectable for tests.
 *
 * The NoExecute taints (`unreachable` for Ready=Unknown, `not-ready` for Ready=False), which
 * make the taint manager (taint-eviction.ts) evict pods, are paced per zone by the zone pass
 * (key `DISRUPTION_KEY`, zone-disruption.ts): it computes the zone states from every node's
 * Ready condition, and adds the taint to waiting nodes as fast as each zone's rate allows —
 * none at all while every zone is fully disrupted, when the taints are removed instead. A
 * node reconcile only keeps a NoExecute taint the node has in line with its Ready condition
 * (swapping not-ready and unreachable at once, as upstream), and removes it when the node is
 * Ready again or the cluster is frozen.
 */
import { formatTimestamp } from "../../api/meta.ts";
import { isNotFound } from "../../api/status-error.ts";
import type { Node, NodeCondition, Pod } from "../../api/types/core-v1.ts";
import type { Lease } from "../../api/types/coordination-v1.ts";
import type { Request, Result } from "../../client/controller.ts";
import type { EventRecorder } from "../../client/events.ts";
import type { Informer } from "../../client/informer.ts";
import type { Client } from "../../client/types.ts";
import {
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  desiredTaints,
  reconcileTaints,
} from "./node-lifecycle-taints.ts";
import {
  DEFAULT_DISRUPTION_OPTIONS,
  ZoneDisruption,
  excludedFromDisruption,
  zoneKey,
  type DisruptionOptions,
  type ZoneTally,
} from "./zone-disruption.ts";

/** Namespace of the node heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = "kube-node-lease";
/** Upstream's --node-startup-grace-period: a node that never posted status gets this long. */
export const NODE_STARTUP_GRACE_MS = 60_000;
/** The conditions set to Unknown when a node goes silent (upstream's nodeConditionTypes). */
const MONITORED_CONDITIONS = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];
/** Index of the pods informer by `spec.nodeName`. */
const PODS_BY_NODE = "node-lifecycle-node";
/** The key of the zone pass (a namespace, so it is never a node's name). */
export const DISRUPTION_KEY = "disruption/zones";

export interface NodeLifecycleConfig {
  client: Client;
  nodes: Informer<Node>;
  /** Leases in kube-node-lease. */
  leases: Informer<Lease>;
  gracePeriodMs: number;
  startupGracePeriodMs?: number;
  /** Pods, to mark those on a node gone not ready; without it pods are left alone. */
  pods?: Informer<Pod>;
  /** Records NodeNotReady on nodes and pods (upstream's source is `node-controller`). */
  events?: EventRecorder;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** Eviction rates and thresholds (upstream's defaults when absent). */
  disruption?: Partial<DisruptionOptions>;
  /** Where upstream's log lines go (default: stderr). */
  log?: (line: string) => void;
}

/** What the controller last saw of a node (upstream's nodeHealthData). */
interface Health {
  /** When (our clock) a heartbeat was last seen. */
  probeMs: number;
  heartbeat: string | undefined;
  leaseRenew: string | undefined;
  /** The node went not ready under us and its pods are not all marked yet (upstream's nodesToRetry). */
  podsToMark?: boolean;
}

export class NodeLifecycleReconciler {
  private readonly health = new Map<string, Health>();
  private readonly now: () => number;
  /** Zone states and NoExecute tainting rates. */
  readonly zones: ZoneDisruption;
  private enqueue: (key: string) => void = () => {};

  constructor(private readonly config: NodeLifecycleConfig) {
    this.now = config.now ?? Date.now;
    config.pods?.addIndex(PODS_BY_NODE, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    const log = config.log ?? ((line: string) => console.warn(`node-lifecycle-controller: ${line}`));
    this.zones = new ZoneDisruption({ ...DEFAULT_DISRUPTION_OPTIONS, ...config.disruption }, log);
  }

  register(enqueue: (key: string) => void): void {
    this.enqueue = enqueue;
    this.config.nodes.addHandlers({
      add: (n) => {
        enqueue(n.metadata.name!);
        enqueue(DISRUPTION_KEY);
      },
      update: (old, n) => {
        enqueue(n.metadata.name!);
        if (zoneFacts(old) !== zoneFacts(n)) enqueue(DISRUPTION_KEY);
      },
      delete: (n) => {
        this.health.delete(n.metadata.name!);
        enqueue(DISRUPTION_KEY);
      },
    });
    this.config.leases.addHandlers({
      add: (l) => {
        if (l.metadata.namespace === NODE_LEASE_NAMESPACE) enqueue(l.metadata.name!);
      },
      update: (_, l) => {
        if (l.metadata.namespace === NODE_LEASE_NAMESPACE) enqueue(l.metadata.name!);
      },
    });
  }

  /** Keys are node names, and `DISRUPTION_KEY` for the zone pass. */
  async reconcile(req: Request): Promise<Result | void> {
    if (`${req.namespace}/${req.name}` === DISRUPTION_KEY) return this.reconcileZones();
    const cached = this.config.nodes.get(undefined, req.name);
    if (!cached) {
      this.health.delete(req.name);
      return;
    }
    const now = this.now();
    const ready = cached.status?.conditions?.find((c) => c.type === "Ready");
    const h = this.observe(cached, now);
    const deadline = h.probeMs + this.grace(cached);
    let node = cached;
    if (now >= deadline) {
      const updated = this.markUnknown(node, now);
      if (updated) node = await this.config.client.resource<Node>("", "nodes").updateStatus(updated);
    }
    const readyNow = readyStatus(node) === "True";
    if (ready?.status === "True" && !readyNow) {
      this.config.events?.event(
        node,
        "Normal",
        "NodeNotReady",
        `Node ${req.name} status is now: NodeNotReady`,
      );
      h.podsToMark = true;
    } else if (readyNow) h.podsToMark = false;
    await this.syncTaints(node, now);
    if (h.podsToMark) {
      await this.markPodsNotReady(req.name, now);
      h.podsToMark = false;
    }
    return now < deadline ? { requeueAfterMs: deadline - now } : undefined;
  }

  /**
   * Upstream's MarkPodsNotReady: every pod bound to `nodeName` whose Ready condition is not
   * False gets it False (new lastTransitionTime) and a `NodeNotReady` Warning. Throws after
   * trying them all if any write failed, so the key is retried.
   */
  private async markPodsNotReady(nodeName: string, now: number): Promise<void> {
    const pods = this.config.pods;
    if (!pods) return;
    const client = this.config.client.resource<Pod>("", "pods");
    const ts = formatTimestamp(new Date(now));
    let failure: unknown;
    for (const pod of pods.byIndex(PODS_BY_NODE, nodeName)) {
      const conditions = pod.status?.conditions ?? [];
      const i = conditions.findIndex((c) => c.type === "Ready");
      if (i < 0 || conditions[i]!.status === "False") continue;
      const next = structuredClone(pod);
      next.status!.conditions![i] = { ...conditions[i]!, status: "False", lastTransitionTime: ts };
      try {
        await client.updateStatus(next);
      } catch (e) {
        if (!isNotFound(e)) failure ??= e;
        continue;
      }
      this.config.events?.event(pod, "Warning", "NodeNotReady", "Node is not ready");
    }
    if (failure) throw failure;
  }

  /** The node with every monitored condition Unknown, or undefined when they already are. */
  private markUnknown(node: Node, now: number): Node | undefined {
    const next = structuredClone(node);
    const ts = formatTimestamp(new Date(now));
    const conditions: NodeCondition[] = next.status?.conditions ?? [];
    let changed = false;
    for (const type of MONITORED_CONDITIONS) {
      const c = conditions.find((x) => x.type === type);
      if (!c) {
        conditions.push({
          type,
          status: "Unknown",
          reason: "NodeStatusNeverUpdated",
          message: "Kubelet never posted node status.",
          lastHeartbeatTime: node.metadata.creationTimestamp ?? ts,
          lastTransitionTime: ts,
        });
        changed = true;
      } else if (c.status !== "Unknown") {
        c.status = "Unknown";
        c.reason = "NodeStatusUnknown";
        c.message = "Kubelet stopped posting node status.";
        c.lastTransitionTime = ts;
        changed = true;
      }
    }
    if (!changed) return undefined;
    next.status = { ...next.status, conditions };
    return next;
  }

  /** The node's health record, its probe time moved to now if a heartbeat came since. */
  private observe(node: Node, now: number): Health {
    const name = node.metadata.name!;
    const heartbeat = node.status?.conditions?.find((c) => c.type === "Ready")?.lastHeartbeatTime;
    const renew = this.config.leases.get(NODE_LEASE_NAMESPACE, name)?.spec?.renewTime ?? undefined;
    let h = this.health.get(name);
    if (!h) {
      h = { probeMs: now, heartbeat, leaseRenew: renew };
      this.health.set(name, h);
    }
    if (heartbeat !== h.heartbeat) {
      h.heartbeat = heartbeat;
      h.probeMs = now;
    }
    if (renew && (!h.leaseRenew || Date.parse(renew) > Date.parse(h.leaseRenew))) {
      h.leaseRenew = renew;
      h.probeMs = now;
    }
    return h;
  }

  private grace(node: Node): number {
    return readyStatus(node) !== undefined
      ? this.config.gracePeriodMs
      : (this.config.startupGracePeriodMs ?? NODE_STARTUP_GRACE_MS);
  }

  /**
   * Brings the managed taints in line with the node's conditions. A NoExecute taint is only
   * kept (or swapped between not-ready and unreachable), never added: the zone pass adds it.
   */
  private async syncTaints(node: Node, now: number): Promise<void> {
    const taints = reconcileTaints(
      node.spec?.taints ?? [],
      desiredTaints(node, !this.zones.frozen && hasNoExecuteTaint(node)),
      formatTimestamp(new Date(now)),
    );
    if (!taints) return;
    const next = structuredClone(node);
    next.spec = { ...next.spec, taints };
    if (taints.length === 0) delete next.spec.taints;
    try {
      await this.config.client.resource<Node>("", "nodes").update(next);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /**
   * The zone pass (upstream's handleDisruption and doNoExecuteTaintingPass): zone states from
   * every node's Ready condition — a node whose grace period ran out counts as not ready
   * even before its status is written —, then the NoExecute taint for waiting nodes as each
   * zone's rate allows. Entering master disruption mode queues every NoExecute-tainted node,
   * whose reconcile removes the taint; leaving it gives every node a fresh grace period.
   */
  private async reconcileZones(): Promise<Result | void> {
    const now = this.now();
    const nodes = this.config.nodes.list();
    const tallies = new Map<string, ZoneTally>();
    const needing = new Map<string, string[]>();
    for (const node of nodes) {
      const zone = zoneKey(node);
      let waiting = needing.get(zone);
      if (!waiting) needing.set(zone, (waiting = []));
      const status = readyStatus(node);
      if ((status === "False" || status === "Unknown") && !hasNoExecuteTaint(node)) {
        waiting.push(node.metadata.name!);
      }
      if (excludedFromDisruption(node)) continue;
      let t = tallies.get(zone);
      if (!t) tallies.set(zone, (t = { ready: 0, notReady: 0 }));
      if (status === "True" && !this.expired(node, now)) t.ready++;
      else t.notReady++;
    }
    const change = this.zones.update(tallies, needing.keys(), now);
    if (change === "enter") {
      for (const node of nodes) if (hasNoExecuteTaint(node)) this.enqueue(node.metadata.name!);
    } else if (change === "exit") {
      for (const h of this.health.values()) h.probeMs = now;
    }
    const { nodes: toTaint, retryMs } = this.zones.take(needing, now);
    let failure: unknown;
    for (const { zone, name } of toTaint) {
      try {
        await this.addNoExecuteTaint(name, now);
      } catch (e) {
        this.zones.putBack(zone, name);
        failure ??= e;
      }
    }
    if (failure) throw failure;
    return retryMs === undefined ? undefined : { requeueAfterMs: retryMs };
  }

  /** Whether the node's grace period ran out by our clock (its status may not say so yet). */
  private expired(node: Node, now: number): boolean {
    return now >= this.observe(node, now).probeMs + this.grace(node);
  }

  /** Gives a not-ready node its NoExecute taint (with the other managed taints in line). */
  private async addNoExecuteTaint(name: string, now: number): Promise<void> {
    const node = this.config.nodes.get(undefined, name);
    if (!node) return;
    const taints = reconcileTaints(
      node.spec?.taints ?? [],
      desiredTaints(node, true),
      formatTimestamp(new Date(now)),
    );
    if (!taints) return;
    const next = structuredClone(node);
    next.spec = { ...next.spec, taints };
    try {
      await this.config.client.resource<Node>("", "nodes").update(next);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** Whether the node has a NoExecute taint of this controller's. */
function hasNoExecuteTaint(node: Node): boolean {
  return (node.spec?.taints ?? []).some(
    (t) => t.effect === "NoExecute" && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE),
  );
}

/** What the zone pass depends on of a node, to requeue it only when that changes. */
function zoneFacts(node: Node): string {
  return [
    readyStatus(node) ?? "",
    zoneKey(node),
    excludedFromDisruption(node) ? "x" : "",
    hasNoExecuteTaint(node) ? "t" : "",
  ].join("|");
}

function readyStatus(node: Node): string | undefined {
  return node.status?.conditions?.find((c) => c.type === "Ready")?.status;
}
