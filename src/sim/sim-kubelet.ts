/**
 * @module The simulated kubelet (KWOK-style), a component of `kites server`: for every node
 * labelled `kites.io/simulated=true` it keeps the node's heartbeat Lease in kube-node-lease
 * renewed every 10 s (one timer wheel for all nodes, renewals spread over the interval) and
 * its conditions Ready=True / pressures False (status written only on change or every 5
 * minutes, as upstream); for every pod bound to such a node it posts the status a kubelet
 * posts once the containers run (see `pod-status.ts`), with a pod IP from the node's pod
 * CIDR, and finishes gracefully deleted pods at once. Deleting a simulated Node deletes its
 * Lease. Writes go through three work queues (pods, node status, leases) with bounded
 * concurrency and per-key coalescing, so 50,000 pods or 5,000 nodes never mean 50,000
 * requests in flight.
 */
import type { Lease } from "../api/types/coordination-v1.ts";
import type { Node, Pod } from "../api/types/core-v1.ts";
import { formatTimestamp } from "../api/meta.ts";
import { Controller, type Request } from "../client/controller.ts";
import type { EventRecorder } from "../client/events.ts";
import type { Informer, InformerFactory } from "../client/informer.ts";
import type { Client, ResourceClient } from "../client/types.ts";
import { PodIpPool } from "./ip.ts";
import {
  NODE_LEASE_NAMESPACE,
  NODE_LEASE_RENEW_MS,
  NODE_STATUS_REPORT_MS,
  nodeConditionsUpdate,
  nodeLease,
} from "./node-heartbeat.ts";
import { isTerminal, sameStatus, simPodStatus } from "./pod-status.ts";
import { isSimNode, nodeInternalIP } from "./sim-node.ts";
import { TimerWheel } from "./timer-wheel.ts";

export interface SimKubeletOptions {
  client: Client;
  /** Shared informers; the simulated kubelet uses the shared nodes and pods informers. */
  informers: InformerFactory;
  /** Records Warning events (a pod that cannot get an IP); none when absent. */
  recorder?: EventRecorder;
  /** Pod status writes in flight (default 32); node status and Lease queues get a share. */
  concurrency?: number;
  /** Lease renewal period (default 10 s). */
  leaseRenewMs?: number;
  /** Node status is re-posted at least this often even without changes (default 5 min). */
  statusReportMs?: number;
  /** Ticks per renewal period of the timer wheel (default 100). */
  wheelSlots?: number;
  /** The clock (tests). */
  now?: () => Date;
}

/** Counters for benchmarks and tests. */
export interface SimKubeletMetrics {
  podStatusWrites: number;
  podDeletes: number;
  nodeStatusWrites: number;
  leaseWrites: number;
  leaseDeletes: number;
}

const POD_INDEX = "kites-sim/nodeName";

function codeOf(e: unknown): number | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === "number" ? c : undefined;
}

/** The first IPv4 pod CIDR of a node. */
function podCidrOf(node: Node): string | undefined {
  const all = node.spec?.podCIDRs?.length
    ? node.spec.podCIDRs
    : node.spec?.podCIDR
      ? [node.spec.podCIDR]
      : [];
  return all.find((c) => !c.includes(":"));
}

export class SimKubelet {
  readonly metrics: SimKubeletMetrics = {
    podStatusWrites: 0,
    podDeletes: 0,
    nodeStatusWrites: 0,
    leaseWrites: 0,
    leaseDeletes: 0,
  };
  /** Resolves once the informers have synced and the loops run. */
  readonly ready: Promise<void>;
  private markReady!: () => void;

  private readonly nodes: Informer<Node>;
  private readonly pods: Informer<Pod>;
  private readonly nodeClient: ResourceClient<Node>;
  private readonly podClient: ResourceClient<Pod>;
  private readonly leaseClient: ResourceClient<Lease>;
  private readonly recorder: EventRecorder | undefined;
  private readonly now: () => Date;
  private readonly leaseRenewMs: number;
  private readonly statusReportMs: number;
  private readonly wheel: TimerWheel;
  /** Pod IPs per simulated node. */
  private readonly pools = new Map<string, PodIpPool>();
  /** The Lease of each simulated node as last written or read. */
  private readonly leases = new Map<string, Lease>();
  private readonly podCtl: Controller;
  private readonly nodeCtl: Controller;
  private readonly leaseCtl: Controller;
  private started = false;

