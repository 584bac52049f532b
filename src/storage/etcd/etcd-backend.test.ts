/**
 * @module Tests of the etcd driver against a real etcd started on loopback by the harness:
 * the shared conformance suite, plus etcd-specific behaviour (key prefixes, guarded writes
 * that must not create keys, snapshot paging under concurrent writes, watch batching,
 * compaction seen by a second client, close, unreachable endpoints).
 */
import { after, before, describe, it, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  type Backend,
  type KeyValue,
  type WatchEvent,
} from "../backend.ts";
import { storageConformance } from "../conformance.ts";
import { openEtcd } from "./etcd-backend.ts";
import { etcdAvailable, startEtcd, type EtcdProcess } from "./etcd-process.ts";

const SKIP = "etcd driver tests skipped: /usr/bin/etcd is missing (install Debian's etcd-server)";

/** A watch that records what it receives. */
function record(b: Backend, prefix: string, afterRevision: number) {
  const ac = new AbortController();
  const batches: WatchEvent[][] = [];
  const errors: Error[] = [];
  b.watch(
    prefix,
    { afterRevision, signal: ac.signal },
    {
      onEvents: (batch) => void batches.push(batch),
      onError: (err) => void errors.push(err),
    },
  );
  const events = (): WatchEvent[] => batches.flat();
  return { batches, errors, events, stop: () => ac.abort() };
}

/** Polls `done` until it holds, failing after `ms`. */
async function until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts an etcd and opens a backend on it; `cleanup` closes both. */
async function fixture(
  prefix?: string,
): Promise<{ etcd: EtcdProcess; b: Backend; cleanup(): Promise<void> }> {
  const etcd = await startEtcd();
  try {
    const b = await openEtcd([etcd.endpoint], prefix === undefined ? {} : { prefix });
    return {
      etcd,
      b,
      async cleanup() {
        try {
          await b.close();
        } finally {
          await etcd.stop();
        }
      },
    };
  } catch (err) {
    await etcd.stop();
    throw err;
  }
}

