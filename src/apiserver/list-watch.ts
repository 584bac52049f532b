/**
 * @module LIST and WATCH of one resource: label and field selectors, resourceVersion and
 * resourceVersionMatch semantics, limit/continue pagination consistent at one revision (read
 * from the datastore, as upstream does), unpaginated lists served from the watch cache, and
 * watch as a chunked stream of JSON events with bookmarks, timeouts and 410 Expired.
 */
import type { ServerResponse } from "node:http";
import { convertFieldLabel, type KindInfo } from "../api/kinds.ts";
import { parseFieldSelector, FieldSelectorError, type FieldSelector } from "../api/fields.ts";
import { parseSelector, LabelSelectorError, type Selector } from "../api/labels.ts";
import type { KubeObject } from "../api/object.ts";
import { badRequest, expired, StatusError } from "../api/status-error.ts";
import type { Backend } from "../storage/backend.ts";
import type { ResourceStore } from "./registry/store.ts";
import { storageError } from "./registry/store.ts";
import { TooOldError, type CachedObject, type ObjectFilter } from "./watch-cache.ts";
import { storagePrefix } from "../api/kinds.ts";

export interface ListQuery {
  namespace: string;
  labelSelector: Selector | undefined;
  fieldSelector: FieldSelector | undefined;
  limit: number;
  continueToken: string;
  resourceVersion: string;
  resourceVersionMatch: string;
}

