/**
 * @module What the scheduler precomputes about a pod once (when it is queued or appears on
 * a node) so that no plugin parses it per node: resource requests as numbers, host ports,
 * compiled node selector / node affinity, pod (anti-)affinity terms and topology spread
 * constraints with their label selectors compiled, and the pod's priority.
 */
import {
  labelSelectorAsSelector,
  newRequirement,
  Requirement,
  Selector,
  type Labels,
} from "../../api/labels.ts";
import type {
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Pod,
  PodAffinityTerm,
  Toleration,
  TopologySpreadConstraint,
} from "../../api/types/core-v1.ts";
import type { LabelSelector } from "../../api/types/meta-v1.ts";
import { podRequests, type Resources } from "./resources.ts";

/** Looks up a namespace's labels (for `namespaceSelector` in affinity terms). */
export type NamespaceLabels = (namespace: string) => Labels;

/** Something a pod can be counted against: a namespace scope plus a label selector. */
export interface PodMatcher {
  /** Identity of the match (same key, same pods): used to share counters. */
  readonly key: string;
  /** `k=v` that every matching pod carries (an index bucket), or null. */
  readonly bucket: string | null;
  matches(pod: PodInfo, nsLabels: NamespaceLabels): boolean;
}

/** The first `k=v` a selector demands exactly, or null. */
function exactBucket(sel: Selector): string | null {
  for (const r of sel.requirements) {
    if ((r.operator === "=" || r.operator === "==" || r.operator === "in") && r.values.length === 1) {
      return `${r.key}=${r.values[0]}`;
    }
  }
  return null;
}

/** A pod (anti-)affinity term, compiled (upstream's `framework.AffinityTerm`). */
export class AffinityTerm implements PodMatcher {
  readonly key: string;
  readonly bucket: string | null;

  constructor(
    /** Explicit namespaces; empty with no nsSelector means the owner pod's namespace. */
    readonly namespaces: ReadonlySet<string>,
    /** Namespace selector (empty = all namespaces), or null. */
    readonly nsSelector: Selector | null,
    readonly selector: Selector,
    readonly topologyKey: string,
  ) {
    const ns = [...namespaces].sort().join(",");
    this.key = `${ns}|${nsSelector ? (nsSelector.empty() ? "*" : nsSelector.toString()) : "-"}|${selector.isNothing() ? "<nothing>" : selector.toString()}`;
    this.bucket = exactBucket(selector);
  }

  /** Whether `pod` is in the term's namespaces and matches its selector. */
  matches(pod: PodInfo, nsLabels: NamespaceLabels): boolean {
    if (!this.namespaces.has(pod.namespace)) {
      if (!this.nsSelector) return false;
      if (!this.nsSelector.empty() && !this.nsSelector.matches(nsLabels(pod.namespace))) return false;
    }
    return this.selector.matches(pod.labels);
  }
}

/** A term with a weight (preferred terms; required ones carry the hard weight). */
export interface WeightedAffinityTerm {
  term: AffinityTerm;
  weight: number;
}

/** Pods matching every one of several terms (upstream's `podMatchesAllAffinityTerms`). */
export class AllTermsMatcher implements PodMatcher {
  readonly key: string;
  readonly bucket: string | null;
  constructor(readonly terms: readonly AffinityTerm[]) {
    this.key = `all(${terms.map((t) => t.key).join(";")})`;
    this.bucket = terms.find((t) => t.bucket)?.bucket ?? null;
  }
  matches(pod: PodInfo, nsLabels: NamespaceLabels): boolean {
    for (const t of this.terms) if (!t.matches(pod, nsLabels)) return false;
    return true;
  }
}

/** A compiled topology spread constraint. */
export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: "DoNotSchedule" | "ScheduleAnyway";
  minDomains: number;
  nodeAffinityPolicy: "Honor" | "Ignore";
  nodeTaintsPolicy: "Honor" | "Ignore";
  /** Pods of the same namespace matching the selector (with matchLabelKeys merged). */
  matcher: PodMatcher;
  selector: Selector;
  /** Whether the incoming pod itself matches (upstream's `selfMatchNum`). */
  selfMatch: boolean;
}

class NamespaceSelectorMatcher implements PodMatcher {
  readonly key: string;
  readonly bucket: string | null;
  constructor(
    readonly namespace: string,
    readonly selector: Selector,
  ) {
    this.key = `spread|${namespace}|${selector.isNothing() ? "<nothing>" : selector.toString()}`;
    this.bucket = exactBucket(selector);
  }
  matches(pod: PodInfo): boolean {
    return pod.namespace === this.namespace && !pod.terminating && this.selector.matches(pod.labels);
  }
}

