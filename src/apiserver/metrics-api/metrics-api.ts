/**
 * @module The `metrics.k8s.io/v1beta1` API (NodeMetrics, PodMetrics) served inside the API
 * server, as metrics-server serves it through aggregation: each Ready node's Summary
 * (`/stats/summary?only_cpu_and_memory=true`) is scraped on demand through the node proxy
 * and kept for a short time; cpu is `usageNanoCores` (the agent's two-sample rate) or, when
 * the agent has no rate yet, the rate between this scrape and the previous one of the same
 * node; memory is `workingSetBytes`. Shapes, names and errors follow metrics-server.
 */
import { notFound, StatusError, badRequest } from "../../api/status-error.ts";
import { parseSelector, LabelSelectorError, type Selector } from "../../api/labels.ts";
import type { Node, Pod } from "../../api/types/core-v1.ts";
import type { Summary, CPUStats, MemoryStats } from "../../kubelet/stats/summary-types.ts";

/** What the metrics API reads from the API server. */
export interface MetricsApiDeps {
  listNodes(): Promise<Node[]>;
  /** Pods of a namespace, or of all namespaces when `namespace` is empty. */
  listPods(namespace: string): Promise<Pod[]>;
  /** The node agent's Summary (cpu and memory only). */
  fetchSummary(node: Node): Promise<Summary>;
  /** Milliseconds clock; defaults to Date.now. */
  now?: () => number;
}

/** One usage point of a node, pod or container. */
interface Point {
  /** Sample time, ms since the epoch. */
  at: number;
  nanoCores: number;
  memoryBytes: number;
  /** The window the cpu rate covers, ms. */
  windowMs: number;
}

/** A scrape of one node. */
interface NodeScrape {
  node: Point | undefined;
  /** By `namespace/name`: the pod's containers (a pod is left out when any container lacks a point). */
  pods: Map<string, { at: number; windowMs: number; containers: { name: string; point: Point }[] }>;
}

/** Cumulative cpu per key, to compute a rate when the agent has none yet. */
interface Cumulative {
  at: number;
  nanos: number;
}

const CACHE_MS = 5000;
const DEFAULT_WINDOW_MS = 10_000;

/**
 * A cpu quantity as metrics-server prints it (a nano-scaled decimal quantity in canonical
 * form): `52336n`, `5m` for 5000000n, `2` for two whole cores.
 */
export function cpuQuantity(nanoCores: number): string {
  let v = Math.round(nanoCores);
  if (v === 0) return "0";
  const suffixes = ["n", "u", "m", ""];
  let i = 0;
  while (i < 3 && v % 1000 === 0) {
    v /= 1000;
    i++;
  }
  return `${v}${suffixes[i]!}`;
}

/** A memory quantity as metrics-server prints it (binary SI canonical form): `12345Ki`, `2Mi`, `1000`. */
export function memoryQuantity(bytes: number): string {
  let v = Math.round(bytes);
  if (v === 0) return "0";
  const suffixes = ["", "Ki", "Mi", "Gi", "Ti"];
  let i = 0;
  while (i < 4 && v % 1024 === 0) {
    v /= 1024;
    i++;
  }
  return `${v}${suffixes[i]!}`;
}