  constructor(opts: SimKubeletOptions) {
    this.ready = new Promise((r) => (this.markReady = r));
    this.nodes = opts.informers.informer<Node>("", "nodes");
    this.pods = opts.informers.informer<Pod>("", "pods");
    this.pods.addIndex(POD_INDEX, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    this.nodeClient = opts.client.resource<Node>("", "nodes");
    this.podClient = opts.client.resource<Pod>("", "pods");
    this.leaseClient = opts.client.resource<Lease>("coordination.k8s.io", "leases");
    this.recorder = opts.recorder;
    this.now = opts.now ?? (() => new Date());
    this.leaseRenewMs = opts.leaseRenewMs ?? NODE_LEASE_RENEW_MS;
    this.statusReportMs = opts.statusReportMs ?? NODE_STATUS_REPORT_MS;
    this.wheel = new TimerWheel(opts.wheelSlots ?? 100);
    const concurrency = Math.max(1, opts.concurrency ?? 32);
    this.podCtl = new Controller({
      name: "sim-kubelet-pods",
      workers: concurrency,
      reconcile: (req) => this.syncPod(req),
    });
    this.nodeCtl = new Controller({
      name: "sim-kubelet-nodes",
      workers: Math.max(1, Math.floor(concurrency / 4)),
      reconcile: (req) => this.syncNode(req.name),
    });
    this.leaseCtl = new Controller({
      name: "sim-kubelet-leases",
      workers: Math.max(1, Math.floor(concurrency / 2)),
      reconcile: (req) => this.renewLease(req.name),
    });
  }

  /**
   * Starts the informers (if the factory has not), waits for their first list, claims the
   * pod IPs existing pods already show, then runs the loops until `signal` aborts.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.started) return this.ready;
    this.started = true;
    this.nodes.start(signal);
    this.pods.start(signal);
    const aborted = new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
    await Promise.race([Promise.all([this.nodes.synced, this.pods.synced]), aborted]);
    if (signal.aborted) return;
    // Pods that already run keep their IPs: claim them before any new pod draws one.
    for (const pod of this.pods.list()) {
      const ip = pod.status?.podIP;
      if (!ip || isTerminal(pod) || pod.spec?.hostNetwork) continue;
      this.poolFor(pod.spec?.nodeName)?.reserve(pod.metadata.uid ?? "", ip);
    }
    this.nodes.addHandlers({
      add: (n) => this.onNode(undefined, n),
      update: (o, n) => this.onNode(o, n),
      delete: (n) => this.nodeCtl.enqueue(n.metadata.name ?? ""),
    });
    this.pods.addHandlers({
      add: (p) => this.onPod(p),
      update: (_o, p) => this.onPod(p),
      delete: (p) => this.releaseIp(p),
    });
    this.podCtl.start(signal);
    this.nodeCtl.start(signal);
    this.leaseCtl.start(signal);
    this.wheel.start(this.leaseRenewMs, signal, (names) => this.onRenewalDue(names));
    this.markReady();
  }

  /** Resolves when no write is queued or running (for tests and benchmarks). */
  async idle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await Promise.all([this.podCtl.idle(), this.nodeCtl.idle(), this.leaseCtl.idle()]);
    }
  }

  /** Number of simulated nodes being heartbeated. */
  get nodeCount(): number {
    return this.wheel.size;
  }

  private onNode(old: Node | undefined, node: Node): void {
    const name = node.metadata.name ?? "";
    const sim = isSimNode(node);
    if (sim || isSimNode(old) || this.wheel.has(name)) this.nodeCtl.enqueue(name);
    // A node that just became simulated: its pods can start now.
    if (sim && !isSimNode(old)) for (const p of this.pods.byIndex(POD_INDEX, name)) this.podCtl.enqueue(p);
  }

  private onPod(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (nodeName && isSimNode(this.nodes.get(undefined, nodeName))) this.podCtl.enqueue(pod);
  }

  private releaseIp(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (nodeName) this.pools.get(nodeName)?.release(pod.metadata.uid ?? "");
  }

  /** The IP pool of a simulated node, made from its pod CIDR on first use. */
  private poolFor(nodeName: string | undefined): PodIpPool | undefined {
    if (!nodeName) return undefined;
    const node = this.nodes.get(undefined, nodeName);
    if (!isSimNode(node)) return undefined;
    const cidr = podCidrOf(node);
    let pool = this.pools.get(nodeName);
    if (pool && pool.cidr === cidr) return pool;
    if (!cidr) return undefined;
    try {
      pool = new PodIpPool(cidr);
    } catch {
      return undefined;
    }
    this.pools.set(nodeName, pool);
    return pool;
  }

  private onRenewalDue(names: string[]): void {
    const now = this.now();
    for (const name of names) {
      const node = this.nodes.get(undefined, name);
      if (!isSimNode(node)) {
        this.nodeCtl.enqueue(name);
        continue;
      }
      this.leaseCtl.enqueue(name);
      if (nodeConditionsUpdate(node, now, this.statusReportMs)) this.nodeCtl.enqueue(name);
    }
  }

  // ---- pods -----------------------------------------------------------------------------

  private async syncPod(req: Request): Promise<void | { requeueAfterMs: number }> {
    const pod = this.pods.get(req.namespace, req.name);
    if (!pod) return;
    const nodeName = pod.spec?.nodeName;
    const node = nodeName ? this.nodes.get(undefined, nodeName) : undefined;
    if (!isSimNode(node)) return;
    const uid = pod.metadata.uid ?? "";

    if (pod.metadata.deletionTimestamp) {
      // Containers "stopped" at once: finish the deletion as a kubelet does afterwards.
      this.releaseIp(pod);
      if (pod.metadata.deletionGracePeriodSeconds === 0) return; // already asked; finalizers remain
      try {
        await this.podClient.delete(req.namespace, req.name, {
          gracePeriodSeconds: 0,
          ...(uid ? { preconditions: { uid } } : {}),
        });
        this.metrics.podDeletes++;
      } catch (e) {
        if (codeOf(e) !== 404 && codeOf(e) !== 409) throw e;
      }
      return;
    }
    if (isTerminal(pod)) {
      this.releaseIp(pod);
      return;
    }

    const hostIP = nodeInternalIP(node) ?? "";
    let podIP: string | undefined;
    if (pod.spec?.hostNetwork) podIP = hostIP;
    else {
      const pool = this.poolFor(nodeName);
      if (!pool) {
        this.warn(pod, `Failed to create pod sandbox: node "${nodeName}" has no IPv4 podCIDR`);
        return { requeueAfterMs: 30_000 };
      }
      const shown = pod.status?.podIP;
      podIP = pool.get(uid) ?? (shown && pool.reserve(uid, shown) ? shown : pool.allocate(uid));
      if (!podIP) {
        this.warn(pod, `Failed to create pod sandbox: no IP addresses available in range ${pool.cidr}`);
        return { requeueAfterMs: 10_000 };
      }
    }
    const status = simPodStatus(pod, { hostIP, podIP, now: formatTimestamp(this.now()) });
    if (sameStatus(status, pod.status)) return;
    await this.podClient.updateStatus({ ...pod, status });
    this.metrics.podStatusWrites++;
  }

  private warn(pod: Pod, message: string): void {
    this.recorder?.event(pod, "Warning", "FailedCreatePodSandBox", message);
  }

  // ---- nodes ----------------------------------------------------------------------------

  private async syncNode(name: string): Promise<void> {
    const node = this.nodes.get(undefined, name);
    if (!isSimNode(node)) {
      await this.forgetNode(name, node === undefined);
      return;
    }
    if (!this.wheel.has(name)) {
      this.wheel.add(name);
      this.leaseCtl.enqueue(name); // first heartbeat now, then on the wheel
    }
    const conditions = nodeConditionsUpdate(node, this.now(), this.statusReportMs);
    if (!conditions) return;
    await this.nodeClient.updateStatus({ ...node, status: { ...node.status, conditions } });
    this.metrics.nodeStatusWrites++;
  }

  /** Stops simulating a node; when the Node is gone, its Lease goes too. */
  private async forgetNode(name: string, deleted: boolean): Promise<void> {
    const known = this.wheel.has(name) || this.leases.has(name);
    this.wheel.remove(name);
    this.leases.delete(name);
    this.pools.delete(name);
    if (!known || !deleted) return;
    try {
      await this.leaseClient.delete(NODE_LEASE_NAMESPACE, name);
      this.metrics.leaseDeletes++;
    } catch (e) {
      if (codeOf(e) !== 404) throw e;
    }
  }

  // ---- leases ---------------------------------------------------------------------------

  private async renewLease(name: string): Promise<void> {
    const node = this.nodes.get(undefined, name);
    if (!isSimNode(node) || !this.wheel.has(name)) return;
    const current = this.leases.get(name);
    const now = this.now();
    let written: Lease;
    if (current) {
      try {
        written = await this.leaseClient.update(nodeLease(node, now, current));
      } catch (e) {
        const code = codeOf(e);
        if (code === 404) {
          this.leases.delete(name);
          written = await this.leaseClient.create(nodeLease(node, now));
        } else if (code === 409) {
          // Someone else wrote it: take the current one and renew on top of it.
          const fresh = await this.leaseClient.get(NODE_LEASE_NAMESPACE, name);
          written = await this.leaseClient.update(nodeLease(node, now, fresh));
        } else throw e;
      }
    } else {
      try {
        written = await this.leaseClient.create(nodeLease(node, now));
      } catch (e) {
        if (codeOf(e) !== 409) throw e;
        const fresh = await this.leaseClient.get(NODE_LEASE_NAMESPACE, name);
        written = await this.leaseClient.update(nodeLease(node, now, fresh));
      }
    }
    this.metrics.leaseWrites++;
    if (this.wheel.has(name)) {
      this.leases.set(name, written);
      return;
    }
    // The node went away while the write was in flight: do not leave its Lease behind.
    if (!this.nodes.get(undefined, name)) {
      try {
        await this.leaseClient.delete(NODE_LEASE_NAMESPACE, name);
        this.metrics.leaseDeletes++;
      } catch (e) {
        if (codeOf(e) !== 404) throw e;
      }
    }
  }
}
