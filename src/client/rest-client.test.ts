import assert from "node:assert/strict";
import { test } from "node:test";
import { isConflict, isNotFound } from "../api/status-error.ts";
import type { KubeObject } from "../api/object.ts";
import { startTestApiServer } from "../testing/api-server.ts";
import { EventRecorder } from "./events.ts";
import { Informer } from "./informer.ts";

const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default", labels: { app: "t" } },
  data,
});

test("RestClient against a real API server: CRUD, patch, conflicts, subresources, informer, events", async (t) => {
  const api = await startTestApiServer();
  const ac = new AbortController();
  t.after(async () => {
    ac.abort();
    await api.stop();
  });
  const cms = api.client.resource("", "configmaps");
  const created = await cms.create(cm("one", { a: "1" }));
  assert.ok(created.metadata.uid);
  assert.equal((await cms.get("default", "one")).data !== undefined, true);

  const inf = new Informer(cms, { namespace: "default", labelSelector: "app=t" });
  const updates: string[] = [];
  inf.addHandlers({ update: (_o, n) => updates.push(JSON.stringify(n.data)) });
  inf.start(ac.signal);
  await inf.synced;
  assert.equal(inf.get("default", "one")?.metadata.uid, created.metadata.uid);

  const patched = await cms.patch("default", "one", "merge", { data: { b: "2" } });
  assert.deepEqual(patched.data, { a: "1", b: "2" });
  const stale = { ...created, data: { c: "3" } };
  await assert.rejects(cms.update(stale), (e: unknown) => isConflict(e));
  await assert.rejects(cms.get("default", "nope"), (e: unknown) => isNotFound(e));

  for (let i = 0; i < 100 && updates.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(updates, ['{"a":"1","b":"2"}']);

  const list = await cms.list("default", { labelSelector: "app=t" });
  assert.deepEqual(
    list.items.map((o) => o.metadata.name),
    ["one"],
  );
  assert.ok(Number(list.resourceVersion) > 0);

  // A pod bound through the binding subresource, and its status written through status.
  const pods = api.client.resource("", "pods");
  await pods.create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default" },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  });
  await pods.createSubresource("default", "p", "binding", {
    apiVersion: "v1",
    kind: "Binding",
    metadata: { name: "p", namespace: "default" },
    target: { apiVersion: "v1", kind: "Node", name: "node-1" },
  });
  const bound = await pods.get("default", "p");
  assert.equal((bound.spec as { nodeName?: string }).nodeName, "node-1");
  const st = await pods.patch(
    "default",
    "p",
    "strategic",
    { status: { phase: "Running" } },
    { subresource: "status" },
  );
  assert.equal((st.status as { phase?: string }).phase, "Running");

  const rec = new EventRecorder(api.client, { component: "test-component" });
  rec.event(bound, "Normal", "Tested", "twice");
  await new Promise((r) => setTimeout(r, 100));
  rec.event(bound, "Normal", "Tested", "twice");
  let ev: KubeObject | undefined;
  for (let i = 0; i < 100; i++) {
    const evs = await api.client.resource("", "events").list("default");
    ev = evs.items.find((e) => e.reason === "Tested");
    if (ev && ev.count === 2) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(ev?.count, 2);
  assert.equal((ev?.involvedObject as { name?: string }).name, "p");
  assert.equal((ev?.source as { component?: string }).component, "test-component");

  // Upstream answers a delete of a non-graceful kind with a Success Status, not the object.
  assert.equal(await cms.delete("default", "one"), undefined);
  await assert.rejects(cms.get("default", "one"), (e: unknown) => isNotFound(e));
  for (let i = 0; i < 100 && inf.get("default", "one"); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(inf.get("default", "one"), undefined);
});
