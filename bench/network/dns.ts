/**
 * @module bench/network DNS benchmark: the cluster DNS server (src/dns) in a child process
 * on loopback with ~1,000 Services, hammered for ~5 s per phase by a load generator —
 * Debian's `dnsperf` when present (installed with apt-get when missing and running as root),
 * otherwise a node UDP generator in a worker thread — querying the Services' names in turn.
 * The server process reports its own CPU time, so the figure is QPS per core of the server:
 * QPS / (server CPU seconds / wall seconds). Two phases: with the encoded-answer cache (the
 * default) and without it (every query decoded, looked up and encoded). Anchor: CoreDNS
 * serves about 17k QPS per core; the goal is at least 20k.
 *
 * `node --import tsx bench/network/dns.ts [--services N] [--seconds S] [--generator node|dnsperf]`
 * prints figures and, last, one JSON line. `runDnsBench` is the same for other scripts.
 */
import { execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

const SELF = fileURLToPath(import.meta.url);
const NAMESPACE = "bench";

export interface DnsBenchOptions {
  services?: number;
  seconds?: number;
  generator?: "dnsperf" | "node";
}

export interface DnsPhaseResult {
  cache: boolean;
  queries: number;
  qps: number;
  wallSeconds: number;
  serverCpuSeconds: number;
  /** QPS / (server CPU seconds / wall seconds). */
  qpsPerCore: number;
  lostPercent: number;
}

export interface DnsBenchResult {
  bench: "dns";
  services: number;
  generator: "dnsperf" | "node";
  cached: DnsPhaseResult;
  uncached: DnsPhaseResult;
  /** Mean time to add one Service (with a 3-endpoint slice) to an index holding 5,000. */
  indexAddServiceMicrosAt5000: number;
  anchorCoreDnsQpsPerCore: number;
  goalQpsPerCore: number;
}

const names = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `svc-${i}.${NAMESPACE}.svc.cluster.local`);

// ---------------------------------------------------------------- server child

type ToChild = { op: "mark" } | { op: "report" };
type FromChild = { op: "ready"; port: number } | { op: "usage"; cpuSeconds: number; wallSeconds: number };

