/**
 * @module bench/network Ingress benchmark: requests/s and p99 latency of small GETs sent
 * (1) straight to a local HTTP backend, (2) through the kites Ingress proxy (src/ingress, in
 * its own process, routing by an Ingress over FakeClient informers to the backend as a pod
 * endpoint) and (3) through Debian's nginx as a reverse proxy to the same backend (keep-alive
 * upstream, the headers an ingress sets), once with one worker (one event loop, as kites) and
 * once with `worker_processes auto`. Load comes from `wrk` (Debian) or, when it is missing and
 * cannot be installed, a node keep-alive load generator in a separate process. nginx and wrk
 * are installed with apt-get when missing and running as root; nginx runs with its own
 * config and prefix in a temp dir on a loopback port, not daemonized, and is stopped after.
 * Each proxy's own CPU time is measured too, so requests per proxy CPU-second compare the
 * proxies' cost independently of how the 2 cores were shared. Goal: kites within 1.5x of
 * nginx's throughput.
 *
 * `node --import tsx bench/network/ingress.ts [--seconds S] [--connections C] [--generator wrk|node]`
 * prints figures and, last, one JSON line. `runIngressBench` is the same for other scripts.
 */
import { execFileSync, fork, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, createServer, request } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SELF = fileURLToPath(import.meta.url);
const HOST = "bench.example.com";
const BODY = "hello from the backend\n";

export interface IngressBenchOptions {
  seconds?: number;
  connections?: number;
  generator?: "wrk" | "node";
}

export interface PhaseResult {
  target: string;
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** CPU seconds the proxy used during the phase (undefined for the direct phase). */
  proxyCpuSeconds?: number;
  /** Requests per CPU-second of the proxy. */
  rpsPerProxyCore?: number;
}

export interface IngressBenchResult {
  bench: "ingress";
  generator: "wrk" | "node";
  seconds: number;
  connections: number;
  direct: PhaseResult;
  kites: PhaseResult;
  nginx1?: PhaseResult;
  nginxAuto?: PhaseResult;
  /** nginx (one worker) rps / kites rps: the goal is at most 1.5. */
  nginx1OverKites?: number;
  nginxAutoOverKites?: number;
  /** nginx (one worker) requests per CPU-second / kites requests per CPU-second. */
  nginx1CpuEfficiencyOverKites?: number;
  goalRatio: 1.5;
  nginxVersion?: string;
}

// ------------------------------------------------------------------ children

type FromChild = { op: "ready"; port: number } | { op: "cpu"; seconds: number };

/** The backend "pod": a plain node HTTP server with a small fixed answer. */
async function backendChild(): Promise<void> {
  const body = Buffer.from(BODY);
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  childLoop((server.address() as AddressInfo).port);
}

/** The kites Ingress proxy over FakeClient informers, routing HOST to the backend. */
async function ingressChild(backendPort: number): Promise<void> {
  const { InformerFactory } = await import("../../src/client/informer.ts");
  const { startIngressController } = await import("../../src/ingress/index.ts");
  const { FakeClient } = await import("../../src/client/fake-client.ts");
  const client = new FakeClient();
  const meta = { name: "backend", namespace: "default" };
  await client.resource("", "services").create({
    apiVersion: "v1",
    kind: "Service",
    metadata: meta,
    spec: { ports: [{ name: "http", port: 80, protocol: "TCP" }] },
  });
  await client.resource("discovery.k8s.io", "endpointslices").create({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { ...meta, name: "backend-1", labels: { "kubernetes.io/service-name": "backend" } },
    addressType: "IPv4",
    ports: [{ name: "http", port: backendPort, protocol: "TCP" }],
    endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }],
  });
  await client.resource("networking.k8s.io", "ingresses").create({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: meta,
    spec: {
      rules: [
        {
          host: HOST,
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: "backend", port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  });
  const ac = new AbortController();
  const ctl = await startIngressController({
    client,
    informers: new InformerFactory(client),
    nodeIP: "127.0.0.1",
    httpPort: 0,
    httpsPort: 0,
    bindAddress: "127.0.0.1",
    signal: ac.signal,
  });
  while (ctl.routes.lookup(HOST, "/")?.backend?.endpoints.length !== 1)
    await new Promise((r) => setTimeout(r, 10));
  childLoop(ctl.httpPort);
}

function childLoop(port: number): void {
  const send = (m: FromChild): void => void process.send?.(m);
  process.on("message", (m: { op: string }) => {
    if (m.op === "cpu") {
      const u = process.cpuUsage();
      send({ op: "cpu", seconds: (u.user + u.system) / 1e6 });
    }
  });
  process.on("disconnect", () => process.exit(0));
  send({ op: "ready", port });
}

/** Node load generator: `connections` keep-alive loops for `seconds`; prints one JSON line. */
async function loadChild(port: number, seconds: number, connections: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = request({ host: "127.0.0.1", port, path: "/", headers: { host: HOST }, agent }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode === 200) latencies.push(performance.now() - t0);
          else errors++;
          resolve();
        });
      });
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end();
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  agent.destroy();
  console.log(
    JSON.stringify({
      requests: latencies.length,
      rps: latencies.length / wall,
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
      errors,
    }),
  );
}

