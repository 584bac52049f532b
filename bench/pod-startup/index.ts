/**
 * @module bench/pod-startup: pod startup on the one real node, against bare runc, in one run.
 * Starts `bin/kites server` with its node agent (root; runc + conmon; pod CIDR
 * 10.244.210.0/24 and a free kubelet port so it clashes with nothing else on the machine),
 * and times, through a pod watch, API create → `Running` and → `Ready` for busybox
 * `sleep 3600` pods: 20 single pods one after another (each deleted and torn down before
 * the next), then a burst of 100 at once. Beside it, the floor: `runc run -d` of the same
 * busybox image (an overlay snapshot of the same unpacked layers, a `runc spec` bundle),
 * 20 times. Prints the figures and the ratios, last line one JSON object.
 *
 * Memory: the agent runs inside the server process, so "agent memory" is measured as the
 * server's RSS with 100 pods minus its RSS idle on the same node (control plane included in
 * both); conmon's per-container processes are reported separately.
 *
 * It holds the e2e tests' node lock (test/e2e/node-harness.ts) while it runs, since the
 * machine has one pod network.
 *
 * Usage: npm run bench -- pod-startup [--singles N] [--burst N]
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Node, Pod, ServiceAccount } from "../../src/api/types/core-v1.ts";
import { connectionFromKubeconfig, RestClient } from "../../src/client/rest-client.ts";
import { teardownNodeNetwork } from "../../src/runtime/network/node-network.ts";
import { procStats, startServer, type ServerProcess } from "../apiserver/server-process.ts";
import { lockNode } from "../../test/e2e/node-harness.ts";
import { PodTracker } from "./pod-tracker.ts";
import { RUNC, runcFloor, type FloorResult } from "./runc-floor.ts";

const execFileP = promisify(execFile);
/** `--singles N` and `--burst N` shrink a run while profiling; the recorded figures use the defaults. */
function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a positive integer`);
  return v;
}
const SINGLES = flag("singles", 20);
const BURST = flag("burst", 100);
const FLOOR_RUNS = 20;
const NS = "default";
const POD_CIDR = "10.244.210.0/24";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const r1 = (x: number): number => Math.round(x * 10) / 10;
const sorted = (xs: Iterable<number>): number[] => [...xs].sort((a, b) => a - b);

function podObject(name: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NS, labels: { app: "pod-startup-bench" } },
    spec: {
      // busybox sleep as pid 1 ignores SIGTERM: one second of grace, then SIGKILL.
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "sleep", image: "busybox", command: ["sleep", "3600"] }],
    },
  };
}

async function until(pred: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

async function runcList(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  const { stdout } = await execFileP(RUNC, ["--root", root, "list", "-q"]);
  return stdout.split("\n").filter(Boolean);
}

/** True once the agent's runtime holds no sandbox, container or runc container. */
async function runtimeEmpty(dataDir: string): Promise<boolean> {
  const dir = (d: string): string[] => (existsSync(d) ? readdirSync(d) : []);
  const rt = join(dataDir, "runtime");
  return (
    dir(join(rt, "sandboxes")).length === 0 &&
    dir(join(rt, "containers")).length === 0 &&
    (await runcList(join(rt, "runc"))).length === 0
  );
}

/** RSS (MB) summed over the conmon processes serving containers under `dataDir`. */
function conmonRssMb(dataDir: string): { count: number; rssMb: number } {
  let count = 0;
  let kb = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmd.includes("conmon") || !cmd.includes(dataDir)) continue;
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      count++;
      kb += Number(m?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return { count, rssMb: r1(kb / 1024) };
}

/** Mount points under `dir` (there must be none before it is removed). */
function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

function missingPrereqs(): string[] {
  return [
    process.getuid?.() !== 0 ? "root" : "",
    existsSync(RUNC) ? "" : "runc",
    existsSync("/usr/bin/conmon") ? "" : "conmon",
  ].filter(Boolean);
}

async function main(): Promise<void> {
  const missing = missingPrereqs();
  if (missing.length > 0) {
    console.warn(`SKIPPED pod-startup bench: missing ${missing.join(", ")}`);
    console.log(JSON.stringify({ bench: "pod-startup", skipped: `missing ${missing.join(", ")}` }));
    return;
  }
  const unlock = await lockNode();
  try {
    await measure();
  } finally {
    unlock();
  }
}

async function measure(): Promise<void> {
  const bridgeExisted = await execFileP("ip", ["link", "show", "dev", "kites0"]).then(
    () => true,
    () => false,
  );
  const dataDir = mkdtempSync(join(tmpdir(), "kites-bench-podstart-"));
  let server: ServerProcess | undefined;
  let client: RestClient | undefined;
  const ac = new AbortController();
  const out: Record<string, unknown> = { bench: "pod-startup", machine: "2 cores, shared with other jobs" };
  let floor: FloorResult | undefined;
  let failure: unknown;
  try {
    const ts = performance.now();
    server = await startServer(dataDir, 180_000, [
      "--disable-agent=false",
      "--pod-cidr",
      POD_CIDR,
      "--kubelet-port",
      "0",
    ]);
    out.serverStartMs = Math.round(performance.now() - ts);
    client = new RestClient({
      ...connectionFromKubeconfig(server.kubeconfig, "bench-pod-startup"),
      maxSockets: 128,
    });
    const c = client;
    const nodes = c.resource<Node>("", "nodes");
    await until(
      async () =>
        (await nodes.list()).items.some((n) =>
          (n.status?.conditions ?? []).some((x) => x.type === "Ready" && x.status === "True"),
        ),
      60_000,
      "a Ready node",
    );
    const nodeCount = (await nodes.list()).items.length;
    if (nodeCount !== 1) throw new Error(`expected the one agent node, found ${nodeCount} nodes`);
    const sas = c.resource<ServiceAccount>("", "serviceaccounts");
    await until(
      () =>
        sas.get(NS, "default").then(
          () => true,
          () => false,
        ),
      60_000,
      `serviceaccount ${NS}/default`,
    );
    const tracker = new PodTracker(c, NS);
    tracker.informer.start(ac.signal);
    await tracker.informer.synced;
    const pods = c.resource<Pod>("", "pods");
    await sleep(3000);
    const idle = procStats(server.pid);
    console.error(`server idle RSS ${idle.rssMb} MB; ${SINGLES} single pods…`);

    // ---- singles ----
    const singleBound: number[] = [];
    const singleRunning: number[] = [];
    const singleReady: number[] = [];
    for (let i = 0; i < SINGLES; i++) {
      const name = `single-${i}`;
      const t0 = performance.now();
      await pods.create(podObject(name));
      await tracker.until(() => tracker.readyAt.has(name), 60_000, `${name} Ready`);
      singleBound.push(tracker.boundAt.get(name)! - t0);
      singleRunning.push(tracker.runningAt.get(name)! - t0);
      singleReady.push(tracker.readyAt.get(name)! - t0);
      await pods.delete(NS, name);
      await tracker.until(() => tracker.goneAt.has(name), 60_000, `${name} deleted`);
      await until(() => runtimeEmpty(dataDir), 60_000, `${name} torn down`);
    }
    const sRun = sorted(singleRunning);
    const sReady = sorted(singleReady);
    out.single = {
      runs: SINGLES,
      boundP50Ms: r1(percentile(sorted(singleBound), 50)),
      runningP50Ms: r1(percentile(sRun, 50)),
      runningMinMs: r1(sRun[0]!),
      runningMaxMs: r1(sRun[sRun.length - 1]!),
      readyP50Ms: r1(percentile(sReady, 50)),
      readyMaxMs: r1(sReady[sReady.length - 1]!),
      // In run order, so a slow first pod (or a noisy neighbour) shows where it happened.
      runningMs: singleRunning.map(Math.round),
    };
    console.error(`single: ${JSON.stringify(out.single)}; burst of ${BURST}…`);

    // ---- burst ----
    const names = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
    const createdAt = new Map<string, number>();
    const t0 = performance.now();
    await Promise.all(
      names.map(async (n) => {
        createdAt.set(n, performance.now());
        await pods.create(podObject(n));
      }),
    );
    const createMs = performance.now() - t0;
    await tracker.until(() => names.every((n) => tracker.readyAt.has(n)), 180_000, `${BURST} pods Ready`);
    const lastRunning = Math.max(...names.map((n) => tracker.runningAt.get(n)!));
    const lastReady = Math.max(...names.map((n) => tracker.readyAt.get(n)!));
    const bRun = sorted(names.map((n) => tracker.runningAt.get(n)! - createdAt.get(n)!));
    const bReady = sorted(names.map((n) => tracker.readyAt.get(n)! - createdAt.get(n)!));
    await sleep(2000);
    const loaded = procStats(server.pid);
    const conmon = conmonRssMb(dataDir);
    out.burst = {
      pods: BURST,
      createAllMs: Math.round(createMs),
      allBoundMs: Math.round(Math.max(...names.map((n) => tracker.boundAt.get(n)!)) - t0),
      allRunningMs: Math.round(lastRunning - t0),
      allReadyMs: Math.round(lastReady - t0),
      runningP50Ms: Math.round(percentile(bRun, 50)),
      runningP99Ms: Math.round(percentile(bRun, 99)),
      readyP50Ms: Math.round(percentile(bReady, 50)),
      readyP99Ms: Math.round(percentile(bReady, 99)),
    };
    out.memory = {
      serverIdleRssMb: idle.rssMb,
      serverRssWith100PodsMb: loaded.rssMb,
      serverPeakRssMb: loaded.peakRssMb,
      agentShareMb: r1(loaded.rssMb - idle.rssMb),
      note: "agentShareMb = server RSS with 100 pods − server RSS idle; the agent runs inside the server",
      conmonProcesses: conmon.count,
      conmonTotalRssMb: conmon.rssMb,
    };
    console.error(`burst: ${JSON.stringify(out.burst)}; memory: ${JSON.stringify(out.memory)}`);

    // ---- teardown of the pods, checked ----
    await Promise.all(names.map((n) => pods.delete(NS, n)));
    await tracker.until(() => names.every((n) => tracker.goneAt.has(n)), 180_000, "burst pods deleted");
    await until(() => runtimeEmpty(dataDir), 120_000, "burst pods torn down");
  } catch (e) {
    failure = e;
  } finally {
    ac.abort();
    if (server && client) {
      // Whatever is left (after a failure): delete, and give the agent time to tear it down.
      const pods = client.resource<Pod>("", "pods");
      const left = await pods.list(NS, { labelSelector: "app=pod-startup-bench" }).catch(() => undefined);
      if (left && left.items.length > 0) {
        await Promise.all(left.items.map((p) => pods.delete(NS, p.metadata.name!).catch(() => undefined)));
        await until(() => runtimeEmpty(dataDir), 120_000, "leftover pods torn down").catch((e: unknown) =>
          console.error(String(e)),
        );
      }
    }
    client?.close();
    // The agent's complaints during the run, if any, help explain slow figures.
    const agentLines = (server?.stderrTail() ?? "").split("\n").filter((l) => l.includes("kubelet:"));
    if (agentLines.length > 0) console.error(`server (agent) said:\n${agentLines.slice(-20).join("\n")}`);
    out.runcLeftInAgentRoot = (await runcList(join(dataDir, "runtime", "runc")).catch(() => ["?"])).length;
    if (server) await server.stop(10_000);
  }
  if (!failure) {
    try {
      console.error(`floor: ${FLOOR_RUNS} × runc run -d…`);
      floor = await runcFloor(
        join(dataDir, "images"),
        mkdtempSync(join(tmpdir(), "kites-bench-floor-")),
        FLOOR_RUNS,
      );
    } catch (e) {
      failure = e;
    }
  }
  const mounts = mountsUnder(dataDir);
  if (mounts.length === 0) rmSync(dataDir, { recursive: true, force: true });
  else console.error(`left ${dataDir} in place: still mounted: ${mounts.join(", ")}`);
  if (!bridgeExisted) await teardownNodeNetwork({ podCIDR: POD_CIDR }).catch(() => undefined);
  if (failure) throw failure;

  const f = sorted(floor!.samplesMs);
  const floorP50 = percentile(f, 50);
  out.floor = {
    runs: f.length,
    runcRunP50Ms: r1(floorP50),
    runcRunMinMs: r1(f[0]!),
    runcRunMaxMs: r1(f[f.length - 1]!),
    leftovers: floor!.leftovers,
  };
  const single = out.single as { runningP50Ms: number; readyP50Ms: number };
  const burst = out.burst as { allRunningMs: number };
  const mem = out.memory as { agentShareMb: number };
  out.ratios = {
    singleRunningP50OverFloorP50: r1(single.runningP50Ms / floorP50),
    singleReadyP50OverFloorP50: r1(single.readyP50Ms / floorP50),
  };
  out.goals = {
    singleWithin2xFloor: single.runningP50Ms <= 2 * floorP50,
    burstAllRunningUnder5s: burst.allRunningMs < 5000,
    agentUnder60Mb: mem.agentShareMb < 60,
  };
  out.mountsLeft = mounts.length;
  console.error(
    `single pod p50: Running ${single.runningP50Ms} ms, Ready ${single.readyP50Ms} ms; bare runc run p50 ${r1(floorP50)} ms; ratio ${(out.ratios as { singleRunningP50OverFloorP50: number }).singleRunningP50OverFloorP50}×`,
  );
  console.log(JSON.stringify(out));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`bench pod-startup failed: ${e instanceof Error ? e.stack : String(e)}`);
    process.exit(1);
  },
);
