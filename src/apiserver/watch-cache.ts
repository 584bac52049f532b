/**
 * @module The apiserver's per-resource watch cache: one list and one datastore watch per
 * resource, kept in memory so that lists and any number of watches are served without
 * touching the datastore. Every object is held parsed and serialized once (with its
 * resourceVersion), so a list response or a watch event is string concatenation. A window of
 * recent events lets a watch resume from a resourceVersion; older ones get 410 Expired.
 */
import type { Backend, WatchEvent as StoreEvent } from "../storage/backend.ts";
import type { KubeObject } from "../api/object.ts";
import { StatusError } from "../api/status-error.ts";
import type { CachedObject, Codec } from "./registry/codec.ts";

export type { CachedObject };

export type CacheEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface CacheEvent {
  type: CacheEventType;
  /** For DELETED: the last state, with the delete's resourceVersion. */
  cur: CachedObject;
  /** The state before (absent for ADDED). */
  prev: CachedObject | undefined;
  rev: number;
}

/** Decides which objects a watcher sees. */
export type ObjectFilter = (obj: KubeObject) => boolean;

export interface CacheWatcher {
  /** Only keys under this prefix (a namespace) are considered. */
  prefix: string;
  filter: ObjectFilter;
  /** Receives events in order; the cache never calls it after `stop`. */
  send(type: CacheEventType, o: CachedObject): void;
  /** The cache could not keep up or stopped: the watch must end. */
  close(reason: Error): void;
}

/** Raised when a watch asks for a resourceVersion older than the cache's window. */
export class TooOldError extends Error {
  constructor(
    readonly requested: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}

/** How many recent events a cache keeps for watches that resume from a resourceVersion. */
const DEFAULT_HISTORY = 10_000;

/** The cache of one resource (one storage prefix). */
export class WatchCache {
  private readonly items = new Map<string, CachedObject>();
  private sortedKeys: string[] | null = null;
  /** Ring of recent events, oldest first from `historyStart`. */
  private readonly history: (CacheEvent | undefined)[];
  private historyStart = 0;
  private historyLen = 0;
  /** The resourceVersion from which the history is complete (events after it are kept). */
  private windowStart = 0;
  private readonly watchers = new Set<CacheWatcher>();
  private waiters: { rev: number; resolve: () => void }[] = [];
  /** The revision the cache reflects. */
  rev = 0;
  readonly ready: Promise<void>;
  private failed: Error | undefined;

  constructor(
    private readonly backend: Backend,
    readonly prefix: string,
    private readonly signal: AbortSignal,
    private readonly codec: Codec,
    private readonly historySize = DEFAULT_HISTORY,
  ) {
    this.history = new Array<CacheEvent | undefined>(historySize);
    this.ready = this.start();
  }

  private async start(): Promise<void> {
    const res = await this.backend.list(this.prefix);
    for (const kv of res.kvs) this.items.set(kv.key, this.codec.decode(kv));
    this.rev = res.revision;
    this.windowStart = res.revision;
    this.backend.watch(
      this.prefix,
      { afterRevision: res.revision, signal: this.signal },
      {
        onEvents: (events) => this.apply(events),
        onError: (err) => this.fail(err),
        onProgress: (rev) => this.advance(rev),
      },
    );
  }

  private fail(err: Error): void {
    if (this.signal.aborted) return;
    this.failed = err;
    for (const w of this.watchers) w.close(err);
    this.watchers.clear();
  }

  private apply(events: StoreEvent[]): void {
    for (const ev of events) {
      const rev = ev.kv.modRevision;
      const prev = this.items.get(ev.kv.key);
      let ce: CacheEvent;
      if (ev.type === "delete") {
        this.items.delete(ev.kv.key);
        this.sortedKeys = null;
        ce = { type: "DELETED", cur: this.codec.decode(ev.kv, rev), prev, rev };
      } else {
        const cur = this.codec.decode(ev.kv);
        if (!prev) this.sortedKeys = null;
        this.items.set(ev.kv.key, cur);
        ce = { type: prev ? "MODIFIED" : "ADDED", cur, prev, rev };
      }
      this.record(ce);
      this.rev = rev;
      for (const w of this.watchers) dispatch(w, ce);
    }
    this.wakeWaiters();
  }

