/**
 * @module The cluster DNS record index: every name the Kubernetes DNS specification
 * (kubernetes/dns docs/specification.md, schema 1.0.1) asks for, kept in one map keyed by
 * lowercase name and updated incrementally from Service, EndpointSlice and Namespace events.
 * A change to one Service (or one of its slices) recomputes only that Service's names, in
 * time proportional to its own endpoints; a query is one map lookup.
 *
 * Names, as CoreDNS's kubernetes plugin (with the `pods insecure` Corefile kubeadm and k3s
 * ship) answers them:
 * - `<svc>.<ns>.svc.<zone>`: A/AAAA of the cluster IPs; for a headless Service the ready
 *   endpoint addresses (no ready endpoint: the name does not exist, NXDOMAIN); for an
 *   ExternalName Service a CNAME to the external name.
 * - `<host>.<svc>.<ns>.svc.<zone>`: A/AAAA of each ready endpoint, `<host>` being the
 *   endpoint's hostname or its dashed address (`10-244-0-5`), for every Service as CoreDNS.
 * - `_<port>._<proto>.<svc>.<ns>.svc.<zone>` SRV per named port (priority 0, weight
 *   100/records), targeting the Service name, or each endpoint name for headless Services;
 *   the Service name itself answers SRV with every port.
 * - PTR for cluster IPs (→ Service name) and ready endpoint addresses (→ endpoint name;
 *   a cluster IP wins over endpoints), in in-addr.arpa / ip6.arpa.
 * - `<a-b-c-d>.<ns>.pod.<zone>` A for any well-formed address in an existing namespace
 *   (`pods insecure`), `dns-version.<zone>` TXT, SOA and NS at the zone apex
 *   (`ns.dns.<zone>` → the kube-dns Service IP).
 * - NXDOMAIN for other names under the zone; NODATA (NOERROR, no answer) for names that
 *   exist with other types and for `svc.<zone>`, `pod.<zone>`, `<ns>.svc.<zone>` of an
 *   existing namespace. Reverse names not known here are forwarded (CoreDNS's
 *   `fallthrough in-addr.arpa ip6.arpa`).
 */
import type { Namespace, Service } from "../api/types/core-v1.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import type { Informer, InformerFactory } from "../client/informer.ts";
import { dashedIP, isInZone, parseDashedIP, reverseName } from "./names.ts";

/** The Kubernetes DNS schema version served at `dns-version.<zone>` TXT. */
export const DNS_SCHEMA_VERSION = "1.0.1";
/** CoreDNS kubernetes plugin's default TTL, seconds. */
export const DEFAULT_TTL = 5;
const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** One record's type and data (the owner name is where it is stored). */
export type RecordData =
  | { type: "A" | "AAAA" | "CNAME" | "TXT"; data: string }
  | { type: "PTR"; data: string; /** From an endpoint: yields to a cluster IP's PTR. */ weak?: boolean }
  | { type: "SRV"; data: SrvData }
  | { type: "NS"; data: string }
  | { type: "SOA"; data: SoaData };

/** A record with its owner name. */
export type NamedRecord = RecordData & { name: string };

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** What the index says about one question. */
export interface Lookup {
  /**
   * `zone`: an authoritative answer from the cluster zone; `reverse`: a known reverse name;
   * `forward`: not ours, ask the upstream resolvers.
   */
  kind: "zone" | "reverse" | "forward";
  rcode: "NOERROR" | "NXDOMAIN";
  answers: NamedRecord[];
  additionals: NamedRecord[];
  /** For a CNAME answered to another type: the target, still to be resolved. */
  chase?: string;
}

const FORWARD: Lookup = Object.freeze({
  kind: "forward",
  rcode: "NOERROR",
  answers: [],
  additionals: [],
}) as Lookup;

type Records = Map<string, RecordData[]>;

export class RecordIndex {
  readonly domain: string;
  readonly ttl: number;
  /** name → owner (service key) → records. A name present with no records exists (NODATA). */
  private readonly names = new Map<string, Map<string, RecordData[]>>();
  /** service key → the names it contributes. */
  private readonly owned = new Map<string, Records>();
  private readonly services = new Map<string, Service>();
  /** service key → slice name → slice. */
  private readonly slices = new Map<string, Map<string, EndpointSlice>>();
  /** `ns/slice` → the service key it was filed under. */
  private readonly sliceOwner = new Map<string, string>();
  private readonly namespaces = new Set<string>();
  private readonly listeners: (() => void)[] = [];
  private soaSerial = Math.floor(Date.now() / 1000) >>> 0;