// ------------------------------------------------------------------ parent

interface Child {
  proc: ChildProcess;
  port: number;
  cpu(): Promise<number>;
}

async function startChild(args: string[]): Promise<Child> {
  const proc = fork(SELF, args, {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [msg] = (await Promise.race([
    once(proc, "message"),
    once(proc, "exit").then(() => {
      throw new Error(`bench child ${args.join(" ")} exited before it was ready`);
    }),
  ])) as [FromChild];
  if (msg.op !== "ready") throw new Error("bench child: unexpected first message");
  const cpu = async (): Promise<number> => {
    proc.send({ op: "cpu" });
    for (;;) {
      const [m] = (await once(proc, "message")) as [FromChild];
      if (m.op === "cpu") return m.seconds;
    }
  };
  return { proc, port: msg.port, cpu };
}

function have(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Installs a Debian package when its command is missing and we are root; true when present. */
function ensureTool(cmd: string, pkg: string): boolean {
  if (have(cmd)) return true;
  if (process.getuid?.() !== 0) return false;
  try {
    console.log(`installing ${pkg} with apt-get ...`);
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", pkg], {
      stdio: "ignore",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  } catch {
    return false;
  }
  return have(cmd);
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  s.listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as AddressInfo).port;
  s.close();
  await once(s, "close");
  return port;
}

interface Nginx {
  port: number;
  stop(): Promise<void>;
  cpu(): number;
}

/** Starts nginx in the foreground with its own prefix dir, proxying to the backend. */
async function startNginx(backendPort: number, workers: string): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), "kites-bench-nginx-"));
  for (const d of ["logs", "tmp"]) mkdirSync(join(dir, d));
  const port = await freePort();
  const conf = `
worker_processes ${workers};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
${process.getuid?.() === 0 ? "user root;" : ""}
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    server_name ${HOST};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
    }
  }
}
`;
  writeFileSync(join(dir, "nginx.conf"), conf);
  const proc = spawn("nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "logs/error.log")], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`nginx exited: ${readFileSync(join(dir, "logs/error.log"), "utf8")}`);
    try {
      await httpGet(port);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error("nginx did not start listening");
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const cpu = (): number => {
    // Master and workers: utime + stime of every process in nginx's process group.
    let ticks = 0;
    const pids = [proc.pid!, ...childPids(proc.pid!)];
    for (const pid of pids) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // gone
      }
    }
    return ticks / 100;
  };
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null) {
      proc.kill("SIGQUIT");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await once(proc, "exit");
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { port, stop, cpu };
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function httpGet(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/", headers: { host: HOST }, agent: false },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode === 200 ? resolve(200) : reject(new Error(`status ${res.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const ms = (v: string, unit: string): number =>
  Number(v) * (unit === "us" ? 0.001 : unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 1);

/** Runs wrk (one thread) against a port; parses requests, rps, p50 and p99. */
async function runWrk(
  port: number,
  seconds: number,
  connections: number,
): Promise<Omit<PhaseResult, "target">> {
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn("wrk", [
      "-t1",
      `-c${connections}`,
      `-d${seconds}s`,
      "--latency",
      "-H",
      `Host: ${HOST}`,
      `http://127.0.0.1:${port}/`,
    ]);
    let s = "";
    p.stdout.on("data", (d: Buffer) => (s += d.toString()));
    p.on("error", reject);
    p.on("exit", (code) => (code === 0 ? resolve(s) : reject(new Error(`wrk exited ${code}: ${s}`))));
  });
  const num = (re: RegExp): RegExpMatchArray => {
    const m = out.match(re);
    if (!m) throw new Error(`wrk output not understood:\n${out}`);
    return m;
  };
  const requests = Number(num(/(\d+) requests in/)[1]);
  const rps = Number(num(/Requests\/sec:\s+([\d.]+)/)[1]);
  const p50 = num(/\s50%\s+([\d.]+)(us|ms|s|m)/);
  const p99 = num(/\s99%\s+([\d.]+)(us|ms|s|m)/);
  const non2xx = out.match(/Non-2xx or 3xx responses: (\d+)/);
  const sockErr = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const errors =
    Number(non2xx?.[1] ?? 0) + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { requests, rps, p50Ms: ms(p50[1]!, p50[2]!), p99Ms: ms(p99[1]!, p99[2]!), errors };
}