/** `10s`, `1.5s` — a Go duration of whole or fractional seconds. */
export function windowString(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${(ms / 1000).toString()}s`;
}

function isReady(n: Node): boolean {
  return (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** The metrics API: scraping, caching and serving. */
export class MetricsApi {
  private readonly cache = new Map<string, { at: number; scrape: Promise<NodeScrape> }>();
  private readonly cumulative = new Map<string, Cumulative>();
  private readonly now: () => number;

  constructor(private readonly deps: MetricsApiDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** A point from Summary stats: the agent's rate, else the rate since our previous sample. */
  private point(key: string, cpu: CPUStats | undefined, mem: MemoryStats | undefined): Point | undefined {
    if (!cpu || !mem || mem.workingSetBytes === undefined) return undefined;
    const at = Date.parse(cpu.time);
    if (Number.isNaN(at)) return undefined;
    const total = cpu.usageCoreNanoSeconds;
    const prev = this.cumulative.get(key);
    if (total !== undefined && (!prev || prev.at !== at)) this.cumulative.set(key, { at, nanos: total });
    let nanoCores = cpu.usageNanoCores;
    let windowMs = DEFAULT_WINDOW_MS;
    if (nanoCores === undefined) {
      if (total === undefined || !prev || at <= prev.at || total < prev.nanos) return undefined;
      windowMs = at - prev.at;
      nanoCores = ((total - prev.nanos) * 1000) / windowMs;
    }
    return { at, nanoCores, memoryBytes: mem.workingSetBytes, windowMs };
  }

  /** Turns a Summary into points, remembering cumulative cpu for the next scrape. */
  decode(s: Summary): NodeScrape {
    const nodeName = s.node.nodeName;
    const out: NodeScrape = { node: this.point(`node/${nodeName}`, s.node.cpu, s.node.memory), pods: new Map() };
    for (const p of s.pods) {
      const id = `${p.podRef.namespace}/${p.podRef.name}`;
      const containers: { name: string; point: Point }[] = [];
      let complete = p.containers.length > 0;
      for (const c of p.containers) {
        const pt = this.point(`pod/${p.podRef.uid}/${c.name}`, c.cpu, c.memory);
        if (!pt) {
          complete = false;
          continue;
        }
        containers.push({ name: c.name, point: pt });
      }
      // metrics-server drops a pod whose containers are not all measured.
      if (!complete) continue;
      let at = 0;
      let windowMs = 0;
      for (const c of containers) {
        if (c.point.at > at) at = c.point.at;
        if (c.point.windowMs > windowMs) windowMs = c.point.windowMs;
      }
      out.pods.set(id, { at, windowMs, containers });
    }
    return out;
  }

  /** The node's latest scrape: cached for a few seconds, scraped on demand otherwise. */
  private scrape(node: Node): Promise<NodeScrape> {
    const name = node.metadata.name ?? "";
    const hit = this.cache.get(name);
    const t = this.now();
    if (hit && t - hit.at < CACHE_MS) return hit.scrape;
    const scrape = this.deps.fetchSummary(node).then(
      (s) => this.decode(s),
      (e: unknown) => {
        this.cache.delete(name);
        console.warn(`metrics: scraping node ${name}: ${e instanceof Error ? e.message : String(e)}`);
        return { node: undefined, pods: new Map() } as NodeScrape;
      },
    );
    this.cache.set(name, { at: t, scrape });
    return scrape;
  }

  private async readyNodes(): Promise<Node[]> {
    return (await this.deps.listNodes()).filter(isReady);
  }

  /** NodeMetrics of the named node, or all (selector-filtered) when name is empty. */
  async nodeMetrics(name: string, selector: Selector | undefined): Promise<Record<string, unknown>> {
    const nodes = (await this.readyNodes()).filter(
      (n) => (!name || n.metadata.name === name) && (!selector || selector.matches(n.metadata.labels)),
    );
    const scrapes = await Promise.all(nodes.map((n) => this.scrape(n)));
    const items: Record<string, unknown>[] = [];
    nodes.forEach((n, i) => {
      const p = scrapes[i]!.node;
      if (!p) return;
      items.push({
        metadata: {
          name: n.metadata.name,
          creationTimestamp: new Date(this.now()).toISOString().replace(/\.\d+Z$/, "Z"),
          ...(n.metadata.labels ? { labels: n.metadata.labels } : {}),
        },
        timestamp: new Date(p.at).toISOString().replace(/\.\d+Z$/, "Z"),
        window: windowString(p.windowMs),
        usage: { cpu: cpuQuantity(p.nanoCores), memory: memoryQuantity(p.memoryBytes) },
      });
    });
    if (name) {
      const item = items[0];
      if (!item) throw notFound({ group: "metrics.k8s.io", resource: "nodemetrics" }, name);
      return { kind: "NodeMetrics", apiVersion: "metrics.k8s.io/v1beta1", ...item };
    }
    return { kind: "NodeMetricsList", apiVersion: "metrics.k8s.io/v1beta1", metadata: {}, items };
  }

  /** PodMetrics of one pod (namespace and name), or a list (namespace may be empty for all). */
  async podMetrics(
    namespace: string,
    name: string,
    selector: Selector | undefined,
  ): Promise<Record<string, unknown>> {
    const pods = (await this.deps.listPods(namespace)).filter(
      (p) =>
        (!name || p.metadata.name === name) &&
        !!p.spec?.nodeName &&
        p.status?.phase === "Running" &&
        (!selector || selector.matches(p.metadata.labels)),
    );
    const nodeNames = new Set(pods.map((p) => p.spec!.nodeName!));
    const nodes = (await this.readyNodes()).filter((n) => nodeNames.has(n.metadata.name ?? ""));
    const byNode = new Map<string, NodeScrape>();
    const scrapes = await Promise.all(nodes.map((n) => this.scrape(n)));
    nodes.forEach((n, i) => byNode.set(n.metadata.name ?? "", scrapes[i]!));
    const created = new Date(this.now()).toISOString().replace(/\.\d+Z$/, "Z");
    const items: Record<string, unknown>[] = [];
    for (const p of pods) {
      const m = byNode.get(p.spec!.nodeName!)?.pods.get(`${p.metadata.namespace}/${p.metadata.name}`);
      if (!m) continue;
      items.push({
        metadata: {
          name: p.metadata.name,
          namespace: p.metadata.namespace,
          creationTimestamp: created,
          ...(p.metadata.labels ? { labels: p.metadata.labels } : {}),
        },
        timestamp: new Date(m.at).toISOString().replace(/\.\d+Z$/, "Z"),
        window: windowString(m.windowMs),
        containers: m.containers.map((c) => ({
          name: c.name,
          usage: { cpu: cpuQuantity(c.point.nanoCores), memory: memoryQuantity(c.point.memoryBytes) },
        })),
      });
    }
    if (name) {
      const item = items[0];
      if (!item) throw notFound({ group: "metrics.k8s.io", resource: "podmetrics" }, `${namespace}/${name}`);
      return { kind: "PodMetrics", apiVersion: "metrics.k8s.io/v1beta1", ...item };
    }
    return { kind: "PodMetricsList", apiVersion: "metrics.k8s.io/v1beta1", metadata: {}, items };
  }

  /**
   * Serves a request under `/apis/metrics.k8s.io/v1beta1/…`; returns the response body, or
   * undefined when the path is not a metrics resource.
   */
  async serve(method: string, path: string, query: URLSearchParams): Promise<Record<string, unknown> | undefined> {
    const m =
      /^\/apis\/metrics\.k8s\.io\/v1beta1(?:\/namespaces\/([^/]+))?\/(nodes|pods)(?:\/([^/]+))?$/.exec(path);
    if (!m) return undefined;
    const [, ns, resource, rawName] = m;
    if (resource === "nodes" && ns !== undefined) return undefined;
    if (method !== "GET") {
      throw new StatusError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    }
    let selector: Selector | undefined;
    const ls = query.get("labelSelector");
    if (ls) {
      try {
        selector = parseSelector(ls);
      } catch (e) {
        if (e instanceof LabelSelectorError) throw badRequest(e.message);
        throw e;
      }
    }
    const name = rawName ? decodeURIComponent(rawName) : "";
    if (resource === "nodes") return this.nodeMetrics(name, selector);
    return this.podMetrics(ns ? decodeURIComponent(ns) : "", name, selector);
  }
}
