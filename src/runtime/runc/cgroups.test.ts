import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isCgroupV2, parseFlatKeyed, readCgroupUsage } from "./cgroups.ts";

function write(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

test("cgroup v2: cpu from usage_usec, working set = current − inactive_file, anon as rss, memory.max", (t) => {
  const root = mkdtempSync(join(tmpdir(), "kites-cg2-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, "cgroup.controllers"), "cpu memory pids\n");
  write(join(root, "kites/burstable/podA"), {
    "cpu.stat": "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n",
    "memory.current": "10485760\n",
    "memory.stat": "anon 4194304\nfile 6291456\ninactive_file 2097152\npgfault 1234\npgmajfault 5\n",
    "memory.max": "67108864\n",
  });
  write(join(root, "kites/besteffort/podB"), {
    "cpu.stat": "usage_usec 1\n",
    "memory.current": "100\n",
    "memory.stat": "inactive_file 4096\n",
    "memory.max": "max\n",
  });
  assert.equal(isCgroupV2(root), true);
  return (async () => {
    const a = await readCgroupUsage("/kites/burstable/podA", root);
    assert.deepEqual(a, {
      cpuUsageNanos: 2_500_000,
      memoryUsageBytes: 10_485_760,
      memoryWorkingSetBytes: 10_485_760 - 2_097_152,
      memoryRssBytes: 4_194_304,
      memoryPageFaults: 1234,
      memoryMajorPageFaults: 5,
      memoryLimitBytes: 67_108_864,
    });
    // Inactive file larger than usage (racy reads): the working set floors at 0; no limit.
    const b = await readCgroupUsage("/kites/besteffort/podB", root);
    assert.equal(b?.memoryWorkingSetBytes, 0);
    assert.equal(b?.memoryLimitBytes, undefined);
    assert.equal(b?.memoryRssBytes, undefined);
    assert.equal(await readCgroupUsage("/kites/besteffort/gone", root), undefined);
  })();
});

test("cgroup v1: cpuacct.usage, hierarchical total_* memory.stat names, huge limit = unlimited", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "kites-cg1-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  write(join(root, "cpuacct/kites/guaranteed/podC"), { "cpuacct.usage": "987654321\n" });
  write(join(root, "memory/kites/guaranteed/podC"), {
    "memory.usage_in_bytes": "8192000\n",
    "memory.limit_in_bytes": "9223372036854771712\n",
    "memory.stat":
      "cache 100\nrss 200\ninactive_file 50\npgfault 7\n" +
      "total_cache 4096000\ntotal_rss 3000000\ntotal_inactive_file 1024000\ntotal_pgfault 70\ntotal_pgmajfault 2\n",
  });
  assert.equal(isCgroupV2(root), false);
  const c = await readCgroupUsage("/kites/guaranteed/podC", root);
  assert.deepEqual(c, {
    cpuUsageNanos: 987_654_321,
    memoryUsageBytes: 8_192_000,
    memoryWorkingSetBytes: 8_192_000 - 1_024_000,
    memoryRssBytes: 3_000_000,
    memoryPageFaults: 70,
    memoryMajorPageFaults: 2,
  });
  // The memory cgroup without the cpuacct one (half-removed): unreadable.
  write(join(root, "memory/kites/x"), { "memory.usage_in_bytes": "1\n" });
  assert.equal(await readCgroupUsage("/kites/x", root), undefined);
});

test("parseFlatKeyed skips malformed lines", () => {
  const m = parseFlatKeyed("a 1\n\nbad\nb x\nc 3\n");
  assert.deepEqual(
    [...m],
    [
      ["a", 1],
      ["c", 3],
    ],
  );
});
