/**
 * @module The upstreams behind Ingress backends: for each Service port an Ingress names, the
 * ready endpoints (pod IP and port) read from the Service and its EndpointSlices, with a
 * round-robin cursor. The port an Ingress gives (number or name) is resolved against
 * `Service.spec.ports`, then matched by name to the EndpointSlice ports, which hold the
 * target port each pod actually listens on. Endpoints whose `conditions.ready` is false are
 * left out (absent means ready, as upstream reads it). Every distinct pod IP:port gets one
 * keep-alive `UpstreamPool` (undici), shared by all backends and closed when none uses it.
 * A change to a Service or one of its slices refreshes only the pools of that Service.
 */
import type { Service } from "../api/types/core-v1.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import type { Informer } from "../client/informer.ts";
import type { BackendHandles, BackendRef } from "./route-table.ts";
import { UpstreamPool, type PoolOptions } from "./upstream-pool.ts";

/** One pod endpoint the proxy can forward to. */
export interface Upstream {
  /** `ip:port` (IPv6 in brackets). */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  /** Keep-alive connections to this endpoint. */
  readonly pool: UpstreamPool;
}

/** The ready endpoints of one Service port, handed out round-robin. */
export class BackendPool {
  /** Ready endpoints, in slice order. */
  endpoints: readonly Upstream[] = [];
  /** Why there are no endpoints (for the 503 body and logs); "" when there are. */
  reason = "";
  /** Routes using this pool. */
  refs = 0;
  private cursor = 0;

  constructor(
    readonly ref: BackendRef,
    readonly key: string,
  ) {}

  /** The next endpoint in turn, or undefined when none is ready. */
  next(): Upstream | undefined {
    const eps = this.endpoints;
    const n = eps.length;
    if (n === 0) return undefined;
    let i = this.cursor;
    if (i >= n) i = 0;
    this.cursor = i + 1;
    return eps[i];
  }
}

const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
const SLICES_BY_SERVICE = "ingress/service";

const poolKey = (ref: BackendRef): string => `${ref.namespace}/${ref.service}:${ref.port}`;

export class BackendPools implements BackendHandles<BackendPool> {
  private readonly pools = new Map<string, BackendPool>();
  private readonly byService = new Map<string, Set<BackendPool>>();
  private readonly upstreams = new Map<string, { up: Upstream; refs: number }>();
  private closed = false;

  constructor(
    private readonly services: Informer<Service>,
    private readonly slices: Informer<EndpointSlice>,
    private readonly poolOptions: PoolOptions = {},
  ) {
    slices.addIndex(SLICES_BY_SERVICE, (s) => {
      const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
      return svc ? [`${s.metadata.namespace ?? ""}/${svc}`] : [];
    });
    const onService = (s: Service): void =>
      this.serviceChanged(`${s.metadata.namespace ?? ""}/${s.metadata.name}`);
    services.addHandlers({ add: onService, update: (_, s) => onService(s), delete: onService });
    const onSlice = (s: EndpointSlice): void => {
      const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
      if (svc) this.serviceChanged(`${s.metadata.namespace ?? ""}/${svc}`);
    };
    slices.addHandlers({
      add: onSlice,
      update: (old, s) => {
        onSlice(s);
        if (old.metadata.labels?.[SERVICE_NAME_LABEL] !== s.metadata.labels?.[SERVICE_NAME_LABEL])
          onSlice(old);
      },
      delete: onSlice,
    });
  }

  /** Number of pools in use (for tests and metrics). */
  get size(): number {
    return this.pools.size;
  }

