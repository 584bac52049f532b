/**
 * @module bench/apiserver open-loop load: fires mutating requests on a fixed schedule at an
 * offered rate, never waiting for replies (so a slow server cannot slow the offered load
 * down), half pod creates and half status updates of existing pods, and measures latency from
 * each request's scheduled time to its answer.
 */
import type { ApiClient } from "./client.ts";
import { pct, podJson, r1, statusJson } from "./pods.ts";

/** What one load level achieved. */
export interface LevelResult {
  offeredRps: number;
  /** Answered (2xx) requests per second, over the time from the first send to the last answer. */
  achievedRps: number;
  sent: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  createP99Ms: number;
  statusP99Ms: number;
}

export interface LevelSpec {
  rate: number;
  durationMs: number;
  namespace: string;
  /** Names of existing pods whose status the updates set, round-robin. */
  pool: string[];
  /** Prefix for the names of the pods this level creates (unique per level). */
  createPrefix: string;
  /** Stop waiting for answers this long after the last send. */
  drainMs: number;
}

/** Runs one level: `rate × durationMs` requests, alternating create and status update. */
export async function openLoop(client: ApiClient, spec: LevelSpec): Promise<LevelResult> {
  const total = Math.round((spec.rate * spec.durationMs) / 1000);
  const lat = new Float64Array(total).fill(NaN);
  const kind = new Uint8Array(total); // 0 create, 1 status
  let errors = 0;
  let answered = 0;
  let lastAnswer = 0;
  let firstError = "";
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  const fire = (i: number): void => {
    const due = t0 + (i * 1000) / spec.rate;
    const isStatus = i % 2 === 1;
    kind[i] = isStatus ? 1 : 0;
    const name = spec.pool[(i >> 1) % spec.pool.length]!;
    const p = isStatus
      ? client.call(
          "PUT",
          `/api/v1/namespaces/${spec.namespace}/pods/${name}/status`,
          statusJson(spec.namespace, name, i),
          { timeoutMs: spec.drainMs },
        )
      : client.call(
          "POST",
          `/api/v1/namespaces/${spec.namespace}/pods`,
          podJson(`${spec.createPrefix}-${i}`),
          {
            timeoutMs: spec.drainMs,
          },
        );
    pending.push(
      p.then(
        (r) => {
          lastAnswer = r.doneAt;
          if (r.status >= 200 && r.status < 300) {
            lat[i] = r.doneAt - due;
            answered++;
          } else {
            errors++;
            firstError ||= `HTTP ${r.status}: ${r.body.toString().slice(0, 200)}`;
          }
        },
        (e: Error) => {
          errors++;
          firstError ||= e.message;
        },
      ),
    );
  };
  // The schedule: every tick, send whatever is due by now.
  await new Promise<void>((resolve) => {
    let sent = 0;
    const tick = (): void => {
      const elapsed = performance.now() - t0;
      const due = Math.min(total, Math.floor((elapsed * spec.rate) / 1000) + 1);
      while (sent < due) fire(sent++);
      if (sent >= total || elapsed > spec.durationMs * 3) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const sent = pending.length;
  await Promise.all(pending);
  if (firstError) console.log(`  ${spec.rate}/s: ${errors} errors, first: ${firstError}`);
  const all: number[] = [];
  const byKind: [number[], number[]] = [[], []];
  for (let i = 0; i < sent; i++) {
    const v = lat[i]!;
    if (Number.isNaN(v)) continue;
    all.push(v);
    byKind[kind[i]!]!.push(v);
  }
  const asc = (a: number, b: number): number => a - b;
  all.sort(asc);
  byKind[0].sort(asc);
  byKind[1].sort(asc);
  return {
    offeredRps: spec.rate,
    achievedRps: Math.round((answered / Math.max(1, lastAnswer - t0)) * 1000),
    sent,
    errors: errors + (total - sent),
    p50Ms: r1(pct(all, 50)),
    p99Ms: r1(pct(all, 99)),
    maxMs: r1(all[all.length - 1] ?? 0),
    createP99Ms: r1(pct(byKind[0], 99)),
    statusP99Ms: r1(pct(byKind[1], 99)),
  };
}
