import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject } from "../../api/object.ts";
import type { ReplicaSet } from "../../api/types/apps-v1.ts";
import type { Pod, ReplicationController } from "../../api/types/core-v1.ts";
import { forbidden } from "../../api/status-error.ts";
import { FakeClient } from "../../client/fake-client.ts";
import { InformerFactory } from "../../client/informer.ts";
import type { Client, ResourceClient } from "../../client/types.ts";
import {
  replicaSetAdapter,
  replicationControllerAdapter,
  type ReplicaOwnerAdapter,
} from "./replicaset-adapters.ts";
import { ReplicaReconciler } from "./replicaset-reconciler.ts";
import { ago, makePod, RecordingEvents, RecordingQueue, template, until } from "./replicaset-testing.ts";

const NOW = Date.parse("2030-01-01T00:00:00Z");

function rs(name: string, replicas: number, extra: Partial<ReplicaSet["spec"]> = {}): ReplicaSet {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name, namespace: "default", uid: `${name}-uid`, generation: 2 },
    spec: {
      replicas,
      selector: { matchLabels: { app: "web" } },
      template: template({ app: "web" }),
      ...extra,
    },
  };
}

/** A client whose pod creates fail when `fail(n)` (n = 1-based call number) returns an error. */
function failingCreates(
  inner: FakeClient,
  fail: (n: number) => Error | undefined,
): { client: Client; calls: () => number } {
  let n = 0;
  const client: Client = {
    userAgent: inner.userAgent,
    resource<T extends KubeObject>(group: string, plural: string): ResourceClient<T> {
      const rc = inner.resource<T>(group, plural);
      if (group !== "" || plural !== "pods") return rc;
      const wrapped = Object.create(rc) as ResourceClient<T>;
      wrapped.create = async (obj: T) => {
        const err = fail(++n);
        if (err) throw err;
        return rc.create(obj);
      };
      return wrapped;
    },
  };
  return { client, calls: () => n };
}

async function setup<T extends KubeObject>(
  t: { after(fn: () => void): void },
  objects: KubeObject[],
  adapter: ReplicaOwnerAdapter<T> = replicaSetAdapter as unknown as ReplicaOwnerAdapter<T>,
  wrap?: (c: FakeClient) => Client,
) {
  const fake = new FakeClient(objects);
  const client = wrap ? wrap(fake) : fake;
  const factory = new InformerFactory(fake);
  const ac = new AbortController();
  t.after(() => ac.abort());
  const events = new RecordingEvents();
  const queue = new RecordingQueue();
  const owners = factory.informer<T>(adapter.group, adapter.plural);
  const pods = factory.informer<Pod>("", "pods");
  const r = new ReplicaReconciler<T>({ client, adapter, owners, pods, events, now: () => NOW });
  r.register(queue);
  factory.start(ac.signal);
  await factory.waitForSync();
  const podCount = (): number => fake.objects<Pod>("", "pods").length;
  const synced = (): Promise<void> => until(() => pods.size === podCount(), 3000, "pod informer");
  return { fake, r, events, queue, pods, owners, synced, podCount };
}

