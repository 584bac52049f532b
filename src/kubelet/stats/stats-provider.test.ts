import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePki, type ClusterPki } from "../../apiserver/pki.ts";
import type { Pod } from "../../api/types/core-v1.ts";
import { FakeRuntime } from "../../runtime/fake-runtime.ts";
import type { ContainerStats as RuntimeStats } from "../../runtime/types.ts";
import { LABEL_POD_NAME, LABEL_POD_NAMESPACE } from "../container-start.ts";
import { KubeletServer } from "../server/kubelet-server.ts";
import { memoryStats, nanoCores, StatsProvider, sumUsage } from "./stats-provider.ts";
import type { Summary } from "./summary-types.ts";

const IMAGE = "docker.io/library/busybox:latest";
const T0 = Date.parse("2024-05-01T10:00:00Z");

/** A FakeRuntime whose containers report the counters the test sets. */
class StatsRuntime extends FakeRuntime {
  readonly usage = new Map<string, RuntimeStats>();
  override async containerStats(id: string): Promise<RuntimeStats | undefined> {
    if (!(await this.containerStatus(id))) return undefined;
    return (
      this.usage.get(id) ?? { cpuUsageCoreNanoSeconds: 0, memoryUsageBytes: 0, memoryWorkingSetBytes: 0 }
    );
  }
}

function pod(name: string, uid: string, memLimit?: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid },
    spec: {
      containers: [
        {
          name: "app",
          image: "busybox",
          ...(memLimit ? { resources: { limits: { memory: memLimit, cpu: "1" } } } : {}),
        },
        { name: "side", image: "busybox" },
      ],
    },
    status: { startTime: "2024-05-01T09:59:00Z" },
  };
}

async function run(
  rt: StatsRuntime,
  uid: string,
  name: string,
  attempt = 0,
  labels: Record<string, string> = {},
) {
  if (!(await rt.getImage(IMAGE))) rt.addImage(IMAGE);
  await rt.runSandbox({
    uid,
    namespace: "default",
    name: "p",
    hostname: "p",
    hostNetwork: false,
    cgroupParent: "",
    hostsFile: "",
    resolvConf: "",
  });
  const id = await rt.createContainer(uid, {
    name,
    image: IMAGE,
    argv: ["sh"],
    env: [],
    workingDir: "/",
    user: "",
    tty: false,
    stdin: false,
    mounts: [],
    logPath: "/dev/null",
    attempt,
    labels,
  });
  await rt.startContainer(id);
  return id;
}

function setup(extra: { pods?: Pod[]; cgroupRoot?: string | null; procRoot?: string } = {}) {
  const rt = new StatsRuntime();
  let now = T0;
  const pods = new Map((extra.pods ?? []).map((p) => [p.metadata.uid!, p]));
  const provider = new StatsProvider({
    runtime: rt,
    nodeName: "node-1",
    podByUid: (uid) => pods.get(uid),
    cgroupRoot: extra.cgroupRoot === undefined ? null : extra.cgroupRoot,
    procRoot: extra.procRoot ?? "/nonexistent-proc",
    now: () => now,
  });
  return { rt, provider, pods, advance: (ms: number) => (now += ms) };
}

test("nanoCores: cpu delta over wall delta; nothing for empty windows or counters that went back", () => {
  assert.equal(nanoCores(1e9, 0, 1e9 + 5e9, 10_000), 5e8);
  assert.equal(nanoCores(0, 0, 2e9, 1000), 2e9);
  assert.equal(nanoCores(5, 100, 9, 100), undefined);
  assert.equal(nanoCores(9e9, 0, 1e9, 10_000), undefined);
});

