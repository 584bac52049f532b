import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test, type TestContext } from "node:test";
import type { KubeObject } from "../../api/object.ts";
import type { Lease } from "../../api/types/coordination-v1.ts";
import type { Event as CoreEvent, Node, Pod, Toleration } from "../../api/types/core-v1.ts";
import { EventRecorder } from "../../client/events.ts";
import { FakeClient } from "../../client/fake-client.ts";
import type { Client, ResourceClient } from "../../client/types.ts";
import { InformerFactory } from "../../client/informer.ts";
import { requestOf } from "../../client/controller.ts";
import { DISRUPTION_KEY, NodeLifecycleReconciler } from "./node-lifecycle-controller.ts";
import { tolerationVerdict } from "./node-lifecycle-taints.ts";
import { TaintEvictionReconciler } from "./taint-eviction.ts";

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

const T0 = Date.parse("2026-01-01T00:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function node(name: string): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name },
    status: {
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "KubeletReady",
          lastHeartbeatTime: iso(T0),
          lastTransitionTime: iso(T0),
        },
        { type: "MemoryPressure", status: "False", lastHeartbeatTime: iso(T0), lastTransitionTime: iso(T0) },
      ],
    },
  };
}

function lease(name: string, renew: number): Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace: "kube-node-lease" },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date(renew).toISOString() },
  };
}

async function setup(t: TestContext, fake: FakeClient) {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const informers = new InformerFactory(fake);
  const clock = { ms: T0 };
  const nodes = informers.informer<Node>("", "nodes");
  const lifecycle = new NodeLifecycleReconciler({
    client: fake,
    nodes,
    leases: informers.informer<Lease>("coordination.k8s.io", "leases", { namespace: "kube-node-lease" }),
    gracePeriodMs: 40_000,
    now: () => clock.ms,
    log: () => {},
  });
  const eviction = new TaintEvictionReconciler({
    client: fake,
    nodes,
    pods: informers.informer<Pod>("", "pods"),
    now: () => clock.ms,
  });
  const queuedPods: string[] = [];
  eviction.register((k) => queuedPods.push(k));
  informers.start(ac.signal);
  await informers.waitForSync();
  return { lifecycle, eviction, clock, queuedPods };
}

const getNode = (fake: FakeClient, name: string) =>
  fake.objects<Node>("", "nodes").find((n) => n.metadata.name === name)!;

test("a node whose lease stops goes Unknown and unreachable, and recovers when the kubelet reports", async (t) => {
  // n2 stays healthy: with every node silent the cluster would be frozen (zone-disruption.test.ts).
  const fake = new FakeClient([node("n1"), lease("n1", T0), node("n2"), lease("n2", T0)]);
  const { lifecycle, clock } = await setup(t, fake);
  const leases = fake.resource<Lease>("coordination.k8s.io", "leases");

  // Healthy: re-examined exactly when the grace period would run out.
  assert.deepEqual(await lifecycle.reconcile({ namespace: "", name: "n1" }), { requeueAfterMs: 40_000 });
  clock.ms += 25_000;
  // The lease renews: the deadline moves.
  const l = await fake.resource<Lease>("coordination.k8s.io", "leases").get("kube-node-lease", "n1");
  l.spec!.renewTime = new Date(clock.ms).toISOString();
  await fake.resource<Lease>("coordination.k8s.io", "leases").update(l);
  await settle();
  assert.deepEqual(await lifecycle.reconcile({ namespace: "", name: "n1" }), { requeueAfterMs: 40_000 });
  assert.equal(fake.actions.filter((a) => a.resource === "nodes").length, 0);

  // Silent for 40 s (n2 renews).
  clock.ms += 40_000;
  const l2 = await leases.get("kube-node-lease", "n2");
  l2.spec!.renewTime = new Date(clock.ms).toISOString();
  await leases.update(l2);
  await settle();
  assert.deepEqual(await lifecycle.reconcile({ namespace: "", name: "n2" }), { requeueAfterMs: 40_000 });
  assert.equal(await lifecycle.reconcile({ namespace: "", name: "n1" }), undefined);
  await settle();
  // The node reconcile adds only the NoSchedule taint; the zone pass adds the NoExecute one.
  assert.deepEqual(
    getNode(fake, "n1").spec!.taints!.map((x) => `${x.key}:${x.effect}`),
    ["node.kubernetes.io/unreachable:NoSchedule"],
  );
  assert.equal(await lifecycle.reconcile(requestOf(DISRUPTION_KEY)), undefined);
  await settle();
  let n = getNode(fake, "n1");
  const ready = n.status!.conditions!.find((c) => c.type === "Ready")!;
  assert.equal(ready.status, "Unknown");
  assert.equal(ready.reason, "NodeStatusUnknown");
  assert.equal(ready.message, "Kubelet stopped posting node status.");
  assert.equal(ready.lastHeartbeatTime, iso(T0));
  assert.equal(n.status!.conditions!.find((c) => c.type === "MemoryPressure")!.status, "Unknown");
  const pressure = n.status!.conditions!.find((c) => c.type === "DiskPressure")!;
  assert.equal(pressure.reason, "NodeStatusNeverUpdated");
  assert.deepEqual(n.spec!.taints!.map((x) => `${x.key}:${x.effect}`).sort(), [
    "node.kubernetes.io/unreachable:NoExecute",
    "node.kubernetes.io/unreachable:NoSchedule",
  ]);
  assert.equal(n.spec!.taints![0]!.timeAdded, iso(clock.ms));

  // The kubelet comes back and posts Ready: the taints go.
  clock.ms += 5_000;
  n = structuredClone(n);
  n.status!.conditions = node("n1").status!.conditions!.map((c) => ({
    ...c,
    lastHeartbeatTime: iso(clock.ms),
  }));
  await fake.resource<Node>("", "nodes").updateStatus(n);
  await settle();
  assert.deepEqual(await lifecycle.reconcile({ namespace: "", name: "n1" }), { requeueAfterMs: 40_000 });
  await settle();
  assert.equal(getNode(fake, "n1").spec?.taints, undefined);
});

