/**
 * @module The node agent's stats provider behind `GET /stats/summary` (upstream's Summary
 * API, read by metrics-server for `kubectl top` and by autoscalers). Containers come from the
 * runtime seam (`listContainers` + `containerStats`: cumulative cpu, memory usage, working
 * set, rss, page faults); each pod's totals from its own cgroup (`/kites/<qos>/pod<uid>`,
 * containers plus overhead, as upstream reads the pod cgroup), or the sum of its containers
 * when that cgroup cannot be read; the node from `/proc` and statfs of the data directory.
 *
 * `usageNanoCores` is a rate, so it needs two samples: a background sampler (every 10 s by
 * default) keeps the previous cumulative cpu of every container, pod and the node; a
 * summary reads fresh counters and divides the difference by the time since that sample, or,
 * when the sample is too recent for a meaningful window, reports the sampler's own last rate.
 * Only the sampler moves the reference samples, so frequent readers don't shrink the window.
 */
import type { Pod } from "../../api/types/core-v1.ts";
import type {
  ContainerRuntime,
  ContainerStats as RuntimeContainerStats,
  ContainerStatus,
} from "../../runtime/types.ts";
import { LABEL_POD_NAME, LABEL_POD_NAMESPACE } from "../container-start.ts";
import { every } from "../node-lease.ts";
import { containerLimits, podCgroupParent, podQOS } from "../qos.ts";
import { CGROUP_ROOT, readCgroupUsage, type UsageSample } from "../../runtime/runc/cgroups.ts";
import { readFsStats, readNodeUsage } from "./node-stats.ts";
import {
  rfc3339,
  type ContainerStats,
  type CPUStats,
  type MemoryStats,
  type PodStats,
  type Summary,
} from "./summary-types.ts";

/** How to build a stats provider. */
export interface StatsProviderOptions {
  runtime: ContainerRuntime;
  nodeName: string;
  /** The pod with this uid, if the agent knows it (its informer cache). */
  podByUid: (uid: string) => Pod | undefined;
  /** The node's `fs` is the filesystem holding this directory; no `fs` when unset. */
  dataDir?: string;
  /** Where pod cgroups are read (`/sys/fs/cgroup`); `null` sums the containers instead. */
  cgroupRoot?: string | null;
  /** Default `/proc`. */
  procRoot?: string;
  /** Sampler period, default 10 000 ms. */
  intervalMs?: number;
  /** A fresh rate needs at least this window since the last sample (default 1 000 ms). */
  minWindowMs?: number;
  /** Wall clock in ms (tests drive it). */
  now?: () => number;
}

/** Options of one summary request (upstream's `only_cpu_and_memory` query). */
export interface SummaryOptions {
  onlyCpuAndMemory?: boolean;
}

/** A reference sample of one cumulative cpu counter, and the rate ending at it. */
interface CpuPoint {
  at: number;
  nanos: number;
  rate?: number;
}

interface CollectedContainer {
  status: ContainerStatus;
  usage: UsageSample;
}

interface CollectedPod {
  uid: string;
  pod: Pod | undefined;
  containers: CollectedContainer[];
  /** The pod cgroup, or the sum of the containers. */
  usage: UsageSample | undefined;
}

interface Collected {
  at: number;
  node: { usage: UsageSample; bootTimeMs: number } | undefined;
  pods: CollectedPod[];
}

function fromRuntime(s: RuntimeContainerStats): UsageSample {
  const u: UsageSample = {
    cpuUsageNanos: s.cpuUsageCoreNanoSeconds,
    memoryUsageBytes: s.memoryUsageBytes,
    memoryWorkingSetBytes: s.memoryWorkingSetBytes,
  };
  if (s.memoryRssBytes !== undefined) u.memoryRssBytes = s.memoryRssBytes;
  if (s.memoryPageFaults !== undefined) u.memoryPageFaults = s.memoryPageFaults;
  if (s.memoryMajorPageFaults !== undefined) u.memoryMajorPageFaults = s.memoryMajorPageFaults;
  return u;
}

function addOptional(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a + b;
}