test("memoryStats: available = limit − working set, optional fields only when known", () => {
  const u = { cpuUsageNanos: 0, memoryUsageBytes: 100, memoryWorkingSetBytes: 60, memoryRssBytes: 40 };
  assert.deepEqual(memoryStats(u, "t", 1000), {
    time: "t",
    usageBytes: 100,
    workingSetBytes: 60,
    availableBytes: 940,
    rssBytes: 40,
  });
  assert.deepEqual(memoryStats(u, "t"), { time: "t", usageBytes: 100, workingSetBytes: 60, rssBytes: 40 });
  assert.deepEqual(
    sumUsage([u, { cpuUsageNanos: 7, memoryUsageBytes: 1, memoryWorkingSetBytes: 1, memoryLimitBytes: 5 }]),
    { cpuUsageNanos: 7, memoryUsageBytes: 101, memoryWorkingSetBytes: 61 },
  );
});

test("container and pod cpu rates from two samples; memory passed through; Summary shape", async () => {
  const p = pod("web", "uid-web", "64Mi");
  const { rt, provider, advance } = setup({ pods: [p] });
  const app = await run(rt, "uid-web", "app");
  const side = await run(rt, "uid-web", "side");
  rt.usage.set(app, {
    cpuUsageCoreNanoSeconds: 1e9,
    memoryUsageBytes: 20 << 20,
    memoryWorkingSetBytes: 16 << 20,
    memoryRssBytes: 12 << 20,
    memoryPageFaults: 100,
    memoryMajorPageFaults: 1,
  });
  rt.usage.set(side, { cpuUsageCoreNanoSeconds: 0, memoryUsageBytes: 4096, memoryWorkingSetBytes: 4096 });
  await provider.sample();
  advance(10_000);
  rt.usage.set(app, { ...rt.usage.get(app)!, cpuUsageCoreNanoSeconds: 6e9 }); // 5 s of cpu in 10 s
  rt.usage.set(side, { ...rt.usage.get(side)!, cpuUsageCoreNanoSeconds: 1e8 }); // 0.1 s
  const s: Summary = await provider.summary();
  assert.equal(s.node.nodeName, "node-1");
  assert.equal(s.node.cpu, undefined, "no /proc here: no node cpu");
  assert.equal(s.pods.length, 1);
  const ps = s.pods[0]!;
  assert.deepEqual(ps.podRef, { name: "web", namespace: "default", uid: "uid-web" });
  assert.equal(ps.startTime, "2024-05-01T09:59:00Z");
  const byName = new Map(ps.containers.map((c) => [c.name, c]));
  const time = "2024-05-01T10:00:10Z";
  assert.deepEqual(byName.get("app")!.cpu, { time, usageCoreNanoSeconds: 6e9, usageNanoCores: 5e8 });
  assert.deepEqual(byName.get("app")!.memory, {
    time,
    usageBytes: 20 << 20,
    workingSetBytes: 16 << 20,
    availableBytes: (64 << 20) - (16 << 20),
    rssBytes: 12 << 20,
    pageFaults: 100,
    majorPageFaults: 1,
  });
  assert.deepEqual(byName.get("side")!.cpu, { time, usageCoreNanoSeconds: 1e8, usageNanoCores: 1e7 });
  assert.match(byName.get("side")!.startTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  // The pod (no cgroup root here): the sum of its containers.
  assert.deepEqual(ps.cpu, { time, usageCoreNanoSeconds: 6.1e9, usageNanoCores: 5.1e8 });
  assert.equal(ps.memory?.workingSetBytes, (16 << 20) + 4096);
  assert.equal(ps.memory?.rssBytes, undefined, "side reports no rss: the sum has none");
  assert.equal(JSON.parse(JSON.stringify(s)).pods[0].containers.length, 2);
});

test("a read soon after a sample reports the sampler's rate; without any sample there is no rate yet", async () => {
  const { rt, provider, advance } = setup({ pods: [pod("a", "uid-a")] });
  const app = await run(rt, "uid-a", "app");
  rt.usage.set(app, { cpuUsageCoreNanoSeconds: 0, memoryUsageBytes: 1, memoryWorkingSetBytes: 1 });
  // First read ever: cumulative only.
  let s = await provider.summary();
  assert.equal(s.pods[0]!.containers[0]!.cpu?.usageNanoCores, undefined);
  assert.equal(s.pods[0]!.containers[0]!.cpu?.usageCoreNanoSeconds, 0);
  // Sampler: t=0 (seeded by the read) → t=10 s at 2 cores.
  advance(10_000);
  rt.usage.set(app, { ...rt.usage.get(app)!, cpuUsageCoreNanoSeconds: 20e9 });
  await provider.sample();
  // 200 ms later the counter says 0 cores over that window; the window is too short to trust.
  advance(200);
  s = await provider.summary();
  assert.equal(s.pods[0]!.containers[0]!.cpu?.usageNanoCores, 2e9);
  // 2 s after the sample: a fresh window (1 core since the sample).
  advance(1800);
  rt.usage.set(app, { ...rt.usage.get(app)!, cpuUsageCoreNanoSeconds: 22e9 });
  s = await provider.summary();
  assert.equal(s.pods[0]!.containers[0]!.cpu?.usageNanoCores, 1e9);
  // Reads don't move the reference: the same counter 2 s later is measured from the sample.
  advance(2000);
  s = await provider.summary();
  assert.equal(s.pods[0]!.containers[0]!.cpu?.usageNanoCores, 5e8);
});

test("only running containers, newest attempt per name; pod names from labels; unknown pods skipped", async () => {
  const { rt, provider } = setup();
  const labels = { [LABEL_POD_NAME]: "lbl", [LABEL_POD_NAMESPACE]: "team" };
  const old = await run(rt, "uid-l", "app", 0, labels);
  rt.exitContainer(old, 1);
  const cur = await run(rt, "uid-l", "app", 1, labels);
  const done = await run(rt, "uid-l", "job", 0, labels);
  rt.exitContainer(done, 0);
  await run(rt, "uid-nolabels", "app");
  rt.usage.set(cur, { cpuUsageCoreNanoSeconds: 42, memoryUsageBytes: 7, memoryWorkingSetBytes: 7 });
  const s = await provider.summary();
  assert.deepEqual(
    s.pods.map((p) => p.podRef),
    [{ name: "lbl", namespace: "team", uid: "uid-l" }],
  );
  assert.deepEqual(
    s.pods[0]!.containers.map((c) => [c.name, c.cpu?.usageCoreNanoSeconds]),
    [["app", 42]],
  );
});

test("pod totals come from the pod cgroup when it can be read; node from /proc with a rate", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kites-stats-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cg = join(dir, "cgroup");
  const proc = join(dir, "proc");
  mkdirSync(join(cg, "kites/besteffort/poduid-cg"), { recursive: true });
  mkdirSync(proc);
  writeFileSync(join(cg, "cgroup.controllers"), "cpu memory\n");
  const podDir = join(cg, "kites/besteffort/poduid-cg");
  const writePod = (usec: number): void => {
    writeFileSync(join(podDir, "cpu.stat"), `usage_usec ${usec}\n`);
    writeFileSync(join(podDir, "memory.current"), "3000000\n");
    writeFileSync(join(podDir, "memory.stat"), "anon 1000000\ninactive_file 500000\n");
    writeFileSync(join(podDir, "memory.max"), "max\n");
  };
  const writeProc = (userTicks: number): void => {
    writeFileSync(join(proc, "stat"), `cpu  ${userTicks} 0 0 100 0 0 0 0 0 0\nbtime 1714550000\n`);
    writeFileSync(join(proc, "meminfo"), "MemTotal: 1000 kB\nMemFree: 400 kB\nInactive(file): 100 kB\n");
  };
  writePod(1_000_000);
  writeProc(1000);
  const p = pod("cg", "uid-cg");
  const { rt, provider, advance } = setup({ pods: [p], cgroupRoot: cg, procRoot: proc });
  await run(rt, "uid-cg", "app");
  await provider.sample();
  advance(10_000);
  writePod(4_000_000); // 3 s in 10 s
  writeProc(1500); // 500 ticks = 5 s in 10 s
  const s = await provider.summary();
  const ps = s.pods[0]!;
  assert.deepEqual(ps.cpu, { time: "2024-05-01T10:00:10Z", usageCoreNanoSeconds: 4e9, usageNanoCores: 3e8 });
  assert.deepEqual(ps.memory, {
    time: "2024-05-01T10:00:10Z",
    usageBytes: 3_000_000,
    workingSetBytes: 2_500_000,
    rssBytes: 1_000_000,
  });
  assert.equal(s.node.startTime, "2024-05-01T07:53:20Z");
  assert.deepEqual(s.node.cpu, {
    time: "2024-05-01T10:00:10Z",
    usageCoreNanoSeconds: 15e9,
    usageNanoCores: 5e8,
  });
  assert.deepEqual(s.node.memory, {
    time: "2024-05-01T10:00:10Z",
    usageBytes: 600 * 1024,
    workingSetBytes: 500 * 1024,
    availableBytes: 500 * 1024,
  });
});