test("a node going silent has its pods marked not ready once, retrying a failed write", async (t) => {
  const readyPod = (name: string, nodeName: string, ready: "True" | "False"): Pod => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    spec: { nodeName, containers: [{ name: "c", image: "x" }] },
    status: {
      phase: "Running",
      conditions: [
        { type: "PodScheduled", status: "True", lastTransitionTime: iso(T0) },
        { type: "ContainersReady", status: ready, lastTransitionTime: iso(T0) },
        { type: "Ready", status: ready, lastTransitionTime: iso(T0) },
      ],
    },
  });
  const fake = new FakeClient([
    node("n1"),
    lease("n1", T0),
    node("n2"),
    lease("n2", T0),
    readyPod("a", "n1", "True"),
    readyPod("b", "n1", "True"),
    readyPod("idle", "n1", "False"),
    readyPod("elsewhere", "n2", "True"),
  ]);
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const informers = new InformerFactory(fake);
  const clock = { ms: T0 };
  const failOnce = new Set(["b"]);
  const client: Client = {
    userAgent: fake.userAgent,
    resource<T extends KubeObject>(group: string, resource: string): ResourceClient<T> {
      const rc = fake.resource<T>(group, resource);
      if (resource !== "pods") return rc;
      const wrapped = Object.create(rc) as ResourceClient<T>;
      wrapped.updateStatus = async (obj, opts) => {
        if (failOnce.delete(obj.metadata.name ?? "")) throw new Error("injected write failure");
        return rc.updateStatus(obj, opts);
      };
      return wrapped;
    },
  };
  const lifecycle = new NodeLifecycleReconciler({
    client,
    nodes: informers.informer<Node>("", "nodes"),
    leases: informers.informer<Lease>("coordination.k8s.io", "leases", { namespace: "kube-node-lease" }),
    pods: informers.informer<Pod>("", "pods"),
    events: new EventRecorder(fake, { component: "node-controller" }),
    gracePeriodMs: 40_000,
    now: () => clock.ms,
    log: () => {},
  });
  informers.start(ac.signal);
  await informers.waitForSync();
  const pod = (name: string) => fake.objects<Pod>("", "pods").find((p) => p.metadata.name === name)!;
  const podReady = (name: string) => pod(name).status!.conditions!.find((c) => c.type === "Ready")!;
  const statusWrites = () =>
    fake.actions.filter((a) => a.resource === "pods" && a.subresource === "status").map((a) => a.name);

  // Healthy: pods are left alone.
  await lifecycle.reconcile({ namespace: "", name: "n1" });
  assert.deepEqual(statusWrites(), []);

  // The write to pod b fails once: the sync fails after marking a, and is retried.
  clock.ms += 40_000;
  await assert.rejects(lifecycle.reconcile({ namespace: "", name: "n1" }), /injected write failure/);
  assert.equal(podReady("a").status, "False");
  assert.equal(podReady("a").lastTransitionTime, iso(clock.ms));
  assert.equal(pod("a").status!.conditions!.find((c) => c.type === "ContainersReady")!.status, "True");
  assert.equal(podReady("b").status, "True");

  // The retry (the node is already Unknown now) marks b; idle and the other node's pod stay untouched.
  await settle();
  await lifecycle.reconcile({ namespace: "", name: "n1" });
  assert.equal(podReady("b").status, "False");
  assert.equal(podReady("elsewhere").status, "True");
  assert.deepEqual(statusWrites().sort(), ["a", "b"]);

  // Later passes over the Unknown node write no pod again.
  await settle();
  clock.ms += 5_000;
  await lifecycle.reconcile({ namespace: "", name: "n1" });
  assert.deepEqual(statusWrites().sort(), ["a", "b"]);

  await settle();
  const seen = fake
    .objects<CoreEvent>("", "events")
    .map((e) => `${e.involvedObject.name} ${e.type} ${e.reason}: ${e.message}`);
  assert.deepEqual(seen.sort(), [
    "a Warning NodeNotReady: Node is not ready",
    "b Warning NodeNotReady: Node is not ready",
    "n1 Normal NodeNotReady: Node n1 status is now: NodeNotReady",
  ]);
});

