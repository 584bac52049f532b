/**
 * @module bench/apiserver: the real API server on SQLite, started as a user starts it
 * (`bin/kites server --data-dir TMP --port 0 --disable-agent`) and driven over HTTPS with the
 * admin client certificate. In one run: mutating latency under open-loop load (100, 500,
 * 2,000 requests/s; half pod creates, half status updates), LIST of 10k and 100k pods (full,
 * paginated by 500, and as a Table), watch fan-out (1,000 watches × 1,000 updates), the
 * server's CPU time and memory per phase, and the same creates and list done on SQLite
 * directly in this process, with API/datastore ratios.
 *
 * Usage: npm run bench -- apiserver [--quick]   (--quick: 10× smaller, for a smoke run)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "./client.ts";
import { datastoreBaseline, type DatastoreResult } from "./datastore.ts";
import { listFull, listPaged } from "./lists.ts";
import { openLoop, type LevelResult } from "./load.ts";
import { createPods, median, podName, r1 } from "./pods.ts";
import { procStats, startServer, type ServerProcess } from "./server-process.ts";
import { watchFanout, type WatchResult } from "./watch.ts";

const quick = process.argv.includes("--quick");
const N = {
  rates: [100, 500, 2000],
  levelMs: quick ? 500 : 5000,
  statusPool: quick ? 100 : 1000,
  listSmall: quick ? 1000 : 10_000,
  listLarge: quick ? 10_000 : 100_000,
  createConcurrency: 100,
  pageLimit: 500,
  watchers: quick ? 100 : 1000,
  watchUpdates: quick ? 100 : 1000,
  watchWriters: 10,
};
/** The whole run is killed after this long, whatever it is doing. */
const DEADLINE_MS = quick ? 5 * 60_000 : 30 * 60_000;
const NS = "bench";
const LIST_NS = "list";

/** Server CPU, client CPU and server memory over one phase. */
interface PhaseStats {
  wallMs: number;
  serverCpuMs: number;
  /** Server CPU time over wall time, in % of one core. */
  serverCpuPct: number;
  clientCpuMs: number;
  serverPeakRssMb: number;
}

const phases: Record<string, PhaseStats> = {};
let server: ServerProcess | undefined;
const dirs: string[] = [];
let rssNow = 0;
let phasePeak = 0;

