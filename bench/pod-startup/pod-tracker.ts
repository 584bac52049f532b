/**
 * @module bench/pod-startup watch side: one pod informer (list + watch, as a controller or
 * `kubectl get -w` sees pods) that stamps, per pod name, the first moment it was seen
 * bound to a node, `Running`, the first moment its `Ready` condition was `True`, and when it was deleted; and
 * lets the bench wait for a condition over those stamps.
 */
import type { Pod } from "../../src/api/types/core-v1.ts";
import { Informer } from "../../src/client/informer.ts";
import type { Client } from "../../src/client/types.ts";

/** Watch-observed times (performance.now()) per pod name. */
export class PodTracker {
  /** First seen with `spec.nodeName` (bound by the scheduler). */
  readonly boundAt = new Map<string, number>();
  readonly runningAt = new Map<string, number>();
  readonly readyAt = new Map<string, number>();
  readonly goneAt = new Map<string, number>();
  readonly informer: Informer<Pod>;
  private readonly waiters = new Set<() => void>();

  constructor(client: Client, namespace: string) {
    this.informer = new Informer<Pod>(client.resource<Pod>("", "pods"), { namespace });
    const seen = (p: Pod): void => {
      const name = p.metadata.name ?? "";
      const now = performance.now();
      if (p.spec?.nodeName && !this.boundAt.has(name)) this.boundAt.set(name, now);
      if (p.status?.phase === "Running" && !this.runningAt.has(name)) this.runningAt.set(name, now);
      if (
        !this.readyAt.has(name) &&
        (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
      )
        this.readyAt.set(name, now);
      this.notify();
    };
    this.informer.addHandlers({
      add: seen,
      update: (_o, p) => seen(p),
      delete: (p) => {
        this.goneAt.set(p.metadata.name ?? "", performance.now());
        this.notify();
      },
    });
  }

  private notify(): void {
    for (const w of this.waiters) w();
  }

  /** Resolves once `pred()` holds; rejects after `timeoutMs` naming `what`. */
  until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pred()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }
}