  constructor(opts: { domain?: string; ttl?: number } = {}) {
    this.domain = (opts.domain ?? "cluster.local").toLowerCase().replace(/\.$/, "");
    this.ttl = opts.ttl ?? DEFAULT_TTL;
  }

  /** Calls `fn` after every change (the server drops its encoded-answer cache). */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** The SOA of the cluster zone; the serial is the time of the last change. */
  soa(): SoaData {
    return {
      mname: `ns.dns.${this.domain}`,
      rname: `hostmaster.${this.domain}`,
      serial: this.soaSerial,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: this.ttl,
    };
  }

  /**
   * Feeds the index from the shared informers (services, endpointslices, namespaces) and
   * returns them so the caller can wait for their sync.
   */
  attach(informers: InformerFactory): Informer[] {
    const services = informers.informer<Service>("", "services");
    const slices = informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices");
    const namespaces = informers.informer<Namespace>("", "namespaces");
    namespaces.addHandlers({
      add: (n) => this.addNamespace(n.metadata.name ?? ""),
      delete: (n) => this.deleteNamespace(n.metadata.name ?? ""),
    });
    services.addHandlers({
      add: (s) => this.upsertService(s),
      update: (_, s) => this.upsertService(s),
      delete: (s) => this.deleteService(s),
    });
    slices.addHandlers({
      add: (s) => this.upsertSlice(s),
      update: (_, s) => this.upsertSlice(s),
      delete: (s) => this.deleteSlice(s),
    });
    return [services, slices, namespaces] as unknown as Informer[];
  }

  addNamespace(name: string): void {
    if (!name || this.namespaces.has(name)) return;
    this.namespaces.add(name);
    this.changed();
  }

  deleteNamespace(name: string): void {
    if (this.namespaces.delete(name)) this.changed();
  }

  upsertService(svc: Service): void {
    const key = `${svc.metadata.namespace ?? ""}/${svc.metadata.name ?? ""}`;
    this.services.set(key, svc);
    this.recompute(key);
  }

  deleteService(svc: Service): void {
    const key = `${svc.metadata.namespace ?? ""}/${svc.metadata.name ?? ""}`;
    this.services.delete(key);
    this.recompute(key);
  }

  upsertSlice(slice: EndpointSlice): void {
    const ns = slice.metadata.namespace ?? "";
    const name = slice.metadata.name ?? "";
    const sliceKey = `${ns}/${name}`;
    const svcName = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    const svcKey = svcName ? `${ns}/${svcName}` : undefined;
    const before = this.sliceOwner.get(sliceKey);
    if (before !== undefined && before !== svcKey) {
      this.removeSlice(before, name, sliceKey);
      this.recompute(before);
    }
    if (svcKey === undefined) return;
    let bySvc = this.slices.get(svcKey);
    if (!bySvc) this.slices.set(svcKey, (bySvc = new Map()));
    bySvc.set(name, slice);
    this.sliceOwner.set(sliceKey, svcKey);
    this.recompute(svcKey);
  }

  deleteSlice(slice: EndpointSlice): void {
    const ns = slice.metadata.namespace ?? "";
    const name = slice.metadata.name ?? "";
    const sliceKey = `${ns}/${name}`;
    const svcKey = this.sliceOwner.get(sliceKey);
    if (svcKey === undefined) return;
    this.removeSlice(svcKey, name, sliceKey);
    this.recompute(svcKey);
  }

  private removeSlice(svcKey: string, name: string, sliceKey: string): void {
    const bySvc = this.slices.get(svcKey);
    bySvc?.delete(name);
    if (bySvc?.size === 0) this.slices.delete(svcKey);
    this.sliceOwner.delete(sliceKey);
  }

  /** Number of names held (for tests and the benchmark). */
  get size(): number {
    return this.names.size;
  }

  /** Answers one question; `name` lowercase without the trailing dot, `qtype` as dns-packet names it. */
  lookup(name: string, qtype: string): Lookup {
    const domain = this.domain;
    if (isInZone(name, domain)) return this.lookupZone(name, qtype);
    if (name.endsWith(".in-addr.arpa") || name.endsWith(".ip6.arpa")) {
      const entry = this.names.get(name);
      if (!entry) return FORWARD;
      const l = this.fromEntry(name, entry, qtype);
      l.kind = "reverse";
      return l;
    }
    return FORWARD;
  }

