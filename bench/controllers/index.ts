/**
 * @module bench/controllers: the workload controllers end to end on a real server with
 * simulated nodes. Starts `bin/kites server --disable-agent --port 0`, registers simulated
 * nodes, then creates CTRL_DEPLOYMENTS Deployments × CTRL_REPLICAS replicas (default
 * 1,000 × 10) and measures the time until every one reports Available
 * (status.availableReplicas == replicas and condition Available=True), Deployments/s,
 * reconciles/s and memory; then changes every template (a rolling update) and measures the
 * time until every rollout is complete as `kubectl rollout status` judges it.
 *
 * Whatever the server does not run yet (controller manager, scheduler, simulated kubelet)
 * is run in this process against the server, each detected with a one-Deployment probe;
 * the run prints which pieces ran where. Env: CTRL_DEPLOYMENTS, CTRL_REPLICAS,
 * CTRL_WORKERS (reconcile workers for in-process controllers, default the manager's),
 * CTRL_NODES (simulated nodes; default enough for 100 pods each).
 *
 * Usage: npm run bench -- controllers
 */
import { setMaxListeners } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Deployment } from "../../src/api/types/apps-v1.ts";
import type { Pod } from "../../src/api/types/core-v1.ts";
import type { Controller } from "../../src/client/controller.ts";
import { EventRecorder } from "../../src/client/events.ts";
import { InformerFactory } from "../../src/client/informer.ts";
import { connectionFromKubeconfig, RestClient } from "../../src/client/rest-client.ts";
import { defaultControllerOptions, type ControllerContext } from "../../src/controllers/context.ts";
import { startDeploymentController } from "../../src/controllers/deployment/index.ts";
import { startReplicaSetController } from "../../src/controllers/replicaset/index.ts";
import { procStats, startServer, type ServerProcess } from "../apiserver/server-process.ts";
import { startRoundRobinBinder } from "./binder.ts";
import { ensureSimNodes, startInProcessScheduler, startSimKubelet } from "./pieces.ts";
import { diffCounts, writeCounts } from "./server-metrics.ts";
import { DeploymentTracker } from "./tracker.ts";

const DEPLOYMENTS = Number(process.env.CTRL_DEPLOYMENTS ?? 1000);
const REPLICAS = Number(process.env.CTRL_REPLICAS ?? 10);
const WORKERS = Number(process.env.CTRL_WORKERS ?? defaultControllerOptions.workers);
const NODES = Number(process.env.CTRL_NODES ?? Math.max(10, Math.ceil((DEPLOYMENTS * REPLICAS * 1.3) / 100)));
const NS = "bench";
const CREATE_CONCURRENCY = 64;
const PROBE_WAIT_MS = 5000;
const PHASE_TIMEOUT_MS = Number(process.env.CTRL_PHASE_TIMEOUT_MS ?? 15 * 60_000);
const DEADLINE_MS = 40 * 60_000;