async function runNodeLoad(
  port: number,
  seconds: number,
  connections: number,
): Promise<Omit<PhaseResult, "target">> {
  const p = fork(
    SELF,
    [
      "--role",
      "load",
      "--port",
      String(port),
      "--seconds",
      String(seconds),
      "--connections",
      String(connections),
    ],
    {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    },
  );
  let s = "";
  p.stdout!.on("data", (d: Buffer) => (s += d.toString()));
  await once(p, "exit");
  return JSON.parse(s.trim().split("\n").pop()!) as Omit<PhaseResult, "target">;
}

/** Runs the three (four) phases and returns the figures. */
export async function runIngressBench(opts: IngressBenchOptions = {}): Promise<IngressBenchResult> {
  const seconds = opts.seconds ?? 5;
  const connections = opts.connections ?? 64;
  let generator = opts.generator ?? "wrk";
  if (generator === "wrk" && !ensureTool("wrk", "wrk")) {
    console.log("wrk unavailable: using the node load generator");
    generator = "node";
  }
  const load = (port: number, secs: number): Promise<Omit<PhaseResult, "target">> =>
    generator === "wrk" ? runWrk(port, secs, connections) : runNodeLoad(port, secs, connections);
  const haveNginx = ensureTool("nginx", "nginx");
  const children: Child[] = [];
  const phase = async (
    target: string,
    port: number,
    cpu?: () => Promise<number> | number,
  ): Promise<PhaseResult> => {
    await load(port, 1); // warm-up: connections, JIT
    const c0 = cpu ? await cpu() : 0;
    const r = await load(port, seconds);
    const result: PhaseResult = { target, ...r };
    if (cpu) {
      const used = (await cpu()) - c0;
      result.proxyCpuSeconds = round(used);
      result.rpsPerProxyCore = round(r.requests / used);
    }
    console.log(
      `${target.padEnd(22)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms` +
        (result.rpsPerProxyCore ? `  ${result.rpsPerProxyCore.toFixed(0)} req per proxy CPU-second` : "") +
        (r.errors ? `  errors ${r.errors}` : ""),
    );
    return result;
  };
  try {
    const backend = await startChild(["--role", "backend"]);
    children.push(backend);
    const ingress = await startChild(["--role", "ingress", "--backend-port", String(backend.port)]);
    children.push(ingress);
    console.log(`ingress bench: ${seconds}s per phase, ${connections} connections, generator ${generator}`);
    const direct = await phase("direct to backend", backend.port);
    const kites = await phase("kites ingress", ingress.port, ingress.cpu);
    const result: IngressBenchResult = {
      bench: "ingress",
      generator,
      seconds,
      connections,
      direct,
      kites,
      goalRatio: 1.5,
    };
    if (haveNginx) {
      result.nginxVersion = spawnSync("nginx", ["-v"], { encoding: "utf8" }).stderr.trim();
      for (const [key, workers] of [
        ["nginx1", "1"],
        ["nginxAuto", "auto"],
      ] as const) {
        const ngx = await startNginx(backend.port, workers);
        try {
          result[key] = await phase(
            `nginx (${workers} worker${workers === "1" ? "" : "s"})`,
            ngx.port,
            ngx.cpu,
          );
        } finally {
          await ngx.stop();
        }
      }
      result.nginx1OverKites = round(result.nginx1!.rps / kites.rps);
      result.nginxAutoOverKites = round(result.nginxAuto!.rps / kites.rps);
      result.nginx1CpuEfficiencyOverKites = round(result.nginx1!.rpsPerProxyCore! / kites.rpsPerProxyCore!);
      console.log(
        `nginx/kites throughput: ${result.nginx1OverKites} (1 worker), ${result.nginxAutoOverKites} (auto); ` +
          `per proxy CPU-second: ${result.nginx1CpuEfficiencyOverKites}; goal <= 1.5`,
      );
    } else {
      console.log("nginx unavailable (not installed and not root): no comparison");
    }
    return result;
  } finally {
    for (const c of children) {
      c.proc.kill();
      if (c.proc.exitCode === null) await once(c.proc, "exit");
    }
  }
}

const round = (n: number): number => Math.round(n * 100) / 100;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

if (process.argv[1] === SELF) {
  const args = process.argv.slice(2);
  const role = flag(args, "role");
  if (role === "backend") await backendChild();
  else if (role === "ingress") await ingressChild(Number(flag(args, "backend-port")));
  else if (role === "load")
    await loadChild(
      Number(flag(args, "port")),
      Number(flag(args, "seconds")),
      Number(flag(args, "connections")),
    );
  else {
    const gen = flag(args, "generator");
    const result = await runIngressBench({
      ...(flag(args, "seconds") ? { seconds: Number(flag(args, "seconds")) } : {}),
      ...(flag(args, "connections") ? { connections: Number(flag(args, "connections")) } : {}),
      ...(gen === "wrk" || gen === "node" ? { generator: gen } : {}),
    });
    console.log(JSON.stringify(result));
  }
}