async function serveChild(services: number, cache: boolean): Promise<void> {
  const { FakeClient } = await import("../../src/client/fake-client.ts");
  const { InformerFactory } = await import("../../src/client/informer.ts");
  const { startClusterDNS } = await import("../../src/dns/index.ts");
  const objects = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } },
    ...Array.from({ length: services }, (_, i) => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `svc-${i}`, namespace: NAMESPACE },
      spec: {
        type: "ClusterIP",
        clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`,
        clusterIPs: [`10.96.${(i >> 8) & 255}.${i & 255}`],
        ports: [{ name: "http", port: 80, protocol: "TCP" }],
      },
    })),
  ];
  const fake = new FakeClient(objects as never[]);
  const ac = new AbortController();
  const dns = await startClusterDNS({
    informers: new InformerFactory(fake),
    client: fake,
    listen: [{ address: "127.0.0.1", port: 0 }],
    upstreams: [],
    signal: ac.signal,
    ...(cache ? {} : { cacheEntries: 0 }),
  });
  if (dns.index.size < services) throw new Error(`index holds ${dns.index.size} names`);
  let mark = { cpu: process.cpuUsage(), wall: process.hrtime.bigint() };
  process.on("message", (m: ToChild) => {
    if (m.op === "mark") mark = { cpu: process.cpuUsage(), wall: process.hrtime.bigint() };
    if (m.op === "report") {
      const cpu = process.cpuUsage(mark.cpu);
      const msg: FromChild = {
        op: "usage",
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        wallSeconds: Number(process.hrtime.bigint() - mark.wall) / 1e9,
      };
      process.send!(msg);
    }
  });
  process.on("disconnect", () => {
    ac.abort();
    void dns.stop().then(() => process.exit(0));
  });
  process.send!({ op: "ready", port: dns.addresses[0]!.port } satisfies FromChild);
}

function startServer(services: number, cache: boolean): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(SELF, ["--serve", String(services), cache ? "cache" : "nocache"], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`DNS server child exited (${code})`)));
    child.on("message", (m: FromChild) => {
      if (m.op === "ready") resolve({ child, port: m.port });
    });
  });
}

function ask(child: ChildProcess, m: ToChild): Promise<FromChild | undefined> {
  return new Promise((resolve) => {
    if (m.op === "mark") {
      child.send(m, () => resolve(undefined));
      return;
    }
    child.once("message", (r: FromChild) => resolve(r));
    child.send(m);
  });
}

// ---------------------------------------------------------------- load generators

interface LoadResult {
  sent: number;
  answered: number;
  seconds: number;
}

function haveDnsperf(): boolean {
  try {
    execFileSync("sh", ["-c", "command -v dnsperf"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** dnsperf when present, or installed from Debian when root; false otherwise. */
function ensureDnsperf(): boolean {
  if (haveDnsperf()) return true;
  if (process.getuid?.() !== 0) return false;
  try {
    console.log("installing dnsperf (apt-get install -y dnsperf)…");
    execFileSync("apt-get", ["install", "-y", "-q", "dnsperf"], {
      stdio: "ignore",
      timeout: 180_000,
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  } catch {
    return false;
  }
  return haveDnsperf();
}

function runDnsperf(port: number, queryFile: string, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      "dnsperf",
      [
        "-s",
        "127.0.0.1",
        "-p",
        String(port),
        "-d",
        queryFile,
        "-l",
        String(seconds),
        "-c",
        "4",
        "-q",
        "200",
        "-t",
        "2",
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    p.stdout.on("data", (c: Buffer) => (out += c.toString()));
    p.stderr.on("data", (c: Buffer) => (out += c.toString()));
    p.on("error", reject);
    p.on("exit", () => {
      const sent = /Queries sent:\s+(\d+)/.exec(out);
      const done = /Queries completed:\s+(\d+)/.exec(out);
      const secs = /Run time \(s\):\s+([\d.]+)/.exec(out);
      if (!sent || !done || !secs) return reject(new Error(`cannot read dnsperf output:\n${out}`));
      resolve({ sent: Number(sent[1]), answered: Number(done[1]), seconds: Number(secs[1]) });
    });
  });
}

/** A node UDP generator in a worker: keeps `window` queries outstanding for `seconds`. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const dgram = require("node:dgram");
const { port, names, seconds, window } = workerData;
const enc = (name, id) => {
  const labels = name.split(".");
  const len = 12 + labels.reduce((n, l) => n + l.length + 1, 0) + 1 + 4;
  const b = Buffer.alloc(len);
  b.writeUInt16BE(id, 0); b.writeUInt16BE(0x0100, 2); b.writeUInt16BE(1, 4);
  let o = 12;
  for (const l of labels) { b[o++] = l.length; b.write(l, o, "latin1"); o += l.length; }
  b[o++] = 0; b.writeUInt16BE(1, o); b.writeUInt16BE(1, o + 2);
  return b;
};
const queries = names.map((n, i) => enc(n, i & 0xffff));
const sock = dgram.createSocket("udp4");
let sent = 0, answered = 0, next = 0, stop = false;
const fire = () => { const q = queries[next++ % queries.length]; sock.send(q, port, "127.0.0.1"); sent++; };
sock.on("message", () => { answered++; if (!stop) fire(); });
sock.bind(0, "127.0.0.1", () => {
  sock.setRecvBufferSize(4 << 20);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < window; i++) fire();
  // Replace queries lost to full buffers, so the window does not drain.
  const refill = setInterval(() => { const inflight = sent - answered; for (let i = inflight; i < window; i++) fire(); }, 50);
  setTimeout(() => {
    stop = true; clearInterval(refill);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    setTimeout(() => { sock.close(); parentPort.postMessage({ sent, answered, seconds: secs }); }, 200);
  }, seconds * 1000);
});
`;

function runNodeGenerator(port: number, queryNames: string[], seconds: number): Promise<LoadResult> {
  const w = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { port, names: queryNames, seconds, window: 64 },
  });
  return new Promise((resolve, reject) => {
    w.once("message", (m: LoadResult) => {
      void w.terminate();
      resolve(m);
    });
    w.once("error", reject);
  });
}

