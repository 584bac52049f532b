/**
 * @module Opens a datastore from its URL, the one place that knows every driver:
 * `sqlite:///path/state.db` (the default), `etcd://host:port[,host:port]`, `memory://`.
 */
import type { Backend } from "./backend.ts";
import { startCompactor } from "./compactor.ts";
import { openSqlite } from "./sqlite/sqlite-backend.ts";

export interface OpenOptions {
  /** Compact every this many ms (0 = never). Default 5 minutes, as the Kubernetes apiserver. */
  compactIntervalMs?: number;
}

/** Parses a datastore URL and opens it; throws an Error with a clear message on a bad URL. */
export async function openBackend(url: string, opts: OpenOptions = {}): Promise<Backend> {
  const m = /^([a-z0-9]+):\/\/(.*)$/.exec(url);
  if (!m)
    throw new Error(`invalid datastore URL "${url}": expected sqlite:///path, etcd://host:port or memory://`);
  const scheme = m[1]!;
  const rest = m[2]!;
  const backend = await openDriver(url, scheme, rest);
  const interval = opts.compactIntervalMs ?? 5 * 60_000;
  if (interval > 0) {
    const stop = new AbortController();
    startCompactor(backend, interval, stop.signal);
    const close = backend.close.bind(backend);
    backend.close = () => {
      stop.abort();
      return close();
    };
  }
  return backend;
}

async function openDriver(url: string, scheme: string, rest: string): Promise<Backend> {
  switch (scheme) {
    case "sqlite": {
      if (!rest.startsWith("/"))
        throw new Error(
          `invalid datastore URL "${url}": the path must be absolute (sqlite:///path/state.db)`,
        );
      return openSqlite(decodeURIComponent(rest));
    }
    case "memory": {
      return openSqlite(":memory:");
    }
    case "etcd": {
      const endpoints = rest
        .replace(/\/$/, "")
        .split(",")
        .filter(Boolean)
        .map((e) => `http://${e}`);
      if (endpoints.length === 0) throw new Error(`invalid datastore URL "${url}": no etcd endpoints`);
      const { openEtcd } = await import("./etcd/etcd-backend.ts");
      return openEtcd(endpoints);
    }
    default:
      throw new Error(`unknown datastore "${scheme}" in "${url}": expected sqlite, etcd or memory`);
  }
}
