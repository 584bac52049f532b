/**
 * @module The route table of the Ingress proxy: served Ingresses compiled into per-host path
 * tables, kept current one Ingress at a time. Changing an Ingress rebuilds only the hosts it
 * names (cost: the paths of those hosts), never the whole table. A lookup costs one or two map
 * reads plus a walk of the matching host's Prefix paths, longest first.
 *
 * Matching follows networking.k8s.io/v1: the request's host picks the rules of that exact host,
 * then of the wildcard covering it (`*.foo.com`, one label), then the rules without a host;
 * inside a host, an Exact path equal to the request path wins (it is the longest possible
 * match, and Exact beats Prefix on equal length), else the longest Prefix path matching element
 * by element (ImplementationSpecific is treated as Prefix). Without a matching path, the
 * `spec.defaultBackend` of an Ingress naming that host applies, then the default backend of the
 * oldest Ingress that has one. Where two Ingresses claim the same host and path, the older one
 * (by creation time, then namespace/name) wins, as in upstream controllers.
 *
 * The table is generic over the backend handle `B` (the proxy's upstream pools; strings in
 * unit tests): it acquires one handle per backend reference and releases it when the route goes.
 */
import { objectKey } from "../client/informer.ts";
import type { Ingress, IngressBackend } from "./ingress-types.ts";
import { hostSuffix, normalizePrefix, prefixMatches, wildcardSuffix } from "./path-match.ts";

/** A Service port an Ingress routes to: `port` is the number or the name of a Service port. */
export interface BackendRef {
  namespace: string;
  service: string;
  port: number | string;
}

/** Creates and releases the handles routes point at (one acquire per reference). */
export interface BackendHandles<B> {
  acquire(ref: BackendRef): B;
  release(handle: B): void;
}

/** One path of one host. `backend` null: the Ingress names no Service backend (answered 503). */
export interface Route<B> {
  readonly backend: B | null;
  /** `namespace/name` of the Ingress. */
  readonly ingress: string;
  readonly pathType: "Exact" | "Prefix" | "Default";
  /** The rule's path (normalized for Prefix). */
  readonly path: string;
}

interface HostRules<B> {
  exact: Route<B>[];
  prefix: Route<B>[];
}

interface CompiledIngress<B> {
  key: string;
  /** Sort key: older Ingresses first, ties by key. */
  order: string;
  /** Host pattern ("" for rules without host, "*.foo.com" for wildcards) → its paths. */
  hosts: Map<string, HostRules<B>>;
  defaultRoute: Route<B> | undefined;
  /** TLS host pattern → Secret key `namespace/name`. */
  tls: Map<string, string>;
  handles: B[];
}

class HostEntry<B> {
  readonly members = new Set<string>();
  exact = new Map<string, Route<B>>();
  prefixes: Route<B>[] = [];
  defaultRoute: Route<B> | undefined;

  match(path: string): Route<B> | undefined {
    if (this.exact.size > 0) {
      const r = this.exact.get(path);
      if (r) return r;
    }
    const prefixes = this.prefixes;
    for (let i = 0; i < prefixes.length; i++) {
      const r = prefixes[i]!;
      if (prefixMatches(r.path, path)) return r;
    }
    return undefined;
  }
}

const byOrder = <B>(a: CompiledIngress<B>, b: CompiledIngress<B>): number =>
  a.order < b.order ? -1 : a.order > b.order ? 1 : 0;

export class RouteTable<B> {
  private readonly compiled = new Map<string, CompiledIngress<B>>();
  /** Exact hosts, and "" for rules without a host. */
  private readonly hosts = new Map<string, HostEntry<B>>();
  /** Wildcard hosts by suffix (`*.foo.com` under `.foo.com`). */
  private readonly wildcards = new Map<string, HostEntry<B>>();
  /** Ingresses with a `spec.defaultBackend`. */
  private readonly withDefault = new Set<string>();
  private globalDefault: Route<B> | undefined;
  private globalKey: string | undefined;
  /** TLS host pattern → Ingresses naming it; and the Secret chosen for it (oldest Ingress). */
  private readonly tlsMembers = new Map<string, Set<string>>();
  private readonly tlsResolved = new Map<string, string>();

