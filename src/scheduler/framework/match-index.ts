/**
 * @module Incremental pod counts for the plugins that count pods (PodTopologySpread,
 * InterPodAffinity), so a scheduling attempt never walks every pod in the cluster:
 *
 * - a `MatchCounter` counts the pods matching one namespace scope + label selector, per node
 *   and per topology domain (`zone=a` → 12); counters are made on first use (from the
 *   label index, not a full scan, when the selector demands some `k=v`) and then updated
 *   as pods come and go;
 * - `ExistingTermIndex` holds the (anti-)affinity terms of pods already placed, per
 *   topology domain, so "does some existing pod's anti-affinity reject the incoming pod
 *   here?" is a lookup of the terms whose selector could match the incoming pod's labels.
 *
 * Both are bucketed by a `k=v` their selector requires, so updating them on a pod change
 * looks only at the buckets of that pod's labels.
 */
import type { AffinityTerm, NamespaceLabels, PodInfo, PodMatcher } from "./pod-info.ts";
import type { NodeInfo } from "./node-info.ts";

/** Adds `d` to a count in a map, deleting entries that reach zero. */
export function bump(map: Map<string, number>, key: string, d: number): void {
  const v = (map.get(key) ?? 0) + d;
  if (v === 0) map.delete(key);
  else map.set(key, v);
}

/** Counts of the pods one matcher selects, per node and per topology domain. */
export class MatchCounter {
  readonly perNode = new Map<NodeInfo, number>();
  private readonly byKey = new Map<string, Map<string, number>>();
  total = 0;

  constructor(readonly matcher: PodMatcher) {}

  /** Count on one node. */
  onNode(n: NodeInfo): number {
    return this.perNode.get(n) ?? 0;
  }

  /** Domain value → count for a topology key (only domains with at least one pod). */
  domains(key: string): Map<string, number> {
    let m = this.byKey.get(key);
    if (!m) {
      m = new Map();
      for (const [n, c] of this.perNode) {
        const v = n.labels?.[key];
        if (v !== undefined) bump(m, v, c);
      }
      this.byKey.set(key, m);
    }
    return m;
  }

  /** @internal */
  change(n: NodeInfo, d: number): void {
    const v = (this.perNode.get(n) ?? 0) + d;
    if (v === 0) this.perNode.delete(n);
    else this.perNode.set(n, v);
    this.total += d;
    for (const [key, m] of this.byKey) {
      const dv = n.labels?.[key];
      if (dv !== undefined) bump(m, dv, d);
    }
  }
}

/** Anything bucketed by a `k=v` of its selector. */
interface Bucketed {
  readonly bucket: string | null;
}

/** A set of bucketed items with lookup by a pod's labels. */
class BucketIndex<T extends Bucketed> {
  private readonly buckets = new Map<string, T[]>();
  private readonly generic: T[] = [];
  size = 0;

  add(item: T): void {
    this.size++;
    if (item.bucket === null) {
      this.generic.push(item);
      return;
    }
    const list = this.buckets.get(item.bucket);
    if (list) list.push(item);
    else this.buckets.set(item.bucket, [item]);
  }

  remove(item: T): void {
    const list = item.bucket === null ? this.generic : this.buckets.get(item.bucket);
    if (!list) return;
    const i = list.indexOf(item);
    if (i < 0) return;
    list.splice(i, 1);
    this.size--;
    if (list.length === 0 && item.bucket !== null) this.buckets.delete(item.bucket);
  }

  /** Calls `fn` for every item that could match a pod with these labels. */
  candidates(labels: Readonly<Record<string, string>> | undefined, fn: (item: T) => void): void {
    for (let i = 0; i < this.generic.length; i++) fn(this.generic[i]!);
    if (!labels || this.buckets.size === 0) return;
    for (const k in labels) {
      const list = this.buckets.get(`${k}=${labels[k]}`);
      if (list) for (let i = 0; i < list.length; i++) fn(list[i]!);
    }
  }

  clear(): void {
    this.buckets.clear();
    this.generic.length = 0;
    this.size = 0;
  }
}

class CounterEntry implements Bucketed {
  readonly bucket: string | null;
  constructor(readonly counter: MatchCounter) {
    this.bucket = counter.matcher.bucket;
  }
}

/** More counters than this and the whole set is dropped (they rebuild on demand). */
const MAX_COUNTERS = 20_000;

/** The counters of a snapshot. */
export class MatchIndex {
  private readonly counters = new Map<string, CounterEntry>();
  private readonly index = new BucketIndex<CounterEntry>();

