/**
 * @module The one conformance suite every storage driver must pass (sqlite, memory, etcd):
 * revision ordering, guarded writes, list snapshots and pagination, watch delivery (every
 * event after a revision, exactly once, in order, with previous values), compaction, and many
 * concurrent writers. Each driver's test file calls `storageConformance` with a factory.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  type Backend,
  type WatchEvent,
} from "./backend.ts";

/** A fresh, empty backend for one test group, and how to dispose of it. */
export interface BackendFixture {
  backend: Backend;
  cleanup(): Promise<void>;
}

/** Collects watch events until `count` have arrived (or fails after `ms`). */
function collect(
  b: Backend,
  prefix: string,
  afterRevision: number,
): {
  events: WatchEvent[];
  errors: Error[];
  waitFor(count: number, ms?: number): Promise<WatchEvent[]>;
  waitError(ms?: number): Promise<Error>;
  stop(): void;
} {
  const ac = new AbortController();
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  let wake: (() => void) | undefined;
  b.watch(
    prefix,
    { afterRevision, signal: ac.signal },
    {
      onEvents(batch) {
        assert.ok(batch.length > 0, "a batch is never empty");
        events.push(...batch);
        wake?.();
      },
      onError(err) {
        errors.push(err);
        wake?.();
      },
    },
  );
  const until = async (done: () => boolean, ms: number, what: string): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  };
  return {
    events,
    errors,
    async waitFor(count, ms = 10_000) {
      await until(
        () => events.length >= count || errors.length > 0,
        ms,
        `${count} events (have ${events.length})`,
      );
      if (errors.length) throw errors[0]!;
      return events;
    },
    async waitError(ms = 10_000) {
      await until(() => errors.length > 0, ms, "a watch error");
      return errors[0]!;
    },
    stop: () => ac.abort(),
  };
}