  private lookupZone(name: string, qtype: string): Lookup {
    const domain = this.domain;
    const entry = this.names.get(name);
    if (entry) return this.fromEntry(name, entry, qtype);
    if (name === domain) {
      if (qtype === "SOA" || qtype === "ANY")
        return zone("NOERROR", [{ name, type: "SOA", data: this.soa() }]);
      if (qtype === "NS") {
        const ns = `ns.dns.${domain}`;
        return zone("NOERROR", [{ name, type: "NS", data: ns }], this.nsAddresses(ns, "ANY"));
      }
      return zone("NOERROR", []);
    }
    const rest = name.slice(0, name.length - domain.length - 1);
    const labels = rest.split(".");
    const last = labels[labels.length - 1];
    if (labels.length === 1) {
      if (rest === "svc" || rest === "pod" || rest === "dns") return zone("NOERROR", []);
      if (rest === "dns-version") {
        const txt: NamedRecord[] =
          qtype === "TXT" || qtype === "ANY" ? [{ name, type: "TXT", data: DNS_SCHEMA_VERSION }] : [];
        return zone("NOERROR", txt);
      }
      return zone("NXDOMAIN", []);
    }
    if (labels.length === 2) {
      if (rest === "ns.dns") {
        const answers = this.nsAddresses(name, qtype);
        return zone("NOERROR", answers);
      }
      if (last === "svc" || last === "pod")
        return zone(this.namespaces.has(labels[0]!) ? "NOERROR" : "NXDOMAIN", []);
      return zone("NXDOMAIN", []);
    }
    if (labels.length === 3 && last === "pod" && this.namespaces.has(labels[1]!)) {
      const addr = parseDashedIP(labels[0]!);
      if (!addr) return zone("NXDOMAIN", []);
      const type = addr.v6 ? "AAAA" : "A";
      return zone("NOERROR", qtype === type || qtype === "ANY" ? [{ name, type, data: addr.ip }] : []);
    }
    return zone("NXDOMAIN", []);
  }

  /** `ns.dns.<zone>`: the kube-dns Service's addresses. */
  private nsAddresses(name: string, qtype: string): NamedRecord[] {
    const out: NamedRecord[] = [];
    const entry = this.names.get(`kube-dns.kube-system.svc.${this.domain}`);
    if (!entry) return out;
    for (const recs of entry.values())
      for (const r of recs)
        if ((r.type === "A" || r.type === "AAAA") && (qtype === r.type || qtype === "ANY"))
          out.push({ name, type: r.type, data: r.data });
    return out;
  }

  private fromEntry(name: string, entry: Map<string, RecordData[]>, qtype: string): Lookup {
    const answers: NamedRecord[] = [];
    let cname: { type: "CNAME"; data: string } | undefined;
    let strongPtr = false;
    for (const recs of entry.values()) {
      for (const r of recs) {
        if (r.type === "CNAME") cname = { type: "CNAME", data: r.data };
        if (r.type === "PTR" && !r.weak) strongPtr = true;
      }
    }
    if (cname && qtype !== "CNAME") {
      const l = zone("NOERROR", [{ name, ...cname }]);
      l.chase = cname.data;
      return l;
    }
    for (const recs of entry.values()) {
      for (const r of recs) {
        if (r.type !== qtype && qtype !== "ANY") continue;
        if (r.type === "PTR" && r.weak && strongPtr) continue;
        answers.push({ name, ...r } as NamedRecord);
      }
    }
    const additionals: NamedRecord[] = [];
    if (answers.length > 0 && answers[0]!.type === "SRV") {
      const seen = new Set<string>();
      for (const a of answers) {
        if (a.type !== "SRV" || seen.has(a.data.target)) continue;
        seen.add(a.data.target);
        const t = this.names.get(a.data.target);
        if (!t) continue;
        for (const recs of t.values())
          for (const r of recs)
            if (r.type === "A" || r.type === "AAAA") additionals.push({ name: a.data.target, ...r });
      }
    }
    return zone("NOERROR", answers, additionals);
  }

  /** Replaces the names one Service contributes with freshly computed ones. */
  private recompute(key: string): void {
    const svc = this.services.get(key);
    const next = svc ? this.recordsFor(svc, this.slices.get(key)) : undefined;
    const prev = this.owned.get(key);
    if (prev) {
      for (const name of prev.keys()) {
        const owners = this.names.get(name);
        if (!owners) continue;
        owners.delete(key);
        if (owners.size === 0) this.names.delete(name);
      }
    }
    if (next && next.size > 0) {
      for (const [name, recs] of next) {
        let owners = this.names.get(name);
        if (!owners) this.names.set(name, (owners = new Map()));
        owners.set(key, recs);
      }
      this.owned.set(key, next);
    } else {
      this.owned.delete(key);
    }
    if (prev || next) this.changed();
  }