  acquire(ref: BackendRef): BackendPool {
    const key = poolKey(ref);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new BackendPool(ref, key);
      this.pools.set(key, pool);
      const svcKey = `${ref.namespace}/${ref.service}`;
      let set = this.byService.get(svcKey);
      if (!set) this.byService.set(svcKey, (set = new Set()));
      set.add(pool);
      this.refresh(pool);
    }
    pool.refs++;
    return pool;
  }

  release(pool: BackendPool): void {
    if (--pool.refs > 0) return;
    this.pools.delete(pool.key);
    const svcKey = `${pool.ref.namespace}/${pool.ref.service}`;
    const set = this.byService.get(svcKey);
    set?.delete(pool);
    if (set?.size === 0) this.byService.delete(svcKey);
    this.setEndpoints(pool, [], "");
  }

  /** Closes every keep-alive connection; pools stay empty afterwards. */
  close(): void {
    this.closed = true;
    for (const pool of this.pools.values()) this.setEndpoints(pool, [], "shutting down");
    for (const { up } of this.upstreams.values()) up.pool.close();
    this.upstreams.clear();
  }

  private serviceChanged(svcKey: string): void {
    const set = this.byService.get(svcKey);
    if (set) for (const pool of set) this.refresh(pool);
  }

  /** Re-resolves a pool's endpoints from the Service and its EndpointSlices. */
  private refresh(pool: BackendPool): void {
    if (this.closed) return;
    const { namespace, service, port } = pool.ref;
    const svc = this.services.get(namespace, service);
    if (!svc) return this.setEndpoints(pool, [], `service "${namespace}/${service}" not found`);
    const svcPort = (svc.spec?.ports ?? []).find((p) =>
      typeof port === "number" ? p.port === port : p.name === port,
    );
    if (!svcPort) {
      return this.setEndpoints(
        pool,
        [],
        `service "${namespace}/${service}" has no port ${JSON.stringify(port)}`,
      );
    }
    if ((svcPort.protocol ?? "TCP") !== "TCP") {
      return this.setEndpoints(pool, [], `service "${namespace}/${service}" port ${port} is not TCP`);
    }
    const portName = svcPort.name ?? "";
    const keys: string[] = [];
    const seen = new Set<string>();
    for (const slice of this.slices.byIndex(SLICES_BY_SERVICE, `${namespace}/${service}`)) {
      if (slice.addressType !== "IPv4" && slice.addressType !== "IPv6") continue;
      const sp = (slice.ports ?? []).find(
        (p) => (p.name ?? "") === portName && (p.protocol ?? "TCP") === "TCP",
      );
      if (sp?.port === undefined) continue;
      for (const ep of slice.endpoints ?? []) {
        if (ep.conditions?.ready === false) continue;
        const ip = ep.addresses?.[0];
        if (!ip) continue;
        const key = slice.addressType === "IPv6" ? `[${ip}]:${sp.port}` : `${ip}:${sp.port}`;
        if (seen.has(key)) continue;
        seen.add(key);
        keys.push(key);
      }
    }
    this.setEndpoints(
      pool,
      keys,
      keys.length === 0 ? `no ready endpoints for service "${namespace}/${service}" port ${port}` : "",
    );
  }

  private setEndpoints(pool: BackendPool, keys: readonly string[], reason: string): void {
    pool.reason = reason;
    const old = pool.endpoints;
    if (old.length === keys.length && old.every((u, i) => u.key === keys[i])) return;
    const next = keys.map((k) => this.acquireUpstream(k));
    pool.endpoints = next;
    for (const u of old) this.releaseUpstream(u);
  }

  private acquireUpstream(key: string): Upstream {
    let e = this.upstreams.get(key);
    if (!e) {
      const colon = key.lastIndexOf(":");
      let host = key.slice(0, colon);
      if (host.startsWith("[")) host = host.slice(1, -1);
      const pool = new UpstreamPool(key, this.poolOptions);
      e = { up: { key, host, port: Number(key.slice(colon + 1)), pool }, refs: 0 };
      this.upstreams.set(key, e);
    }
    e.refs++;
    return e.up;
  }

  private releaseUpstream(u: Upstream): void {
    const e = this.upstreams.get(u.key);
    if (!e || e.up !== u || --e.refs > 0) return;
    this.upstreams.delete(u.key);
    // In-flight requests finish on their connections, which then close; idle ones close now.
    u.pool.close();
  }
}
