/**
 * @module The node lifecycle controller (upstream's node-lifecycle-controller, monitoring and
 * tainting parts). A node is healthy while its Lease in `kube-node-lease` is renewed (or its
 * Ready condition's heartbeat moves); silent for the grace period (40 s), all its conditions
 * become Unknown ("Kubelet stopped posting node status.") and it gets the
 * `node.kubernetes.io/unreachable` NoExecute and NoSchedule taints. The taints always follow
 * the conditions, so when the kubelet posts Ready again they go. When this controller turns a
 * Ready node not ready it records `NodeNotReady` on the node and, as upstream's
 * MarkPodsNotReady, sets the Ready condition of every pod bound there to False (with a
 * `NodeNotReady` Warning on each pod), retrying until that succeeded or the node is Ready
 * again — so Services stop sending traffic there long before eviction. Each node is re-examined
 * exactly when its grace period would run out (requeueAfter), never by polling; the clock is
 * injectable for tests. Eviction of pods from NoExecute-tainted nodes is the taint manager's
 * job (taint-eviction.ts).
 */
import { formatTimestamp } from "../../api/meta.ts";
import { isNotFound } from "../../api/status-error.ts";
import type { Node, NodeCondition, Pod } from "../../api/types/core-v1.ts";
import type { Lease } from "../../api/types/coordination-v1.ts";
import type { Request, Result } from "../../client/controller.ts";
import type { EventRecorder } from "../../client/events.ts";
import type { Informer } from "../../client/informer.ts";
import type { Client } from "../../client/types.ts";
import { desiredTaints, reconcileTaints } from "./node-lifecycle-taints.ts";

/** Namespace of the node heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = "kube-node-lease";
/** Upstream's --node-startup-grace-period: a node that never posted status gets this long. */
export const NODE_STARTUP_GRACE_MS = 60_000;
/** The conditions set to Unknown when a node goes silent (upstream's nodeConditionTypes). */
const MONITORED_CONDITIONS = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];
/** Index of the pods informer by `spec.nodeName`. */
const PODS_BY_NODE = "node-lifecycle-node";

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

  constructor(private readonly config: NodeLifecycleConfig) {
    this.now = config.now ?? Date.now;
    config.pods?.addIndex(PODS_BY_NODE, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
  }

  register(enqueue: (key: string) => void): void {
    this.config.nodes.addHandlers({
      add: (n) => enqueue(n.metadata.name!),
      update: (_, n) => enqueue(n.metadata.name!),
      delete: (n) => this.health.delete(n.metadata.name!),
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

  /** Keys are node names. */
  async reconcile(req: Request): Promise<Result | void> {
    const cached = this.config.nodes.get(undefined, req.name);
    if (!cached) {
      this.health.delete(req.name);
      return;
    }
    const now = this.now();
    const ready = cached.status?.conditions?.find((c) => c.type === "Ready");
    const lease = this.config.leases.get(NODE_LEASE_NAMESPACE, req.name);
    const renew = lease?.spec?.renewTime ?? undefined;
    let h = this.health.get(req.name);
    if (!h) {
      h = { probeMs: now, heartbeat: ready?.lastHeartbeatTime, leaseRenew: renew };
      this.health.set(req.name, h);
    }
    if (ready?.lastHeartbeatTime !== h.heartbeat) {
      h.heartbeat = ready?.lastHeartbeatTime;
      h.probeMs = now;
    }
    if (renew && (!h.leaseRenew || Date.parse(renew) > Date.parse(h.leaseRenew))) {
      h.leaseRenew = renew;
      h.probeMs = now;
    }
    const grace = ready
      ? this.config.gracePeriodMs
      : (this.config.startupGracePeriodMs ?? NODE_STARTUP_GRACE_MS);
    const deadline = h.probeMs + grace;
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

  /** Brings the managed taints in line with the node's conditions. */
  private async syncTaints(node: Node, now: number): Promise<void> {
    const taints = reconcileTaints(
      node.spec?.taints ?? [],
      desiredTaints(node, true),
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
}

function readyStatus(node: Node): string | undefined {
  return node.status?.conditions?.find((c) => c.type === "Ready")?.status;
}
