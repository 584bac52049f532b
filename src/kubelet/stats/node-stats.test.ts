import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseMeminfo, parseProcStat, readFsStats, readNodeUsage } from "./node-stats.ts";

const STAT = `cpu  1000 20 300 5000 40 5 6 7 100 0
cpu0 500 10 150 2500 20 2 3 3 50 0
intr 123
btime 1700000000
processes 42
`;
const MEMINFO = `MemTotal:        2048000 kB
MemFree:          512000 kB
MemAvailable:    1024000 kB
Inactive(file):   256000 kB
AnonPages:        400000 kB
HugePages_Total:       0
`;

test("parseProcStat: busy ticks (no idle, iowait or guest) in ns at USER_HZ 100; btime in ms", () => {
  const s = parseProcStat(STAT);
  // user+nice+system+irq+softirq+steal = 1000+20+300+5+6+7 = 1338 ticks = 13.38 s
  assert.deepEqual(s, { cpuUsageNanos: 1338 * 10_000_000, bootTimeMs: 1_700_000_000_000 });
  assert.equal(parseProcStat("intr 1\n"), undefined);
});

test("parseMeminfo converts kB to bytes and keeps unitless counts", () => {
  const m = parseMeminfo(MEMINFO);
  assert.equal(m.get("MemTotal"), 2_048_000 * 1024);
  assert.equal(m.get("Inactive(file)"), 256_000 * 1024);
  assert.equal(m.get("HugePages_Total"), 0);
});

test("readNodeUsage: usage = total − free, working set = usage − Inactive(file), rss, faults", async (t) => {
  const proc = mkdtempSync(join(tmpdir(), "kites-proc-"));
  t.after(() => rmSync(proc, { recursive: true, force: true }));
  writeFileSync(join(proc, "stat"), STAT);
  writeFileSync(join(proc, "meminfo"), MEMINFO);
  writeFileSync(join(proc, "vmstat"), "nr_free_pages 1\npgfault 999\npgmajfault 9\n");
  const r = await readNodeUsage(proc);
  const kb = 1024;
  assert.deepEqual(r, {
    bootTimeMs: 1_700_000_000_000,
    usage: {
      cpuUsageNanos: 13_380_000_000,
      memoryUsageBytes: (2_048_000 - 512_000) * kb,
      memoryWorkingSetBytes: (2_048_000 - 512_000 - 256_000) * kb,
      memoryLimitBytes: 2_048_000 * kb,
      memoryRssBytes: 400_000 * kb,
      memoryPageFaults: 999,
      memoryMajorPageFaults: 9,
    },
  });
  rmSync(join(proc, "meminfo"));
  assert.equal(await readNodeUsage(proc), undefined);
});

test("readNodeUsage reads the real /proc", async () => {
  const r = await readNodeUsage();
  assert.ok(r, "the host /proc is readable");
  assert.ok(r.usage.cpuUsageNanos > 0);
  assert.ok(r.usage.memoryLimitBytes! >= r.usage.memoryUsageBytes);
  assert.ok(r.bootTimeMs > 0 && r.bootTimeMs <= Date.now());
});

test("readFsStats: statfs of a directory; used + available ≤ capacity", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kites-fs-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fs = await readFsStats(dir, "2024-01-01T00:00:00Z");
  assert.ok(fs);
  assert.equal(fs.time, "2024-01-01T00:00:00Z");
  assert.ok(fs.capacityBytes! > 0);
  assert.ok(fs.usedBytes! + fs.availableBytes! <= fs.capacityBytes!);
  assert.equal(fs.inodesUsed, fs.inodes! - fs.inodesFree!);
  assert.equal(await readFsStats(join(dir, "missing"), "x"), undefined);
});