/** The sum of several samples; an optional field only when every part has it. */
export function sumUsage(parts: readonly UsageSample[]): UsageSample | undefined {
  if (parts.length === 0) return undefined;
  const out: UsageSample = { ...parts[0]! };
  delete out.memoryLimitBytes;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    out.cpuUsageNanos += p.cpuUsageNanos;
    out.memoryUsageBytes += p.memoryUsageBytes;
    out.memoryWorkingSetBytes += p.memoryWorkingSetBytes;
    out.memoryRssBytes = addOptional(out.memoryRssBytes, p.memoryRssBytes);
    out.memoryPageFaults = addOptional(out.memoryPageFaults, p.memoryPageFaults);
    out.memoryMajorPageFaults = addOptional(out.memoryMajorPageFaults, p.memoryMajorPageFaults);
  }
  for (const k of ["memoryRssBytes", "memoryPageFaults", "memoryMajorPageFaults"] as const)
    if (out[k] === undefined) delete out[k];
  return out;
}

/**
 * Nanocores between two samples of a cumulative counter (ns of cpu, ms of wall time);
 * undefined for an empty window or a counter that went back (a new cgroup).
 */
export function nanoCores(
  prevNanos: number,
  prevAtMs: number,
  nanos: number,
  atMs: number,
): number | undefined {
  const dt = atMs - prevAtMs;
  const d = nanos - prevNanos;
  if (dt <= 0 || d < 0) return undefined;
  return Math.round((d * 1000) / dt);
}

/** Upstream's MemoryStats from a sample: available = limit − working set when limited. */
export function memoryStats(u: UsageSample, time: string, limitBytes?: number): MemoryStats {
  const m: MemoryStats = {
    time,
    usageBytes: u.memoryUsageBytes,
    workingSetBytes: u.memoryWorkingSetBytes,
  };
  const lim = limitBytes ?? u.memoryLimitBytes;
  if (lim !== undefined) m.availableBytes = Math.max(0, lim - u.memoryWorkingSetBytes);
  if (u.memoryRssBytes !== undefined) m.rssBytes = u.memoryRssBytes;
  if (u.memoryPageFaults !== undefined) m.pageFaults = u.memoryPageFaults;
  if (u.memoryMajorPageFaults !== undefined) m.majorPageFaults = u.memoryMajorPageFaults;
  return m;
}

/** The agent's stats: a sampler plus on-demand Summary documents. */
export class StatsProvider {
  private points = new Map<string, CpuPoint>();
  private sampling: Promise<void> | undefined;
  private lastError = "";
  private readonly now: () => number;

  constructor(private readonly opts: StatsProviderOptions) {
    this.now = opts.now ?? (() => performance.timeOrigin + performance.now());
  }

  /** Runs the sampler until `signal` aborts (first sample at once). */
  start(signal: AbortSignal): void {
    every(signal, this.opts.intervalMs ?? 10_000, () =>
      this.sample().then(
        () => (this.lastError = ""),
        (e: unknown) => {
          const msg = e instanceof Error ? e.message : String(e);
          if (msg !== this.lastError) console.error(`kubelet: stats: ${msg}`);
          this.lastError = msg;
        },
      ),
    );
  }

  /** Takes one reference sample of every counter (what the background sampler runs). */
  sample(): Promise<void> {
    // One sample at a time; a caller during a sample waits for it.
    this.sampling ??= this.takeSample().finally(() => (this.sampling = undefined));
    return this.sampling;
  }

  private async takeSample(): Promise<void> {
    const c = await this.collect();
    const next = new Map<string, CpuPoint>();
    const keep = (key: string, nanos: number): void => {
      const prev = this.points.get(key);
      const point: CpuPoint = { at: c.at, nanos };
      const rate = prev ? nanoCores(prev.nanos, prev.at, nanos, c.at) : undefined;
      if (rate !== undefined) point.rate = rate;
      next.set(key, point);
    };
    if (c.node) keep("node", c.node.usage.cpuUsageNanos);
    for (const p of c.pods) {
      if (p.usage) keep(`pod/${p.uid}`, p.usage.cpuUsageNanos);
      for (const ct of p.containers) keep(`container/${ct.status.id}`, ct.usage.cpuUsageNanos);
    }
    // Only what still exists is kept: no growth with churn.
    this.points = next;
  }

  /** The rate of `key` ending now: fresh over a long enough window, else the sampler's. */
  private rate(key: string, nanos: number, at: number): number | undefined {
    const prev = this.points.get(key);
    if (!prev) {
      this.points.set(key, { at, nanos });
      return undefined;
    }
    if (at - prev.at >= (this.opts.minWindowMs ?? 1000)) {
      const r = nanoCores(prev.nanos, prev.at, nanos, at);
      if (r !== undefined) return r;
    }
    return prev.rate;
  }

  private cpuStats(key: string, u: UsageSample, at: number, time: string): CPUStats {
    const cpu: CPUStats = { time, usageCoreNanoSeconds: u.cpuUsageNanos };
    const r = this.rate(key, u.cpuUsageNanos, at);
    if (r !== undefined) cpu.usageNanoCores = r;
    return cpu;
  }

