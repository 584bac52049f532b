/**
 * @module The scheduling queue (upstream's `PriorityQueue`): an active queue ordered by
 * priority (highest first) then time queued; a backoff queue for pods that failed recently
 * (1 s doubling per attempt up to 10 s, upstream's defaults), drained by one timer at the
 * earliest expiry; and a pool of unschedulable pods that go back when a cluster event that
 * could help them happens (a node added or its labels, taints, allocatable or cordon state
 * changed; a placed pod deleted, added or relabelled), judged by the plugins that rejected
 * them. Pods left unschedulable for 5 minutes are retried anyway (upstream's
 * `podMaxInUnschedulablePodsDuration`). No polling: `pop` waits on a promise.
 */
import type { PodInfo } from "./framework/pod-info.ts";
import { Heap } from "./heap.ts";
import * as names from "./plugins/names.ts";

/** A cluster change that may make unschedulable pods schedulable. */
export type ClusterEvent =
  | "NodeAdd"
  | "NodeLabelChange"
  | "NodeTaintChange"
  | "NodeAllocatableChange"
  | "NodeSchedulableChange"
  | "AssignedPodAdd"
  | "AssignedPodUpdate"
  | "AssignedPodDelete";

/** Which plugins' rejections each event may lift ("*" = any). */
const EVENT_PLUGINS: Record<ClusterEvent, ReadonlySet<string> | "*"> = {
  NodeAdd: "*",
  NodeLabelChange: new Set([
    names.NODE_AFFINITY,
    names.POD_TOPOLOGY_SPREAD,
    names.INTER_POD_AFFINITY,
    names.NODE_RESOURCES_FIT,
  ]),
  NodeTaintChange: new Set([names.TAINT_TOLERATION]),
  NodeAllocatableChange: new Set([names.NODE_RESOURCES_FIT]),
  NodeSchedulableChange: new Set([names.NODE_UNSCHEDULABLE]),
  AssignedPodAdd: new Set([names.INTER_POD_AFFINITY, names.POD_TOPOLOGY_SPREAD]),
  AssignedPodUpdate: new Set([names.INTER_POD_AFFINITY, names.POD_TOPOLOGY_SPREAD]),
  AssignedPodDelete: new Set([
    names.NODE_RESOURCES_FIT,
    names.NODE_PORTS,
    names.INTER_POD_AFFINITY,
    names.POD_TOPOLOGY_SPREAD,
  ]),
};

type Where = "active" | "backoff" | "unschedulable" | "inflight" | "gone";

/** A pod in the queue, with its attempt history. */
export interface QueuedPod {
  info: PodInfo;
  key: string;
  /** When it (re-)entered the active queue: the FIFO tie-break within a priority. */
  timestamp: number;
  attempts: number;
  /** Plugins that rejected it in its last attempt. */
  unschedulablePlugins: Set<string>;
  backoffExpiry: number;
  where: Where;
  /** Bumped on every move, so stale heap entries are recognised. */
  gen: number;
  /** When it entered the unschedulable pool. */
  unschedulableSince: number;
}

interface Entry {
  qp: QueuedPod;
  gen: number;
}

export interface QueueOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxUnschedulableMs?: number;
  now?: () => number;
}

export class SchedulingQueue {
  private readonly pods = new Map<string, QueuedPod>();
  private readonly active = new Heap<Entry>((a, b) => {
    const pa = a.qp.info.priority;
    const pb = b.qp.info.priority;
    return pa !== pb ? pa > pb : a.qp.timestamp < b.qp.timestamp;
  });
  private readonly backoff = new Heap<Entry>((a, b) => a.qp.backoffExpiry < b.qp.backoffExpiry);
  private readonly unschedulable = new Map<string, QueuedPod>();
  private activeCount = 0;
  private waiter: (() => void) | null = null;
  private backoffTimer: NodeJS.Timeout | null = null;
  private backoffTimerAt = Infinity;
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private seq = 0;
  /** Incremented per pop; a failure from an older cycle than the last move goes to backoff. */
  schedulingCycle = 0;
  private moveRequestCycle = -1;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;
  private readonly now: () => number;