  constructor(
    private readonly nsLabels: NamespaceLabels,
    /** Pods carrying a `k=v` label, for building a counter without a full scan. */
    private readonly podsWithLabel: (kv: string) => Iterable<PodInfo> | undefined,
    private readonly allPods: () => Iterable<[PodInfo, NodeInfo]>,
    private readonly nodeOf: (p: PodInfo) => NodeInfo | undefined,
  ) {}

  /** The counter for a matcher, made (and filled) on first use. */
  counter(m: PodMatcher): MatchCounter {
    const e = this.counters.get(m.key);
    if (e) return e.counter;
    if (this.counters.size >= MAX_COUNTERS) this.clear();
    const c = new MatchCounter(m);
    if (m.bucket !== null) {
      for (const p of this.podsWithLabel(m.bucket) ?? []) {
        const n = this.nodeOf(p);
        if (n && m.matches(p, this.nsLabels)) c.change(n, 1);
      }
    } else {
      for (const [p, n] of this.allPods()) if (m.matches(p, this.nsLabels)) c.change(n, 1);
    }
    const entry = new CounterEntry(c);
    this.counters.set(m.key, entry);
    this.index.add(entry);
    return c;
  }

  /** Updates every counter that selects `p` (d = +1 added, -1 removed). */
  podChanged(p: PodInfo, n: NodeInfo, d: 1 | -1): void {
    if (this.index.size === 0) return;
    this.index.candidates(p.labels, (e) => {
      if (e.counter.matcher.matches(p, this.nsLabels)) e.counter.change(n, d);
    });
  }

  /** Drops every counter (node labels changed, so domains moved). */
  clear(): void {
    this.counters.clear();
    this.index.clear();
  }

  get size(): number {
    return this.counters.size;
  }
}

/** How an existing pod's term counts against an incoming pod. */
export type TermKind = "requiredAnti" | "requiredAffinity" | "preferredAffinity" | "preferredAnti";

/** All existing pods carrying one term (same kind, weight, topology key and selection). */
export class ExistingTerm implements Bucketed {
  readonly bucket: string | null;
  /** Domain value of `term.topologyKey` → how many existing pods carry the term there. */
  readonly domains = new Map<string, number>();
  pods = 0;
  constructor(
    readonly key: string,
    readonly kind: TermKind,
    readonly weight: number,
    readonly term: AffinityTerm,
  ) {
    this.bucket = term.bucket;
  }
}

/** The (anti-)affinity terms of the pods placed in the cluster, counted per domain. */
export class ExistingTermIndex {
  private readonly terms = new Map<string, ExistingTerm>();
  private readonly index = new BucketIndex<ExistingTerm>();

  constructor(private readonly nsLabels: NamespaceLabels) {}

  /** Adds (d=1) or removes (d=-1) the terms of a pod placed on node `n`. */
  podChanged(p: PodInfo, n: NodeInfo, d: 1 | -1): void {
    if (!p.hasAffinity) return;
    for (const t of p.requiredAntiAffinity) this.change("requiredAnti", 1, t, n, d);
    for (const t of p.requiredAffinity) this.change("requiredAffinity", 1, t, n, d);
    for (const w of p.preferredAffinity) this.change("preferredAffinity", w.weight, w.term, n, d);
    for (const w of p.preferredAntiAffinity) this.change("preferredAnti", w.weight, w.term, n, d);
  }

  private change(kind: TermKind, weight: number, t: AffinityTerm, n: NodeInfo, d: 1 | -1): void {
    const value = n.labels?.[t.topologyKey];
    if (value === undefined) return;
    const key = `${kind}|${weight}|${t.topologyKey}|${t.key}`;
    let e = this.terms.get(key);
    if (!e) {
      if (d < 0) return;
      e = new ExistingTerm(key, kind, weight, t);
      this.terms.set(key, e);
      this.index.add(e);
    }
    bump(e.domains, value, d);
    e.pods += d;
    if (e.pods <= 0) {
      this.terms.delete(key);
      this.index.remove(e);
    }
  }

  /** Calls `fn` for every existing term (of the given kinds) that matches the incoming pod. */
  matching(p: PodInfo, fn: (t: ExistingTerm) => void, kinds?: ReadonlySet<TermKind>): void {
    if (this.index.size === 0) return;
    this.index.candidates(p.labels, (e) => {
      if (kinds && !kinds.has(e.kind)) return;
      if (e.term.matches(p, this.nsLabels)) fn(e);
    });
  }

  /** Whether any existing pod has a term of `kind`. */
  get size(): number {
    return this.index.size;
  }

  clear(): void {
    this.terms.clear();
    this.index.clear();
  }
}