  constructor(private readonly handles: BackendHandles<B>) {}

  /** Number of Ingresses in the table. */
  get size(): number {
    return this.compiled.size;
  }

  has(key: string): boolean {
    return this.compiled.has(key);
  }

  /** Keys (`namespace/name`) of the Ingresses in the table. */
  keys(): IterableIterator<string> {
    return this.compiled.keys();
  }

  /** Adds or replaces a served Ingress. */
  set(ing: Ingress): void {
    const next = this.compile(ing);
    const prev = this.compiled.get(next.key);
    this.compiled.set(next.key, next);
    this.reindex(prev, next);
    if (prev) for (const h of prev.handles) this.handles.release(h);
  }

  /** Removes an Ingress (no-op when absent). */
  delete(key: string): void {
    const prev = this.compiled.get(key);
    if (!prev) return;
    this.compiled.delete(key);
    this.reindex(prev, undefined);
    for (const h of prev.handles) this.handles.release(h);
  }

  /** The route for a request host (as `requestHost` returns it) and path; undefined: none (404). */
  lookup(host: string, path: string): Route<B> | undefined {
    const exact = this.hosts.get(host);
    let r = exact?.match(path);
    if (r) return r;
    let wild: HostEntry<B> | undefined;
    if (this.wildcards.size > 0) {
      const suffix = hostSuffix(host);
      wild = suffix === undefined ? undefined : this.wildcards.get(suffix);
      r = wild?.match(path);
      if (r) return r;
    }
    const any = host === "" ? undefined : this.hosts.get("");
    r = any?.match(path);
    if (r) return r;
    return exact?.defaultRoute ?? wild?.defaultRoute ?? any?.defaultRoute ?? this.globalDefault;
  }

  /** The TLS Secret (`namespace/name`) for an SNI server name, exact host before wildcard. */
  tlsSecretFor(serverName: string): string | undefined {
    const exact = this.tlsResolved.get(serverName);
    if (exact !== undefined) return exact;
    const suffix = hostSuffix(serverName);
    return suffix === undefined ? undefined : this.tlsResolved.get(`*${suffix}`);
  }

  private compile(ing: Ingress): CompiledIngress<B> {
    const key = objectKey(ing);
    const ns = ing.metadata.namespace ?? "default";
    const c: CompiledIngress<B> = {
      key,
      order: `${ing.metadata.creationTimestamp ?? ""}\u0000${key}`,
      hosts: new Map(),
      defaultRoute: undefined,
      tls: new Map(),
      handles: [],
    };
    const backendOf = (b: IngressBackend | undefined): B | null => {
      const ref = backendRef(ns, b);
      if (!ref) return null;
      const h = this.handles.acquire(ref);
      c.handles.push(h);
      return h;
    };
    const spec = ing.spec ?? {};
    if (spec.defaultBackend) {
      c.defaultRoute = {
        backend: backendOf(spec.defaultBackend),
        ingress: key,
        pathType: "Default",
        path: "",
      };
    }
    for (const rule of spec.rules ?? []) {
      const host = (rule.host ?? "").toLowerCase();
      let rules = c.hosts.get(host);
      if (!rules) c.hosts.set(host, (rules = { exact: [], prefix: [] }));
      for (const p of rule.http?.paths ?? []) {
        const backend = backendOf(p.backend);
        if (p.pathType === "Exact") {
          rules.exact.push({ backend, ingress: key, pathType: "Exact", path: p.path ?? "/" });
        } else {
          // Prefix, and ImplementationSpecific which kites defines as Prefix.
          rules.prefix.push({
            backend,
            ingress: key,
            pathType: "Prefix",
            path: normalizePrefix(p.path ?? "/"),
          });
        }
      }
    }
    for (const t of spec.tls ?? []) {
      if (!t.secretName) continue;
      const secret = `${ns}/${t.secretName}`;
      // Without hosts, the certificate serves the hosts of this Ingress's rules.
      const hosts = t.hosts && t.hosts.length > 0 ? t.hosts : [...c.hosts.keys()].filter((h) => h !== "");
      for (const h of hosts) {
        const host = h.toLowerCase();
        if (!c.tls.has(host)) c.tls.set(host, secret);
      }
    }
    return c;
  }

