/**
 * @module The proxier: keeps the `ip kites-proxy` table in step with Services and
 * EndpointSlices (upstream kube-proxy's nftables Proxier, made incremental). Informer events
 * only mark a Service dirty; a sync runs shortly after (changes within `debounceMs`
 * coalesce, syncs are at least `minSyncIntervalMs` apart and never overlap, so a burst of
 * 1,000 endpoint updates costs a handful of nft runs). A sync renders each dirty Service,
 * diffs it against what it applied last, and sends only the difference as one `nft -f -`
 * transaction. The first sync (and any sync after a failure) recreates the whole table in
 * one transaction. Map keys two Services both claim (two LoadBalancers on one node port)
 * go to the first; the other gets them when they are released.
 */
import type { Service } from "../api/types/core-v1.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import { objectKey, type Informer } from "../client/informer.ts";
import type { NftRunner } from "./nft-runner.ts";
import {
  HAIRPIN_SET,
  NO_ENDPOINT_NODEPORTS_MAP,
  SERVICE_NODEPORTS_MAP,
  renderBase,
  renderService,
  type BaseConfig,
  type RenderConfig,
  type RenderedService,
} from "./render.ts";
import {
  staleConntrackEntries,
  udpPorts,
  type ConntrackCleaner,
  type ConntrackDeletion,
} from "./conntrack.ts";
import { SERVICE_NAME_LABEL, servicePorts, type ServicePortInfo } from "./service-ports.ts";
import { Transaction, diffService } from "./transaction.ts";

/** Index of EndpointSlices by `namespace/service-name`. */
export const SLICES_BY_SERVICE = "kites-proxy/service";

/** What one applied sync did (for benchmarks, metrics and tests). */
export interface SyncResult {
  full: boolean;
  /** The Services this sync looked at. */
  services: string[];
  /** Wall time of the sync (render + nft) in ms. */
  ms: number;
  /** False when nothing had changed and nft was not run. */
  changed: boolean;
}

export interface ProxierOptions {
  services: Informer<Service>;
  slices: Informer<EndpointSlice>;
  runner: NftRunner;
  render?: RenderConfig;
  base?: BaseConfig;
  /**
   * This node's name: endpoints with this `nodeName` are local for the Local traffic
   * policies. Undefined: every endpoint counts as local (a one-node cluster).
   */
  nodeName?: string;
  /**
   * Deletes stale UDP conntrack entries after a sync (see conntrack.ts); absent: never.
   * Not run for the first full sync, which has nothing to compare with.
   */
  conntrack?: ConntrackCleaner;
  /** Wait this long after a change before syncing, to gather a burst (default 2 ms). */
  debounceMs?: number;
  /** Minimum time between the starts of two syncs (default 0). */
  minSyncIntervalMs?: number;
  /** How long a retired chain stays (flushed) before it is deleted (default 1,000 ms). */
  staleChainDelayMs?: number;
  log?: (msg: string) => void;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

function ownershipKey(map: string, key: string): string {
  // A port is either served or rejected: the service map and its no-endpoint twin share keys.
  // Hairpin pairs are shared by every Service with that endpoint: the first holds it, the
  // others wait and take it over when it is released.
  const group =
    map === HAIRPIN_SET
      ? "hairpin"
      : map === SERVICE_NODEPORTS_MAP || map === NO_ENDPOINT_NODEPORTS_MAP
        ? "nodeport"
        : "ip";
  return `${group}\t${key}`;
}

export class Proxier {
  /** Counters and the last timings. */
  readonly stats = { fullSyncs: 0, partialSyncs: 0, failures: 0, lastFullSyncMs: 0, lastSyncMs: 0 };
  lastError: unknown;
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly runner: NftRunner;
  private readonly renderCfg: RenderConfig;
  private readonly baseCfg: BaseConfig;
  private readonly nodeName: string | undefined;
  private readonly conntrack: ConntrackCleaner | undefined;
  /** The UDP ports each Service had at the last applied sync (for conntrack clean-up). */
  private readonly appliedUDP = new Map<string, ServicePortInfo[]>();
  /** UDP ports of the Services rendered by the sync in progress. */
  private renderedUDP = new Map<string, ServicePortInfo[]>();
  private readonly debounceMs: number;
  private readonly minIntervalMs: number;
  private readonly staleDelayMs: number;
  private readonly log: (msg: string) => void;

