import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../api/object.ts";
import { FakeClient } from "./fake-client.ts";
import { Informer, InformerFactory } from "./informer.ts";

const pod = (name: string, ns = "default", labels: Record<string, string> = {}, node = ""): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns, labels },
  spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), "condition not reached");
}

test("informer lists, then follows creates, updates and deletes with handlers and indexes", async (t) => {
  const fake = new FakeClient([pod("a", "default", {}, "n1"), pod("b", "other", {}, "n2")]);
  const ac = new AbortController();
  t.after(() => ac.abort());
  const inf = new Informer(fake.resource("", "pods"));
  inf.addIndex("node", (o) => [(o.spec as { nodeName: string }).nodeName]);
  const seen: string[] = [];
  inf.addHandlers({
    add: (o) => seen.push(`add ${o.metadata.name}`),
    update: (_old, o) => seen.push(`update ${o.metadata.name}`),
    delete: (o) => seen.push(`delete ${o.metadata.name}`),
  });
  inf.start(ac.signal);
  await inf.synced;
  assert.deepEqual(
    inf
      .list()
      .map((o) => o.metadata.name)
      .sort(),
    ["a", "b"],
  );
  assert.deepEqual(
    inf.list("other").map((o) => o.metadata.name),
    ["b"],
  );
  assert.deepEqual(
    inf.byIndex("node", "n1").map((o) => o.metadata.name),
    ["a"],
  );

  const pods = fake.resource("", "pods");
  await pods.create(pod("c", "default", {}, "n1"));
  await pods.patch("default", "a", "merge", { spec: { nodeName: "n3" } });
  await pods.delete("other", "b");
  await until(() => seen.length === 5);
  assert.deepEqual(seen.slice(2), ["add c", "update a", "delete b"]);
  assert.deepEqual(
    inf.byIndex("node", "n1").map((o) => o.metadata.name),
    ["c"],
  );
  assert.deepEqual(
    inf.byIndex("node", "n3").map((o) => o.metadata.name),
    ["a"],
  );
  assert.equal(inf.get("other", "b"), undefined);
  assert.equal(inf.size, 2);
});

test("informer honours label and field selectors; late handlers get the cache as adds", async (t) => {
  const fake = new FakeClient([pod("a", "default", { app: "x" }), pod("b", "default", { app: "y" })]);
  const ac = new AbortController();
  t.after(() => ac.abort());
  const factory = new InformerFactory(fake);
  const inf = factory.informer("", "pods", { labelSelector: "app=x" });
  assert.equal(
    factory.informer("", "pods", { labelSelector: "app=x" }),
    inf,
    "shared per resource and options",
  );
  factory.start(ac.signal);
  await factory.waitForSync();
  const adds: string[] = [];
  inf.addHandlers({ add: (o) => adds.push(o.metadata.name!) });
  assert.deepEqual(adds, ["a"]);
  await fake.resource("", "pods").create(pod("c", "default", { app: "x" }));
  await fake.resource("", "pods").create(pod("d", "default", { app: "z" }));
  await until(() => adds.length === 2);
  assert.deepEqual(adds, ["a", "c"]);
});

test("informer relists after a 410 and reports what changed meanwhile", async (t) => {
  const fake = new FakeClient([pod("a"), pod("b")]);
  const real = fake.resource("", "pods");
  let failNext = false;
  // A resource client whose next watch answers 410 at once, as after a compaction.
  const flaky = Object.create(real) as typeof real;
  flaky.watch = (ns, opts, signal) => {
    if (failNext) {
      failNext = false;
      return (async function* () {
        yield { type: "ERROR" as const, object: { kind: "Status", code: 410 } as unknown as KubeObject };
      })();
    }
    return real.watch(ns, opts, signal);
  };
  const ac = new AbortController();
  t.after(() => ac.abort());
  const inf = new Informer(flaky);
  const seen: string[] = [];
  inf.addHandlers({
    delete: (o) => seen.push(`delete ${o.metadata.name}`),
    add: (o) => seen.push(`add ${o.metadata.name}`),
  });
  failNext = true;
  inf.start(ac.signal);
  await inf.synced;
  await until(() => seen.length >= 2);
  await real.delete("default", "a");
  await until(() => seen.includes("delete a"));
  assert.deepEqual(
    inf.list().map((o) => o.metadata.name),
    ["b"],
  );
});