test("pods on an unreachable node: intolerant ones go at once, tolerant ones when their tolerationSeconds run out", async (t) => {
  const tainted = node("n1");
  tainted.spec = {
    taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: iso(T0) }],
  };
  const mk = (name: string, tolerations: Toleration[] | undefined): Pod => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      nodeName: "n1",
      containers: [{ name: "c", image: "x" }],
      ...(tolerations ? { tolerations } : {}),
    },
    status: { phase: "Running" },
  });
  const fake = new FakeClient([
    tainted,
    mk("intolerant", undefined),
    mk("default-300", [
      {
        key: "node.kubernetes.io/not-ready",
        operator: "Exists",
        effect: "NoExecute",
        tolerationSeconds: 300,
      },
      {
        key: "node.kubernetes.io/unreachable",
        operator: "Exists",
        effect: "NoExecute",
        tolerationSeconds: 300,
      },
    ]),
    mk("forever", [{ operator: "Exists" }]),
  ]);
  const { eviction, clock, queuedPods } = await setup(t, fake);
  assert.deepEqual(queuedPods.sort(), ["default/default-300", "default/forever", "default/intolerant"]);
  clock.ms = T0 + 10_000;
  const r = (name: string) => eviction.reconcile({ namespace: "default", name });
  assert.equal(await r("intolerant"), undefined);
  assert.deepEqual(await r("default-300"), { requeueAfterMs: 290_000 });
  assert.equal(await r("forever"), undefined);
  const names = () =>
    fake
      .objects("", "pods")
      .map((p) => p.metadata.name)
      .sort();
  assert.deepEqual(names(), ["default-300", "forever"]);
  const cond = fake.actions.find((a) => a.verb === "patch" && a.name === "intolerant")!;
  assert.equal((cond.object as Pod).status?.conditions?.[0]?.reason, "DeletionByTaintManager");

  clock.ms = T0 + 300_000;
  await settle();
  assert.equal(await r("default-300"), undefined);
  assert.deepEqual(names(), ["forever"]);
});

test("toleration matching follows upstream's ToleratesTaint", () => {
  const taint = { key: "k", value: "v", effect: "NoExecute" };
  assert.deepEqual(tolerationVerdict([taint], [{ key: "k", operator: "Equal", value: "v" }]), {
    evictNow: false,
  });
  assert.deepEqual(tolerationVerdict([taint], [{ key: "k", value: "other" }]), { evictNow: true });
  assert.deepEqual(tolerationVerdict([taint], [{ key: "k", operator: "Exists", effect: "NoSchedule" }]), {
    evictNow: true,
  });
  assert.deepEqual(
    tolerationVerdict(
      [taint],
      [
        { operator: "Exists", tolerationSeconds: 60 },
        { key: "k", operator: "Exists", tolerationSeconds: 30 },
      ],
    ),
    { evictNow: false, seconds: 30 },
  );
  assert.deepEqual(tolerationVerdict([taint], [{ operator: "Exists", tolerationSeconds: 0 }]), {
    evictNow: true,
  });
});
