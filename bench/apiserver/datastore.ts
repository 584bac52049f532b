/**
 * @module bench/apiserver datastore baseline: the same SQLite operations the API phases
 * cause, with no API server in front — creates with 100 concurrent callers and a list of
 * every key — opened in this process through `openBackend`, so the API's own cost shows as
 * a ratio.
 */
import { join } from "node:path";
import { openBackend } from "../../src/storage/open.ts";
import { median, podName, r1 } from "./pods.ts";

export interface DatastoreResult {
  creates: number;
  createsPerSec: number;
  listMs: number;
}

/**
 * Creates `count` keys holding `value` (a pod as the server stores it) with 100 concurrent
 * callers, then lists them 3 times; returns creates/s and the median list time.
 */
export async function datastoreBaseline(dir: string, count: number, value: string): Promise<DatastoreResult> {
  const b = await openBackend(`sqlite://${join(dir, "baseline.db")}`, { compactIntervalMs: 0 });
  try {
    const prefix = "/registry/pods/list/";
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        for (let i = next++; i < count; i = next++) {
          const name = podName("pod", i);
          await b.create(prefix + name, value.replace('"name":"NAME"', `"name":"${name}"`));
        }
      }),
    );
    const createsPerSec = Math.round((count / (performance.now() - t0)) * 1000);
    const runs: number[] = [];
    for (let r = 0; r < 3; r++) {
      const l0 = performance.now();
      const res = await b.list(prefix);
      runs.push(performance.now() - l0);
      if (res.kvs.length !== count)
        throw new Error(`datastore list: ${res.kvs.length} keys, expected ${count}`);
    }
    return { creates: count, createsPerSec, listMs: r1(median(runs)) };
  } finally {
    await b.close();
  }
}