/** Parses the list/watch query parameters; bad selectors are 400s with upstream's text. */
export function parseListQuery(info: KindInfo, namespace: string, q: URLSearchParams): ListQuery {
  let labelSelector: Selector | undefined;
  let fieldSelector: FieldSelector | undefined;
  const ls = q.get("labelSelector");
  if (ls) {
    try {
      labelSelector = parseSelector(ls);
    } catch (e) {
      if (e instanceof LabelSelectorError) throw badRequest(`unable to parse requirement: ${e.message}`);
      throw e;
    }
  }
  const fs = q.get("fieldSelector");
  if (fs) {
    try {
      fieldSelector = parseFieldSelector(fs, (field, value) => {
        const c = convertFieldLabel(info, field);
        if (!c.ok) throw badRequest(c.message);
        return [c.label, value];
      });
    } catch (e) {
      if (e instanceof FieldSelectorError) throw badRequest(e.message);
      throw e;
    }
  }
  const limit = Number(q.get("limit") ?? "0");
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`invalid limit: ${q.get("limit")}`);
  const rvm = q.get("resourceVersionMatch") ?? "";
  const rv = q.get("resourceVersion") ?? "";
  if (rvm && !["NotOlderThan", "Exact"].includes(rvm)) {
    throw badRequest(
      `resourceVersionMatch: Unsupported value: "${rvm}": supported values: "Exact", "NotOlderThan"`,
    );
  }
  if (rvm && !rv) throw badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided");
  if (rv && !/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${rv}`);
  return {
    namespace,
    labelSelector,
    fieldSelector,
    limit,
    continueToken: q.get("continue") ?? "",
    resourceVersion: rv,
    resourceVersionMatch: rvm,
  };
}

/** A predicate for the query's selectors, or undefined when it selects everything. */
export function filterFor(info: KindInfo, q: ListQuery): ObjectFilter | undefined {
  const ls = q.labelSelector && !q.labelSelector.empty() ? q.labelSelector : undefined;
  const fs = q.fieldSelector && !q.fieldSelector.empty() ? q.fieldSelector : undefined;
  if (!ls && !fs) return undefined;
  return (obj: KubeObject) =>
    (!ls || ls.matches(obj.metadata.labels)) && (!fs || fs.matches(info.selectableFields(obj)));
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv, start })).toString("base64url");
}

function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as ContinueToken;
    if (t.v !== "meta.k8s.io/v1" || typeof t.rv !== "number" || typeof t.start !== "string")
      throw new Error();
    return t;
  } catch {
    throw badRequest(
      "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
    );
  }
}

export interface ListPage {
  items: CachedObject[];
  rev: number;
  continueToken: string;
}

/** Lists one resource as the query asks. */
export async function listObjects(store: ResourceStore, backend: Backend, q: ListQuery): Promise<ListPage> {
  const info = store.info;
  const prefix = storagePrefix(info, q.namespace || undefined);
  const filter = filterFor(info, q);
  const paged = q.limit > 0 || q.continueToken !== "";
  const exact = q.resourceVersionMatch === "Exact";
  if (!paged && !exact) {
    const cache = store.cache;
    if (q.resourceVersion === "") await cache.sync();
    else if (q.resourceVersion !== "0") await cache.waitFor(Number(q.resourceVersion));
    else await cache.ready;
    return { items: cache.list(prefix, filter), rev: cache.rev, continueToken: "" };
  }
  // Pages come from the datastore at one revision, as upstream reads them from etcd.
  let rev = 0;
  let startKey = prefix;
  if (q.continueToken) {
    if (q.resourceVersion) throw badRequest("specifying resource version is not allowed when using continue");
    const t = decodeContinue(q.continueToken);
    rev = t.rv;
    startKey = prefix + t.start;
  } else if (q.resourceVersion && q.resourceVersion !== "0") {
    rev = Number(q.resourceVersion);
  }
  const items: CachedObject[] = [];
  const want = q.limit > 0 ? q.limit : Infinity;
  try {
    for (;;) {
      const page = await backend.list(prefix, {
        revision: rev,
        limit: q.limit > 0 ? Math.max(q.limit, 100) : 0,
        startKey,
      });
      rev = page.revision;
      let i = 0;
      for (; i < page.kvs.length && items.length < want; i++) {
        const o = store.codec.decode(page.kvs[i]!);
        if (!filter || filter(o.obj)) items.push(o);
      }
      const last = page.kvs[i - 1];
      const exhausted = i === page.kvs.length && !page.more;
      if (exhausted) return { items, rev, continueToken: "" };
      startKey = last ? last.key + "\0" : startKey;
      if (items.length >= want) {
        return { items, rev, continueToken: encodeContinue(rev, startKey.slice(prefix.length)) };
      }
    }
  } catch (e) {
    if (e instanceof StatusError) throw e;
    const mapped = storageError(e, store.gr, "");
    if (mapped instanceof StatusError && mapped.code === 410 && q.continueToken) {
      throw expired(
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
      );
    }
    throw mapped;
  }
}

/** The serialized list: `{"kind":"PodList",…,"items":[…]}` from pre-serialized objects. */
export function listJson(info: KindInfo, page: ListPage): string {
  const meta: Record<string, string> = { resourceVersion: String(page.rev) };
  if (page.continueToken) meta.continue = page.continueToken;
  let s = `{"kind":"${info.listKind}","apiVersion":"${info.apiVersion}","metadata":${JSON.stringify(meta)},"items":[`;
  const items = page.items;
  for (let i = 0; i < items.length; i++) {
    if (i) s += ",";
    s += items[i]!.json;
  }
  return s + "]}";
}

export interface WatchStreamOptions {
  query: ListQuery;
  timeoutSeconds: number;
  allowBookmarks: boolean;
  /** Turns one object into a one-row Table for the event's `object`; absent for plain JSON. */
  table?: (o: CachedObject) => string;
  contentType: string;
  signal: AbortSignal;
}

function eventText(type: string, objectJson: string): string {
  return `{"type":"${type}","object":${objectJson}}\n`;
}

/** Event lines of plain-JSON watches, built once per object version and type for all watchers. */
const eventLines = new WeakMap<CachedObject, Partial<Record<string, string>>>();

function sharedEventText(type: string, o: CachedObject): string {
  let lines = eventLines.get(o);
  if (!lines) eventLines.set(o, (lines = {}));
  return (lines[type] ??= eventText(type, o.json));
}

/** Answers a watch: flushes headers at once, then streams events until timeout or disconnect. */
export async function serveWatch(
  store: ResourceStore,
  res: ServerResponse,
  opts: WatchStreamOptions,
): Promise<void> {
  const info = store.info;
  const q = opts.query;
  const cache = store.cache;
  await cache.ready;
  const rv = q.resourceVersion;
  let after: number | "initial";
  if (rv === "" || rv === "0") {
    if (rv === "") await cache.sync();
    after = "initial";
  } else {
    after = Number(rv);
    // A revision the cache has not reached yet (read from the datastore a moment ago): wait
    // for it, so that no event at or before it is sent again.
    if (after > cache.rev) await cache.waitFor(after);
  }
  const filter = filterFor(info, q) ?? (() => true);
  const prefix = storagePrefix(info, q.namespace || undefined);
  let lastRev = cache.rev;
  let closed = false;
  const ended = new Promise<void>((resolve) => {
    const finish = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      // One listener per watch on the server's signal: removed when the watch ends.
      opts.signal.removeEventListener("abort", finish);
      resolve();
    };
    const timer = setTimeout(finish, opts.timeoutSeconds * 1000);
    res.on("close", finish);
    opts.signal.addEventListener("abort", finish, { once: true });
  });
  let corked = false;
  const uncork = (): void => {
    corked = false;
    res.uncork();
  };
  const writeLine = (line: string): void => {
    if (closed) return;
    // Events of one tick leave in one TLS write.
    if (!corked) {
      corked = true;
      res.cork();
      process.nextTick(uncork);
    }
    res.write(line);
    // A watcher that does not read is cut off rather than buffered without bound.
    if (res.writableLength > 64 * 1024 * 1024) {
      closed = true;
      res.destroy();
    }
  };
  // Headers go first: a watch from "now" sends its synthetic ADDED events synchronously.
  res.writeHead(200, {
    "Content-Type": opts.contentType,
    "Transfer-Encoding": "chunked",
    "Cache-Control": "no-cache",
  });
  let stop: () => void = () => undefined;
  try {
    stop = cache.watch(
      {
        prefix,
        filter,
        send(type, o) {
          lastRev = o.rev;
          writeLine(opts.table ? eventText(type, opts.table(o)) : sharedEventText(type, o));
        },
        close(reason) {
          writeLine(
            eventText("ERROR", JSON.stringify(new StatusError(500, "InternalError", reason.message).status)),
          );
          res.end();
        },
      },
      after,
    );
  } catch (e) {
    if (e instanceof TooOldError) {
      res.end(`{"type":"ERROR","object":${JSON.stringify(expired(e.message).status)}}\n`);
      return;
    }
    throw e;
  }
  res.flushHeaders();
  let bookmarks: NodeJS.Timeout | undefined;
  if (opts.allowBookmarks) {
    bookmarks = setInterval(() => {
      const at = Math.max(lastRev, cache.rev);
      const bookmark = `{"kind":"${info.kind}","apiVersion":"${info.apiVersion}","metadata":{"resourceVersion":"${at}"}}`;
      writeLine(eventText("BOOKMARK", bookmark));
    }, 5000);
  }
  try {
    await ended;
  } finally {
    stop();
    if (bookmarks) clearInterval(bookmarks);
    if (!res.writableEnded && !res.destroyed) res.end();
  }
}
