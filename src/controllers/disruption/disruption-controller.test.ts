import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test, type TestContext } from "node:test";
import type { Pod, ReplicationController } from "../../api/types/core-v1.ts";
import type { Deployment, ReplicaSet, StatefulSet } from "../../api/types/apps-v1.ts";
import type { PodDisruptionBudget } from "../../api/types/policy-v1.ts";
import { FakeClient } from "../../client/fake-client.ts";
import { InformerFactory } from "../../client/informer.ts";
import { DisruptionReconciler } from "./disruption-controller.ts";
import { expectedCounts, pruneDisrupted, scaledValue } from "./disruption-budget.ts";

const NOW = Date.parse("2026-01-01T00:10:00Z");

function pod(name: string, ready: boolean, owner?: { kind: string; name: string; uid: string }): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "default",
      labels: { app: "web" },
      ...(owner
        ? { ownerReferences: [{ apiVersion: "apps/v1", ...owner, controller: true }] }
        : {}),
    },
    spec: { containers: [{ name: "c", image: "x" }] },
    status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

function pdb(spec: PodDisruptionBudget["spec"], status?: PodDisruptionBudget["status"]): PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "web", namespace: "default", generation: 1 },
    spec: { selector: { matchLabels: { app: "web" } }, ...spec },
    ...(status ? { status } : {}),
  };
}

const rs: ReplicaSet = {
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name: "web-1", namespace: "default", uid: "rs-uid" },
  spec: { replicas: 4, selector: { matchLabels: { app: "web" } } },
};

async function setup(t: TestContext, fake: FakeClient) {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const informers = new InformerFactory(fake);
  const r = new DisruptionReconciler({
    client: fake,
    pdbs: informers.informer<PodDisruptionBudget>("policy", "poddisruptionbudgets"),
    pods: informers.informer<Pod>("", "pods"),
    replicaSets: informers.informer<ReplicaSet>("apps", "replicasets"),
    deployments: informers.informer<Deployment>("apps", "deployments"),
    statefulSets: informers.informer<StatefulSet>("apps", "statefulsets"),
    replicationControllers: informers.informer<ReplicationController>("", "replicationcontrollers"),
    now: () => NOW,
  });
  const queued: string[] = [];
  r.register(
    (k) => queued.push(`${k.namespace}/${k.name}`),
    () => {},
  );
  informers.start(ac.signal);
  await informers.waitForSync();
  return { r, queued };
}

test("scaledValue rounds percentages up", () => {
  assert.equal(scaledValue("50%", 3), 2);
  assert.equal(scaledValue(2, 10), 2);
  assert.equal(scaledValue("3", 10), 3);
});

test("expectedCounts: int minAvailable counts pods, maxUnavailable uses the scale", () => {
  const pods = [pod("a", true), pod("b", true)];
  assert.deepEqual(expectedCounts(pdb({ minAvailable: 1 }), pods, () => 9), { expectedCount: 2, desiredHealthy: 1 });
  assert.deepEqual(expectedCounts(pdb({ maxUnavailable: "25%" }), pods, () => 4), {
    expectedCount: 4,
    desiredHealthy: 3,
  });
  assert.deepEqual(expectedCounts(pdb({ minAvailable: "50%" }), pods, () => 5), { expectedCount: 5, desiredHealthy: 3 });
});

test("pruneDisrupted drops expired, deleting and missing pods", () => {
  const p = pdb(
    { minAvailable: 1 },
    {
      currentHealthy: 0,
      desiredHealthy: 0,
      expectedPods: 0,
      disruptionsAllowed: 0,
      disruptedPods: { a: "2026-01-01T00:09:30Z", b: "2026-01-01T00:00:00Z", gone: "2026-01-01T00:09:59Z" },
    },
  );
  const { disrupted, recheckMs } = pruneDisrupted(p, [pod("a", true), pod("b", true)], NOW);
  assert.deepEqual(disrupted, { a: "2026-01-01T00:09:30Z" });
  assert.equal(recheckMs, Date.parse("2026-01-01T00:11:30Z"));
});

test("reconcile writes status with disruptionsAllowed and the DisruptionAllowed condition", async (t) => {
  const owner = { kind: "ReplicaSet", name: "web-1", uid: "rs-uid" };
  const fake = new FakeClient([
    rs,
    pod("a", true, owner),
    pod("b", true, owner),
    pod("c", false, owner),
    pdb({ maxUnavailable: 1 }),
  ]);
  const { r, queued } = await setup(t, fake);
  assert.ok(queued.includes("default/web"));
  await r.reconcile({ namespace: "default", name: "web" });
  const got = await fake.resource<PodDisruptionBudget>("policy", "poddisruptionbudgets").get("default", "web");
  assert.equal(got.status?.expectedPods, 4);
  assert.equal(got.status?.desiredHealthy, 3);
  assert.equal(got.status?.currentHealthy, 2);
  assert.equal(got.status?.disruptionsAllowed, 0);
  assert.equal(got.status?.observedGeneration, 1);
  const cond = got.status?.conditions?.find((c) => c.type === "DisruptionAllowed");
  assert.equal(cond?.status, "False");
  assert.equal(cond?.reason, "InsufficientPods");
});

test("reconcile allows disruptions when healthy pods exceed minAvailable", async (t) => {
  const fake = new FakeClient([pod("a", true), pod("b", true), pdb({ minAvailable: 1 })]);
  const { r } = await setup(t, fake);
  await r.reconcile({ namespace: "default", name: "web" });
  const got = await fake.resource<PodDisruptionBudget>("policy", "poddisruptionbudgets").get("default", "web");
  assert.equal(got.status?.disruptionsAllowed, 1);
  assert.equal(got.status?.conditions?.[0]?.reason, "SufficientPods");
});

test("reconcile fails safe (SyncFailed) when a percentage needs the scale of a missing controller", async (t) => {
  const fake = new FakeClient([
    pod("a", true, { kind: "ReplicaSet", name: "missing", uid: "x" }),
    pdb({ minAvailable: "50%" }),
  ]);
  const { r } = await setup(t, fake);
  await r.reconcile({ namespace: "default", name: "web" });
  const got = await fake.resource<PodDisruptionBudget>("policy", "poddisruptionbudgets").get("default", "web");
  assert.equal(got.status?.disruptionsAllowed, 0);
  assert.equal(got.status?.conditions?.[0]?.reason, "SyncFailed");
});