  /** A Summary document of the node and its running pods, from fresh counters. */
  async summary(opts: SummaryOptions = {}): Promise<Summary> {
    const c = await this.collect();
    const time = rfc3339(c.at);
    const node: Summary["node"] = {
      nodeName: this.opts.nodeName,
      startTime: rfc3339(c.node?.bootTimeMs || c.at),
    };
    if (c.node) {
      node.cpu = this.cpuStats("node", c.node.usage, c.at, time);
      node.memory = memoryStats(c.node.usage, time);
    }
    if (!opts.onlyCpuAndMemory && this.opts.dataDir) {
      const fs = await readFsStats(this.opts.dataDir, time);
      if (fs) node.fs = fs;
    }
    const pods: PodStats[] = [];
    for (const p of c.pods) {
      const ref = podRef(p);
      if (!ref) continue;
      const limits = new Map<string, number | undefined>();
      for (const ct of p.pod?.spec?.containers ?? [])
        limits.set(ct.name, containerLimits(ct).memoryLimitBytes);
      const containers: ContainerStats[] = p.containers.map((ct) => ({
        name: ct.status.name,
        startTime: rfc3339(Date.parse(ct.status.createdAt)),
        cpu: this.cpuStats(`container/${ct.status.id}`, ct.usage, c.at, time),
        memory: memoryStats(ct.usage, time, limits.get(ct.status.name)),
      }));
      const ps: PodStats = { podRef: ref, startTime: podStartTime(p, c.at), containers };
      if (p.usage) {
        ps.cpu = this.cpuStats(`pod/${p.uid}`, p.usage, c.at, time);
        ps.memory = memoryStats(p.usage, time);
      }
      pods.push(ps);
    }
    return { node, pods };
  }

  /** Reads every counter once: node, pod cgroups, and the running containers through the runtime. */
  private async collect(): Promise<Collected> {
    const rt = this.opts.runtime;
    const [node, sandboxes, list] = await Promise.all([
      readNodeUsage(this.opts.procRoot),
      rt.listSandboxes(),
      rt.listContainers(),
    ]);
    const byPod = new Map<string, ContainerStatus[]>();
    for (const sb of sandboxes) if (sb.ready) byPod.set(sb.uid, []);
    for (const s of list) {
      if (s.state !== "running") continue;
      let group = byPod.get(s.podUid);
      if (!group) byPod.set(s.podUid, (group = []));
      // The newest attempt of each container name.
      const i = group.findIndex((o) => o.name === s.name);
      if (i < 0) group.push(s);
      else if (group[i]!.attempt < s.attempt) group[i] = s;
    }
    const root = this.opts.cgroupRoot === undefined ? CGROUP_ROOT : this.opts.cgroupRoot;
    const pods = await Promise.all(
      [...byPod].map(async ([uid, statuses]): Promise<CollectedPod> => {
        const pod = this.opts.podByUid(uid);
        // Containers first, then the pod cgroup: its counters, read last, cover theirs.
        const stats = await Promise.all(statuses.map((s) => rt.containerStats(s.id)));
        const cgroup =
          pod && root !== null ? await readCgroupUsage(podCgroupParent(pod, podQOS(pod)), root) : undefined;
        const containers: CollectedContainer[] = [];
        statuses.forEach((status, i) => {
          const s = stats[i];
          if (s) containers.push({ status, usage: fromRuntime(s) });
        });
        return { uid, pod, containers, usage: cgroup ?? sumUsage(containers.map((x) => x.usage)) };
      }),
    );
    return { at: this.now(), node, pods };
  }
}

function podRef(p: CollectedPod): PodStats["podRef"] | undefined {
  const m = p.pod?.metadata;
  if (m?.name && m.namespace) return { name: m.name, namespace: m.namespace, uid: p.uid };
  const labels = p.containers[0]?.status.labels;
  const name = labels?.[LABEL_POD_NAME];
  const namespace = labels?.[LABEL_POD_NAMESPACE];
  return name && namespace ? { name, namespace, uid: p.uid } : undefined;
}

function podStartTime(p: CollectedPod, at: number): string {
  const started = p.pod?.status?.startTime;
  if (started) return started;
  let min = at;
  for (const c of p.containers) {
    const t = Date.parse(c.status.createdAt);
    if (Number.isFinite(t) && t < min) min = t;
  }
  return rfc3339(min);
}
