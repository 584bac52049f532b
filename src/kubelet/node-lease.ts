/**
 * @module The node heartbeat: a Lease named after the node in `kube-node-lease`, owned by the
 * Node, renewed every 10 s (upstream's NodeLease controller: leaseDurationSeconds 40).
 */
import { isConflict, isNotFound } from "../api/status-error.ts";
import type { Lease } from "../api/types/coordination-v1.ts";
import type { Client } from "../client/types.ts";

/** MicroTime as upstream serializes it (`2006-01-02T15:04:05.000000Z`). */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** Keeps the node's lease renewed. */
export class NodeLease {
  private lease: Lease | undefined;

  constructor(
    private readonly client: Client,
    private readonly nodeName: string,
    private readonly nodeUid: () => string | undefined,
    private readonly durationSeconds = 40,
  ) {}

  /** Creates or renews the lease once. */
  async renew(retry = true): Promise<void> {
    const leases = this.client.resource<Lease>("coordination.k8s.io", "leases");
    const now = microTime(new Date());
    if (!this.lease) {
      try {
        this.lease = await leases.get("kube-node-lease", this.nodeName);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        const uid = this.nodeUid();
        this.lease = await leases.create({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: {
            name: this.nodeName,
            namespace: "kube-node-lease",
            ...(uid
              ? { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: this.nodeName, uid }] }
              : {}),
          },
          spec: { holderIdentity: this.nodeName, leaseDurationSeconds: this.durationSeconds, renewTime: now },
        });
        return;
      }
    }
    const next = structuredClone(this.lease);
    next.spec = {
      ...next.spec,
      holderIdentity: this.nodeName,
      leaseDurationSeconds: this.durationSeconds,
      renewTime: now,
    };
    try {
      this.lease = await leases.update(next);
    } catch (e) {
      this.lease = undefined;
      if (retry && (isConflict(e) || isNotFound(e))) return this.renew(false);
      throw e;
    }
  }

  /** Renews every `intervalMs` until `signal` aborts. */
  run(signal: AbortSignal, intervalMs = 10_000): void {
    every(signal, intervalMs, () =>
      this.renew().catch((e: unknown) => console.error(`kubelet: renewing lease: ${(e as Error).message}`)),
    );
  }
}

/** Runs `fn` now and then `intervalMs` after each run ends, until `signal` aborts. */
export function every(signal: AbortSignal, intervalMs: number, fn: () => Promise<unknown>): void {
  let timer: NodeJS.Timeout | undefined;
  signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  const tick = (): void => {
    if (signal.aborted) return;
    void fn().finally(() => {
      if (signal.aborted) return;
      timer = setTimeout(tick, intervalMs);
      timer.unref?.();
    });
  };
  tick();
}
