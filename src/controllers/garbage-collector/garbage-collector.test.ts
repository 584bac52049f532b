import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test, type TestContext } from "node:test";
import type { KubeObject } from "../../api/object.ts";
import { FakeClient } from "../../client/fake-client.ts";
import { InformerFactory } from "../../client/informer.ts";
import { newGarbageCollector } from "./index.ts";

/** Waits (without asserting on time) until `pred` holds, or fails after many turns. */
async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function owned(o: KubeObject, block = true) {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: o.metadata.name!,
    uid: o.metadata.uid!,
    controller: true,
    blockOwnerDeletion: block,
  };
}

/** A deployment → replica set → two pods chain in the fake. */
function chain(fake: FakeClient) {
  const deploy = fake.seed({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default" },
  });
  const rs = fake.seed({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "web-abc", namespace: "default", ownerReferences: [owned(deploy)] },
  });
  const pods = ["web-abc-1", "web-abc-2"].map((name) =>
    fake.seed({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default", ownerReferences: [owned(rs)] },
    }),
  );
  return { deploy, rs, pods };
}

async function startGC(t: TestContext, fake: FakeClient) {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const informers = new InformerFactory(fake);
  const { controller, collector } = newGarbageCollector(fake, informers, 4);
  informers.start(ac.signal);
  await informers.waitForSync();
  controller.start(ac.signal);
  return { controller, collector };
}

const names = (fake: FakeClient, group: string, resource: string) =>
  fake
    .objects(group, resource)
    .map((o) => o.metadata.name)
    .sort();

test("background deletion of a deployment removes its replica set and pods", async (t) => {
  const fake = new FakeClient();
  chain(fake);
  await startGC(t, fake);
  await fake.resource("apps", "deployments").delete("default", "web", { propagationPolicy: "Background" });
  await until(() => fake.objects("", "pods").length === 0, "pods deleted");
  assert.deepEqual(names(fake, "apps", "replicasets"), []);
  assert.deepEqual(names(fake, "apps", "deployments"), []);
});

test("orphan deletion keeps the replica set and pods and drops the ownerReferences", async (t) => {
  const fake = new FakeClient();
  const { rs } = chain(fake);
  await startGC(t, fake);
  await fake.resource("apps", "deployments").delete("default", "web", { propagationPolicy: "Orphan" });
  await until(() => fake.objects("apps", "deployments").length === 0, "deployment gone");
  const rss = fake.objects("apps", "replicasets");
  assert.equal(rss.length, 1);
  assert.equal(rss[0]!.metadata.uid, rs.metadata.uid);
  assert.deepEqual(rss[0]!.metadata.ownerReferences ?? [], []);
  assert.equal(fake.objects("", "pods").length, 2);
});

test("foreground deletion removes dependents first, then the owner", async (t) => {
  const fake = new FakeClient();
  chain(fake);
  await startGC(t, fake);
  await fake.resource("apps", "deployments").delete("default", "web", { propagationPolicy: "Foreground" });
  await until(() => fake.objects("apps", "deployments").length === 0, "deployment gone");
  assert.equal(fake.objects("", "pods").length, 0);
  assert.equal(fake.objects("apps", "replicasets").length, 0);
  // The owner went last: its final write (finalizer removal) follows every dependent's deletion.
  const writes = fake.actions.map((a) => `${a.verb} ${a.resource}/${a.name}`);
  const lastDeploy = writes.lastIndexOf("patch deployments/web");
  assert.ok(lastDeploy > writes.lastIndexOf("delete pods/web-abc-1"));
  assert.ok(lastDeploy > writes.lastIndexOf("delete pods/web-abc-2"));
  // The replica set was itself deleted in foreground (it has dependents).
  assert.ok(fake.actions.some((a) => a.verb === "patch" && a.resource === "replicasets"));
});

test("a dependent with another live owner only loses the reference to the gone one", async (t) => {
  const fake = new FakeClient();
  const a = fake.seed({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "default" } });
  const b = fake.seed({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b", namespace: "default" } });
  fake.seed({
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: "s",
      namespace: "default",
      ownerReferences: [owned(a, false), { ...owned(b, false), controller: false }],
    },
  });
  await startGC(t, fake);
  await fake.resource("", "configmaps").delete("default", "a");
  await until(
    () => (fake.objects("", "secrets")[0]?.metadata.ownerReferences ?? []).length === 1,
    "ref dropped",
  );
  const s = fake.objects("", "secrets")[0]!;
  assert.equal(s.metadata.ownerReferences![0]!.uid, b.metadata.uid);
});

test("objects whose owner never existed, or was replaced by a namesake, are collected", async (t) => {
  const fake = new FakeClient();
  fake.seed({ apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "rs", namespace: "default" } });
  fake.seed({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "stale-uid",
      namespace: "default",
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "not-the-live-uid" }],
    },
  });
  fake.seed({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "never",
      namespace: "default",
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "ghost", uid: "ghost-uid" }],
    },
  });
  fake.seed({ apiVersion: "v1", kind: "Pod", metadata: { name: "unowned", namespace: "default" } });
  await startGC(t, fake);
  await until(() => fake.objects("", "pods").length === 1, "orphans collected");
  assert.deepEqual(names(fake, "", "pods"), ["unowned"]);
  assert.equal(fake.objects("apps", "replicasets").length, 1);
});

test("a live owner found only through a GET keeps its dependents", async (t) => {
  const fake = new FakeClient();
  const rs = fake.seed({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "rs", namespace: "default" },
  });
  fake.seed({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default", ownerReferences: [owned(rs)] },
  });
  const { controller } = await startGC(t, fake);
  await controller.idle();
  assert.equal(fake.objects("", "pods").length, 1);
  assert.equal(fake.actions.length, 0);
});
