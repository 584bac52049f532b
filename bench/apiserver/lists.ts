/**
 * @module bench/apiserver lists: times a full LIST of a namespace's pods (JSON or Table) and
 * a paginated one (limit=N, following `continue` to the end), until the last byte arrives,
 * and checks each answer holds the expected number of items (outside the timed part).
 */
import type { ApiClient } from "./client.ts";

const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io";

function countItems(body: Buffer, field: "items" | "rows"): number {
  const parsed = JSON.parse(body.toString()) as Record<string, unknown[] | undefined>;
  return parsed[field]?.length ?? -1;
}

function check(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what}: ${got} items, expected ${want}`);
}

/** One full list; `table` asks for a meta.k8s.io Table. Returns ms; throws on a wrong count. */
export async function listFull(
  client: ApiClient,
  namespace: string,
  want: number,
  table = false,
): Promise<number> {
  const t0 = performance.now();
  const r = await client.call("GET", `/api/v1/namespaces/${namespace}/pods`, undefined, {
    accept: table ? TABLE : "application/json",
    timeoutMs: 120_000,
  });
  const ms = r.doneAt - t0;
  if (r.status !== 200)
    throw new Error(`list ${namespace}: HTTP ${r.status}: ${r.body.toString().slice(0, 200)}`);
  check(`list ${namespace}${table ? " as Table" : ""}`, countItems(r.body, table ? "rows" : "items"), want);
  return ms;
}

/** Pages through a namespace's pods `limit` at a time; returns the total ms over all pages. */
export async function listPaged(
  client: ApiClient,
  namespace: string,
  want: number,
  limit: number,
): Promise<number> {
  const bodies: Buffer[] = [];
  const maxPages = Math.ceil(want / limit) + 2;
  let cont = "";
  const t0 = performance.now();
  for (let page = 0; page < maxPages; page++) {
    const q = `limit=${limit}${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`;
    const r = await client.call("GET", `/api/v1/namespaces/${namespace}/pods?${q}`, undefined, {
      timeoutMs: 60_000,
    });
    if (r.status !== 200) throw new Error(`list ${namespace} page ${page}: HTTP ${r.status}`);
    bodies.push(r.body);
    // The token sits in the list's metadata, ahead of the items: no need to parse the page.
    cont = /"continue":"([^"]*)"/.exec(r.body.subarray(0, 2048).toString("latin1"))?.[1] ?? "";
    if (!cont) break;
  }
  const ms = performance.now() - t0;
  let total = 0;
  for (const b of bodies) total += countItems(b, "items");
  check(`paginated list ${namespace} (${bodies.length} pages)`, total, want);
  return ms;
}