  private changed(): void {
    const now = Math.floor(Date.now() / 1000) >>> 0;
    this.soaSerial = now > this.soaSerial ? now : (this.soaSerial + 1) >>> 0;
    for (const fn of this.listeners) fn();
  }

  /** Every name a Service contributes, with its records. */
  private recordsFor(svc: Service, slices: Map<string, EndpointSlice> | undefined): Records {
    const out: Records = new Map();
    const add = (name: string, r?: RecordData): void => {
      let list = out.get(name);
      if (!list) out.set(name, (list = []));
      if (r) list.push(r);
    };
    const ns = svc.metadata.namespace ?? "";
    const base = `${svc.metadata.name ?? ""}.${ns}.svc.${this.domain}`.toLowerCase();
    const spec = svc.spec ?? {};
    if (spec.type === "ExternalName") {
      const target = (spec.externalName ?? "").replace(/\.$/, "");
      if (target) add(base, { type: "CNAME", data: target });
      return out;
    }
    const headless = spec.clusterIP === "None";
    if (!headless) {
      add(base);
      const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
      for (const ip of ips) {
        if (ip === "None" || !ip) continue;
        add(base, { type: ip.includes(":") ? "AAAA" : "A", data: ip });
        const rev = reverseName(ip);
        if (rev) add(rev, { type: "PTR", data: base });
      }
      if (ips.length > 0) {
        for (const p of spec.ports ?? []) {
          const srv: RecordData = {
            type: "SRV",
            data: { priority: 0, weight: 0, port: p.port, target: base },
          };
          add(base, srv);
          if (p.name) add(`_${p.name}._${(p.protocol ?? "TCP").toLowerCase()}.${base}`.toLowerCase(), srv);
        }
      }
    }
    // Ready endpoints: per-endpoint names for every Service; the Service name itself and its
    // SRV records for headless ones.
    const seenBase = new Set<string>();
    for (const slice of slices?.values() ?? []) {
      for (const ep of slice.endpoints ?? []) {
        if (ep.conditions?.ready === false) continue;
        for (const ip of ep.addresses ?? []) {
          const type = ip.includes(":") ? "AAAA" : "A";
          const host = `${(ep.hostname ?? dashedIP(ip)).toLowerCase()}.${base}`;
          add(host, { type, data: ip });
          const rev = reverseName(ip);
          if (rev) add(rev, { type: "PTR", data: host, weak: true });
          if (!headless) continue;
          if (!seenBase.has(ip)) {
            seenBase.add(ip);
            add(base, { type, data: ip });
          }
          for (const p of slice.ports ?? []) {
            if (p.port === undefined || p.port === null) continue;
            const srv: RecordData = {
              type: "SRV",
              data: { priority: 0, weight: 0, port: p.port, target: host },
            };
            add(base, srv);
            if (p.name) add(`_${p.name}._${(p.protocol ?? "TCP").toLowerCase()}.${base}`.toLowerCase(), srv);
          }
        }
      }
    }
    // Weights as CoreDNS gives them: the 100 of one priority shared out, at least 1.
    for (const [name, recs] of out) {
      let n = 0;
      for (const r of recs) if (r.type === "SRV") n++;
      if (n === 0) continue;
      const weight = Math.max(1, Math.floor(100 / n));
      out.set(
        name,
        recs.map((r) => (r.type === "SRV" ? { type: "SRV", data: { ...r.data, weight } } : r)),
      );
    }
    // Dedupe records (several slices or ports can repeat one).
    for (const [name, recs] of out) {
      if (recs.length < 2) continue;
      const seen = new Set<string>();
      out.set(
        name,
        recs.filter((r) => {
          const k = `${r.type}|${JSON.stringify(r.data)}`;
          if (seen.has(k)) return false;
          seen.add(k);
          return true;
        }),
      );
    }
    return out;
  }
}

function zone(
  rcode: "NOERROR" | "NXDOMAIN",
  answers: NamedRecord[],
  additionals: NamedRecord[] = [],
): Lookup {
  return { kind: "zone", rcode, answers, additionals };
}
