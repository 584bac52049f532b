/**
 * @module Informers: a local cache of one resource kept current by list + watch (client-go's
 * reflector, store and indexer in one class), with event handlers and secondary indexes.
 * A watch that ends is resumed from the last revision seen; a 410 (revision compacted)
 * triggers a fresh list whose differences are delivered as adds, updates and deletes, so
 * handlers never miss a change. Cached objects are shared by every reader: treat them as
 * read-only and clone before changing.
 */
import type { KubeObject } from "../api/object.ts";
import type { Client, ResourceClient, WatchEvent } from "./types.ts";

export interface EventHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  /** Receives the last state the cache held. */
  delete?(obj: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

type IndexFn<T> = (obj: T) => readonly string[];

interface Index<T> {
  fn: IndexFn<T>;
  byValue: Map<string, Set<string>>;
}

/** `namespace/name`, or `name` for cluster-scoped objects: the cache and work-queue key. */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : (obj.metadata.name ?? "");
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 30_000;

export class Informer<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly indexes = new Map<string, Index<T>>();
  private readonly handlers: EventHandlers<T>[] = [];
  private resourceVersion = "";
  private started = false;
  private isSynced = false;
  private markSynced!: () => void;
  /** Resolves once the first list is in the cache. */
  readonly synced: Promise<void>;

  constructor(
    readonly client: ResourceClient<T>,
    private readonly opts: InformerOptions = {},
  ) {
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
    this.addIndex("namespace", (o) => [o.metadata.namespace ?? ""]);
  }

  hasSynced(): boolean {
    return this.isSynced;
  }

  /** Registers handlers; objects already cached are delivered to `add` at once. */
  addHandlers(h: EventHandlers<T>): void {
    this.handlers.push(h);
    if (h.add) for (const o of this.items.values()) h.add(o);
  }

  /** Adds a secondary index: `byIndex(name, value)` returns the objects whose `fn` lists value. */
  addIndex(name: string, fn: IndexFn<T>): void {
    const index: Index<T> = { fn, byValue: new Map() };
    this.indexes.set(name, index);
    for (const [key, o] of this.items) this.indexAdd(index, key, o);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  /** Every cached object, or those of one namespace. */
  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.items.values()];
    return this.byIndex("namespace", namespace);
  }

  get size(): number {
    return this.items.size;
  }

  byIndex(name: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`informer for ${this.client.info.resource}: no index "${name}"`);
    const keys = index.byValue.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  /** The revision the cache reflects. */
  get lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  /** Starts list + watch; stops when `signal` aborts. Idempotent. */
  start(signal: AbortSignal): void {
    if (this.started) return;
    this.started = true;
    void this.run(signal);
  }

  private async run(signal: AbortSignal): Promise<void> {
    let delay = RETRY_MIN_MS;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        const expired = await this.watchOnce(signal);
        if (expired) needList = true;
        delay = RETRY_MIN_MS;
      } catch (e) {
        if (signal.aborted) return;
        needList = needList || isGoneError(e);
        await sleep(delay, signal);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  private async relist(): Promise<void> {
    const { namespace, labelSelector, fieldSelector } = this.opts;
    const res = await this.client.list(namespace, {
      ...(labelSelector ? { labelSelector } : {}),
      ...(fieldSelector ? { fieldSelector } : {}),
    });
    const seen = new Set<string>();
    for (const o of res.items) {
      const key = objectKey(o);
      seen.add(key);
      this.upsert(key, o);
    }
    for (const [key, o] of this.items) if (!seen.has(key)) this.remove(key, o);
    this.resourceVersion = res.resourceVersion;
    if (!this.isSynced) {
      this.isSynced = true;
      this.markSynced();
    }
  }

  /** Runs one watch; true when the server said the revision is gone (relist needed). */
  private async watchOnce(signal: AbortSignal): Promise<boolean> {
    const { namespace, labelSelector, fieldSelector } = this.opts;
    const stream = this.client.watch(
      namespace,
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: 300 + Math.floor(Math.random() * 300),
        ...(labelSelector ? { labelSelector } : {}),
        ...(fieldSelector ? { fieldSelector } : {}),
      },
      signal,
    );
    for await (const ev of stream) {
      if (ev.type === "ERROR") {
        const code = (ev.object as unknown as { code?: number }).code;
        if (code === 410) return true;
        throw new Error(`watch ${this.client.info.resource}: ${JSON.stringify(ev.object)}`);
      }
      this.apply(ev);
    }
    return false;
  }

  private apply(ev: WatchEvent<T>): void {
    const o = ev.object;
    const rv = o.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (ev.type === "BOOKMARK") return;
    const key = objectKey(o);
    if (ev.type === "DELETED") {
      const old = this.items.get(key);
      if (old) this.remove(key, o);
      return;
    }
    this.upsert(key, o);
  }

  private upsert(key: string, o: T): void {
    const old = this.items.get(key);
    if (old && old.metadata.resourceVersion === o.metadata.resourceVersion) return;
    if (old) for (const index of this.indexes.values()) this.indexRemove(index, key, old);
    this.items.set(key, o);
    for (const index of this.indexes.values()) this.indexAdd(index, key, o);
    for (const h of this.handlers) {
      if (old) h.update?.(old, o);
      else h.add?.(o);
    }
  }

  private remove(key: string, last: T): void {
    const old = this.items.get(key);
    if (!old) return;
    this.items.delete(key);
    for (const index of this.indexes.values()) this.indexRemove(index, key, old);
    for (const h of this.handlers) h.delete?.(last);
  }

  private indexAdd(index: Index<T>, key: string, o: T): void {
    for (const v of index.fn(o)) {
      let set = index.byValue.get(v);
      if (!set) index.byValue.set(v, (set = new Set()));
      set.add(key);
    }
  }

  private indexRemove(index: Index<T>, key: string, o: T): void {
    for (const v of index.fn(o)) {
      const set = index.byValue.get(v);
      if (!set) continue;
      set.delete(key);
      if (set.size === 0) index.byValue.delete(v);
    }
  }
}

function isGoneError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 410;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** One shared informer per resource (and options), as client-go's SharedInformerFactory. */
export class InformerFactory {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private signal: AbortSignal | undefined;

  constructor(readonly client: Client) {}

  informer<T extends KubeObject = KubeObject>(
    group: string,
    resource: string,
    opts: InformerOptions = {},
  ): Informer<T> {
    const id = `${group}/${resource}?${opts.namespace ?? ""}&${opts.labelSelector ?? ""}&${opts.fieldSelector ?? ""}`;
    let inf = this.informers.get(id);
    if (!inf) {
      inf = new Informer(this.client.resource(group, resource), opts);
      this.informers.set(id, inf);
      if (this.signal) inf.start(this.signal);
    }
    return inf as unknown as Informer<T>;
  }

  /** Starts every informer made so far, and any made later. */
  start(signal: AbortSignal): void {
    this.signal = signal;
    for (const inf of this.informers.values()) inf.start(signal);
  }

  /** Resolves once every informer made so far has listed. */
  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.synced));
  }
}