if (!etcdAvailable()) {
  test("etcd driver", (t) => {
    console.warn(`\n*** ${SKIP} ***\n`);
    t.skip(SKIP);
  });
} else {
  storageConformance("etcd", async () => {
    const fx = await fixture("/conformance");
    return { backend: fx.b, cleanup: fx.cleanup };
  });

  describe("etcd backend", () => {
    let fx: Awaited<ReturnType<typeof fixture>>;
    let b: Backend;
    before(async () => {
      fx = await fixture("/kites");
      b = fx.b;
    });
    after(async () => {
      await fx?.cleanup();
    });

    it("creates and gets keys, refusing a second create", async () => {
      const kv = await b.create("/cg/a", '{"x":1}');
      assert.equal(kv.createRevision, kv.modRevision);
      assert.deepEqual(await b.get("/cg/a"), kv);
      assert.equal(await b.get("/cg/missing"), null);
      await assert.rejects(b.create("/cg/a", "again"), (e: unknown) => {
        assert.ok(e instanceof KeyExistsError);
        assert.equal(e.key, "/cg/a");
        return true;
      });
      assert.equal((await b.get("/cg/a"))?.modRevision, kv.modRevision, "a refused create changes nothing");
    });

    it("stores keys under the driver prefix, invisible to another prefix", async () => {
      const other = await openEtcd([fx.etcd.endpoint], { prefix: "/other" });
      try {
        await b.create("/iso/k", "mine");
        assert.equal(await other.get("/iso/k"), null);
        assert.equal(await other.count("/iso/"), 0);
        const raw = await openEtcd([fx.etcd.endpoint]);
        try {
          const seen = await raw.get("/kites/iso/k");
          assert.equal(seen?.value, "mine", "the prefix is part of the etcd key");
        } finally {
          await raw.close();
        }
      } finally {
        await other.close();
      }
    });

    const guarded: {
      name: string;
      run: (cur: KeyValue) => Promise<unknown>;
      want: typeof ConflictError | typeof KeyNotFoundError;
    }[] = [
      {
        name: "update with a stale revision",
        run: (cur) => b.update(cur.key, "x", cur.modRevision - 1),
        want: ConflictError,
      },
      { name: "update with revision 0", run: (cur) => b.update(cur.key, "x", 0), want: ConflictError },
      {
        name: "delete with a stale revision",
        run: (cur) => b.delete(cur.key, cur.modRevision - 1),
        want: ConflictError,
      },
      {
        name: "update of a missing key",
        run: (cur) => b.update(cur.key + "-gone", "x", cur.modRevision),
        want: KeyNotFoundError,
      },
      {
        name: "update of a missing key with revision 0",
        run: (cur) => b.update(cur.key + "-gone", "x", 0),
        want: KeyNotFoundError,
      },
      {
        name: "guarded delete of a missing key",
        run: (cur) => b.delete(cur.key + "-gone", cur.modRevision),
        want: KeyNotFoundError,
      },
    ];
    for (const [i, c] of guarded.entries()) {
      it(`rejects ${c.name} and leaves the store unchanged`, async () => {
        const created = await b.create(`/guard/${i}`, "v1");
        const cur = await b.update(created.key, "v2", created.modRevision);
        await assert.rejects(c.run(cur), (e: unknown) => {
          assert.ok(e instanceof c.want, `got ${String(e)}`);
          if (e instanceof ConflictError) assert.deepEqual(e.current, cur, "carries the current value");
          return true;
        });
        assert.deepEqual(await b.get(cur.key), cur);
        assert.equal(await b.get(cur.key + "-gone"), null, "a failed guard never creates a key");
      });
    }

    it("updates and deletes with a matching guard", async () => {
      const v1 = await b.create("/gd/k", "1");
      const v2 = await b.update("/gd/k", "2", v1.modRevision);
      assert.deepEqual(v2, {
        key: "/gd/k",
        value: "2",
        createRevision: v1.createRevision,
        modRevision: v2.modRevision,
      });
      const d = await b.delete("/gd/k", v2.modRevision);
      assert.deepEqual(d, {
        key: "/gd/k",
        value: "2",
        createRevision: v1.createRevision,
        modRevision: d.modRevision,
      });
      assert.equal(d.modRevision, await b.currentRevision());
      await assert.rejects(b.delete("/gd/k"), KeyNotFoundError);
    });

    it("pages at a fixed revision while another writer keeps changing the keys", async () => {
      for (let i = 0; i < 30; i++) await b.create(`/page/${String(i).padStart(2, "0")}`, "orig");
      let writing = true;
      let writes = 0;
      const writer = (async () => {
        while (writing) {
          const k = `/page/${String(writes % 30).padStart(2, "0")}`;
          const cur = await b.get(k);
          if (cur) await b.update(k, `w${writes}`, cur.modRevision);
          await b.create(`/page/zz${writes}`, "new");
          writes++;
        }
      })();
      try {
        const first = await b.list("/page/", { limit: 7 });
        const seen = [...first.kvs];
        let page = first;
        while (page.more) {
          await until(() => writes > seen.length / 7, "the writer to make progress");
          const startKey = page.kvs[page.kvs.length - 1]!.key + "\0";
          page = await b.list("/page/", { revision: first.revision, limit: 7, startKey });
          assert.equal(page.revision, first.revision);
          assert.ok(page.kvs.length <= 7);
          seen.push(...page.kvs);
        }
        assert.equal(seen.length, 30);
        assert.ok(seen.every((kv) => kv.value === "orig" && kv.modRevision <= first.revision));
        assert.ok(writes > 0);
      } finally {
        writing = false;
        await writer;
      }
      assert.equal(await b.count("/page/"), 30 + writes);
      assert.ok((await b.list("/page/", { limit: 1 })).more);
    });

    it("counts keys under a prefix only", async () => {
      for (const k of ["a", "b", "c/d"]) await b.create(`/cnt/${k}`, k);
      await b.create("/cntx", "not under /cnt/");
      assert.equal(await b.count("/cnt/"), 3);
      assert.equal(await b.count("/nothing/"), 0);
    });

    it("rejects a list at a future revision with the current revision", async () => {
      const cur = await b.currentRevision();
      await assert.rejects(b.list("/cnt/", { revision: cur + 50 }), (e: unknown) => {
        assert.ok(e instanceof FutureRevisionError);
        assert.equal(e.requested, cur + 50);
        assert.equal(e.current, cur);
        return true;
      });
    });

    it("replays history from an old revision in one batch, then live events, with prev values", async () => {
      const start = await b.currentRevision();
      const a = await b.create("/w/a", "1");
      let last = a;
      for (let i = 2; i <= 10; i++) last = await b.update("/w/a", String(i), last.modRevision);
      const gone = await b.delete("/w/a", last.modRevision);
      const w = record(b, "/w/", start);
      try {
        await until(() => w.events().length >= 11, "11 events");
        assert.equal(w.batches.length, 1, "etcd sends the catch-up as one response, delivered as one batch");
        const live = await b.create("/w/b", "live");
        await until(() => w.events().length >= 12, "the live event");
        const evs = w.events();
        assert.deepEqual(
          evs.map((e) => [e.type, e.kv.value, e.prev?.value]),
          [
            ["create", "1", undefined],
            ...Array.from({ length: 9 }, (_, i) => ["update", String(i + 2), String(i + 1)]),
            ["delete", "10", "10"],
            ["create", "live", undefined],
          ],
        );
        assert.deepEqual(evs[10], {
          type: "delete",
          kv: { key: "/w/a", value: "10", createRevision: a.createRevision, modRevision: gone.modRevision },
          prev: last,
        });
        assert.deepEqual(evs[11], { type: "create", kv: live });
        await new Promise((r) => setTimeout(r, 150));
        assert.equal(w.events().length, 12, "nothing is delivered twice");
        assert.deepEqual(w.errors, []);
      } finally {
        w.stop();
      }
    });

    it("makes no callback after the watch is aborted", async () => {
      const w = record(b, "/ab/", 0);
      await new Promise((r) => setTimeout(r, 100));
      w.stop();
      await b.create("/ab/x", "1");
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(w.batches, []);
      assert.deepEqual(w.errors, []);
    });
  });

  describe("etcd backend compaction", () => {
    let fx: Awaited<ReturnType<typeof fixture>>;
    before(async () => {
      fx = await fixture();
    });
    after(async () => {
      await fx?.cleanup();
    });

    it("fails old watches and lists with CompactedError, also for a second client", async () => {
      const b = fx.b;
      assert.equal(await b.compactedRevision(), 0);
      const first = await b.create("/c/a", "1");
      let last = first;
      for (let i = 0; i < 5; i++) last = await b.update("/c/a", `v${i}`, last.modRevision);
      await b.compact(last.modRevision);
      assert.equal(await b.compactedRevision(), last.modRevision);
      await b.compact(first.modRevision); // already compacted past it: nothing to do

      const w = record(b, "/c/", first.modRevision);
      await until(() => w.errors.length > 0, "the watch error");
      const err = w.errors[0];
      assert.ok(err instanceof CompactedError, String(err));
      assert.equal(err.compacted, last.modRevision);
      assert.deepEqual(w.batches, []);

      // A client that never compacted learns the compacted revision from etcd.
      const other = await openEtcd([fx.etcd.endpoint]);
      try {
        assert.equal(await other.compactedRevision(), last.modRevision);
        await assert.rejects(other.list("/c/", { revision: first.modRevision }), (e: unknown) => {
          assert.ok(e instanceof CompactedError);
          assert.deepEqual([e.requested, e.compacted], [first.modRevision, last.modRevision]);
          return true;
        });
        const ow = record(other, "/c/", first.modRevision + 1);
        await until(() => ow.errors.length > 0, "the second client's watch error");
        assert.ok(ow.errors[0] instanceof CompactedError);
      } finally {
        await other.close();
      }
      assert.equal((await b.get("/c/a"))?.value, "v4", "current state survives compaction");
    });
  });

  describe("etcd backend lifecycle", () => {
    it("resumes a watch across an etcd restart without losing or repeating events", async () => {
      const fx = await fixture();
      try {
        const b = fx.b;
        const start = await b.currentRevision();
        const w = record(b, "/r/", start);
        for (let i = 0; i < 5; i++) await b.create(`/r/before-${i}`, "x");
        await until(() => w.events().length === 5, "events before the restart");
        await fx.etcd.restart({ crash: true });
        // The client may need a moment to see etcd back; the writes themselves must land once.
        for (let i = 0; i < 5; i++) {
          for (let tries = 0; ; tries++) {
            try {
              await b.create(`/r/after-${i}`, "y");
              break;
            } catch (err) {
              if (err instanceof KeyExistsError || tries > 100) throw err;
              await new Promise((r) => setTimeout(r, 100));
            }
          }
        }
        await until(() => w.events().length >= 10, "events after the restart", 20_000);
        await new Promise((r) => setTimeout(r, 200));
        const evs = w.events();
        assert.deepEqual(
          evs.map((e) => e.kv.key),
          [0, 1, 2, 3, 4].map((i) => `/r/before-${i}`).concat([0, 1, 2, 3, 4].map((i) => `/r/after-${i}`)),
        );
        assert.deepEqual(w.errors, []);
        w.stop();
      } finally {
        await fx.cleanup();
      }
    });

    it("ends pending watches with an error on close, and refuses calls after it", async () => {
      const fx = await fixture();
      try {
        const w = record(fx.b, "/l/", 0);
        await new Promise((r) => setTimeout(r, 100));
        await fx.b.close();
        assert.equal(w.errors.length, 1);
        assert.match(w.errors[0]!.message, /closed/);
        await assert.rejects(fx.b.get("/l/x"));
        const late = record(fx.b, "/l/", 0);
        await until(() => late.errors.length > 0, "the late watch error");
        assert.deepEqual(late.batches, []);
      } finally {
        await fx.cleanup();
      }
    });

    it("fails within seconds, naming the endpoints, when nothing or a silent peer listens", async () => {
      const fx = await fixture();
      const closedPort = fx.etcd.endpoint;
      await fx.cleanup(); // nothing listens there now
      const sockets = new Set<Socket>();
      const silent = createServer((sock) => void sockets.add(sock)); // accepts, never speaks HTTP/2
      await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
      const addr = silent.address();
      const silentPeer = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
      try {
        for (const endpoints of [[closedPort], [silentPeer, closedPort]]) {
          const started = Date.now();
          await assert.rejects(openEtcd(endpoints), (e: unknown) => {
            assert.ok(e instanceof Error);
            for (const ep of endpoints) assert.ok(e.message.includes(ep), e.message);
            return true;
          });
          assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
        }
      } finally {
        for (const sock of sockets) sock.destroy();
        silent.close();
      }
    });
  });
}