  /** Moves an Ingress's contributions from `prev` to `next`, rebuilding only touched hosts. */
  private reindex(prev: CompiledIngress<B> | undefined, next: CompiledIngress<B> | undefined): void {
    const key = (next ?? prev)!.key;
    const touched = new Set<string>();
    if (prev) for (const h of prev.hosts.keys()) touched.add(h);
    if (next) for (const h of next.hosts.keys()) touched.add(h);
    for (const host of touched) {
      const suffix = wildcardSuffix(host);
      const map = suffix === undefined ? this.hosts : this.wildcards;
      const mapKey = suffix ?? host;
      let entry = map.get(mapKey);
      if (next?.hosts.has(host)) {
        if (!entry) map.set(mapKey, (entry = new HostEntry<B>()));
        entry.members.add(key);
      } else if (entry) {
        entry.members.delete(key);
      }
      if (!entry) continue;
      if (entry.members.size === 0) map.delete(mapKey);
      else this.rebuildHost(entry, host);
    }
    if (next?.defaultRoute) {
      this.withDefault.add(key);
      const best = this.globalKey === undefined ? undefined : this.compiled.get(this.globalKey);
      if (!best || best.key === key || byOrder(next, best) < 0) {
        this.globalKey = key;
        this.globalDefault = next.defaultRoute;
      }
    } else if (prev?.defaultRoute) {
      this.withDefault.delete(key);
      if (this.globalKey === key) this.rebuildGlobalDefault();
    }
    const tlsTouched = new Set<string>();
    if (prev) for (const h of prev.tls.keys()) tlsTouched.add(h);
    if (next) for (const h of next.tls.keys()) tlsTouched.add(h);
    for (const host of tlsTouched) {
      let members = this.tlsMembers.get(host);
      if (next?.tls.has(host)) {
        if (!members) this.tlsMembers.set(host, (members = new Set()));
        members.add(key);
      } else members?.delete(key);
      if (!members || members.size === 0) {
        this.tlsMembers.delete(host);
        this.tlsResolved.delete(host);
        continue;
      }
      const oldest = this.sortedMembers(members)[0]!;
      this.tlsResolved.set(host, oldest.tls.get(host)!);
    }
  }

  private sortedMembers(keys: Set<string>): CompiledIngress<B>[] {
    const out: CompiledIngress<B>[] = [];
    for (const k of keys) {
      const c = this.compiled.get(k);
      if (c) out.push(c);
    }
    return out.sort(byOrder);
  }

  private rebuildHost(entry: HostEntry<B>, host: string): void {
    const exact = new Map<string, Route<B>>();
    const prefixes: Route<B>[] = [];
    const seenPrefix = new Set<string>();
    let defaultRoute: Route<B> | undefined;
    for (const c of this.sortedMembers(entry.members)) {
      const rules = c.hosts.get(host);
      if (!rules) continue;
      for (const r of rules.exact) if (!exact.has(r.path)) exact.set(r.path, r);
      for (const r of rules.prefix) {
        if (seenPrefix.has(r.path)) continue;
        seenPrefix.add(r.path);
        prefixes.push(r);
      }
      defaultRoute ??= c.defaultRoute;
    }
    // Longest first; the sort is stable, so equal lengths keep the older Ingress first.
    prefixes.sort((a, b) => b.path.length - a.path.length);
    entry.exact = exact;
    entry.prefixes = prefixes;
    entry.defaultRoute = defaultRoute;
  }

  /** Rescans for the oldest default backend (only when the current one went away). */
  private rebuildGlobalDefault(): void {
    let best: CompiledIngress<B> | undefined;
    for (const k of this.withDefault) {
      const c = this.compiled.get(k);
      if (c && (!best || byOrder(c, best) < 0)) best = c;
    }
    this.globalKey = best?.key;
    this.globalDefault = best?.defaultRoute;
  }
}

/** The Service port an Ingress backend names, or undefined (resource backends, no port). */
export function backendRef(namespace: string, b: IngressBackend | undefined): BackendRef | undefined {
  const svc = b?.service;
  if (!svc?.name) return undefined;
  const port = svc.port?.number ?? svc.port?.name;
  if (port === undefined || port === "") return undefined;
  return { namespace, service: svc.name, port };
}