test("creates missing pods from the template with a controller reference, then reports status", async (t) => {
  const { fake, r, events, synced, owners } = await setup(t, [rs("web", 3)]);
  await r.reconcile({ namespace: "default", name: "web" });
  const pods = fake.objects<Pod>("", "pods");
  assert.equal(pods.length, 3);
  for (const p of pods) {
    assert.match(p.metadata.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(p.metadata.labels, { app: "web" });
    assert.deepEqual(p.metadata.ownerReferences, [
      {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        name: "web",
        uid: "web-uid",
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.equal(p.spec?.containers[0]?.image, "nginx:1");
  }
  assert.deepEqual(events.reasons(), ["SuccessfulCreate", "SuccessfulCreate", "SuccessfulCreate"]);
  assert.match(events.events[0]!.message, /^Created pod: web-/);
  // Status of this round counts the pods seen before creating (none), with observedGeneration.
  let status = fake.objects<ReplicaSet>("apps", "replicasets")[0]!.status;
  assert.equal(status?.replicas, 0);
  assert.equal(status?.observedGeneration, 2);
  await synced();
  await until(
    () => (owners.get("default", "web") as ReplicaSet | undefined)?.status?.observedGeneration === 2,
  );
  await r.reconcile({ namespace: "default", name: "web" });
  status = fake.objects<ReplicaSet>("apps", "replicasets")[0]!.status;
  assert.equal(status?.replicas, 3);
  assert.equal(status?.fullyLabeledReplicas, 3);
  assert.equal(status?.readyReplicas, 0);
  assert.equal(fake.objects("", "pods").length, 3, "no extra pods");
});

test("expectations: a second reconcile before the cache has the new pods creates nothing", async (t) => {
  const { fake, r } = await setup(t, [rs("web", 4)]);
  await Promise.all([r.reconcile({ namespace: "default", name: "web" })]);
  await r.reconcile({ namespace: "default", name: "web" });
  assert.equal(fake.objects("", "pods").length, 4);
  assert.equal(fake.actions.filter((a) => a.verb === "create" && a.resource === "pods").length, 4);
});

test("replaces a deleted pod", async (t) => {
  const { fake, r, synced } = await setup(t, [rs("web", 2)]);
  await r.reconcile({ namespace: "default", name: "web" });
  await synced();
  const victim = fake.objects<Pod>("", "pods")[0]!;
  await fake.resource("", "pods").delete("default", victim.metadata.name!);
  await synced();
  await r.reconcile({ namespace: "default", name: "web" });
  const names = fake.objects<Pod>("", "pods").map((p) => p.metadata.name);
  assert.equal(names.length, 2);
  assert.ok(!names.includes(victim.metadata.name));
});

test("slow start: a failing template costs one batch, not one request per replica", async (t) => {
  const quota = forbidden(
    { group: "", resource: "pods" },
    "web-x",
    "exceeded quota: q, requested: pods=1, used: pods=0, limited: pods=0",
  );
  let calls = () => 0;
  const { fake, r, events } = await setup(t, [rs("web", 10)], undefined, (f) => {
    const w = failingCreates(f, () => quota);
    calls = w.calls;
    return w.client;
  });
  await assert.rejects(r.reconcile({ namespace: "default", name: "web" }), /exceeded quota/);
  assert.equal(calls(), 1, "only the first batch of one was tried");
  assert.deepEqual(events.reasons(), ["FailedCreate"]);
  assert.match(events.events[0]!.message, /^Error creating: pods "web-x" is forbidden: exceeded quota/);
  const cond = fake.objects<ReplicaSet>("apps", "replicasets")[0]!.status?.conditions?.[0];
  assert.equal(cond?.type, "ReplicaFailure");
  assert.equal(cond?.status, "True");
  assert.equal(cond?.reason, "FailedCreate");
  assert.match(cond?.message ?? "", /exceeded quota/);
  // Expectations were released for the creations never made: the next round tries again.
  assert.deepEqual(r.expectations.pending("default/web"), { add: 0, del: 0 });
});

test("slow start: batches of 1, 2, 4 then stop at the failing batch", async (t) => {
  let calls = () => 0;
  const { fake, r } = await setup(t, [rs("web", 10)], undefined, (f) => {
    const w = failingCreates(f, (n) => (n === 4 ? new Error("boom") : undefined));
    calls = w.calls;
    return w.client;
  });
  await assert.rejects(r.reconcile({ namespace: "default", name: "web" }), /boom/);
  assert.equal(calls(), 7, "1 + 2 + 4 attempts");
  assert.equal(fake.objects("", "pods").length, 6);
});

test("the ReplicaFailure condition goes away once pods can be managed again", async (t) => {
  const failing = rs("web", 1);
  failing.status = {
    replicas: 1,
    conditions: [{ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: "x" }],
  };
  const { fake, r } = await setup(t, [failing, makePod("p1", { owner: failing })]);
  await r.reconcile({ namespace: "default", name: "web" });
  assert.equal(fake.objects<ReplicaSet>("apps", "replicasets")[0]!.status?.conditions, undefined);
});

test("adopts matching orphans, ignores others' pods and non-matching orphans", async (t) => {
  const owner = rs("web", 2);
  const other = { ...rs("other", 1), metadata: { name: "other", namespace: "default", uid: "other-uid" } };
  const { fake, r } = await setup(t, [
    owner,
    other,
    makePod("orphan", { labels: { app: "web" } }),
    makePod("stranger", { labels: { app: "db" } }),
    makePod("taken", { labels: { app: "web" }, owner: other }),
  ]);
  await r.reconcile({ namespace: "default", name: "web" });
  const byName = new Map(fake.objects<Pod>("", "pods").map((p) => [p.metadata.name, p]));
  assert.equal(byName.get("orphan")?.metadata.ownerReferences?.[0]?.uid, "web-uid");
  assert.equal(byName.get("orphan")?.metadata.ownerReferences?.[0]?.controller, true);
  assert.equal(byName.get("stranger")?.metadata.ownerReferences, undefined);
  assert.equal(byName.get("taken")?.metadata.ownerReferences?.[0]?.uid, "other-uid");
  // The adopted orphan counts: one more pod created for replicas 2.
  assert.equal(fake.objects("", "pods").length, 4);
});

test("releases owned pods whose labels stopped matching, and replaces them", async (t) => {
  const owner = rs("web", 1);
  const { fake, r } = await setup(t, [owner, makePod("moved", { labels: { app: "debug" }, owner })]);
  await r.reconcile({ namespace: "default", name: "web" });
  const pods = fake.objects<Pod>("", "pods");
  const moved = pods.find((p) => p.metadata.name === "moved");
  assert.deepEqual(moved?.metadata.ownerReferences ?? [], []);
  assert.equal(pods.length, 2, "a replacement was created");
});

test("scale down deletes the lowest-ranked pods", async (t) => {
  const owner = rs("web", 2);
  const { fake, r, events } = await setup(t, [
    owner,
    makePod("ready-old", { owner, node: "n1", readySince: ago(NOW, 3600), created: ago(NOW, 7200) }),
    makePod("ready-new", { owner, node: "n2", readySince: ago(NOW, 10), created: ago(NOW, 20) }),
    makePod("unassigned", { owner, phase: "Pending" }),
    makePod("not-ready", { owner, node: "n3", readySince: false }),
  ]);
  await r.reconcile({ namespace: "default", name: "web" });
  const left = fake
    .objects<Pod>("", "pods")
    .map((p) => p.metadata.name)
    .sort();
  assert.deepEqual(left, ["ready-new", "ready-old"]);
  assert.deepEqual(events.reasons(), ["SuccessfulDelete", "SuccessfulDelete"]);
  assert.deepEqual(events.events.map((e) => e.message).sort(), [
    "Deleted pod: not-ready",
    "Deleted pod: unassigned",
  ]);
});

test("status: ready and available with minReadySeconds, requeue for the remaining time", async (t) => {
  const owner = rs("web", 3, { minReadySeconds: 10 });
  const { fake, r } = await setup(t, [
    owner,
    makePod("a", { owner, node: "n", readySince: ago(NOW, 60) }),
    makePod("b", { owner, node: "n", readySince: ago(NOW, 4) }),
    makePod("c", { owner, node: "n", readySince: false, labels: { app: "web", extra: "x" } }),
  ]);
  const res = await r.reconcile({ namespace: "default", name: "web" });
  const status = fake.objects<ReplicaSet>("apps", "replicasets")[0]!.status!;
  assert.equal(status.replicas, 3);
  assert.equal(status.readyReplicas, 2);
  assert.equal(status.availableReplicas, 1);
  assert.equal(status.fullyLabeledReplicas, 3);
  assert.ok(res && res.requeueAfterMs !== undefined);
  assert.ok(res.requeueAfterMs > 5000 && res.requeueAfterMs <= 6100, `requeue ${res.requeueAfterMs}`);
});

test("no status write when nothing changed", async (t) => {
  const owner = rs("web", 1);
  owner.status = {
    replicas: 1,
    fullyLabeledReplicas: 1,
    readyReplicas: 1,
    availableReplicas: 1,
    observedGeneration: 2,
  };
  const { fake, r } = await setup(t, [owner, makePod("a", { owner, readySince: ago(NOW, 60) })]);
  await r.reconcile({ namespace: "default", name: "web" });
  assert.equal(fake.actions.length, 0);
});

test("pod events enqueue the owning ReplicaSet; orphans enqueue matching ones", async (t) => {
  const owner = rs("web", 1);
  const { fake, queue } = await setup(t, [owner]);
  queue.keys.length = 0;
  await fake.resource<Pod>("", "pods").create(makePod("p", { owner }));
  await fake.resource<Pod>("", "pods").create(makePod("o", { labels: { app: "web" } }));
  await fake.resource<Pod>("", "pods").create(makePod("x", { labels: { app: "nope" } }));
  await until(() => queue.keys.length >= 2);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(queue.keys, ["default/web", "default/web"]);
});

test("ReplicationController: the same reconciler with a map selector and v1 owner references", async (t) => {
  const rc: ReplicationController = {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name: "legacy", namespace: "default", uid: "rc-uid", generation: 1 },
    spec: { replicas: 2, selector: { app: "legacy" }, template: template({ app: "legacy" }) },
  };
  const { fake, r, synced } = await setup<ReplicationController>(
    t,
    [rc, makePod("orphan", { labels: { app: "legacy" } })],
    replicationControllerAdapter,
  );
  await r.reconcile({ namespace: "default", name: "legacy" });
  const pods = fake.objects<Pod>("", "pods");
  assert.equal(pods.length, 2);
  for (const p of pods) {
    assert.deepEqual(p.metadata.ownerReferences?.[0], {
      apiVersion: "v1",
      kind: "ReplicationController",
      name: "legacy",
      uid: "rc-uid",
      controller: true,
      blockOwnerDeletion: true,
    });
  }
  await synced();
  await r.reconcile({ namespace: "default", name: "legacy" });
  const status = fake.objects<ReplicationController>("", "replicationcontrollers")[0]!.status;
  assert.equal(status?.replicas, 2);
  assert.equal(status?.observedGeneration, 1);
});

test("a deleted owner leaves its pods alone and forgets its expectations", async (t) => {
  const { fake, r } = await setup(t, []);
  await r.reconcile({ namespace: "default", name: "gone" });
  assert.equal(fake.actions.length, 0);
  assert.equal(r.expectations.pending("default/gone"), undefined);
});
