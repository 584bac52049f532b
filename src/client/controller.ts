/**
 * @module The one controller loop every reconciler runs in (client-go's work queue plus
 * controller-runtime's Reconciler). Handlers `enqueue` keys; a key waits in the queue at
 * most once, is never processed by two workers at once, and is processed again if it was
 * enqueued while being processed. A reconcile that throws is retried with per-key
 * exponential backoff (5 ms doubling to 1,000 s, upstream's defaults); one that succeeds
 * resets the key's backoff, and may ask to be called again after a delay.
 */
import type { KubeObject } from "../api/object.ts";
import { isConflict } from "../api/status-error.ts";
import { objectKey } from "./informer.ts";

export { objectKey as keyOf } from "./informer.ts";

/** The object a reconcile is about. `namespace` is "" for cluster-scoped objects. */
export interface Request {
  namespace: string;
  name: string;
}

export interface Result {
  /** Reconcile this key again after this long (even on success). */
  requeueAfterMs?: number;
}

export interface ControllerConfig {
  name: string;
  /** Parallel reconciles (different keys); default 1. */
  workers?: number;
  reconcile(req: Request, signal: AbortSignal): Promise<Result | void>;
  /** Called when a reconcile throws (after scheduling the retry); default logs a line. */
  onError?(req: Request, err: unknown): void;
}

/** Counters a controller keeps (exposed for benchmarks and metrics). */
export interface ControllerMetrics {
  reconciles: number;
  errors: number;
  requeues: number;
}

const BASE_DELAY_MS = 5;
const MAX_DELAY_MS = 1_000_000;

export function requestOf(key: string): Request {
  const slash = key.indexOf("/");
  return slash < 0
    ? { namespace: "", name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

function keyOfRequest(req: Request): string {
  return req.namespace ? `${req.namespace}/${req.name}` : req.name;
}

export class Controller {
  readonly name: string;
  readonly metrics: ControllerMetrics = { reconciles: 0, errors: 0, requeues: 0 };
  private readonly queue: string[] = [];
  private qHead = 0;
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private signal: AbortSignal | undefined;
  private active = 0;
  private readonly workers: number;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly config: ControllerConfig) {
    this.name = config.name;
    this.workers = Math.max(1, config.workers ?? 1);
  }

  /** Queues an object (by its key) or a request. */
  enqueue(target: KubeObject | Request | string): void {
    const key =
      typeof target === "string" ? target : "metadata" in target ? objectKey(target) : keyOfRequest(target);
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Queues after `ms`; an earlier pending time for the same key wins. */
  enqueueAfter(target: KubeObject | Request | string, ms: number): void {
    const key =
      typeof target === "string" ? target : "metadata" in target ? objectKey(target) : keyOfRequest(target);
    if (ms <= 0) return this.enqueue(key);
    const at = Date.now() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.enqueue(key);
    }, ms);
    this.timers.set(key, { at, timer });
  }

  /** Starts the workers; stops taking work when `signal` aborts. */
  start(signal: AbortSignal): void {
    this.signal = signal;
    signal.addEventListener(
      "abort",
      () => {
        for (const t of this.timers.values()) clearTimeout(t.timer);
        this.timers.clear();
      },
      { once: true },
    );
    this.pump();
  }

  /** Keys waiting (not counting delayed ones). */
  get length(): number {
    return this.queue.length - this.qHead;
  }

  /** Resolves when nothing is queued or running (delayed keys aside): for tests. */
  idle(): Promise<void> {
    if (this.length === 0 && this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    const signal = this.signal;
    if (!signal || signal.aborted) return;
    while (this.active < this.workers && this.qHead < this.queue.length) {
      const key = this.queue[this.qHead++]!;
      if (this.qHead > 1024 && this.qHead * 2 > this.queue.length) {
        this.queue.splice(0, this.qHead);
        this.qHead = 0;
      }
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      void this.process(key, signal);
    }
    if (this.active === 0 && this.length === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async process(key: string, signal: AbortSignal): Promise<void> {
    const req = requestOf(key);
    this.metrics.reconciles++;
    try {
      const res = await this.config.reconcile(req, signal);
      this.failures.delete(key);
      if (res?.requeueAfterMs !== undefined) {
        this.metrics.requeues++;
        this.enqueueAfter(key, res.requeueAfterMs);
      }
    } catch (err) {
      this.metrics.errors++;
      const n = this.failures.get(key) ?? 0;
      this.failures.set(key, n + 1);
      if (!signal.aborted) {
        this.enqueueAfter(key, Math.min(BASE_DELAY_MS * 2 ** n, MAX_DELAY_MS));
        if (this.config.onError) this.config.onError(req, err);
        // A conflict only means the cache was behind; the retry re-reads. Not worth a line.
        else if (!isConflict(err) && (n < 3 || n % 10 === 0)) {
          console.error(
            `${this.name}: reconcile ${key} failed (attempt ${n + 1}): ${(err as Error).message ?? err}`,
          );
        }
      }
    } finally {
      this.processing.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.enqueue(key);
      this.pump();
    }
  }
}
