/**
 * @module Reads a container's cgroup: CPU and memory usage for stats, and whether the kernel
 * OOM-killed something in it. cgroup v1 (this machine: one hierarchy per controller under
 * `/sys/fs/cgroup/<controller>/`) and the unified v2 layout are both read; the path is the
 * spec's `cgroupsPath`. Files that are gone (container deleted) read as `undefined`.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

const CGROUP_ROOT = "/sys/fs/cgroup";

/** True when `/sys/fs/cgroup` is a pure cgroup v2 mount. */
export const CGROUP_V2 = existsSync(join(CGROUP_ROOT, "cgroup.controllers"));

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

async function readNumber(path: string): Promise<number | undefined> {
  const t = await readText(path);
  if (t === undefined) return undefined;
  const n = Number(t.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** `key value` lines (memory.stat, memory.oom_control, memory.events, cpu.stat) as a map. */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp <= 0) continue;
    const n = Number(line.slice(sp + 1).trim());
    if (Number.isFinite(n)) out.set(line.slice(0, sp), n);
  }
  return out;
}

function v1(controller: string, cgroupsPath: string, file: string): string {
  return join(CGROUP_ROOT, controller, cgroupsPath, file);
}

/** Raw usage of one cgroup. */
export interface CgroupUsage {
  cpuUsageNanos: number;
  memoryUsageBytes: number;
  memoryWorkingSetBytes: number;
}

/** CPU and memory usage of the cgroup, or `undefined` when it does not exist (any more). */
export async function readUsage(cgroupsPath: string): Promise<CgroupUsage | undefined> {
  if (CGROUP_V2) {
    const dir = join(CGROUP_ROOT, cgroupsPath);
    const [cpuStat, current, stat] = await Promise.all([
      readText(join(dir, "cpu.stat")),
      readNumber(join(dir, "memory.current")),
      readText(join(dir, "memory.stat")),
    ]);
    if (cpuStat === undefined || current === undefined) return undefined;
    const inactive = parseKeyValues(stat ?? "").get("inactive_file") ?? 0;
    return {
      cpuUsageNanos: (parseKeyValues(cpuStat).get("usage_usec") ?? 0) * 1000,
      memoryUsageBytes: current,
      memoryWorkingSetBytes: Math.max(0, current - inactive),
    };
  }
  const [cpu, usage, stat] = await Promise.all([
    readNumber(v1("cpuacct", cgroupsPath, "cpuacct.usage")),
    readNumber(v1("memory", cgroupsPath, "memory.usage_in_bytes")),
    readText(v1("memory", cgroupsPath, "memory.stat")),
  ]);
  if (cpu === undefined || usage === undefined) return undefined;
  // The kubelet's working set: usage minus inactive file pages (they can be reclaimed).
  const inactive = parseKeyValues(stat ?? "").get("total_inactive_file") ?? 0;
  return {
    cpuUsageNanos: cpu,
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: Math.max(0, usage - inactive),
  };
}

/** Whether the kernel's OOM killer killed a process in the cgroup (`oom_kill` counter > 0). */
export async function oomKilled(cgroupsPath: string): Promise<boolean> {
  const file = CGROUP_V2
    ? join(CGROUP_ROOT, cgroupsPath, "memory.events")
    : v1("memory", cgroupsPath, "memory.oom_control");
  const text = await readText(file);
  if (text === undefined) return false;
  return (parseKeyValues(text).get("oom_kill") ?? 0) > 0;
}
