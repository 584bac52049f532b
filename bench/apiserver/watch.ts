/**
 * @module bench/apiserver watch fan-out: opens many concurrent watches on a namespace's pods
 * from the current resourceVersion, then updates pods' status, and measures the events
 * delivered per second in total and the delay from each write's response to each event's
 * arrival. Events are scanned for their resourceVersion without JSON parsing, so the client
 * spends as little CPU as it can.
 */
import type { IncomingMessage } from "node:http";
import type { ApiClient } from "./client.ts";
import { pct, r1, statusJson } from "./pods.ts";

export interface WatchSpec {
  namespace: string;
  watchers: number;
  /** Pods to update, one status update each. */
  pods: string[];
  /** Status updates in flight at once. */
  writers: number;
  /** Give up waiting for events this long after the last write. */
  waitMs: number;
}

export interface WatchResult {
  watchers: number;
  updates: number;
  expectedEvents: number;
  receivedEvents: number;
  eventsPerSec: number;
  p50DelayMs: number;
  p99DelayMs: number;
  maxDelayMs: number;
  /** Time to open every watch (TLS handshakes included). */
  openMs: number;
}

const RV = Buffer.from('"resourceVersion":"');
const BOOKMARK = Buffer.from('{"type":"BOOKMARK"');

/** Reads resourceVersions of the events in a newline-delimited stream, calling `onEvent` per event. */
function scanEvents(res: IncomingMessage, onEvent: (rv: number, at: number) => void): void {
  let carry: Buffer | null = null;
  res.on("data", (chunk: Buffer) => {
    const at = performance.now();
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      if (buf.compare(BOOKMARK, 0, BOOKMARK.length, start, start + BOOKMARK.length) !== 0) {
        const p = buf.indexOf(RV, start);
        if (p !== -1 && p < nl) {
          let rv = 0;
          for (let i = p + RV.length; i < nl; i++) {
            const c = buf[i]!;
            if (c < 48 || c > 57) break;
            rv = rv * 10 + (c - 48);
          }
          onEvent(rv, at);
        }
      }
      start = nl + 1;
    }
    carry = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
  });
  res.on("error", () => undefined);
}

/** Opens `watchers` watches, makes one status update per pod, and waits for every event. */
export async function watchFanout(client: ApiClient, spec: WatchSpec): Promise<WatchResult> {
  const base = `/api/v1/namespaces/${spec.namespace}/pods`;
  const head = JSON.parse(await client.ok("GET", `${base}?limit=1`)) as {
    metadata: { resourceVersion: string };
  };
  const fromRv = head.metadata.resourceVersion;
  const expected = spec.watchers * spec.pods.length;
  const evRv = new Float64Array(expected);
  const evAt = new Float64Array(expected);
  let received = 0;
  let lastAt = 0;
  let done!: () => void;
  const allIn = new Promise<void>((r) => (done = r));
  const onEvent = (rv: number, at: number): void => {
    if (received < expected) {
      evRv[received] = rv;
      evAt[received] = at;
    }
    received++;
    lastAt = at;
    if (received >= expected) done();
  };

  const streams: IncomingMessage[] = [];
  try {
    const o0 = performance.now();
    // Open in batches so that 1,000 TLS handshakes do not all time out together.
    for (let w = 0; w < spec.watchers; w += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, spec.watchers - w) }, () =>
          client.watch(`${base}?watch=true&resourceVersion=${fromRv}&allowWatchBookmarks=false`),
        ),
      );
      for (const s of batch) {
        streams.push(s);
        scanEvents(s, onEvent);
      }
    }
    const openMs = performance.now() - o0;

    const respondedAt = new Map<number, number>();
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: spec.writers }, async () => {
        for (let i = next++; i < spec.pods.length; i = next++) {
          const name = spec.pods[i]!;
          const body = await client.ok(
            "PUT",
            `${base}/${name}/status`,
            statusJson(spec.namespace, name, i + 1),
          );
          const at = performance.now();
          const rv = /"resourceVersion":"(\d+)"/.exec(body)?.[1];
          if (rv) respondedAt.set(Number(rv), at);
        }
      }),
    );
    const timer = setTimeout(done, spec.waitMs);
    await allIn;
    clearTimeout(timer);
    const ms = Math.max(1, lastAt - t0);

    const n = Math.min(received, expected);
    const delays = new Float64Array(n);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const sent = respondedAt.get(evRv[i]!);
      // An event may arrive before its write's response: that counts as no delay.
      if (sent !== undefined) delays[k++] = Math.max(0, evAt[i]! - sent);
    }
    const sorted = delays.subarray(0, k).sort();
    return {
      watchers: spec.watchers,
      updates: spec.pods.length,
      expectedEvents: expected,
      receivedEvents: received,
      eventsPerSec: Math.round((received / ms) * 1000),
      p50DelayMs: r1(pct(sorted, 50)),
      p99DelayMs: r1(pct(sorted, 99)),
      maxDelayMs: r1(sorted[k - 1] ?? 0),
      openMs: Math.round(openMs),
    };
  } finally {
    for (const s of streams) s.destroy();
  }
}