/** Mean microseconds to add one Service and its slice to an index already holding `existing`. */
async function measureIndexAdd(existing: number): Promise<number> {
  const { RecordIndex } = await import("../../src/dns/record-index.ts");
  const index = new RecordIndex();
  index.addNamespace(NAMESPACE);
  const svc = (i: number) => ({
    apiVersion: "v1" as const,
    kind: "Service" as const,
    metadata: { name: `svc-${i}`, namespace: NAMESPACE },
    spec: {
      clusterIP: `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
      ports: [{ name: "http", port: 80 }],
    },
  });
  const slice = (i: number) => ({
    apiVersion: "discovery.k8s.io/v1" as const,
    kind: "EndpointSlice" as const,
    metadata: {
      name: `svc-${i}-x`,
      namespace: NAMESPACE,
      labels: { "kubernetes.io/service-name": `svc-${i}` },
    },
    addressType: "IPv4",
    endpoints: [1, 2, 3].map((k) => ({ addresses: [`10.244.${i & 255}.${k}`], conditions: { ready: true } })),
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  });
  for (let i = 0; i < existing; i++) index.upsertService(svc(i));
  const adds = 1000;
  const t0 = process.hrtime.bigint();
  for (let i = existing; i < existing + adds; i++) {
    index.upsertService(svc(i));
    index.upsertSlice(slice(i));
  }
  return Number((Number(process.hrtime.bigint() - t0) / 1e3 / adds).toFixed(1));
}

/** Runs both phases and returns the figures. */
export async function runDnsBench(opts: DnsBenchOptions = {}): Promise<DnsBenchResult> {
  const services = opts.services ?? 1000;
  const seconds = opts.seconds ?? 5;
  const queryNames = names(services);
  const useDnsperf = opts.generator === "node" ? false : ensureDnsperf();
  if (opts.generator === "dnsperf" && !useDnsperf) throw new Error("dnsperf is not available");
  const dir = mkdtempSync(join(tmpdir(), "kites-dns-bench-"));
  try {
    const queryFile = join(dir, "queries.txt");
    writeFileSync(queryFile, queryNames.map((n) => `${n} A`).join("\n") + "\n");
    const load = (secs: number) => (port: number) =>
      useDnsperf ? runDnsperf(port, queryFile, secs) : runNodeGenerator(port, queryNames, secs);
    const warmAndMeasure = async (cache: boolean): Promise<DnsPhaseResult> => {
      const { child, port } = await startServer(services, cache);
      try {
        await load(1)(port);
        await ask(child, { op: "mark" });
        const r = await load(seconds)(port);
        const usage = (await ask(child, { op: "report" })) as Extract<FromChild, { op: "usage" }>;
        const qps = r.answered / r.seconds;
        return {
          cache,
          queries: r.answered,
          qps: Math.round(qps),
          wallSeconds: Number(r.seconds.toFixed(2)),
          serverCpuSeconds: Number(usage.cpuSeconds.toFixed(2)),
          // QPS / (CPU s / wall s) over the same window = queries answered per CPU second.
          qpsPerCore: Math.round(r.answered / usage.cpuSeconds),
          lostPercent: Number((((r.sent - r.answered) / Math.max(1, r.sent)) * 100).toFixed(2)),
        };
      } finally {
        child.disconnect();
        await new Promise((r) => child.once("exit", r));
      }
    };
    const cached = await warmAndMeasure(true);
    const uncached = await warmAndMeasure(false);
    return {
      bench: "dns",
      services,
      generator: useDnsperf ? "dnsperf" : "node",
      cached,
      uncached,
      indexAddServiceMicrosAt5000: await measureIndexAdd(5000),
      anchorCoreDnsQpsPerCore: 17_000,
      goalQpsPerCore: 20_000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- entry point

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && existsSync(process.argv[1]) && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] === "--serve") {
    await serveChild(Number(process.argv[3]), process.argv[4] === "cache");
  } else {
    const gen = arg("--generator");
    const result = await runDnsBench({
      services: Number(arg("--services") ?? 1000),
      seconds: Number(arg("--seconds") ?? 5),
      ...(gen === "node" || gen === "dnsperf" ? { generator: gen } : {}),
    });
    for (const p of [result.cached, result.uncached]) {
      console.log(
        `dns ${p.cache ? "cached  " : "uncached"} ${result.generator}: ${p.qps} QPS over ${p.wallSeconds}s, ` +
          `server CPU ${p.serverCpuSeconds}s → ${p.qpsPerCore} QPS/core (lost ${p.lostPercent}%)`,
      );
    }
    console.log(
      `index: adding one Service (+ slice) among 5,000 takes ${result.indexAddServiceMicrosAt5000} µs`,
    );
    console.log(
      `anchor: CoreDNS ~${result.anchorCoreDnsQpsPerCore} QPS/core; goal ≥ ${result.goalQpsPerCore}`,
    );
    console.log(JSON.stringify(result));
  }
}
