/**
 * @module Periodic compaction for any driver, as the Kubernetes apiserver does it: every
 * interval, compact up to the revision that was current one interval earlier, so a watcher
 * always has at least one interval of history to resume from while the store stays bounded.
 */
import type { Backend } from "./backend.ts";

/** Starts compacting `backend` every `intervalMs` until `signal` aborts. */
export function startCompactor(backend: Backend, intervalMs: number, signal: AbortSignal): void {
  let mark = 0;
  let running = false;
  const tick = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const target = mark;
      mark = await backend.currentRevision();
      if (target > (await backend.compactedRevision())) await backend.compact(target);
    } catch {
      // A failed compaction is retried at the next tick; nothing is lost by waiting.
    } finally {
      running = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
