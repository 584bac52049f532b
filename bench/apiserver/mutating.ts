/**
 * @module bench/apiserver/mutating: only the mutating-latency part of the apiserver bench, at
 * chosen rates, with the server's CPU time per request (all its threads, from /proc). For
 * comparing write-path changes quickly; the full bench (`npm run bench -- apiserver`) stays the
 * record. Each level uses fresh pod names; repeat a rate to see it after warm-up.
 *
 * Usage: node --import tsx bench/apiserver/mutating.ts [RATE,RATE,...]   (default 500,2000,2000)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "./client.ts";
import { openLoop } from "./load.ts";
import { createPods, podName } from "./pods.ts";
import { procStats, startServer } from "./server-process.ts";

const rates = (process.argv[2] ?? "500,2000,2000").split(",").map(Number);
const dataDir = mkdtempSync(join(tmpdir(), "kites-bench-mutating-"));
const server = await startServer(dataDir, 30_000, ["--disable-scheduler", "--disable-controller-manager"]);
try {
  const client = new ApiClient(server.kubeconfig, 256, 10);
  const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "bench" } };
  await client.ok("POST", "/api/v1/namespaces", JSON.stringify(ns));
  await createPods(client, "bench", "status", 0, 1000, 100);
  const pool = Array.from({ length: 1000 }, (_, i) => podName("status", i));
  for (const [i, rate] of rates.entries()) {
    const cpu0 = procStats(server.pid).cpuMs;
    const r = await openLoop(client, {
      rate,
      durationMs: 5000,
      namespace: "bench",
      pool,
      createPrefix: `level${i}`,
      drainMs: 30_000,
    });
    const cpu = procStats(server.pid).cpuMs - cpu0;
    console.log(
      `${rate}/s: p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  max ${r.maxMs} ms  achieved ${r.achievedRps}/s  ` +
        `errors ${r.errors}  server CPU ${Math.round((cpu / r.sent) * 1000)} µs/request`,
    );
  }
} finally {
  process.kill(server.pid, "SIGTERM");
  await new Promise((r) => setTimeout(r, 1000));
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
