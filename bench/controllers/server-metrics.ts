/**
 * @module bench/controllers server metrics: reads `apiserver_request_total` from the
 * server's `/metrics` and sums it by `VERB resource` (excluding reads), so a phase can report
 * how many writes of each kind it took per Deployment.
 */
import { request } from "node:https";
import type { ConnectionConfig } from "../../src/client/rest-client.ts";

/** Requests so far by `VERB resource`, mutating verbs only. */
export async function writeCounts(conn: ConnectionConfig): Promise<Map<string, number>> {
  const url = new URL("/metrics", conn.server);
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      url,
      {
        ca: conn.ca,
        ...(conn.cert ? { cert: conn.cert } : {}),
        ...(conn.key ? { key: conn.key } : {}),
        headers: conn.token ? { authorization: `Bearer ${conn.token}` } : {},
      },
      (res) => {
        let s = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (s += c));
        res.on("end", () => resolve(s));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
  const out = new Map<string, number>();
  const re = /^apiserver_request_total\{code="\d+",resource="([^"]*)",verb="([A-Z]+)"\} (\d+)/gm;
  for (const m of body.matchAll(re)) {
    const verb = m[2]!;
    if (verb === "GET" || verb === "LIST" || verb === "WATCH") continue;
    const key = `${verb} ${m[1]}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[3]));
  }
  return out;
}

/** `after - before` per key, largest first, as `{ "POST pods": 10000, … }`. */
export function diffCounts(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const rows: [string, number][] = [];
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) rows.push([k, d]);
  }
  rows.sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(rows);
}
