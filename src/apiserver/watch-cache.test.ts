import { test } from "node:test";
import assert from "node:assert/strict";
import { openBackend } from "../storage/open.ts";
import type { KubeObject } from "../api/object.ts";
import { jsonCodec } from "./registry/codec.ts";
import { TooOldError, WatchCache, type CacheEventType } from "./watch-cache.ts";
import { StatusError } from "../api/status-error.ts";

const cm = (name: string, labels: Record<string, string> = {}): string =>
  JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns", labels } });

async function setup(historySize?: number) {
  const b = await openBackend("memory://", { compactIntervalMs: 0 });
  const ac = new AbortController();
  await b.create("/registry/configmaps/ns/a", cm("a", { app: "x" }));
  const cache = new WatchCache(b, "/registry/configmaps/", ac.signal, jsonCodec, historySize);
  await cache.ready;
  return {
    b,
    cache,
    async close() {
      ac.abort();
      await b.close();
    },
  };
}

function recorder() {
  const seen: string[] = [];
  return {
    seen,
    watcher: (filter: (o: KubeObject) => boolean = () => true) => ({
      prefix: "/registry/configmaps/",
      filter,
      send(type: CacheEventType, o: { obj: KubeObject; rev: number }) {
        seen.push(`${type} ${o.obj.metadata.name} ${o.obj.metadata.resourceVersion === String(o.rev)}`);
      },
      close() {
        seen.push("closed");
      },
    }),
  };
}

test("lists what the datastore has, with resourceVersions, and follows changes", async () => {
  const { b, cache, close } = await setup();
  try {
    assert.deepEqual(
      cache.list("/registry/configmaps/").map((o) => o.obj.metadata.name),
      ["a"],
    );
    await b.create("/registry/configmaps/ns/b", cm("b"));
    await cache.sync();
    const items = cache.list("/registry/configmaps/ns/");
    assert.deepEqual(
      items.map((o) => o.obj.metadata.name),
      ["a", "b"],
    );
    for (const o of items) assert.equal(JSON.parse(o.json).metadata.resourceVersion, String(o.rev));
  } finally {
    await close();
  }
});

test("a filtered watch sees objects enter and leave its selector as ADDED and DELETED", async () => {
  const { b, cache, close } = await setup();
  try {
    const r = recorder();
    const stop = cache.watch(
      r.watcher((o) => o.metadata.labels?.app === "x"),
      "initial",
    );
    const a = (await b.get("/registry/configmaps/ns/a"))!;
    const a2 = await b.update("/registry/configmaps/ns/a", cm("a", { app: "y" }), a.modRevision);
    await b.update("/registry/configmaps/ns/a", cm("a", { app: "x" }), a2.modRevision);
    await b.create("/registry/configmaps/ns/c", cm("c"));
    await b.delete("/registry/configmaps/ns/a");
    await cache.sync();
    stop();
    assert.deepEqual(r.seen, ["ADDED a true", "DELETED a true", "ADDED a true", "DELETED a true"]);
  } finally {
    await close();
  }
});

test("resumes a watch from a resourceVersion in its window, and refuses an older one", async () => {
  const { b, cache, close } = await setup(3);
  try {
    const start = await b.currentRevision();
    for (const n of ["b", "c"]) await b.create(`/registry/configmaps/ns/${n}`, cm(n));
    await cache.sync();
    const r = recorder();
    cache.watch(r.watcher(), start)();
    assert.deepEqual(r.seen, ["ADDED b true", "ADDED c true"]);
    for (const n of ["d", "e", "f"]) await b.create(`/registry/configmaps/ns/${n}`, cm(n));
    await cache.sync();
    assert.throws(() => cache.watch(recorder().watcher(), start), TooOldError);
  } finally {
    await close();
  }
});

test("a resourceVersion the cache never reaches is a 504 ResourceVersionTooLarge", async () => {
  const { cache, close } = await setup();
  try {
    await assert.rejects(cache.waitFor(cache.rev + 100, 100), (e: unknown) => {
      assert.ok(e instanceof StatusError);
      assert.equal(e.code, 504);
      assert.equal(e.status.details?.causes?.[0]?.reason, "ResourceVersionTooLarge");
      return true;
    });
  } finally {
    await close();
  }
});
