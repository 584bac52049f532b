/**
 * @module Reads one cgroup's cpu and memory counters — a container's (its spec's
 * `cgroupsPath`) for the runtime's stats, a pod's (`/kites/<qos>/pod<uid>`) for the agent's
 * Summary — and whether the kernel OOM-killed something in it. Both layouts: cgroup v1 (one
 * hierarchy per controller, `cpuacct/…`, `memory/…`; this machine) and the unified v2 mount.
 * The root is a parameter so tests read a directory of plain files. A cgroup that is gone
 * reads as `undefined`; a counter the kernel lacks is left out.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** The cgroup mount of this machine. */
export const CGROUP_ROOT = "/sys/fs/cgroup";

/** Cumulative cpu and current memory of something (a cgroup, a container, the node). */
export interface UsageSample {
  /** Cumulative cpu time, core-nanoseconds. */
  cpuUsageNanos: number;
  memoryUsageBytes: number;
  /** Usage minus inactive file pages, never negative. */
  memoryWorkingSetBytes: number;
  memoryRssBytes?: number;
  memoryPageFaults?: number;
  memoryMajorPageFaults?: number;
  /** The memory limit (node: capacity); absent when unlimited. */
  memoryLimitBytes?: number;
}

/** Limits at or above this are "unlimited" (v1 writes PAGE_COUNTER_MAX × page size). */
const UNLIMITED = 2 ** 62;

const v2Roots = new Map<string, boolean>();

/** True when `root` is a unified (v2) cgroup mount. */
export function isCgroupV2(root: string): boolean {
  let v = v2Roots.get(root);
  if (v === undefined) {
    v = existsSync(join(root, "cgroup.controllers"));
    v2Roots.set(root, v);
  }
  return v;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

function toNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** `key value` lines (memory.stat, cpu.stat) into a map. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp <= 0) continue;
    const n = Number(line.slice(sp + 1));
    if (Number.isFinite(n)) out.set(line.slice(0, sp), n);
  }
  return out;
}

function limit(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "max") return undefined;
  const n = toNumber(text);
  return n === undefined || n >= UNLIMITED ? undefined : n;
}

/** Sets the optional fields that are present. */
function withOptional(
  s: UsageSample,
  rss: number | undefined,
  pgfault: number | undefined,
  pgmajfault: number | undefined,
  lim: number | undefined,
): UsageSample {
  if (rss !== undefined) s.memoryRssBytes = rss;
  if (pgfault !== undefined) s.memoryPageFaults = pgfault;
  if (pgmajfault !== undefined) s.memoryMajorPageFaults = pgmajfault;
  if (lim !== undefined) s.memoryLimitBytes = lim;
  return s;
}

/**
 * Reads the cgroup at `path` (e.g. `/kites/besteffort/pod<uid>`) under `root`. Working set
 * as upstream: usage − inactive_file (v1: the hierarchical `total_inactive_file`), floored
 * at 0; rss is v2 `anon`, v1 `total_rss`.
 */
export async function readCgroupUsage(path: string, root = CGROUP_ROOT): Promise<UsageSample | undefined> {
  if (isCgroupV2(root)) {
    const dir = join(root, path);
    const [cpuStat, current, stat, max] = await Promise.all([
      readText(join(dir, "cpu.stat")),
      readText(join(dir, "memory.current")),
      readText(join(dir, "memory.stat")),
      readText(join(dir, "memory.max")),
    ]);
    const usage = toNumber(current);
    if (cpuStat === undefined || usage === undefined) return undefined;
    const ms = parseFlatKeyed(stat ?? "");
    const s: UsageSample = {
      cpuUsageNanos: (parseFlatKeyed(cpuStat).get("usage_usec") ?? 0) * 1000,
      memoryUsageBytes: usage,
      memoryWorkingSetBytes: Math.max(0, usage - (ms.get("inactive_file") ?? 0)),
    };
    return withOptional(s, ms.get("anon"), ms.get("pgfault"), ms.get("pgmajfault"), limit(max));
  }
  const mem = join(root, "memory", path);
  const [cpu, current, stat, max] = await Promise.all([
    readText(join(root, "cpuacct", path, "cpuacct.usage")),
    readText(join(mem, "memory.usage_in_bytes")),
    readText(join(mem, "memory.stat")),
    readText(join(mem, "memory.limit_in_bytes")),
  ]);
  const cpuNanos = toNumber(cpu);
  const usage = toNumber(current);
  if (cpuNanos === undefined || usage === undefined) return undefined;
  const ms = parseFlatKeyed(stat ?? "");
  const s: UsageSample = {
    cpuUsageNanos: cpuNanos,
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: Math.max(
      0,
      usage - (ms.get("total_inactive_file") ?? ms.get("inactive_file") ?? 0),
    ),
  };
  return withOptional(
    s,
    ms.get("total_rss") ?? ms.get("rss"),
    ms.get("total_pgfault") ?? ms.get("pgfault"),
    ms.get("total_pgmajfault") ?? ms.get("pgmajfault"),
    limit(max),
  );
}

/** True when `/sys/fs/cgroup` is a pure cgroup v2 mount. */
export const CGROUP_V2 = isCgroupV2(CGROUP_ROOT);

/** Whether the kernel's OOM killer killed a process in the cgroup (`oom_kill` counter > 0). */
export async function oomKilled(cgroupsPath: string): Promise<boolean> {
  const file = CGROUP_V2
    ? join(CGROUP_ROOT, cgroupsPath, "memory.events")
    : join(CGROUP_ROOT, "memory", cgroupsPath, "memory.oom_control");
  const text = await readText(file);
  if (text === undefined) return false;
  return (parseFlatKeyed(text).get("oom_kill") ?? 0) > 0;
}