/** One compiled node selector term: label requirements and `metadata.name` field checks. */
interface CompiledNodeTerm {
  labels: Selector | null;
  /** matchFields on metadata.name: [operator In/NotIn, values]. */
  fields: { op: "In" | "NotIn"; values: readonly string[] }[];
  /** A term that failed to compile (or is empty) matches nothing. */
  never: boolean;
}

const NODE_OPS: Record<string, "in" | "notin" | "exists" | "!" | "gt" | "lt"> = {
  In: "in",
  NotIn: "notin",
  Exists: "exists",
  DoesNotExist: "!",
  Gt: "gt",
  Lt: "lt",
};

function compileNodeTerm(term: NodeSelectorTerm): CompiledNodeTerm {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return { labels: null, fields: [], never: true };
  try {
    const reqs: Requirement[] = exprs.map((e: NodeSelectorRequirement) => {
      const op = NODE_OPS[e.operator];
      if (!op) throw new Error(`unknown operator ${e.operator}`);
      return newRequirement(e.key, op, e.values ?? []);
    });
    const fs: CompiledNodeTerm["fields"] = [];
    for (const f of fields) {
      if (f.key !== "metadata.name" || (f.operator !== "In" && f.operator !== "NotIn"))
        throw new Error("bad field");
      if (f.operator === "In" && (f.values?.length ?? 0) !== 1) throw new Error("bad field values");
      fs.push({ op: f.operator, values: f.values ?? [] });
    }
    return { labels: reqs.length ? Selector.of(reqs) : null, fields: fs, never: false };
  } catch {
    return { labels: null, fields: [], never: true };
  }
}

/**
 * A pod's required node placement: `spec.nodeSelector` AND (any of the required node
 * affinity terms), as upstream's `nodeaffinity.RequiredNodeAffinity`.
 */
export class RequiredNodeAffinity {
  private readonly selector: Selector | null;
  private readonly terms: CompiledNodeTerm[] | null;

  constructor(pod: Pod) {
    const ns = pod.spec?.nodeSelector;
    this.selector = ns && Object.keys(ns).length ? selectorOf(ns) : null;
    const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    this.terms = req ? (req.nodeSelectorTerms ?? []).map(compileNodeTerm) : null;
  }

  /** Whether the pod constrains nodes at all. */
  get constrains(): boolean {
    return this.selector !== null || this.terms !== null;
  }

  /** Whether a node with these labels and name satisfies the pod. */
  matches(labels: Labels, name: string): boolean {
    if (this.selector && !this.selector.matches(labels)) return false;
    if (this.terms) return matchAnyTerm(this.terms, labels, name);
    return true;
  }
}

function selectorOf(set: Record<string, string>): Selector {
  return Selector.of(Object.entries(set).map(([k, v]) => new Requirement(k, "=", [v])));
}

function matchTerm(t: CompiledNodeTerm, labels: Labels, name: string): boolean {
  if (t.never) return false;
  if (t.labels && !t.labels.matches(labels)) return false;
  for (const f of t.fields) {
    const has = f.values.includes(name);
    if (f.op === "In" ? !has : has) return false;
  }
  return true;
}

function matchAnyTerm(terms: CompiledNodeTerm[], labels: Labels, name: string): boolean {
  for (const t of terms) if (matchTerm(t, labels, name)) return true;
  return false;
}

/** A preferred node affinity term with its weight. */
export interface PreferredNodeTerm {
  weight: number;
  term: CompiledNodeTerm;
}

/** Whether a preferred node term matches a node. */
export function preferredNodeTermMatches(p: PreferredNodeTerm, labels: Labels, name: string): boolean {
  return matchTerm(p.term, labels, name);
}

/** A host port a pod asks for. */
export interface HostPort {
  protocol: string;
  ip: string;
  port: number;
}

/** Everything the scheduler needs about a pod, computed once. */
export class PodInfo {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly requests: Resources;
  /** Requests with 0 CPU/memory replaced by upstream's defaults (for scoring). */
  readonly nonZeroCPU: number;
  readonly nonZeroMemory: number;
  readonly hostPorts: readonly HostPort[];
  readonly tolerations: readonly Toleration[];
  readonly nodeAffinity: RequiredNodeAffinity;
  readonly preferredNodeTerms: readonly PreferredNodeTerm[];
  readonly requiredAffinity: readonly AffinityTerm[];
  readonly requiredAntiAffinity: readonly AffinityTerm[];
  readonly preferredAffinity: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinity: readonly WeightedAffinityTerm[];
  readonly spread: readonly SpreadConstraint[];
  readonly terminating: boolean;
  /** Resolved priority (spec.priority, else the PriorityClass value, else 0). */
  priority: number;
  /** Creation time in ms (queue order, preemption tie-break). */
  readonly createdMs: number;

