/**
 * @module bench/apiserver pods: the request bodies the benchmark sends (a small valid pod, a
 * status update that sets a condition), bulk creation with many concurrent requests, and
 * the percentile helpers every phase uses.
 */
import type { ApiClient } from "./client.ts";

/** A small valid pod: one container, one label. */
export function podJson(name: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "bench" } },
    spec: { containers: [{ name: "app", image: "busybox:1.36", command: ["sleep", "3600"] }] },
  });
}

/** A `PUT …/pods/NAME/status` body (no resourceVersion: an unconditional update) setting Ready. */
export function statusJson(namespace: string, name: string, seq: number): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace },
    status: {
      phase: "Pending",
      conditions: [
        {
          type: "Ready",
          status: seq % 2 ? "True" : "False",
          reason: "Bench",
          message: `update ${seq}`,
          lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        },
      ],
    },
  });
}

/** The name of the i-th pod of a series: zero-padded so that key order is creation order. */
export const podName = (prefix: string, i: number): string => `${prefix}-${String(i).padStart(6, "0")}`;

/**
 * Creates `count` pods `prefix-NNNNNN` (numbered from `from`) in `namespace` with `concurrency`
 * requests in flight; returns creates/s. Throws on the first error: the later phases need
 * every pod.
 */
export async function createPods(
  client: ApiClient,
  namespace: string,
  prefix: string,
  from: number,
  count: number,
  concurrency: number,
): Promise<number> {
  let next = from;
  const end = from + count;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < end; i = next++) {
        await client.ok("POST", `/api/v1/namespaces/${namespace}/pods`, podJson(podName(prefix, i)));
      }
    }),
  );
  return Math.round((count / (performance.now() - t0)) * 1000);
}

/** The p-th percentile of an ascending array (0 for an empty one). */
export function pct(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The median of a few numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return pct(s, 50);
}

/** Rounds to one decimal place. */
export const r1 = (x: number): number => Math.round(x * 10) / 10;
