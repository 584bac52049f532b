/**
 * @module bench/storage: the datastore drivers side by side in one run — SQLite (the default,
 * durable: synchronous=FULL) and a real etcd from Debian's etcd-server (fsync on). For each:
 * creates/s and updates/s with 1 and 100 concurrent writers, list latency over 10k and 100k
 * objects, and watch delivery to 100 watchers (events/s, p99 delay); then sqlite/etcd ratios.
 *
 * Usage: npm run bench -- storage [--quick]   (--quick: smaller counts, for a smoke run)
 */
import { setMaxListeners } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Backend } from "../../src/storage/backend.ts";
import { openBackend } from "../../src/storage/open.ts";
import { etcdAvailable, startEtcd } from "../../src/storage/etcd/etcd-process.ts";

const quick = process.argv.includes("--quick");
const N = {
  serialOps: quick ? 200 : 1000,
  concurrentOps: quick ? 2000 : 20000,
  listSmall: quick ? 2000 : 10_000,
  listLarge: quick ? 10_000 : 100_000,
  watchEvents: quick ? 1000 : 5000,
  watchers: 100,
};
const VALUE = JSON.stringify({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "x", namespace: "bench", labels: { app: "bench" } },
  data: { key: "v".repeat(400) },
});

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Runs `total` operations spread over `writers` concurrent loops; returns ops/s. */
async function throughput(
  writers: number,
  total: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const ms = await timed(async () => {
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (let i = next++; i < total; i = next++) await op(i);
      }),
    );
  });
  return Math.round((total / ms) * 1000);
}

async function fill(b: Backend, prefix: string, count: number): Promise<void> {
  await throughput(100, count, (i) => b.create(`${prefix}${String(i).padStart(7, "0")}`, VALUE));
}

async function listMs(b: Backend, prefix: string): Promise<number> {
  // Best of 3: the figure is the list's cost, not a GC pause's.
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const ms = await timed(async () => {
      const res = await b.list(prefix);
      if (res.kvs.length === 0) throw new Error("empty list");
    });
    best = Math.min(best, ms);
  }
  return Math.round(best * 10) / 10;
}

async function watchFanout(b: Backend): Promise<{ eventsPerSec: number; p99DelayMs: number }> {
  const prefix = "/bench/watch/";
  const ac = new AbortController();
  setMaxListeners(N.watchers + 10, ac.signal);
  const expected = N.watchers * N.watchEvents;
  const delays: number[] = [];
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const sent = new Map<string, number>();
  const start = await b.currentRevision();
  for (let w = 0; w < N.watchers; w++) {
    b.watch(
      prefix,
      { afterRevision: start, signal: ac.signal },
      {
        onEvents(events) {
          const now = performance.now();
          for (const ev of events) {
            const t0 = sent.get(ev.kv.key);
            if (t0 !== undefined && (received & 15) === 0) delays.push(now - t0);
            received++;
          }
          if (received >= expected) done();
        },
        onError(err) {
          throw err;
        },
      },
    );
  }
  const t0 = performance.now();
  await throughput(100, N.watchEvents, (i) => {
    const key = `${prefix}${i}`;
    sent.set(key, performance.now());
    return b.create(key, VALUE);
  });
  const timeout = setTimeout(() => done(), 120_000);
  await finished;
  clearTimeout(timeout);
  const ms = performance.now() - t0;
  ac.abort();
  delays.sort((x, y) => x - y);
  return {
    eventsPerSec: Math.round((received / ms) * 1000),
    p99DelayMs: Math.round(pct(delays, 99) * 10) / 10,
  };
}

async function runDriver(name: string, b: Backend): Promise<Record<string, number>> {
  const r: Record<string, number> = {};
  r.create1 = await throughput(1, N.serialOps, (i) => b.create(`/bench/c1/${i}`, VALUE));
  r.create100 = await throughput(100, N.concurrentOps, (i) => b.create(`/bench/c100/${i}`, VALUE));
  const revs = new Map<number, number>();
  for (const kv of (await b.list("/bench/c100/")).kvs) revs.set(Number(kv.key.slice(12)), kv.modRevision);
  r.update1 = await throughput(1, N.serialOps, async (i) => {
    const kv = await b.update(`/bench/c100/${i}`, VALUE, revs.get(i)!);
    revs.set(i, kv.modRevision);
  });
  r.update100 = await throughput(100, N.concurrentOps, async (i) => {
    const kv = await b.update(`/bench/c100/${i}`, VALUE, revs.get(i)!);
    revs.set(i, kv.modRevision);
  });
  await fill(b, "/bench/l10k/", N.listSmall);
  r.list10kMs = await listMs(b, "/bench/l10k/");
  await fill(b, "/bench/l100k/", N.listLarge);
  r.list100kMs = await listMs(b, "/bench/l100k/");
  const w = await watchFanout(b);
  r.watchEventsPerSec = w.eventsPerSec;
  r.watchP99DelayMs = w.p99DelayMs;
  console.log(
    `${name.padEnd(7)} create/s 1w ${r.create1}  100w ${r.create100} | update/s 1w ${r.update1}  100w ${r.update100} | ` +
      `list ${N.listSmall} ${r.list10kMs} ms  ${N.listLarge} ${r.list100kMs} ms | watch ${N.watchers}x: ` +
      `${r.watchEventsPerSec} ev/s p99 ${r.watchP99DelayMs} ms`,
  );
  return r;
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = { quick, counts: N };
  const dir = mkdtempSync(join(tmpdir(), "kites-bench-storage-"));
  try {
    const sqlite = await openBackend(`sqlite://${join(dir, "state.db")}`, { compactIntervalMs: 0 });
    out.sqlite = await runDriver("sqlite", sqlite);
    await sqlite.close();

    if (!etcdAvailable()) {
      console.log("etcd: /usr/bin/etcd not found (run scripts/setup); no etcd figures or ratios");
    } else {
      const etcd = await startEtcd();
      try {
        const backend = await openBackend(`etcd://${etcd.endpoint.replace(/^https?:\/\//, "")}`, {
          compactIntervalMs: 0,
        });
        out.etcd = await runDriver("etcd", backend);
        await backend.close();
      } finally {
        await etcd.stop();
      }
      const s = out.sqlite as Record<string, number>;
      const e = out.etcd as Record<string, number>;
      const ratio: Record<string, number> = {};
      for (const k of Object.keys(s)) ratio[k] = Math.round((s[k]! / e[k]!) * 100) / 100;
      out.ratioSqliteOverEtcd = ratio;
      console.log(
        `ratio sqlite/etcd (higher is better for rates, lower for latencies): ${Object.entries(ratio)
          .map(([k, v]) => `${k} ${v}`)
          .join("  ")}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out));
}

await main();
