/**
 * @module bench/scheduler part (b): end to end through a real API server on SQLite. Starts
 * `bin/kites server --disable-agent`, creates the Node objects, runs the Scheduler in this
 * process against it (RestClient + informers, as in production), creates the pods through
 * the API and watches them get bound: pods/s bound, p50/p99 from create to binding as seen
 * by a watch, CPU and memory of this process and of the server, and the placement check.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Node, Pod } from "../../src/api/types/core-v1.ts";
import type { KubeObject } from "../../src/api/object.ts";
import { EventRecorder } from "../../src/client/events.ts";
import { InformerFactory } from "../../src/client/informer.ts";
import type { Client, ResourceClient } from "../../src/client/types.ts";
import { RestClient, connectionFromKubeconfig } from "../../src/client/rest-client.ts";
import { Scheduler } from "../../src/scheduler/scheduler.ts";
import { procStats, startServer, type ServerProcess } from "../apiserver/server-process.ts";
import { makeNode, makePod, percentile, rng, verifyPlacement } from "./workload.ts";

export interface E2eResult {
  nodes: number;
  pods: number;
  bound: number;
  nodesCreateMs: number;
  wallMs: number;
  podsPerSec: number;
  createPerSec: number;
  p50Ms: number;
  p99Ms: number;
  benchCpuMs: number;
  benchPeakRssMb: number;
  serverCpuMs: number;
  serverPeakRssMb: number;
  schedulerStats: Scheduler["stats"];
  violations: string[];
}

async function pool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export async function runE2e(numNodes: number, numPods: number, timeoutMs: number): Promise<E2eResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "kites-bench-scheduler-"));
  let server: ServerProcess | undefined;
  const ac = new AbortController();
  try {
    // The scheduler measured is the one in this process; the server's own stays off.
    server = await startServer(dataDir, 30_000, ["--disable-scheduler"]);
    const client = new RestClient({
      ...connectionFromKubeconfig(server.kubeconfig, "bench-scheduler"),
      maxSockets: 128,
    });
    const ns = "sched";
    await client
      .resource("", "namespaces")
      .create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    const nodesApi = client.resource<Node>("", "nodes");
    const nodes = Array.from({ length: numNodes }, (_, i) => makeNode(i));
    const tn = performance.now();
    await pool(nodes, 100, async (n) => {
      const created = await nodesApi.create(n);
      if (!created.status?.allocatable) await nodesApi.updateStatus({ ...created, status: n.status });
    });
    const nodesCreateMs = Math.round(performance.now() - tn);

    const informers = new InformerFactory(client);
    // Events are recorded as in production; once the run is over, the recorder's backlog is
    // dropped instead of being written to a server that is stopping.
    let stopped = false;
    const eventClient: Client = {
      userAgent: client.userAgent,
      resource: <T extends KubeObject>(g: string, r: string): ResourceClient<T> => {
        const rc = client.resource<T>(g, r);
        return new Proxy(rc, {
          get: (target, prop, recv) => {
            const v = Reflect.get(target, prop, recv) as unknown;
            if (typeof v !== "function") return v;
            return (...args: unknown[]) =>
              stopped ? Promise.resolve(undefined) : (v as (...a: unknown[]) => unknown).apply(target, args);
          },
        });
      },
    };
    const scheduler = new Scheduler({
      client,
      informers,
      recorder: new EventRecorder(eventClient, { component: "default-scheduler" }),
    });
    informers.start(ac.signal);
    const running = scheduler.start(ac.signal);
    await scheduler.ready;

    const rand = rng(42);
    const pods: Pod[] = Array.from({ length: numPods }, (_, i) => {
      const p = makePod(i, ns, rand);
      delete p.metadata.uid;
      return p;
    });
    const createdAt = new Map<string, number>();
    const boundAt = new Map<string, number>();
    const placement = new Map<string, string>();
    const watcher = informers.informer<Pod>("", "pods");
    const seen = (p: Pod): void => {
      const name = p.metadata.name!;
      if (p.spec?.nodeName && !boundAt.has(name)) {
        boundAt.set(name, performance.now());
        placement.set(name, p.spec.nodeName);
      }
    };
    watcher.addHandlers({ add: seen, update: (_o, p) => seen(p) });
    const podsApi = client.resource<Pod>("", "pods");
    const c0 = process.cpuUsage();
    const s0 = procStats(server.pid);
    let peakRss = 0;
    let serverPeak = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      try {
        serverPeak = Math.max(serverPeak, procStats(server!.pid).rssMb);
      } catch {
        // gone
      }
    }, 200);
    const t0 = performance.now();
    await pool(pods, 200, async (p) => {
      createdAt.set(p.metadata.name!, performance.now());
      await podsApi.create(p);
    });
    const createMs = performance.now() - t0;
    const deadline = Date.now() + timeoutMs;
    while (boundAt.size < numPods && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    clearInterval(sampler);
    const last = Math.max(...boundAt.values());
    const wallMs = last - t0;
    const cpu = process.cpuUsage(c0);
    const s1 = procStats(server.pid);
    const lat = [...boundAt].map(([n, t]) => t - createdAt.get(n)!).sort((a, b) => a - b);
    stopped = true;
    ac.abort();
    await running;
    client.close();
    return {
      nodes: numNodes,
      pods: numPods,
      bound: boundAt.size,
      nodesCreateMs,
      wallMs: Math.round(wallMs),
      podsPerSec: Math.round((boundAt.size / wallMs) * 1000),
      createPerSec: Math.round((numPods / createMs) * 1000),
      p50Ms: Math.round(percentile(lat, 50)),
      p99Ms: Math.round(percentile(lat, 99)),
      benchCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      benchPeakRssMb: Math.round(peakRss / 1048576),
      serverCpuMs: Math.round(s1.cpuMs - s0.cpuMs),
      serverPeakRssMb: Math.max(serverPeak, s1.rssMb),
      schedulerStats: { ...scheduler.stats, algorithmMs: Math.round(scheduler.stats.algorithmMs) },
      violations: verifyPlacement(nodes, pods, placement),
    };
  } finally {
    ac.abort();
    if (server) await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