function cleanupSync(): void {
  if (server) {
    try {
      process.kill(server.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
process.on("exit", cleanupSync);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));

/** Runs one phase and records the server's CPU time and peak RSS over it. */
async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const s = server!;
  const before = procStats(s.pid);
  const c0 = process.cpuUsage();
  phasePeak = before.rssMb;
  const t0 = performance.now();
  const out = await fn();
  const wallMs = performance.now() - t0;
  const after = procStats(s.pid);
  const c = process.cpuUsage(c0);
  const serverCpuMs = Math.round(after.cpuMs - before.cpuMs);
  phases[name] = {
    wallMs: Math.round(wallMs),
    serverCpuMs,
    serverCpuPct: Math.round((serverCpuMs / wallMs) * 100),
    clientCpuMs: Math.round((c.user + c.system) / 1000),
    serverPeakRssMb: Math.max(phasePeak, after.rssMb),
  };
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number): string => n.toLocaleString("en-US");

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error(`bench apiserver: deadline of ${DEADLINE_MS / 60_000} min passed; stopping`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();

  const dataDir = mkdtempSync(join(tmpdir(), "kites-bench-apiserver-"));
  dirs.push(dataDir);
  const t0 = performance.now();
  // The API server alone: no scheduler or controllers reacting to 100k pods.
  server = await startServer(dataDir, 30_000, ["--disable-scheduler", "--disable-controller-manager"]);
  const readyMs = Math.round(performance.now() - t0);
  const pid = server.pid;
  const sampler = setInterval(() => {
    try {
      rssNow = procStats(pid).rssMb;
      phasePeak = Math.max(phasePeak, rssNow);
    } catch {
      // the server is gone; the phase will fail on its own
    }
  }, 100);
  sampler.unref();
  await sleep(2000);
  const idleBefore = procStats(pid).rssMb;
  console.log(
    `server pid ${pid} ready in ${readyMs} ms on port ${server.port}; idle RSS ${idleBefore} MB` +
      (quick ? "   (--quick: 10x smaller)" : ""),
  );

  const client = new ApiClient(server.kubeconfig, 256, N.watchers);
  const out: Record<string, unknown> = { quick, counts: N, readyMs, idleRssMbBefore: idleBefore };
  try {
    for (const ns of [NS, LIST_NS]) {
      await client.ok(
        "POST",
        "/api/v1/namespaces",
        JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }),
      );
    }

    // 1. Mutating latency under open-loop load.
    await createPods(client, NS, "status", 0, N.statusPool, N.createConcurrency);
    const pool = Array.from({ length: N.statusPool }, (_, i) => podName("status", i));
    const levels: (LevelResult & { serverCpuPct: number })[] = [];
    for (const rate of N.rates) {
      const res = await phase(`load${rate}`, () =>
        openLoop(client, {
          rate,
          durationMs: N.levelMs,
          namespace: NS,
          pool,
          createPrefix: `load${rate}`,
          drainMs: 30_000,
        }),
      );
      const cpu = phases[`load${rate}`]!.serverCpuPct;
      levels.push({ ...res, serverCpuPct: cpu });
      console.log(
        `mutating ${String(rate).padStart(5)}/s offered: achieved ${fmt(res.achievedRps)}/s, ${res.errors} errors | ` +
          `p50 ${res.p50Ms} ms  p99 ${res.p99Ms} ms  max ${res.maxMs} ms (create p99 ${res.createP99Ms}, status p99 ${res.statusP99Ms}) | server CPU ${cpu}%`,
      );
      await sleep(500);
    }
    out.mutating = levels;

    // 2. LIST of 10k and 100k pods.
    const createSmall = await phase("create-small", () =>
      createPods(client, LIST_NS, "pod", 0, N.listSmall, N.createConcurrency),
    );
    const lists: Record<string, number> = { createsPerSecFirst: createSmall };
    const three = async (name: string, fn: () => Promise<number>): Promise<number> => {
      const runs: number[] = [];
      await phase(name, async () => {
        for (let r = 0; r < 3; r++) runs.push(await fn());
      });
      return r1(median(runs));
    };
    lists.listSmallMs = await three("list-small", () => listFull(client, LIST_NS, N.listSmall));
    lists.listSmallPagedMs = await three("list-small-paged", () =>
      listPaged(client, LIST_NS, N.listSmall, N.pageLimit),
    );
    lists.listSmallTableMs = await three("list-small-table", () =>
      listFull(client, LIST_NS, N.listSmall, true),
    );
    console.log(
      `list ${fmt(N.listSmall)} pods: full ${lists.listSmallMs} ms | paginated by ${N.pageLimit} ${lists.listSmallPagedMs} ms | Table ${lists.listSmallTableMs} ms   (p50 of 3)`,
    );
    const createLarge = await phase("create-large", () =>
      createPods(client, LIST_NS, "pod", N.listSmall, N.listLarge - N.listSmall, N.createConcurrency),
    );
    const createMs = phases["create-small"]!.wallMs + phases["create-large"]!.wallMs;
    lists.createsPerSecRest = createLarge;
    lists.createsPerSec = Math.round((N.listLarge / createMs) * 1000);
    console.log(
      `created ${fmt(N.listLarge)} pods with ${N.createConcurrency} concurrent requests: ${fmt(lists.createsPerSec)}/s ` +
        `(first ${fmt(N.listSmall)}: ${fmt(createSmall)}/s, the rest: ${fmt(createLarge)}/s); server RSS now ${rssNow} MB`,
    );
    lists.listLargeMs = await three("list-large", () => listFull(client, LIST_NS, N.listLarge));
    lists.listLargePagedMs = await three("list-large-paged", () =>
      listPaged(client, LIST_NS, N.listLarge, N.pageLimit),
    );
    console.log(
      `list ${fmt(N.listLarge)} pods: full ${lists.listLargeMs} ms | paginated by ${N.pageLimit} ${lists.listLargePagedMs} ms   (p50 of 3)`,
    );
    out.lists = lists;
    // A pod as the server stores it: the value the datastore baseline writes.
    const sample = JSON.parse(
      await client.ok("GET", `/api/v1/namespaces/${LIST_NS}/pods/${podName("pod", 0)}`),
    ) as { metadata: Record<string, unknown> };
    delete sample.metadata.resourceVersion;
    sample.metadata.name = "NAME";

    // 3. Watch fan-out.
    const watch: WatchResult = await phase("watch", () =>
      watchFanout(client, {
        namespace: NS,
        watchers: N.watchers,
        pods: pool.slice(0, N.watchUpdates),
        writers: N.watchWriters,
        waitMs: 120_000,
      }),
    );
    out.watch = watch;
    console.log(
      `watch ${fmt(watch.watchers)} watchers x ${fmt(watch.updates)} updates: ${fmt(watch.receivedEvents)}/${fmt(watch.expectedEvents)} events, ` +
        `${fmt(watch.eventsPerSec)} events/s | delay p50 ${watch.p50DelayMs} ms  p99 ${watch.p99DelayMs} ms  max ${watch.maxDelayMs} ms | opened in ${watch.openMs} ms`,
    );

    // 4. Server CPU and memory.
    client.close();
    await sleep(5000);
    const end = procStats(pid);
    out.server = { phases, peakRssMb: end.peakRssMb, idleRssMbAfter: end.rssMb };
    console.log(
      "phase              wall ms  server CPU ms  (% of a core)  client CPU ms  server peak RSS MB",
    );
    for (const [name, p] of Object.entries(phases)) {
      console.log(
        `${name.padEnd(18)} ${String(p.wallMs).padStart(7)}  ${String(p.serverCpuMs).padStart(13)}  ${String(p.serverCpuPct).padStart(13)}  ${String(p.clientCpuMs).padStart(13)}  ${String(p.serverPeakRssMb).padStart(18)}`,
      );
    }
    console.log(
      `server RSS: idle at start ${idleBefore} MB, peak ${end.peakRssMb} MB, idle after (5 s, ${fmt(N.listLarge + N.statusPool)}+ pods stored) ${end.rssMb} MB`,
    );

    // 5. The same datastore work with no API server in front.
    await server.stop();
    server = undefined;
    const ds: DatastoreResult = await datastoreBaseline(dataDir, N.listLarge, JSON.stringify(sample));
    out.datastore = ds;
    const ratio = {
      createThroughput: Math.round((lists.createsPerSec / ds.createsPerSec) * 1000) / 1000,
      listTime: Math.round((lists.listLargeMs! / ds.listMs) * 100) / 100,
    };
    out.ratioApiOverDatastore = ratio;
    console.log(
      `datastore alone (SQLite in this process, 100 concurrent): ${fmt(ds.createsPerSec)} creates/s, list of ${fmt(ds.creates)} ${ds.listMs} ms`,
    );
    console.log(
      `ratio API/datastore: create throughput ${ratio.createThroughput} (higher is better) | list ${fmt(N.listLarge)} time ${ratio.listTime}x (lower is better)`,
    );

    const top = levels[levels.length - 1]!;
    out.goals = {
      mutatingP99At2000Under25ms: top.p99Ms < 25 && top.errors === 0,
      mutatingP99Under1sSlo: levels.every((l) => l.p99Ms <= 1000),
      list100kUnder1s: lists.listLargeMs! < 1000,
      idleUnder100MB: idleBefore < 100,
    };
    console.log(`goals: ${JSON.stringify(out.goals)}`);
  } finally {
    client.close();
    if (server) await server.stop();
    server = undefined;
    clearTimeout(deadline);
  }
  console.log(JSON.stringify(out));
}

try {
  await main();
} catch (e) {
  console.error(`bench apiserver: ${(e as Error).stack ?? String(e)}`);
  if (server) console.error(`server stderr (tail):\n${server.stderrTail()}`);
  process.exitCode = 1;
}
