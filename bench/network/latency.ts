/**
 * @module bench/network part: what a ClusterIP costs. A real `kites server` with its node
 * agent runs a keep-alive nginx pod (an image built from the host's nginx, nginx-image.ts,
 * put in the node's image store before the server starts: no network needed) behind a
 * ClusterIP Service; wrk (Debian, keep-alive connections) on the node loads the pod by its IP
 * and then through the Service's cluster IP (kernel DNAT by the service proxy), alternating
 * twice in one run; prints requests/s and p50/p99 of each, the latency ratios and the
 * ClusterIP overhead in percent (goal: < 5%). Needs root.
 * `node --import tsx bench/network/latency.ts [--seconds S]`
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ImageStore } from "../../src/runtime/images/image-store.ts";
import { startServer } from "../../test/e2e/harness.ts";
import { cleanNode, lockNode } from "../../test/e2e/node-harness.ts";
import { NGINX_BENCH_PORT, NGINX_BENCH_REF, ensureNginxImage } from "./nginx-image.ts";

const POD_CIDR = "10.244.211.0/24";

interface Phase {
  target: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** wrk's socket errors (connect, read, write, timeout): requests not in the latency figures. */
  errors: number;
}
export interface LatencyResult {
  phases: Phase[];
  podIP: { rps: number; p50Ms: number; p99Ms: number };
  clusterIP: { rps: number; p50Ms: number; p99Ms: number };
  p50Ratio: number;
  p99Ratio: number;
  /** (cluster IP p50 / pod IP p50 - 1) in percent. */
  p50OverheadPercent: number;
  /** (cluster IP p99 / pod IP p99 - 1) in percent. */
  p99OverheadPercent: number;
  /** (1 - cluster IP rps / pod IP rps) in percent. */
  rpsOverheadPercent: number;
}

const unit = (v: string, u: string): number =>
  Math.round(Number(v) * (u === "us" ? 1 : u === "s" ? 1e6 : 1000)) / 1000;

function wrk(url: string, seconds: number): Promise<Omit<Phase, "target">> {
  return new Promise((resolve, reject) => {
    const p = spawn("wrk", ["-t1", "-c8", `-d${seconds}s`, "--latency", url]);
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.on("error", reject);
    p.on("exit", (code) => {
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const p50 = /\s50%\s+([\d.]+)(us|ms|s)/.exec(out);
      const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
      if (code !== 0 || !rps || !p50 || !p99) return reject(new Error(`wrk ${url}: ${out}`));
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const errors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
      resolve({ rps: Number(rps[1]), p50Ms: unit(p50[1]!, p50[2]!), p99Ms: unit(p99[1]!, p99[2]!), errors });
    });
  });
}

export async function runLatencyBench(opts: { seconds?: number } = {}): Promise<LatencyResult> {
  if (spawnSync("wrk", ["--version"]).error) {
    spawnSync("apt-get", ["install", "-y", "-qq", "wrk"], { stdio: "ignore" });
  }
  const seconds = opts.seconds ?? 5;
  // One machine, one pod network: wait for any e2e test using it.
  const release = await lockNode();
  const dataDir = mkdtempSync(join(tmpdir(), "kites-bench-latency-"));
  await ensureNginxImage(new ImageStore(join(dataDir, "images")));
  const s = await startServer({
    dataDir,
    agent: true,
    args: [
      ...["--pod-cidr", POD_CIDR, "--node-name", "bench-net", "--kubelet-port", "0"],
      ...["--ingress-http-port", "0", "--ingress-https-port", "0"],
    ],
  });
  const k = (args: string[], stdin?: string): string => {
    const r = s.kubectl(args, stdin === undefined ? {} : { stdin });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  try {
    k(["wait", "--for=condition=Ready", "node/bench-net", "--timeout=60s"]);
    k(
      ["apply", "-f", "-"],
      `apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - name: nginx
    image: ${NGINX_BENCH_REF}
    imagePullPolicy: Never
    readinessProbe: {tcpSocket: {port: ${NGINX_BENCH_PORT}}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: ${NGINX_BENCH_PORT}}]
`,
    );
    k(["wait", "--for=condition=Ready", "pod/web", "--timeout=90s"]);
    const podIP = k(["get", "pod", "web", "-o", "jsonpath={.status.podIP}"]);
    const vip = k(["get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"]);
    const phases: Phase[] = [];
    for (let round = 0; round < 2; round++) {
      phases.push({ target: "pod IP", ...(await wrk(`http://${podIP}:${NGINX_BENCH_PORT}/`, seconds)) });
      phases.push({ target: "cluster IP", ...(await wrk(`http://${vip}:80/`, seconds)) });
    }
    const avg = (t: string, f: "rps" | "p50Ms" | "p99Ms"): number => {
      const xs = phases.filter((p) => p.target === t).map((p) => p[f]);
      return Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1000) / 1000;
    };
    const summary = (t: string): LatencyResult["podIP"] => ({
      rps: avg(t, "rps"),
      p50Ms: avg(t, "p50Ms"),
      p99Ms: avg(t, "p99Ms"),
    });
    const pod = summary("pod IP");
    const svc = summary("cluster IP");
    for (const p of phases) {
      console.log(
        `${p.target.padEnd(10)} ${p.rps} req/s  p50 ${p.p50Ms} ms  p99 ${p.p99Ms} ms  socket errors ${p.errors}`,
      );
    }
    const result: LatencyResult = {
      phases,
      podIP: pod,
      clusterIP: svc,
      p50Ratio: Math.round((svc.p50Ms / pod.p50Ms) * 1000) / 1000,
      p99Ratio: Math.round((svc.p99Ms / pod.p99Ms) * 1000) / 1000,
      p50OverheadPercent: Math.round((svc.p50Ms / pod.p50Ms - 1) * 1000) / 10,
      p99OverheadPercent: Math.round((svc.p99Ms / pod.p99Ms - 1) * 1000) / 10,
      rpsOverheadPercent: Math.round((1 - svc.rps / pod.rps) * 1000) / 10,
    };
    console.log(
      `cluster IP ÷ pod IP latency: p50 ${result.p50Ratio}×, p99 ${result.p99Ratio}× (goal: < 1.05×)`,
    );
    console.log(
      `ClusterIP overhead: p50 ${result.p50OverheadPercent}%, p99 ${result.p99OverheadPercent}%, ` +
        `throughput ${result.rpsOverheadPercent}% (goal: < 5%)`,
    );
    return result;
  } finally {
    s.kubectl(["delete", "pod,svc", "web", "--wait=true", "--timeout=60s"]);
    await s.stop({ keep: true });
    await cleanNode(s.dataDir, POD_CIDR);
    rmSync(dataDir, { recursive: true, force: true });
    release();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--seconds");
  const r = await runLatencyBench(i > 0 ? { seconds: Number(process.argv[i + 1]) } : {});
  console.log(JSON.stringify(r));
}
