/**
 * @module Tests of the etcd driver when a call's answer (or its request) is lost: a real etcd
 * on loopback, reached through a proxy that holds one direction of the traffic and then cuts
 * the connection. A write that landed must be reported as done (the etcd3 client's default
 * retry re-sent it and answered 409 / AlreadyExists), a write that etcd never saw as unknown,
 * a write beaten by another writer as a conflict; a read is retried on a new connection.
 */
import { after, before, describe, it, test } from "node:test";
import assert from "node:assert/strict";
import { ConflictError, type Backend, type KeyValue } from "../backend.ts";
import { startCutProxy, type CutProxy } from "./cut-proxy.ts";
import { openEtcd } from "./etcd-backend.ts";
import { WriteOutcomeUnknownError } from "./etcd-faults.ts";
import { etcdAvailable, startEtcd, type EtcdProcess } from "./etcd-process.ts";

const SKIP = "etcd lost-answer tests skipped: /usr/bin/etcd is missing (install Debian's etcd-server)";

/** Polls `done` until it holds, failing after `ms`. */
async function until(done: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Settles `p` into a value, so that a rejection before the test awaits it is not "unhandled". */
function capture<T>(p: Promise<T>): Promise<{ ok: T } | { err: unknown }> {
  return p.then(
    (ok) => ({ ok }),
    (err: unknown) => ({ err }),
  );
}

/** What a captured call did, for assertion messages. */
function show(r: { ok: unknown } | { err: unknown }): string {
  return "err" in r ? `rejected: ${String(r.err)}` : `resolved: ${JSON.stringify(r.ok)}`;
}

function unwrap<T>(r: { ok: T } | { err: unknown }): T {
  if ("err" in r) throw r.err;
  return r.ok;
}

if (!etcdAvailable()) {
  test("etcd lost answers", (t) => {
    console.warn(`\n*** ${SKIP} ***\n`);
    t.skip(SKIP);
  });
} else {
  describe("etcd driver with a lost answer", { timeout: 60_000 }, () => {
    let etcd: EtcdProcess | undefined;
    let proxy: CutProxy | undefined;
    let direct: Backend;
    let viaProxy: Backend;
    before(async () => {
      etcd = await startEtcd();
      proxy = await startCutProxy(etcd.endpoint);
      direct = await openEtcd([etcd.endpoint]);
      viaProxy = await openEtcd([proxy.endpoint]);
    });
    after(async () => {
      await viaProxy?.close();
      await direct?.close();
      await proxy?.close();
      await etcd?.stop();
    });

    /** Runs `write` through the proxy with its answers held; cuts once `landed` holds. */
    async function loseAnswer<T>(write: () => Promise<T>, landed: () => Promise<boolean>): Promise<T> {
      proxy!.hold("hold-replies");
      const result = capture(write());
      try {
        await until(landed, "the write to land in etcd");
      } finally {
        proxy!.cut();
      }
      return unwrap(await result);
    }

    /** Runs `write` through the proxy with its request swallowed; cuts once it went by. */
    async function loseRequest<T>(
      write: () => Promise<T>,
      marker: string,
      meanwhile?: () => Promise<unknown>,
    ) {
      proxy!.hold("hold-requests");
      const result = capture(write());
      try {
        await until(() => proxy!.swallowed().includes(marker), "the request to go by");
        await meanwhile?.();
      } finally {
        proxy!.cut();
      }
      return result;
    }

    it("reports an update that landed as done, not as a conflict", async () => {
      const v0 = await direct.create("/lost/u", "v0");
      const kv = await loseAnswer(
        () => viaProxy.update("/lost/u", "v1", v0.modRevision),
        async () => (await direct.get("/lost/u"))?.value === "v1",
      );
      const stored = await direct.get("/lost/u");
      assert.deepEqual(kv, stored);
      assert.equal(kv.createRevision, v0.createRevision);
      assert.equal(await direct.currentRevision(), kv.modRevision, "written exactly once");
    });

    it("reports a create that landed as done, not as AlreadyExists", async () => {
      const value = '{"metadata":{"uid":"c1"}}';
      const kv = await loseAnswer(
        () => viaProxy.create("/lost/c", value),
        async () => (await direct.get("/lost/c")) !== null,
      );
      assert.deepEqual(kv, await direct.get("/lost/c"));
      assert.equal(kv.createRevision, kv.modRevision);
    });

    it("reports a guarded delete that landed as done, with the deleted value", async () => {
      const v0 = await direct.create("/lost/d", "last");
      const kv: KeyValue = await loseAnswer(
        () => viaProxy.delete("/lost/d", v0.modRevision),
        async () => (await direct.get("/lost/d")) === null,
      );
      assert.equal(kv.value, "last");
      assert.equal(kv.createRevision, v0.createRevision);
      assert.equal(kv.modRevision, await direct.currentRevision(), "the delete's revision");
    });

    it("reports a write etcd never received as of unknown outcome, and leaves the key alone", async () => {
      const v0 = await direct.create("/lost/n", "v0");
      const update = await loseRequest(
        () => viaProxy.update("/lost/n", "never-sent", v0.modRevision),
        "never-sent",
      );
      assert.ok("err" in update && update.err instanceof WriteOutcomeUnknownError, show(update));
      assert.match(update.err.message, /outcome of the write to \/lost\/n is unknown/);
      assert.deepEqual(await direct.get("/lost/n"), v0);

      const create = await loseRequest(() => viaProxy.create("/lost/n2", "never-created"), "never-created");
      assert.ok("err" in create && create.err instanceof WriteOutcomeUnknownError);
      assert.equal(await direct.get("/lost/n2"), null);
    });

    it("reports a lost update that another writer beat as a conflict with the current value", async () => {
      const v0 = await direct.create("/lost/r", "v0");
      let theirs: KeyValue | undefined;
      const mine = await loseRequest(
        () => viaProxy.update("/lost/r", "mine", v0.modRevision),
        "mine",
        async () => (theirs = await direct.update("/lost/r", "theirs", v0.modRevision)),
      );
      assert.ok("err" in mine && mine.err instanceof ConflictError, show(mine));
      assert.deepEqual(mine.err.current, theirs);
    });

    it("retries a read whose answer is lost on a new connection", async () => {
      const v0 = await direct.create("/lost/g", "read-me");
      const got = await loseAnswer(
        () => viaProxy.get("/lost/g"),
        async () => proxy!.forwardedSinceHold() > 0,
      );
      assert.deepEqual(got, v0);
    });

    it("reports a landed update as of unknown outcome once the history that proves it is compacted", async () => {
      const v0 = await direct.create("/lost/h", "v0");
      proxy!.hold("hold-replies");
      const result = capture(viaProxy.update("/lost/h", "v1", v0.modRevision));
      try {
        await until(async () => (await direct.get("/lost/h"))?.value === "v1", "the write to land in etcd");
        await direct.compact(await direct.currentRevision());
      } finally {
        proxy!.cut();
      }
      const r = await result;
      assert.ok("err" in r && r.err instanceof WriteOutcomeUnknownError, show(r));
      assert.equal((await direct.get("/lost/h"))?.value, "v1");
    });
  });
}
