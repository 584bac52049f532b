import assert from "node:assert/strict";
import { test } from "node:test";
import { Controller, requestOf, type Request } from "./controller.ts";

test("a key is queued once and never reconciled by two workers at once", async (t) => {
  const ac = new AbortController();
  t.after(() => ac.abort());
  const running = new Set<string>();
  let overlap = false;
  const calls: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const c = new Controller({
    name: "test",
    workers: 4,
    async reconcile(req: Request) {
      const key = `${req.namespace}/${req.name}`;
      if (running.has(key)) overlap = true;
      running.add(key);
      calls.push(key);
      if (calls.length === 1) await gate;
      running.delete(key);
    },
  });
  c.enqueue({ namespace: "ns", name: "a" });
  c.enqueue("ns/a");
  c.start(ac.signal);
  // While "a" is being reconciled, enqueue it twice more: it runs once more afterwards.
  c.enqueue("ns/a");
  c.enqueue("ns/a");
  c.enqueue("ns/b");
  release();
  await new Promise((r) => setTimeout(r, 20));
  await c.idle();
  assert.equal(overlap, false);
  assert.deepEqual(calls.sort(), ["ns/a", "ns/a", "ns/b"]);
  assert.equal(c.metrics.reconciles, 3);
});

test("a failing reconcile is retried with backoff until it succeeds", async (t) => {
  const ac = new AbortController();
  t.after(() => ac.abort());
  let attempts = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const c = new Controller({
    name: "retry",
    async reconcile() {
      attempts++;
      if (attempts < 4) throw new Error("not yet");
      done();
    },
    onError() {},
  });
  c.start(ac.signal);
  c.enqueue({ metadata: { name: "n1" }, apiVersion: "v1", kind: "Node" });
  await finished;
  assert.equal(attempts, 4);
  assert.equal(c.metrics.errors, 3);
});

test("requeueAfter calls the reconciler again; requestOf splits keys", async (t) => {
  const ac = new AbortController();
  t.after(() => ac.abort());
  let n = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const c = new Controller({
    name: "requeue",
    async reconcile() {
      n++;
      if (n === 2) done();
      return n === 1 ? { requeueAfterMs: 5 } : undefined;
    },
  });
  c.start(ac.signal);
  c.enqueue("x");
  await finished;
  assert.equal(n, 2);
  assert.deepEqual(requestOf("ns/name"), { namespace: "ns", name: "name" });
  assert.deepEqual(requestOf("node-1"), { namespace: "", name: "node-1" });
});
