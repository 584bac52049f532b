/**
 * @module postStart and preStop hooks (exec, httpGet, sleep) with upstream's failure messages.
 */
import type { Container, LifecycleHandler } from "../api/types/core-v1.ts";
import type { ContainerRuntime } from "../runtime/types.ts";
import { runExec, runHttpGet, runSleep, type ActionResult } from "./actions.ts";

/** Runs one lifecycle handler against a container, bounded by `timeoutMs`. */
export async function runLifecycleHandler(
  runtime: ContainerRuntime,
  h: LifecycleHandler,
  c: Container,
  containerId: string,
  podIP: string,
  timeoutMs: number,
): Promise<ActionResult> {
  if (h.exec) {
    const r = await runExec(runtime, containerId, h.exec, timeoutMs);
    if (r.ok) return r;
    return {
      ok: false,
      output: `Exec lifecycle hook (${JSON.stringify(h.exec.command ?? [])}) for Container "${c.name}" failed - error: ${r.output}`,
    };
  }
  if (h.httpGet) {
    const r = await runHttpGet(h.httpGet, c, podIP, timeoutMs);
    if (r.ok) return r;
    return {
      ok: false,
      output: `HTTP lifecycle hook (${h.httpGet.path ?? "/"}) for Container "${c.name}" failed - error: ${r.output}`,
    };
  }
  if (h.sleep) {
    const signal = AbortSignal.timeout(timeoutMs);
    return runSleep(Math.min(h.sleep.seconds, timeoutMs / 1000), signal);
  }
  return { ok: true, output: "" };
}
