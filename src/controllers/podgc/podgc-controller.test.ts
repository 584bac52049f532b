import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test, type TestContext } from "node:test";
import type { Node, Pod } from "../../api/types/core-v1.ts";
import { FakeClient } from "../../client/fake-client.ts";
import { InformerFactory } from "../../client/informer.ts";
import { PodGCReconciler } from "./podgc-controller.ts";

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

function pod(name: string, phase: string, created: string, nodeName?: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", creationTimestamp: created },
    spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: "c", image: "x" }] },
    status: { phase },
  };
}

async function setup(t: TestContext, fake: FakeClient, threshold: number) {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const informers = new InformerFactory(fake);
  const r = new PodGCReconciler({
    client: fake,
    pods: informers.informer<Pod>("", "pods"),
    nodes: informers.informer<Node>("", "nodes"),
    terminatedPodThreshold: threshold,
  });
  const queued: string[] = [];
  const delayed: [string, number][] = [];
  r.register(
    (k) => queued.push(k),
    (k, ms) => delayed.push([k, ms]),
  );
  informers.start(ac.signal);
  await informers.waitForSync();
  return { r, queued, delayed };
}

const podNames = (fake: FakeClient) =>
  fake
    .objects("", "pods")
    .map((p) => p.metadata.name)
    .sort();

test("terminated pods above the threshold are deleted oldest first", async (t) => {
  const fake = new FakeClient([
    { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } },
    pod("old", "Succeeded", "2026-01-01T00:00:00Z", "n1"),
    pod("mid", "Failed", "2026-01-01T00:01:00Z", "n1"),
    pod("new", "Succeeded", "2026-01-01T00:02:00Z", "n1"),
    pod("running", "Running", "2025-01-01T00:00:00Z", "n1"),
  ]);
  const { r, queued } = await setup(t, fake, 1);
  assert.ok(queued.includes("sweep"));
  await r.reconcile({ namespace: "", name: "sweep" });
  assert.deepEqual(podNames(fake), ["new", "running"]);
});

test("pods of a deleted node are marked Failed and deleted after the quarantine, once the node is confirmed gone", async (t) => {
  const fake = new FakeClient([
    { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } },
    { apiVersion: "v1", kind: "Node", metadata: { name: "n2" } },
    pod("on-n1", "Running", "2026-01-01T00:00:00Z", "n1"),
    pod("on-n2", "Running", "2026-01-01T00:00:00Z", "n2"),
  ]);
  const { r, delayed } = await setup(t, fake, 100);
  // (Pods listed before their nodes are queued for the check too: the quarantine covers that.)
  await settle();
  delayed.length = 0;
  await fake.resource("", "nodes").delete(undefined, "n1");
  await settle();
  assert.deepEqual(delayed, [["node/n1", 40_000]]);
  // A node still present is left alone (the cache may lag; a live GET decides).
  await r.reconcile({ namespace: "node", name: "n2" });
  await r.reconcile({ namespace: "node", name: "n1" });
  assert.deepEqual(podNames(fake), ["on-n2"]);
  const patch = fake.actions.find((a) => a.verb === "patch" && a.name === "on-n1")!;
  assert.equal(patch.subresource, "status");
  const status = (patch.object as Pod).status!;
  assert.equal(status.phase, "Failed");
  assert.equal(status.conditions?.[0]?.reason, "DeletionByPodGC");
  assert.equal(status.conditions?.[0]?.message, "PodGC: node no longer exists");
});

test("pods bound to a node that never existed are queued for the quarantine check", async (t) => {
  const fake = new FakeClient([pod("lost", "Running", "2026-01-01T00:00:00Z", "ghost")]);
  const { r, delayed } = await setup(t, fake, 100);
  assert.deepEqual(delayed, [["node/ghost", 40_000]]);
  await settle();
  await r.reconcile({ namespace: "node", name: "ghost" });
  assert.deepEqual(podNames(fake), []);
});

test("terminating pods on an out-of-service, not-ready node are force-deleted", async (t) => {
  const terminating = pod("stuck", "Running", "2026-01-01T00:00:00Z", "n1");
  terminating.metadata.deletionTimestamp = "2026-01-01T00:05:00Z";
  terminating.metadata.finalizers = [];
  const fake = new FakeClient([
    {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "n1" },
      spec: { taints: [{ key: "node.kubernetes.io/out-of-service", effect: "NoExecute" }] },
      status: { conditions: [{ type: "Ready", status: "False" }] },
    },
    terminating,
    pod("fine", "Running", "2026-01-01T00:00:00Z", "n1"),
  ]);
  const { r } = await setup(t, fake, 100);
  await r.reconcile({ namespace: "node", name: "n1" });
  assert.deepEqual(podNames(fake), ["fine"]);
});
