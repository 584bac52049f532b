/**
 * @module Benchmark of the service proxy's incremental sync: inside a throwaway network
 * namespace, sync N Services (2 endpoints each, default 5,000) into nftables, then add one
 * more Service at a time and measure from the informer event to the nft transaction applied
 * (p50 over `adds`, default 20), and the same for one endpoint change. Prints figures and,
 * as its last line, one JSON object. Needs root and Debian's nft; run standalone with
 * `node --import tsx bench/network/proxy-sync.ts [services] [adds] [--no-flat]` (`--no-flat`:
 * upstream's per-endpoint chains instead of flat service chains, RenderConfig.flatEndpoints).
 * Upstream's reference: the nftables kube-proxy needs ~141 ms per change among 10,000.
 */
import { execFile } from "node:child_process";
import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import type { KubeObject } from "../../src/api/object.ts";
import type { Service } from "../../src/api/types/core-v1.ts";
import type { EndpointSlice } from "../../src/api/types/discovery-v1.ts";
import { FakeClient } from "../../src/client/fake-client.ts";
import { InformerFactory } from "../../src/client/informer.ts";
import { execNftRunner } from "../../src/proxy/nft-runner.ts";
import { startServiceProxy } from "../../src/proxy/service-proxy.ts";

const run = promisify(execFile);

export interface ProxySyncResult {
  services: number;
  endpointsPerService: number;
  /** Full sync (render + one nft transaction) of every Service, ms. */
  fullSyncMs: number;
  /** Adding one Service: informer event → nft applied, ms. */
  addP50Ms: number;
  addP90Ms: number;
  addP99Ms: number;
  /** One endpoint removed from an existing Service: informer event → nft applied, ms. */
  endpointUpdateP50Ms: number;
  /** Baseline of the same run: spawning `ip netns exec … nft -f -` with an empty script, ms. */
  nftSpawnP50Ms: number;
  samples: number;
}

function service(i: number): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: `svc-${i}`, namespace: "bench" },
    spec: {
      clusterIP: `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
      ports: [{ name: "http", port: 80 }],
    },
  };
}

function endpointSlice(i: number, endpoints = 2): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: `svc-${i}-x`,
      namespace: "bench",
      labels: { "kubernetes.io/service-name": `svc-${i}` },
    },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: Array.from({ length: endpoints }, (_, k) => ({
      addresses: [`10.${244 + k}.${(i >> 8) & 255}.${i & 255}`],
      conditions: { ready: true },
    })),
  };
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

const round = (x: number): number => Math.round(x * 10) / 10;

/** Runs the benchmark; needs root. */
export async function benchProxySync(
  opts: { services?: number; adds?: number; flatEndpoints?: boolean } = {},
): Promise<ProxySyncResult> {
  const n = opts.services ?? 5000;
  const adds = opts.adds ?? 20;
  const netns = `kites-b-${Math.random().toString(36).slice(2, 8)}`;
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  await run("ip", ["netns", "add", netns]);
  try {
    const objects: KubeObject[] = [];
    for (let i = 0; i < n; i++) objects.push(service(i), endpointSlice(i));
    const fake = new FakeClient(objects);
    const informers = new InformerFactory(fake);
    // Registered before the proxier's own handlers, so it sees each event first.
    const seen = new Map<string, number>();
    const mark = (o: KubeObject) => seen.set(`${o.metadata.namespace}/${o.metadata.name}`, performance.now());
    informers.informer<Service>("", "services").addHandlers({ add: mark });
    informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices").addHandlers({
      update: (_, s) =>
        seen.set(
          `${s.metadata.namespace}/${s.metadata.labels?.["kubernetes.io/service-name"]}`,
          performance.now(),
        ),
    });
    const proxy = await startServiceProxy({
      client: fake,
      informers,
      nodeIP: "127.0.0.1",
      podCIDR: "10.244.0.0/16",
      signal: ac.signal,
      nft: { netns },
      loadBalancerStatus: false,
      flatEndpoints: opts.flatEndpoints ?? true,
    });
    const fullSyncMs = proxy.proxier.stats.lastFullSyncMs;
    const applied = new Map<string, (t: number) => void>();
    proxy.proxier.onSync((r) => {
      const t = performance.now();
      if (!r.changed) return;
      for (const k of r.services) applied.get(k)?.(t);
    });
    const measure = async (key: string, change: () => Promise<unknown>): Promise<number> => {
      const done = new Promise<number>((resolve) => applied.set(key, resolve));
      await change();
      const t1 = await done;
      applied.delete(key);
      await proxy.proxier.idle();
      return t1 - seen.get(key)!;
    };
    const svcs = fake.resource<Service>("", "services");
    const slices = fake.resource<EndpointSlice>("discovery.k8s.io", "endpointslices");
    const addMs: number[] = [];
    for (let j = 0; j < adds; j++) {
      const i = n + j;
      // The slice first (nothing to program without its Service), then the Service.
      await slices.create(endpointSlice(i));
      await new Promise((r) => setTimeout(r, 10));
      await proxy.proxier.idle();
      addMs.push(await measure(`bench/svc-${i}`, () => svcs.create(service(i))));
      await new Promise((r) => setTimeout(r, 10));
    }
    const updMs: number[] = [];
    for (let j = 0; j < adds; j++) {
      const i = j * Math.floor(n / adds);
      const cur = await slices.get("bench", `svc-${i}-x`);
      updMs.push(
        await measure(`bench/svc-${i}`, () => slices.update({ ...cur, endpoints: cur.endpoints.slice(1) })),
      );
      await new Promise((r) => setTimeout(r, 10));
    }
    const spawnMs: number[] = [];
    const runner = execNftRunner({ netns });
    for (let j = 0; j < adds; j++) {
      const t0 = performance.now();
      await runner.apply("");
      spawnMs.push(performance.now() - t0);
    }
    ac.abort();
    await proxy.stop();
    return {
      services: n,
      endpointsPerService: 2,
      fullSyncMs: round(fullSyncMs),
      addP50Ms: round(quantile(addMs, 0.5)),
      addP90Ms: round(quantile(addMs, 0.9)),
      addP99Ms: round(quantile(addMs, 0.99)),
      endpointUpdateP50Ms: round(quantile(updMs, 0.5)),
      nftSpawnP50Ms: round(quantile(spawnMs, 0.5)),
      samples: adds,
    };
  } finally {
    ac.abort();
    await run("ip", ["netns", "del", netns]).catch(() => undefined);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.getuid?.() !== 0) {
    console.error("proxy-sync: needs root (network namespace, nftables)");
    process.exit(2);
  }
  const args = process.argv.slice(2).filter((a) => a !== "--no-flat");
  const flatEndpoints = !process.argv.includes("--no-flat");
  const services = Number(args[0] ?? 5000);
  const adds = Number(args[1] ?? 20);
  const r = await benchProxySync({ services, adds, flatEndpoints });
  console.log(
    `service proxy: full sync of ${r.services} Services ${r.fullSyncMs} ms; ` +
      `add one Service p50 ${r.addP50Ms} ms (p90 ${r.addP90Ms}, p99 ${r.addP99Ms}); endpoint change p50 ${r.endpointUpdateP50Ms} ms; ` +
      `bare nft spawn p50 ${r.nftSpawnP50Ms} ms`,
  );
  console.log(JSON.stringify({ bench: "proxy-sync", flatEndpoints, ...r }));
}