  constructor(opts: QueueOptions = {}) {
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.maxUnschedulableMs = opts.maxUnschedulableMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** Pods waiting in any queue (not in flight). */
  get length(): number {
    return this.activeCount + this.backoffCount + this.unschedulable.size;
  }

  /** Pods in the active queue. */
  get activeLength(): number {
    return this.activeCount;
  }

  private backoffCount = 0;

  /** Whether a pod with this key is known (queued or in flight). */
  has(key: string): boolean {
    return this.pods.has(key);
  }

  /** A new pending pod: straight to the active queue. */
  add(info: PodInfo, key: string): void {
    const existing = this.pods.get(key);
    if (existing) {
      this.update(info, key);
      return;
    }
    const qp: QueuedPod = {
      info,
      key,
      timestamp: this.stamp(),
      attempts: 0,
      unschedulablePlugins: new Set(),
      backoffExpiry: 0,
      where: "gone",
      gen: 0,
      unschedulableSince: 0,
    };
    this.pods.set(key, qp);
    this.toActive(qp);
  }

  /** The pod changed: keep its place, but an unschedulable pod gets another try. */
  update(info: PodInfo, key: string): void {
    const qp = this.pods.get(key);
    if (!qp) {
      this.add(info, key);
      return;
    }
    qp.info = info;
    if (qp.where === "unschedulable") {
      this.unschedulable.delete(key);
      if (this.isBackingOff(qp)) this.toBackoff(qp);
      else this.toActive(qp);
    }
  }

  /** The pod is gone (deleted, or bound by someone else). */
  delete(key: string): void {
    const qp = this.pods.get(key);
    if (!qp) return;
    this.leave(qp);
    qp.where = "gone";
    qp.gen++;
    this.pods.delete(key);
  }

  /** The next pod to schedule, waiting until there is one. Rejects when the queue closes. */
  async pop(signal?: AbortSignal): Promise<QueuedPod> {
    for (;;) {
      const qp = this.tryPop();
      if (qp) return qp;
      if (this.closed || signal?.aborted) throw new Error("scheduling queue closed");
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        signal?.addEventListener("abort", () => resolve(), { once: true });
      });
      this.waiter = null;
    }
  }

  /** The next pod if one is ready now. */
  tryPop(): QueuedPod | undefined {
    for (;;) {
      const e = this.active.pop();
      if (!e) return undefined;
      if (e.gen !== e.qp.gen || e.qp.where !== "active") continue;
      this.activeCount--;
      const qp = e.qp;
      qp.where = "inflight";
      qp.gen++;
      qp.attempts++;
      this.schedulingCycle++;
      return qp;
    }
  }

  /** A scheduled pod is done: forget it. */
  done(key: string): void {
    const qp = this.pods.get(key);
    if (qp && qp.where === "inflight") {
      qp.where = "gone";
      this.pods.delete(key);
    }
  }

  /**
   * The pod failed in the cycle `cycle`; `plugins` rejected it. If a move request came
   * after that cycle started, it goes to backoff (something changed); else to the pool.
   */
  addUnschedulable(qp: QueuedPod, plugins: Iterable<string>, cycle: number): void {
    if (this.pods.get(qp.key) !== qp || qp.where !== "inflight") return;
    qp.unschedulablePlugins = new Set(plugins);
    qp.backoffExpiry = this.now() + this.backoffDuration(qp.attempts);
    if (this.moveRequestCycle >= cycle) {
      this.toBackoff(qp);
      return;
    }
    qp.where = "unschedulable";
    qp.gen++;
    qp.unschedulableSince = this.now();
    this.unschedulable.set(qp.key, qp);
    this.armFlush();
  }

  /** An error (not a rejection), e.g. a failed binding: retry after backoff. */
  requeueAfterError(qp: QueuedPod): void {
    if (this.pods.get(qp.key) !== qp) {
      // Deleted meanwhile; nothing to do.
      return;
    }
    qp.backoffExpiry = this.now() + this.backoffDuration(qp.attempts);
    this.toBackoff(qp);
  }

  /** A cluster event happened: move the unschedulable pods it may help. */
  moveOnEvent(event: ClusterEvent): void {
    this.moveRequestCycle = this.schedulingCycle;
    if (this.unschedulable.size === 0) return;
    const plugins = EVENT_PLUGINS[event];
    for (const qp of [...this.unschedulable.values()]) {
      if (plugins !== "*" && qp.unschedulablePlugins.size > 0) {
        let hit = false;
        for (const p of qp.unschedulablePlugins) if (plugins.has(p)) hit = true;
        if (!hit) continue;
      }
      this.unschedulable.delete(qp.key);
      if (this.isBackingOff(qp)) this.toBackoff(qp);
      else this.toActive(qp);
    }
  }

  /** Stops timers and wakes a waiting `pop`. */
  close(): void {
    this.closed = true;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.waiter?.();
  }

  /** Upstream's backoff: initial × 2^(attempts−1), capped. */
  backoffDuration(attempts: number): number {
    let d = this.initialBackoffMs;
    for (let i = 1; i < attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoffMs) return this.maxBackoffMs;
    }
    return Math.min(d, this.maxBackoffMs);
  }

  private isBackingOff(qp: QueuedPod): boolean {
    return qp.backoffExpiry > this.now();
  }

  private stamp(): number {
    // Strictly increasing even within one millisecond, so FIFO holds.
    return this.now() * 1000 + (this.seq++ % 1000);
  }

  private leave(qp: QueuedPod): void {
    if (qp.where === "active") this.activeCount--;
    else if (qp.where === "backoff") this.backoffCount--;
    else if (qp.where === "unschedulable") this.unschedulable.delete(qp.key);
  }

  private toActive(qp: QueuedPod): void {
    this.leave(qp);
    qp.where = "active";
    qp.gen++;
    qp.timestamp = this.stamp();
    this.active.push({ qp, gen: qp.gen });
    this.activeCount++;
    this.waiter?.();
  }

  private toBackoff(qp: QueuedPod): void {
    this.leave(qp);
    qp.where = "backoff";
    qp.gen++;
    this.backoff.push({ qp, gen: qp.gen });
    this.backoffCount++;
    this.armBackoff();
  }

  private armBackoff(): void {
    for (;;) {
      const top = this.backoff.peek();
      if (!top) return;
      if (top.gen !== top.qp.gen || top.qp.where !== "backoff") {
        this.backoff.pop();
        continue;
      }
      if (top.qp.backoffExpiry >= this.backoffTimerAt && this.backoffTimer) return;
      if (this.backoffTimer) clearTimeout(this.backoffTimer);
      if (this.closed) return;
      this.backoffTimerAt = top.qp.backoffExpiry;
      this.backoffTimer = setTimeout(
        () => this.flushBackoff(),
        Math.max(0, top.qp.backoffExpiry - this.now()),
      );
      return;
    }
  }

  /** Moves every pod whose backoff expired to the active queue. */
  flushBackoff(): void {
    this.backoffTimer = null;
    this.backoffTimerAt = Infinity;
    const now = this.now();
    for (;;) {
      const top = this.backoff.peek();
      if (!top) break;
      if (top.gen !== top.qp.gen || top.qp.where !== "backoff") {
        this.backoff.pop();
        continue;
      }
      if (top.qp.backoffExpiry > now) break;
      this.backoff.pop();
      this.toActive(top.qp);
    }
    this.armBackoff();
  }

  private armFlush(): void {
    if (this.flushTimer || this.closed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flushUnschedulableLeftover();
    }, 30_000);
    this.flushTimer.unref();
  }

  /** Retries pods that sat unschedulable longer than the limit (upstream, every 30 s). */
  flushUnschedulableLeftover(): void {
    const now = this.now();
    for (const qp of [...this.unschedulable.values()]) {
      if (now - qp.unschedulableSince < this.maxUnschedulableMs) continue;
      this.unschedulable.delete(qp.key);
      if (this.isBackingOff(qp)) this.toBackoff(qp);
      else this.toActive(qp);
    }
    if (this.unschedulable.size) this.armFlush();
  }
}