/** Registers the suite for one driver. `open` must return an empty store each call. */
export function storageConformance(driver: string, open: () => Promise<BackendFixture>): void {
  describe(`storage conformance: ${driver}`, () => {
    let fx: BackendFixture;
    let b: Backend;
    let n = 0;
    // Each test works under its own prefix, so tests share one store without interfering.
    const ns = (): string => `/t${++n}/`;

    before(async () => {
      fx = await open();
      b = fx.backend;
    });
    after(async () => {
      await fx?.cleanup();
    });

    it("gives every change the next revision and reports it", async () => {
      const p = ns();
      const start = await b.currentRevision();
      const a = await b.create(`${p}a`, "1");
      assert.ok(a.modRevision > start);
      assert.equal(a.createRevision, a.modRevision);
      const u = await b.update(`${p}a`, "2", a.modRevision);
      assert.ok(u.modRevision > a.modRevision);
      assert.equal(u.createRevision, a.createRevision);
      const d = await b.delete(`${p}a`);
      assert.ok(d.modRevision > u.modRevision);
      assert.equal(d.value, "2", "a delete returns the last value");
      assert.equal(await b.currentRevision(), d.modRevision);
      assert.equal(await b.get(`${p}a`), null);
      const again = await b.create(`${p}a`, "3");
      assert.ok(again.createRevision > d.modRevision, "a re-created key has a new createRevision");
    });

    it("refuses to create a key that exists", async () => {
      const p = ns();
      await b.create(`${p}x`, "1");
      await assert.rejects(b.create(`${p}x`, "2"), KeyExistsError);
      assert.equal((await b.get(`${p}x`))?.value, "1", "the stored value is unchanged");
    });

    it("guards update and delete by revision and reports the current value on conflict", async () => {
      const p = ns();
      const v1 = await b.create(`${p}k`, "1");
      const v2 = await b.update(`${p}k`, "2", v1.modRevision);
      await assert.rejects(b.update(`${p}k`, "stale", v1.modRevision), (e: unknown) => {
        assert.ok(e instanceof ConflictError);
        assert.equal(e.current.value, "2");
        assert.equal(e.current.modRevision, v2.modRevision);
        return true;
      });
      await assert.rejects(b.delete(`${p}k`, v1.modRevision), ConflictError);
      assert.equal((await b.get(`${p}k`))?.value, "2");
      await assert.rejects(b.update(`${p}missing`, "x", 1), KeyNotFoundError);
      await assert.rejects(b.delete(`${p}missing`), KeyNotFoundError);
      const d = await b.delete(`${p}k`, v2.modRevision);
      assert.equal(d.value, "2");
    });

    it("lists in key order under a prefix only", async () => {
      const p = ns();
      for (const k of ["b", "a", "c/d", "c"]) await b.create(`${p}${k}`, k);
      await b.create(`${p.slice(0, -1)}x/other`, "no");
      const r = await b.list(p);
      assert.deepEqual(
        r.kvs.map((kv) => kv.key),
        [`${p}a`, `${p}b`, `${p}c`, `${p}c/d`],
      );
      assert.equal(r.more, false);
      assert.equal(await b.count(p), 4);
      assert.equal(r.revision, await b.currentRevision());
    });

    it("paginates consistently at one revision while writes continue", async () => {
      const p = ns();
      for (let i = 0; i < 25; i++) await b.create(`${p}${String(i).padStart(3, "0")}`, `v${i}`);
      const first = await b.list(p, { limit: 10 });
      assert.equal(first.kvs.length, 10);
      assert.equal(first.more, true);
      // Writes between pages must not show in later pages read at the first page's revision.
      await b.delete(`${p}015`);
      await b.create(`${p}0125`, "new");
      const k20 = (await b.get(`${p}020`))!;
      await b.update(`${p}020`, "changed", k20.modRevision);
      const seen = [...first.kvs];
      let page = first;
      while (page.more) {
        const startKey = page.kvs[page.kvs.length - 1]!.key + "\0";
        page = await b.list(p, { limit: 10, revision: first.revision, startKey });
        assert.equal(page.revision, first.revision);
        seen.push(...page.kvs);
      }
      assert.equal(seen.length, 25);
      assert.deepEqual(
        seen.map((kv) => kv.value),
        Array.from({ length: 25 }, (_, i) => `v${i}`),
      );
      const now = await b.list(p);
      assert.equal(now.kvs.length, 25, "one deleted, one created");
      assert.ok(now.kvs.some((kv) => kv.value === "changed"));
    });

    it("reads a list at an older revision and refuses a future one", async () => {
      const p = ns();
      const a = await b.create(`${p}a`, "old");
      const rev = a.modRevision;
      await b.update(`${p}a`, "new", a.modRevision);
      await b.create(`${p}b`, "later");
      const r = await b.list(p, { revision: rev });
      assert.deepEqual(
        r.kvs.map((kv) => [kv.key, kv.value]),
        [[`${p}a`, "old"]],
      );
      const cur = await b.currentRevision();
      await assert.rejects(b.list(p, { revision: cur + 1000 }), FutureRevisionError);
    });

    it("watches from an old revision: every event after it, once, in order, with prev values", async () => {
      const p = ns();
      const start = await b.currentRevision();
      const a = await b.create(`${p}a`, "1");
      const a2 = await b.update(`${p}a`, "2", a.modRevision);
      await b.create(`${p}b`, "x");
      await b.delete(`${p}a`);
      await b.create(`${p.slice(0, -1)}z/ignored`, "other prefix");
      const w = collect(b, p, start);
      try {
        await w.waitFor(4);
        // Live events keep coming after the history.
        await b.create(`${p}c`, "live");
        const evs = await w.waitFor(5);
        assert.deepEqual(
          evs.map((e) => [e.type, e.kv.key, e.kv.value]),
          [
            ["create", `${p}a`, "1"],
            ["update", `${p}a`, "2"],
            ["create", `${p}b`, "x"],
            ["delete", `${p}a`, "2"],
            ["create", `${p}c`, "live"],
          ],
        );
        const revs = evs.map((e) => e.kv.modRevision);
        assert.deepEqual(
          revs,
          [...revs].sort((x, y) => x - y),
          "in revision order",
        );
        assert.equal(new Set(revs).size, revs.length, "exactly once");
        assert.equal(evs[1]!.prev?.value, "1");
        assert.equal(evs[1]!.prev?.modRevision, a.modRevision);
        assert.equal(evs[3]!.prev?.modRevision, a2.modRevision);
        assert.equal(evs[0]!.prev, undefined);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(w.events.length, 5, "no duplicates arrive later");
      } finally {
        w.stop();
      }
    });

    it("watches from now on when afterRevision is 0, and stops when aborted", async () => {
      const p = ns();
      await b.create(`${p}before`, "1");
      const w = collect(b, p, 0);
      await new Promise((r) => setTimeout(r, 50));
      await b.create(`${p}after`, "2");
      const evs = await w.waitFor(1);
      assert.deepEqual(
        evs.map((e) => e.kv.key),
        [`${p}after`],
      );
      w.stop();
      await b.create(`${p}after-stop`, "3");
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(w.events.length, 1);
    });

    it("reports progress to a watch whose prefix is quiet while others change", async () => {
      const quiet = ns();
      const busy = ns();
      const start = await b.currentRevision();
      const ac = new AbortController();
      let progressed = 0;
      let events = 0;
      b.watch(
        quiet,
        { afterRevision: start, signal: ac.signal },
        {
          onEvents: (evs) => (events += evs.length),
          onError: () => undefined,
          onProgress: (rev) => (progressed = Math.max(progressed, rev)),
        },
      );
      await new Promise((r) => setTimeout(r, 100));
      const kv = await b.create(`${busy}k`, "1");
      for (let i = 0; i < 100 && progressed < kv.modRevision; i++) {
        b.requestProgress();
        await new Promise((r) => setTimeout(r, 20));
      }
      ac.abort();
      assert.equal(events, 0);
      assert.ok(progressed >= kv.modRevision, `progress ${progressed} < ${kv.modRevision}`);
    });

    it("fails watches and lists before the compacted revision with CompactedError", async () => {
      const p = ns();
      const first = await b.create(`${p}a`, "1");
      let last = first;
      for (let i = 2; i <= 5; i++) last = await b.update(`${p}a`, String(i), last.modRevision);
      await b.create(`${p}gone`, "x");
      await b.delete(`${p}gone`);
      const compactAt = await b.currentRevision();
      await b.compact(compactAt);
      assert.ok((await b.compactedRevision()) >= compactAt);
      const w = collect(b, p, first.modRevision);
      try {
        const err = await w.waitError();
        assert.ok(err instanceof CompactedError, `got ${err.name}: ${err.message}`);
      } finally {
        w.stop();
      }
      await assert.rejects(b.list(p, { revision: first.modRevision }), CompactedError);
      // The current state survives compaction, and watching from the compacted revision works.
      assert.equal((await b.get(`${p}a`))?.value, "5");
      assert.equal(await b.get(`${p}gone`), null);
      const w2 = collect(b, p, compactAt);
      try {
        await b.update(`${p}a`, "6", last.modRevision);
        const evs = await w2.waitFor(1);
        assert.equal(evs[0]!.kv.value, "6");
        assert.equal(evs[0]!.prev?.value, "5");
      } finally {
        w2.stop();
      }
    });

    it("keeps every write of many concurrent writers", async () => {
      const p = ns();
      // 200 concurrent creates: all succeed with distinct revisions.
      const created = await Promise.all(
        Array.from({ length: 200 }, (_, i) => b.create(`${p}k${i}`, String(i))),
      );
      assert.equal(new Set(created.map((kv) => kv.modRevision)).size, 200);
      assert.equal(await b.count(p), 200);
      // 20 writers increment one counter with compare-and-swap: no lost update.
      await b.create(`${p}counter`, "0");
      const writer = async (): Promise<void> => {
        for (let done = 0; done < 10;) {
          const cur = (await b.get(`${p}counter`))!;
          try {
            await b.update(`${p}counter`, String(Number(cur.value) + 1), cur.modRevision);
            done++;
          } catch (e) {
            if (!(e instanceof ConflictError)) throw e;
          }
        }
      };
      await Promise.all(Array.from({ length: 20 }, writer));
      assert.equal((await b.get(`${p}counter`))?.value, "200");
    });

    it("delivers a burst of concurrent writes to a watcher exactly once, in order", async () => {
      const p = ns();
      const w = collect(b, p, await b.currentRevision());
      try {
        await Promise.all(Array.from({ length: 300 }, (_, i) => b.create(`${p}${i}`, String(i))));
        const evs = await w.waitFor(300);
        const revs = evs.map((e) => e.kv.modRevision);
        for (let i = 1; i < revs.length; i++) assert.ok(revs[i]! > revs[i - 1]!, "strictly increasing");
        assert.equal(new Set(evs.map((e) => e.kv.key)).size, 300);
      } finally {
        w.stop();
      }
    });
  });
}