  constructor(
    /** The pod object; may be swapped for a newer copy whose spec and labels are the same. */
    public pod: Pod,
    priority?: number,
  ) {
    const meta = pod.metadata;
    this.uid = meta.uid ?? `${meta.namespace}/${meta.name}`;
    this.namespace = meta.namespace ?? "default";
    this.name = meta.name ?? "";
    this.labels = meta.labels;
    this.terminating = !!meta.deletionTimestamp;
    this.createdMs = meta.creationTimestamp ? Date.parse(meta.creationTimestamp) || 0 : 0;
    this.priority = priority ?? pod.spec?.priority ?? 0;
    this.requests = podRequests(pod);
    const nz = podRequests(pod, true);
    this.nonZeroCPU = nz.milliCPU;
    this.nonZeroMemory = nz.memory;
    const ports: HostPort[] = [];
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      for (const p of c.ports ?? []) {
        if (p.hostPort && p.hostPort > 0) {
          ports.push({ protocol: p.protocol ?? "TCP", ip: p.hostIP || "0.0.0.0", port: p.hostPort });
        }
      }
    }
    this.hostPorts = ports;
    this.tolerations = pod.spec?.tolerations ?? [];
    this.nodeAffinity = new RequiredNodeAffinity(pod);
    const na = pod.spec?.affinity?.nodeAffinity;
    this.preferredNodeTerms = (na?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p) => ({
      weight: p.weight,
      term: compileNodeTerm(p.preference),
    }));
    const pa = pod.spec?.affinity?.podAffinity;
    const paa = pod.spec?.affinity?.podAntiAffinity;
    this.requiredAffinity = this.terms(pa?.requiredDuringSchedulingIgnoredDuringExecution);
    this.requiredAntiAffinity = this.terms(paa?.requiredDuringSchedulingIgnoredDuringExecution);
    this.preferredAffinity = (pa?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => ({
      weight: w.weight,
      term: this.term(w.podAffinityTerm),
    }));
    this.preferredAntiAffinity = (paa?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => ({
      weight: w.weight,
      term: this.term(w.podAffinityTerm),
    }));
    this.spread = (pod.spec?.topologySpreadConstraints ?? []).map((c) => this.constraint(c));
  }

  /** Whether the pod has any pod affinity or anti-affinity (upstream's PodsWithAffinity). */
  get hasAffinity(): boolean {
    return (
      this.requiredAffinity.length +
        this.requiredAntiAffinity.length +
        this.preferredAffinity.length +
        this.preferredAntiAffinity.length >
      0
    );
  }

  private terms(list: readonly PodAffinityTerm[] | undefined): AffinityTerm[] {
    return (list ?? []).map((t) => this.term(t));
  }

  /** Upstream's `newAffinityTerm`: namespaces default to the pod's own; matchLabelKeys merged. */
  private term(t: PodAffinityTerm): AffinityTerm {
    const nsSel = t.namespaceSelector ? safeSelector(t.namespaceSelector) : null;
    const namespaces = new Set(t.namespaces ?? []);
    if (namespaces.size === 0 && !nsSel) namespaces.add(this.namespace);
    let sel = safeSelector(t.labelSelector);
    sel = this.mergeKeys(sel, t.matchLabelKeys, "in");
    sel = this.mergeKeys(sel, t.mismatchLabelKeys, "notin");
    return new AffinityTerm(namespaces, nsSel, sel, t.topologyKey);
  }

  private mergeKeys(sel: Selector, keys: readonly string[] | undefined, op: "in" | "notin"): Selector {
    if (!keys?.length || sel.isNothing()) return sel;
    const extra: Requirement[] = [];
    for (const k of keys) {
      const v = this.labels?.[k];
      if (v !== undefined) extra.push(new Requirement(k, op, [v]));
    }
    return extra.length ? sel.add(...extra) : sel;
  }

  private constraint(c: TopologySpreadConstraint): SpreadConstraint {
    const sel = this.mergeKeys(safeSelector(c.labelSelector), c.matchLabelKeys, "in");
    return {
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      whenUnsatisfiable: c.whenUnsatisfiable === "ScheduleAnyway" ? "ScheduleAnyway" : "DoNotSchedule",
      minDomains: c.minDomains ?? 1,
      nodeAffinityPolicy: c.nodeAffinityPolicy === "Ignore" ? "Ignore" : "Honor",
      nodeTaintsPolicy: c.nodeTaintsPolicy === "Honor" ? "Honor" : "Ignore",
      matcher: new NamespaceSelectorMatcher(this.namespace, sel),
      selector: sel,
      selfMatch: sel.matches(this.labels),
    };
  }
}

/** A LabelSelector compiled; an invalid one matches nothing (as upstream treats errors). */
function safeSelector(ls: LabelSelector | undefined): Selector {
  try {
    return labelSelectorAsSelector(ls);
  } catch {
    return labelSelectorAsSelector(null);
  }
}
