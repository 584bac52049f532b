/**
 * @module bench/controllers pieces the server may not run yet, started in this process
 * against it: simulated nodes (`bin/kites sim nodes`, else the same code in-process), the
 * simulated kubelet, and the scheduler from `src/scheduler/scheduler.ts` when it exists.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { InformerFactory } from "../../src/client/informer.ts";
import type { Client } from "../../src/client/types.ts";
import { DEFAULT_SIM_CAPACITY, DEFAULT_SIM_PREFIX } from "../../src/sim/sim-node.ts";
import { syncSimNodes } from "../../src/sim/sim-nodes.ts";
import { SimKubelet } from "../../src/sim/sim-kubelet.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** Makes `count` simulated nodes exist; returns how ("kites sim nodes" or in-process). */
export async function ensureSimNodes(kubeconfig: string, client: Client, count: number): Promise<string> {
  const r = spawnSync(
    join(ROOT, "bin/kites"),
    ["sim", "nodes", "--count", String(count), "--kubeconfig", kubeconfig],
    {
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  if (r.status === 0) return "bin/kites sim nodes";
  await syncSimNodes(
    client,
    { count, prefix: DEFAULT_SIM_PREFIX, capacity: DEFAULT_SIM_CAPACITY },
    () => undefined,
  );
  return "in-process (src/sim/sim-nodes.ts; `kites sim` not available)";
}

/** Starts the simulated kubelet for every simulated node; resolves once it runs. */
export async function startSimKubelet(
  client: Client,
  informers: InformerFactory,
  signal: AbortSignal,
): Promise<void> {
  const kubelet = new SimKubelet({ client, informers });
  await kubelet.start(signal);
}

/** The shape we expect of `src/scheduler/scheduler.ts` (checked at run time). */
interface SchedulerModule {
  Scheduler?: new (opts: { client: Client; informers: InformerFactory }) => {
    start(signal: AbortSignal): unknown;
  };
}

/** Starts the real scheduler in-process if `src/scheduler/scheduler.ts` exists; false if not. */
export async function startInProcessScheduler(
  client: Client,
  informers: InformerFactory,
  signal: AbortSignal,
): Promise<boolean> {
  const path = join(ROOT, "src/scheduler/scheduler.ts");
  if (!existsSync(path)) return false;
  try {
    const mod = (await import(path)) as SchedulerModule;
    if (typeof mod.Scheduler !== "function") return false;
    const s = new mod.Scheduler({ client, informers });
    void s.start(signal);
    return true;
  } catch (e) {
    console.error(
      `bench: src/scheduler/scheduler.ts did not start (${(e as Error).message}); using the stand-in binder`,
    );
    return false;
  }
}
