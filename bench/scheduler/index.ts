/**
 * @module bench/scheduler: (a) the scheduling algorithm alone, in process, over 5,000 nodes
 * in 3 zones and 50,000 pods (40% plain, 20% nodeSelector, 20% topology spread over zone
 * and hostname, 20% hostname anti-affinity in groups of 5): pods/s, p50/p99 per pod, CPU
 * and memory, then a check of the placement (no node over-committed, spread maxSkew held,
 * anti-affinity never violated); (b) the same end to end through `kites server` on SQLite
 * with the Scheduler bound over the API. Exits non-zero on any violation.
 *
 * Usage: npm run bench -- scheduler [--algorithm-only | --e2e-only]
 * Scale: SCHED_NODES (default 5000), SCHED_PODS (default 50000); SCHED_E2E_NODES and
 * SCHED_E2E_PODS override them for part (b).
 */
import { runAlgorithm } from "./algorithm.ts";
import { runE2e, type E2eResult } from "./e2e.ts";

const nodes = Number(process.env.SCHED_NODES ?? 5000);
const pods = Number(process.env.SCHED_PODS ?? 50_000);
const e2eNodes = Number(process.env.SCHED_E2E_NODES ?? nodes);
const e2ePods = Number(process.env.SCHED_E2E_PODS ?? pods);
const fmt = (n: number): string => n.toLocaleString("en-US");

async function main(): Promise<number> {
  const out: Record<string, unknown> = {};
  let failed = false;
  if (!process.argv.includes("--e2e-only")) {
    const a = runAlgorithm(nodes, pods);
    console.log(
      `(a) algorithm alone: ${fmt(a.pods)} pods on ${fmt(a.nodes)} nodes in ${fmt(a.wallMs)} ms: ${fmt(a.podsPerSec)} pods/s | ` +
        `per pod p50 ${a.p50Us} µs p99 ${a.p99Us} µs | CPU ${fmt(a.cpuMs)} ms | heap ${a.heapMb} MB, RSS ${a.rssMb} MB | ` +
        `${fmt(a.scheduled)} placed, ${a.unschedulable} unschedulable`,
    );
    console.log(
      a.violations.length
        ? `(a) placement check FAILED: ${a.violations.length} violations, e.g. ${a.violations.slice(0, 5).join("; ")}`
        : "(a) placement check: OK (no node over-committed; spread maxSkew held; anti-affinity held; nodeSelector held)",
    );
    failed ||= a.violations.length > 0;
    out.algorithm = { ...a, violations: a.violations.length, goal10kPerSec: a.podsPerSec >= 10_000 };
  }
  if (!process.argv.includes("--algorithm-only")) {
    const b: E2eResult = await runE2e(e2eNodes, e2ePods, 20 * 60_000);
    console.log(
      `(b) end to end (SQLite): ${fmt(b.bound)}/${fmt(b.pods)} pods bound on ${fmt(b.nodes)} nodes in ${fmt(b.wallMs)} ms: ${fmt(b.podsPerSec)} pods/s ` +
        `(pods created at ${fmt(b.createPerSec)}/s) | create→bound p50 ${b.p50Ms} ms p99 ${b.p99Ms} ms | ` +
        `bench process CPU ${fmt(b.benchCpuMs)} ms (scheduler algorithm ${fmt(b.schedulerStats.algorithmMs)} ms), peak RSS ${b.benchPeakRssMb} MB | ` +
        `server CPU ${fmt(b.serverCpuMs)} ms, peak RSS ${b.serverPeakRssMb} MB | nodes created in ${fmt(b.nodesCreateMs)} ms`,
    );
    const bad = b.violations.length > 0 || b.bound < b.pods;
    console.log(
      b.violations.length
        ? `(b) placement check FAILED: ${b.violations.length} violations, e.g. ${b.violations.slice(0, 5).join("; ")}`
        : b.bound < b.pods
          ? `(b) only ${b.bound} of ${b.pods} pods were bound`
          : "(b) placement check: OK",
    );
    failed ||= bad;
    out.e2e = { ...b, violations: b.violations.length, goal3kPerSec: b.podsPerSec >= 3000 };
  }
  out.ok = !failed;
  console.log(JSON.stringify(out));
  return failed ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(`bench scheduler: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
}