let server: ServerProcess | undefined;
const dirs: string[] = [];
process.on("exit", () => {
  if (server) {
    try {
      process.kill(server.pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const r1 = (n: number): number => Math.round(n * 10) / 10;
const mb = (bytes: number): number => r1(bytes / 1048576);

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(50);
  }
  return true;
}

/** Runs `fn` over 0..n-1 with `limit` in flight. */
async function forN(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

function deployment(name: string, replicas: number): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image: "registry.k8s.io/pause:3.9" }] },
      },
    },
  };
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error(`bench controllers: deadline of ${DEADLINE_MS / 60_000} min passed; stopping`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();

  const dataDir = mkdtempSync(join(tmpdir(), "kites-bench-controllers-"));
  dirs.push(dataDir);
  server = await startServer(dataDir);
  const conn = connectionFromKubeconfig(server.kubeconfig, "bench-controllers");
  const client = new RestClient({ ...conn, maxSockets: 128 });
  const ac = new AbortController();
  const signal = ac.signal;
  setMaxListeners(0, signal);
  const informers = new InformerFactory(client);
  console.log(
    `server pid ${server.pid} on port ${server.port}; ${DEPLOYMENTS} Deployments x ${REPLICAS} replicas on ${NODES} simulated nodes`,
  );

  const nodesWhere = await ensureSimNodes(server.kubeconfig, client, NODES);
  await client
    .resource("", "namespaces")
    .create({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } })
    .catch(() => undefined);

  // Watch Deployments and pods before anything runs, to see which pieces the server runs.
  const tracker = new DeploymentTracker(informers.informer<Deployment>("apps", "deployments"));
  const pods = informers.informer<Pod>("", "pods");
  informers.start(signal);
  await informers.waitForSync();

  const where: Record<string, string> = { simNodes: nodesWhere };
  const controllers: Controller[] = [];
  const probe = deployment("probe", 1);
  await client.resource<Deployment>("apps", "deployments").create(probe);
  const probePods = (): Pod[] => pods.list(NS).filter((p) => p.metadata.labels?.app === "probe");

  if (await waitFor(() => probePods().length > 0, PROBE_WAIT_MS)) {
    where.controllers = "server";
  } else {
    const ctx: ControllerContext = {
      client,
      informers,
      recorder: (component) => new EventRecorder(client, { component }),
      options: { ...defaultControllerOptions, workers: WORKERS },
      signal,
    };
    controllers.push(...startReplicaSetController(ctx), ...startDeploymentController(ctx));
    await informers.waitForSync();
    for (const c of controllers) c.start(signal);
    where.controllers = `in-process (bench; ${WORKERS} workers each)`;
  }
  if (!(await waitFor(() => probePods().length > 0, 30_000)))
    throw new Error("the probe Deployment never got a pod");
  if (!(await waitFor(() => probePods().some((p) => p.spec?.nodeName), PROBE_WAIT_MS))) {
    where.scheduler = (await startInProcessScheduler(client, informers, signal))
      ? "in-process (src/scheduler)"
      : (startRoundRobinBinder(client, informers, signal), "in-process stand-in (bench round-robin binder)");
  } else {
    where.scheduler = "server";
  }
  if (!(await waitFor(() => probePods().some((p) => p.spec?.nodeName), 30_000)))
    throw new Error("the probe pod was never bound");
  const podReady = (p: Pod): boolean =>
    !!p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
  if (!(await waitFor(() => probePods().some(podReady), PROBE_WAIT_MS))) {
    await startSimKubelet(client, informers, signal);
    where.simKubelet = "in-process (src/sim/sim-kubelet.ts)";
  } else {
    where.simKubelet = "server";
  }
  if (!(await waitFor(() => tracker.isAvailable(`${NS}/probe`), 60_000)))
    throw new Error("the probe Deployment never became Available");
  await client.resource("apps", "deployments").delete(NS, "probe");
  await waitFor(() => probePods().length === 0, 30_000);
  for (const [k, v] of Object.entries(where)) console.log(`  ${k.padEnd(12)} ${v}`);

  const reconciles = (): number => controllers.reduce((n, c) => n + c.metrics.reconciles, 0);
  const sampleMem = () => {
    const s = procStats(server!.pid);
    const m = process.memoryUsage();
    return { serverRssMb: s.rssMb, benchRssMb: mb(m.rss), benchHeapMb: mb(m.heapUsed) };
  };
  let peakServer = 0;
  let peakBench = 0;
  const sampler = setInterval(() => {
    const m = sampleMem();
    peakServer = Math.max(peakServer, m.serverRssMb);
    peakBench = Math.max(peakBench, m.benchRssMb);
  }, 200);
  sampler.unref();

  // Phase 1: create and wait until every Deployment is Available.
  const names = Array.from({ length: DEPLOYMENTS }, (_, i) => `web-${i}`);
  const dClient = client.resource<Deployment>("apps", "deployments");
  const writes0 = await writeCounts(conn);
  const rec0 = reconciles();
  const cpu0 = procStats(server.pid).cpuMs;
  const t0 = performance.now();
  let createErrors = 0;
  await forN(DEPLOYMENTS, CREATE_CONCURRENCY, async (i) => {
    await dClient.create(deployment(names[i]!, REPLICAS)).catch(() => void createErrors++);
  });
  const createdMs = performance.now() - t0;
  const allAvailable = await waitFor(() => tracker.available >= DEPLOYMENTS, PHASE_TIMEOUT_MS);
  const availableMs = performance.now() - t0;
  const rec1 = reconciles();
  const cpu1 = procStats(server.pid).cpuMs;
  const mem1 = sampleMem();
  const podCount = pods.list(NS).length;
  const writes1 = await writeCounts(conn);
  const createWrites = diffCounts(writes0, writes1);
  const create = {
    deployments: DEPLOYMENTS,
    replicas: REPLICAS,
    createErrors,
    createRequestsMs: Math.round(createdMs),
    allAvailable,
    availableCount: tracker.available,
    timeToAllAvailableMs: Math.round(availableMs),
    deploymentsPerSec: r1((tracker.available / availableMs) * 1000),
    podsPerSec: r1((podCount / availableMs) * 1000),
    reconcilesPerSec: controllers.length ? r1(((rec1 - rec0) / availableMs) * 1000) : null,
    reconciles: controllers.length ? rec1 - rec0 : null,
    serverCpuPct: Math.round(((cpu1 - cpu0) / availableMs) * 100),
    ...mem1,
    writes: createWrites,
  };
  const perDeployment = (w: Record<string, number>): string =>
    Object.entries(w)
      .map(([k, v]) => `${k} ${r1(v / DEPLOYMENTS)}`)
      .join(", ");
  console.log(
    `create: ${create.availableCount}/${DEPLOYMENTS} Available in ${(availableMs / 1000).toFixed(1)} s ` +
      `(requests sent in ${(createdMs / 1000).toFixed(1)} s) -> ${create.deploymentsPerSec} Deployments/s, ` +
      `${create.podsPerSec} pods/s; reconciles ${create.reconciles ?? "n/a"} (${create.reconcilesPerSec ?? "n/a"}/s); ` +
      `server CPU ${create.serverCpuPct}%, RSS server ${mem1.serverRssMb} MB, bench (controllers+sim) ${mem1.benchRssMb} MB (heap ${mem1.benchHeapMb} MB)`,
  );
  console.log(`  writes per Deployment: ${perDeployment(createWrites)}`);

  // Phase 2: a rolling update of every Deployment (template change), until complete.
  let rollout: Record<string, unknown> = { skipped: true };
  if (allAvailable) {
    tracker.resetRollout();
    const writes2 = await writeCounts(conn);
    const rec2 = reconciles();
    const t2 = performance.now();
    let patchErrors = 0;
    await forN(DEPLOYMENTS, CREATE_CONCURRENCY, async (i) => {
      await dClient
        .patch(NS, names[i]!, "strategic", {
          spec: { template: { metadata: { annotations: { "kites.io/bench-rollout": "1" } } } },
        })
        .catch(() => void patchErrors++);
    });
    const complete = await waitFor(() => tracker.rolledOut >= DEPLOYMENTS, PHASE_TIMEOUT_MS);
    const rolloutMs = performance.now() - t2;
    const rec3 = reconciles();
    const rolloutWrites = diffCounts(writes2, await writeCounts(conn));
    rollout = {
      complete,
      patchErrors,
      rolledOut: tracker.rolledOut,
      timeToAllCompleteMs: Math.round(rolloutMs),
      deploymentsPerSec: r1((tracker.rolledOut / rolloutMs) * 1000),
      reconcilesPerSec: controllers.length ? r1(((rec3 - rec2) / rolloutMs) * 1000) : null,
      ...sampleMem(),
      writes: rolloutWrites,
    };
    console.log(
      `rolling update: ${tracker.rolledOut}/${DEPLOYMENTS} complete in ${(rolloutMs / 1000).toFixed(1)} s -> ` +
        `${rollout.deploymentsPerSec} Deployments/s; reconciles/s ${rollout.reconcilesPerSec ?? "n/a"}`,
    );
    console.log(`  writes per Deployment: ${perDeployment(rolloutWrites)}`);
  }
  clearInterval(sampler);
  console.log(`peak RSS: server ${peakServer} MB, bench process ${peakBench} MB`);
  ac.abort();
  client.close();
  await server.stop();
  server = undefined;
  const ok = allAvailable && (rollout.complete === true || rollout.skipped === true);
  console.log(
    JSON.stringify({
      where,
      workers: WORKERS,
      nodes: NODES,
      create,
      rollout,
      peakServerRssMb: peakServer,
      peakBenchRssMb: peakBench,
    }),
  );
  process.exit(ok ? 0 : 1);
}

main().catch((e: unknown) => {
  console.error(`bench controllers failed: ${(e as Error).stack ?? String(e)}`);
  if (server) console.error(server.stderrTail());
  process.exit(1);
});