  /** The datastore reports no change under the prefix up to `rev`. */
  private advance(rev: number): void {
    if (rev <= this.rev) return;
    this.rev = rev;
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    if (this.waiters.length) {
      const still = [];
      for (const w of this.waiters)
        if (w.rev <= this.rev) w.resolve();
        else still.push(w);
      this.waiters = still;
    }
  }

  private record(ev: CacheEvent): void {
    const size = this.historySize;
    if (this.historyLen < size) {
      this.history[(this.historyStart + this.historyLen) % size] = ev;
      this.historyLen++;
    } else {
      const dropped = this.history[this.historyStart]!;
      this.windowStart = dropped.rev;
      this.history[this.historyStart] = ev;
      this.historyStart = (this.historyStart + 1) % size;
    }
  }

  /** Resolves once the cache has seen every change up to `rev` (a consistent read). */
  async waitFor(rev: number, timeoutMs = 3000): Promise<void> {
    await this.ready;
    if (this.failed) throw this.failed;
    if (this.rev >= rev) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        // Upstream's answer to a resourceVersion the store has not reached: 504, retry later.
        const err = new StatusError(
          504,
          "Timeout",
          `Too large resource version: ${rev}, current: ${this.rev}`,
          {
            causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
            retryAfterSeconds: 1,
          },
        );
        reject(err);
      }, timeoutMs);
      this.waiters.push({
        rev,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  /** A consistent read: waits until the cache holds everything the datastore has now. */
  async sync(): Promise<void> {
    await this.ready;
    const current = await this.backend.currentRevision();
    if (this.rev < current) this.backend.requestProgress();
    await this.waitFor(current);
  }

  get(key: string): CachedObject | undefined {
    return this.items.get(key);
  }

  /** Objects under `prefix` (in key order) that pass `filter`. */
  list(prefix: string, filter?: ObjectFilter): CachedObject[] {
    if (!this.sortedKeys) this.sortedKeys = [...this.items.keys()].sort();
    const keys = this.sortedKeys;
    let i = prefix === this.prefix ? 0 : lowerBound(keys, prefix);
    const out: CachedObject[] = [];
    for (; i < keys.length; i++) {
      const k = keys[i]!;
      if (!k.startsWith(prefix)) break;
      const o = this.items.get(k)!;
      if (!filter || filter(o.obj)) out.push(o);
    }
    return out;
  }

  /**
   * Starts a watch after `afterRev`. With `initial` (a watch without a resourceVersion, or
   * with "0"), the current objects are sent first as ADDED, as upstream does.
   */
  watch(w: CacheWatcher, afterRev: number | "initial"): () => void {
    if (this.failed) throw this.failed;
    if (afterRev === "initial") {
      for (const o of this.list(w.prefix)) if (w.filter(o.obj)) w.send("ADDED", o);
    } else if (afterRev < this.rev) {
      if (afterRev < this.windowStart) throw new TooOldError(afterRev, this.windowStart + 1);
      for (let i = 0; i < this.historyLen; i++) {
        const ev = this.history[(this.historyStart + i) % this.historySize]!;
        if (ev.rev > afterRev) dispatch(w, ev);
      }
    }
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  get watcherCount(): number {
    return this.watchers.size;
  }
}

/** Sends one event to a watcher, turning it into ADDED/DELETED when the object enters or leaves its filter. */
function dispatch(w: CacheWatcher, ev: CacheEvent): void {
  if (!ev.cur.key.startsWith(w.prefix)) return;
  if (ev.type === "ADDED") {
    if (w.filter(ev.cur.obj)) w.send("ADDED", ev.cur);
    return;
  }
  if (ev.type === "DELETED") {
    if (w.filter(ev.cur.obj) || (ev.prev && w.filter(ev.prev.obj))) w.send("DELETED", ev.cur);
    return;
  }
  const now = w.filter(ev.cur.obj);
  const before = ev.prev ? w.filter(ev.prev.obj) : false;
  if (now && before) w.send("MODIFIED", ev.cur);
  else if (now) w.send("ADDED", ev.cur);
  else if (before) w.send("DELETED", ev.cur);
}

function lowerBound(keys: string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