test("the sampler keeps references only for what still exists", async () => {
  const { rt, provider } = setup({ pods: [pod("a", "uid-a")] });
  const ids = [await run(rt, "uid-a", "app"), await run(rt, "uid-a", "side")];
  await provider.sample();
  const points = (provider as unknown as { points: Map<string, unknown> }).points;
  assert.deepEqual(
    [...points.keys()].sort(),
    ["container/" + ids[0], "container/" + ids[1], "pod/uid-a"].sort(),
  );
  await rt.stopSandbox("uid-a");
  await rt.removeSandbox("uid-a");
  for (const id of ids) await rt.removeContainer(id);
  await provider.sample();
  assert.equal((provider as unknown as { points: Map<string, unknown> }).points.size, 0);
});

function get(
  pki: ClusterPki,
  port: number,
  path: string,
  method = "GET",
): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method,
        ca: pki.caCert,
        cert: pki.kubeletClientCert,
        key: pki.kubeletClientKey,
        checkServerIdentity: () => undefined,
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ code: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

test("KubeletServer serves GET /stats/summary (only_cpu_and_memory drops fs); 404 without a provider", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kites-stats-srv-"));
  const pki = ensurePki(join(dir, "pki"), ["127.0.0.1"]);
  const rt = new StatsRuntime();
  const provider = new StatsProvider({
    runtime: rt,
    nodeName: "n1",
    podByUid: () => undefined,
    dataDir: dir,
  });
  const withStats = new KubeletServer({
    runtime: rt,
    pods: () => undefined,
    tls: { ca: pki.caCert, cert: pki.kubeletCert, key: pki.kubeletKey },
    port: 0,
    host: "127.0.0.1",
    stats: provider,
  });
  const without = new KubeletServer({
    runtime: rt,
    pods: () => undefined,
    tls: { ca: pki.caCert, cert: pki.kubeletCert, key: pki.kubeletKey },
    port: 0,
    host: "127.0.0.1",
  });
  t.after(async () => {
    await withStats.stop();
    await without.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await withStats.start();
  await without.start();
  const full = await get(pki, withStats.port, "/stats/summary");
  assert.equal(full.code, 200);
  const s = JSON.parse(full.body) as Summary;
  assert.equal(s.node.nodeName, "n1");
  assert.ok(s.node.cpu && s.node.memory && s.node.fs, "node cpu, memory and fs from the host");
  assert.deepEqual(s.pods, []);
  const only = JSON.parse(
    (await get(pki, withStats.port, "/stats/summary?only_cpu_and_memory=true")).body,
  ) as Summary;
  assert.equal(only.node.fs, undefined);
  assert.ok(only.node.memory);
  assert.equal((await get(pki, withStats.port, "/stats/summary", "PUT")).code, 405);
  assert.equal((await get(pki, without.port, "/stats/summary")).code, 404);
});