  private readonly applied = new Map<string, RenderedService>();
  private readonly dirty = new Set<string>();
  private readonly owners = new Map<string, string>();
  private readonly waiters = new Map<string, Set<string>>();
  private readonly staleChains = new Map<string, number>();
  private fullSyncNeeded = true;
  private initialized = false;
  private stopped = false;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private lastSyncStart = 0;
  private retryMs = RETRY_MIN_MS;
  private idleWaiters: (() => void)[] = [];
  private readonly listeners: ((r: SyncResult) => void)[] = [];
  private inflight: Promise<void> | undefined;

  constructor(o: ProxierOptions) {
    this.services = o.services;
    this.slices = o.slices;
    this.runner = o.runner;
    this.renderCfg = o.render ?? {};
    this.baseCfg = o.base ?? {};
    this.nodeName = o.nodeName;
    this.conntrack = o.conntrack;
    this.debounceMs = o.debounceMs ?? 2;
    this.minIntervalMs = o.minSyncIntervalMs ?? 0;
    this.staleDelayMs = o.staleChainDelayMs ?? 1000;
    this.log = o.log ?? ((m) => console.error(`kites-proxy: ${m}`));
    this.slices.addIndex(SLICES_BY_SERVICE, (s) => {
      const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
      return svc ? [`${s.metadata.namespace ?? ""}/${svc}`] : [];
    });
    const sliceKey = (s: EndpointSlice): string | undefined => {
      const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
      return svc ? `${s.metadata.namespace ?? ""}/${svc}` : undefined;
    };
    this.services.addHandlers({
      add: (s) => this.markDirty(objectKey(s)),
      update: (_, s) => this.markDirty(objectKey(s)),
      delete: (s) => this.markDirty(objectKey(s)),
    });
    this.slices.addHandlers({
      add: (s) => this.markDirty(sliceKey(s)),
      update: (old, s) => {
        const a = sliceKey(old);
        const b = sliceKey(s);
        this.markDirty(b);
        if (a !== b) this.markDirty(a);
      },
      delete: (s) => this.markDirty(sliceKey(s)),
    });
  }

  /** Called with every applied sync. */
  onSync(fn: (r: SyncResult) => void): void {
    this.listeners.push(fn);
  }

  /**
   * Starts the informers (if not yet), waits for their first lists, and applies the full
   * table; resolves once it is in the kernel, rejects if that first sync fails.
   */
  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener("abort", () => this.stop(), { once: true });
    this.services.start(signal);
    this.slices.start(signal);
    await Promise.all([this.services.synced, this.slices.synced]);
    if (this.stopped) return;
    this.initialized = true;
    this.running = true;
    try {
      await this.fullSync();
    } finally {
      this.running = false;
    }
    this.afterSync();
  }

  /** Stops syncing (in-flight nft runs finish). The table is left as it is. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.staleTimer);
    this.timer = undefined;
    this.staleTimer = undefined;
    this.releaseIdle();
  }

  /** Stops, then waits for an nft run in flight to end (so nothing writes after). */
  async shutdown(): Promise<void> {
    this.stop();
    while (this.inflight) await this.inflight.catch(() => undefined);
  }

  /** Runs one nft transaction, tracked so `shutdown` can wait for it. */
  private async apply(text: string): Promise<void> {
    const p = this.runner.apply(text);
    this.inflight = p;
    try {
      await p;
    } finally {
      if (this.inflight === p) this.inflight = undefined;
    }
  }

  /** Resolves when no change is waiting and no sync is running (or the proxier stopped). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** What the table holds for one Service (for tests and benchmarks); undefined: nothing. */
  appliedFor(key: string): RenderedService | undefined {
    return this.applied.get(key);
  }

  private isIdle(): boolean {
    return (
      this.stopped ||
      (this.initialized && !this.running && !this.timer && this.dirty.size === 0 && !this.fullSyncNeeded)
    );
  }

