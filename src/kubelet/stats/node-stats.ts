/**
 * @module The node's own usage for the Summary API: cpu from the aggregate line of
 * `/proc/stat`, memory from `/proc/meminfo` (usage = MemTotal − MemFree, working set =
 * usage − Inactive(file), rss = AnonPages, capacity = MemTotal), page faults from
 * `/proc/vmstat`, the boot time (`btime`) as the node's start time, and a filesystem's
 * size through statfs(2). The proc root is a parameter so tests read plain files.
 */
import { readFile, statfs } from "node:fs/promises";
import { join } from "node:path";
import type { UsageSample } from "../../runtime/runc/cgroups.ts";
import type { FsStats } from "./summary-types.ts";
import { parseFlatKeyed } from "../../runtime/runc/cgroups.ts";

/** `/proc/stat` counts in USER_HZ, which the kernel ABI fixes at 100 per second. */
const NANOS_PER_TICK = 1e9 / 100;

/** What `/proc/stat` says: busy cpu time of all cores and the boot time. */
export interface ProcStat {
  /** user + nice + system + irq + softirq + steal (guest time is already in user), ns. */
  cpuUsageNanos: number;
  /** Boot time, ms since the epoch (0 when absent). */
  bootTimeMs: number;
}

/** Parses `/proc/stat`. */
export function parseProcStat(text: string): ProcStat | undefined {
  let cpu: number | undefined;
  let boot = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("cpu ")) {
      const f = line.slice(4).trim().split(/\s+/).map(Number);
      // user nice system idle iowait irq softirq steal guest guest_nice
      const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
      if (Number.isFinite(busy)) cpu = busy * NANOS_PER_TICK;
    } else if (line.startsWith("btime ")) {
      const b = Number(line.slice(6));
      if (Number.isFinite(b)) boot = b * 1000;
    }
  }
  return cpu === undefined ? undefined : { cpuUsageNanos: cpu, bootTimeMs: boot };
}

/** Parses `/proc/meminfo` into bytes by field name (`MemTotal`, `Inactive(file)`, …). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([^:]+):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (m) out.set(m[1]!, Number(m[2]) * (line.trimEnd().endsWith("kB") ? 1024 : 1));
  }
  return out;
}

/** Node usage from `/proc` (`procRoot`), plus the boot time; undefined if unreadable. */
export async function readNodeUsage(
  procRoot = "/proc",
): Promise<{ usage: UsageSample; bootTimeMs: number } | undefined> {
  const [stat, meminfo, vmstat] = await Promise.all(
    ["stat", "meminfo", "vmstat"].map((f) => readFile(join(procRoot, f), "utf8").catch(() => undefined)),
  );
  const ps = stat === undefined ? undefined : parseProcStat(stat);
  const mi = meminfo === undefined ? undefined : parseMeminfo(meminfo);
  const total = mi?.get("MemTotal");
  const free = mi?.get("MemFree");
  if (!ps || !mi || total === undefined || free === undefined) return undefined;
  const usageBytes = Math.max(0, total - free);
  const usage: UsageSample = {
    cpuUsageNanos: ps.cpuUsageNanos,
    memoryUsageBytes: usageBytes,
    memoryWorkingSetBytes: Math.max(0, usageBytes - (mi.get("Inactive(file)") ?? 0)),
    memoryLimitBytes: total,
  };
  const anon = mi.get("AnonPages");
  if (anon !== undefined) usage.memoryRssBytes = anon;
  if (vmstat !== undefined) {
    const vm = parseFlatKeyed(vmstat);
    const pf = vm.get("pgfault");
    const maj = vm.get("pgmajfault");
    if (pf !== undefined) usage.memoryPageFaults = pf;
    if (maj !== undefined) usage.memoryMajorPageFaults = maj;
  }
  return { usage, bootTimeMs: ps.bootTimeMs };
}

/** Capacity, free space and inodes of the filesystem holding `path`; undefined if unreadable. */
export async function readFsStats(path: string, time: string): Promise<FsStats | undefined> {
  try {
    const s = await statfs(path);
    return {
      time,
      availableBytes: s.bavail * s.bsize,
      capacityBytes: s.blocks * s.bsize,
      usedBytes: (s.blocks - s.bfree) * s.bsize,
      inodesFree: s.ffree,
      inodes: s.files,
      inodesUsed: s.files - s.ffree,
    };
  } catch {
    return undefined;
  }
}