  private releaseIdle(): void {
    if (!this.isIdle()) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private markDirty(key: string | undefined): void {
    if (!key || this.stopped) return;
    this.dirty.add(key);
    this.schedule(this.debounceMs);
  }

  private schedule(delayMs: number): void {
    if (!this.initialized || this.stopped || this.running || this.timer) return;
    const wait = Math.max(delayMs, this.lastSyncStart + this.minIntervalMs - Date.now(), 0);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runSync();
    }, wait);
  }

  private async runSync(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    let failed = false;
    try {
      if (this.fullSyncNeeded) await this.fullSync();
      else if (this.dirty.size > 0) await this.partialSync();
      this.retryMs = RETRY_MIN_MS;
    } catch (e) {
      failed = true;
      this.stats.failures++;
      this.lastError = e;
      this.fullSyncNeeded = true;
      this.log(
        `sync failed, full resync in ${this.retryMs} ms: ${e instanceof Error ? e.message : String(e)}`,
      );
    } finally {
      this.running = false;
    }
    if (failed) {
      const delay = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      this.schedule(delay);
    } else {
      this.afterSync();
    }
  }

  private afterSync(): void {
    if (this.dirty.size > 0 || this.fullSyncNeeded) this.schedule(this.debounceMs);
    this.scheduleStaleCleanup();
    this.releaseIdle();
  }

  /** Renders one Service and drops map keys another Service already owns. */
  private renderKey(key: string): RenderedService | undefined {
    const svc = this.services.getByKey(key);
    if (!svc) return undefined;
    const ports = servicePorts(svc, this.slices.byIndex(SLICES_BY_SERVICE, key), this.nodeName);
    if (this.conntrack) {
      const udp = udpPorts(ports);
      if (udp.length > 0) this.renderedUDP.set(key, udp);
    }
    if (ports.length === 0) return undefined;
    const out = renderService(ports, this.renderCfg);
    for (const [k, e] of out.elements) {
      const ok = ownershipKey(e.map, e.key);
      const owner = this.owners.get(ok);
      if (owner !== undefined && owner !== key) {
        out.elements.delete(k);
        let w = this.waiters.get(ok);
        if (!w) this.waiters.set(ok, (w = new Set()));
        w.add(key);
      }
    }
    return out;
  }

  /** Records the keys `next` claims and frees those `prev` held; returns Services to retry. */
  private updateOwners(
    key: string,
    prev: RenderedService | undefined,
    next: RenderedService | undefined,
  ): void {
    if (next) for (const e of next.elements.values()) this.owners.set(ownershipKey(e.map, e.key), key);
    if (!prev) return;
    for (const e of prev.elements.values()) {
      const ok = ownershipKey(e.map, e.key);
      if (next?.elements.has(`${e.map}\t${e.key}`)) continue;
      // The twin map may now hold the same key for this Service (endpoints came or went).
      if (this.owners.get(ok) === key && !this.claims(next, ok)) {
        this.owners.delete(ok);
        const w = this.waiters.get(ok);
        if (w) {
          this.waiters.delete(ok);
          for (const s of w) if (s !== key) this.dirty.add(s);
        }
      }
    }
  }

  private claims(r: RenderedService | undefined, ok: string): boolean {
    if (!r) return false;
    for (const e of r.elements.values()) if (ownershipKey(e.map, e.key) === ok) return true;
    return false;
  }

  private async fullSync(): Promise<void> {
    const start = Date.now();
    this.lastSyncStart = start;
    this.fullSyncNeeded = false;
    this.dirty.clear();
    this.owners.clear();
    this.waiters.clear();
    const tx = new Transaction();
    tx.prologue.push(...renderBase(this.baseCfg));
    this.renderedUDP = new Map();
    const next = new Map<string, RenderedService>();
    for (const svc of this.services.list()) {
      const key = objectKey(svc);
      const r = this.renderKey(key);
      if (!r) continue;
      this.updateOwners(key, undefined, r);
      diffService(undefined, r, tx);
      next.set(key, r);
    }
    try {
      await this.apply(tx.text());
    } catch (e) {
      this.fullSyncNeeded = true;
      throw e;
    }
    this.applied.clear();
    for (const [k, r] of next) this.applied.set(k, r);
    this.staleChains.clear();
    if (this.conntrack) {
      const first = this.stats.fullSyncs === 0;
      const keys = new Set([...this.appliedUDP.keys(), ...this.renderedUDP.keys()]);
      const deletions = first ? [] : this.udpChanges(keys);
      this.appliedUDP.clear();
      for (const [k, u] of this.renderedUDP) this.appliedUDP.set(k, u);
      await this.cleanConntrack(deletions);
    }
    const ms = Date.now() - start;
    this.stats.fullSyncs++;
    this.stats.lastFullSyncMs = ms;
    this.stats.lastSyncMs = ms;
    this.emit({ full: true, services: [...next.keys()], ms, changed: true });
  }

  private async partialSync(): Promise<void> {
    const start = Date.now();
    this.lastSyncStart = start;
    const keys = [...this.dirty];
    this.dirty.clear();
    this.renderedUDP = new Map();
    const tx = new Transaction();
    const results: [string, RenderedService | undefined][] = [];
    for (const key of keys) {
      const prev = this.applied.get(key);
      const next = this.renderKey(key);
      diffService(prev, next, tx);
      this.updateOwners(key, prev, next);
      results.push([key, next]);
    }
    const changed = !tx.empty;
    if (changed) {
      try {
        await this.apply(tx.text());
      } catch (e) {
        for (const k of keys) this.dirty.add(k);
        throw e;
      }
    }
    for (const [key, r] of results) {
      if (r) this.applied.set(key, r);
      else this.applied.delete(key);
    }
    if (this.conntrack) {
      const deletions = this.udpChanges(keys);
      for (const key of keys) {
        const u = this.renderedUDP.get(key);
        if (u) this.appliedUDP.set(key, u);
        else this.appliedUDP.delete(key);
      }
      await this.cleanConntrack(deletions);
    }
    const now = Date.now();
    for (const c of tx.liveChains) this.staleChains.delete(c);
    for (const c of tx.staleChains) this.staleChains.set(c, now);
    const ms = now - start;
    this.stats.partialSyncs++;
    this.stats.lastSyncMs = ms;
    this.emit({ full: false, services: keys, ms, changed });
  }

  /** The conntrack deletions the Services `keys` call for (applied UDP ports → rendered). */
  private udpChanges(keys: Iterable<string>): ConntrackDeletion[] {
    const out: ConntrackDeletion[] = [];
    for (const key of keys) {
      const prev = this.appliedUDP.get(key) ?? [];
      const next = this.renderedUDP.get(key) ?? [];
      if (prev.length === 0 && next.length === 0) continue;
      out.push(...staleConntrackEntries(prev, next));
    }
    return out;
  }

  private async cleanConntrack(deletions: readonly ConntrackDeletion[]): Promise<void> {
    if (!this.conntrack || deletions.length === 0) return;
    try {
      await this.conntrack(deletions);
    } catch (e) {
      this.log(`conntrack clean-up failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private emit(r: SyncResult): void {
    for (const f of this.listeners) {
      try {
        f(r);
      } catch (e) {
        this.log(`sync listener failed: ${String(e)}`);
      }
    }
  }

  private scheduleStaleCleanup(): void {
    if (this.staleChains.size === 0 || this.staleTimer || this.stopped) return;
    let oldest = Infinity;
    for (const t of this.staleChains.values()) oldest = Math.min(oldest, t);
    const wait = Math.max(0, oldest + this.staleDelayMs - Date.now());
    this.staleTimer = setTimeout(() => {
      this.staleTimer = undefined;
      void this.deleteStaleChains();
    }, wait);
    this.staleTimer.unref();
  }

  private async deleteStaleChains(): Promise<void> {
    if (this.stopped) return;
    if (this.running || this.fullSyncNeeded) {
      this.scheduleStaleCleanupLater();
      return;
    }
    const due = Date.now() - this.staleDelayMs;
    const names = [...this.staleChains].filter(([, t]) => t <= due).map(([n]) => n);
    if (names.length === 0) return this.scheduleStaleCleanup();
    const tx = new Transaction();
    for (const n of names) tx.deleteChain(n);
    this.running = true;
    try {
      await this.apply(tx.text());
    } catch (e) {
      // Harmless: an empty chain stays until the next full sync recreates the table.
      this.log(`deleting ${names.length} stale chains failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.running = false;
    }
    for (const n of names) this.staleChains.delete(n);
    this.afterSync();
  }

  private scheduleStaleCleanupLater(): void {
    if (this.staleTimer || this.stopped) return;
    this.staleTimer = setTimeout(() => {
      this.staleTimer = undefined;
      void this.deleteStaleChains();
    }, this.staleDelayMs);
    this.staleTimer.unref();
  }
}
