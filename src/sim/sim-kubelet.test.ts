import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject } from "../api/object.ts";
import type { Lease } from "../api/types/coordination-v1.ts";
import type { Node, Pod } from "../api/types/core-v1.ts";
import { FakeClient } from "../client/fake-client.ts";
import { InformerFactory } from "../client/informer.ts";
import { SimKubelet } from "./sim-kubelet.ts";
import { buildSimNode, DEFAULT_SIM_CAPACITY } from "./sim-node.ts";

function simNode(i: number): Node {
  return buildSimNode({
    name: `kites-sim-${i}`,
    zone: "zone-0",
    podCIDR: `10.244.${i}.0/24`,
    internalIP: `10.16.244.${i}`,
    capacity: DEFAULT_SIM_CAPACITY,
  });
}

function pod(name: string, nodeName?: string, extra: Partial<Pod> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { containers: [{ name: "c", image: "nginx" }], ...(nodeName ? { nodeName } : {}) },
    status: { phase: "Pending", qosClass: "BestEffort" },
    ...extra,
  };
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function setup(objects: KubeObject[], opts: { leaseRenewMs?: number } = {}) {
  const fake = new FakeClient(objects);
  const informers = new InformerFactory(fake);
  const kubelet = new SimKubelet({
    client: fake,
    informers,
    leaseRenewMs: opts.leaseRenewMs ?? 3_600_000,
    wheelSlots: 4,
  });
  const ac = new AbortController();
  await kubelet.start(ac.signal);
  const pods = fake.resource<Pod>("", "pods");
  const nodes = fake.resource<Node>("", "nodes");
  const leases = fake.resource<Lease>("coordination.k8s.io", "leases");
  return { fake, kubelet, ac, pods, nodes, leases };
}

const realNode: Node = {
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: "real-1" },
  spec: { podCIDR: "10.244.0.0/24" },
};

test("simulated nodes get conditions and a Lease; real nodes are left alone", async (t) => {
  const { fake, ac, nodes, leases, kubelet } = await setup([simNode(1), simNode(2), realNode]);
  t.after(() => ac.abort());
  await waitFor("leases", async () => (await leases.list("kube-node-lease")).items.length === 2);
  await kubelet.idle();
  const n1 = await nodes.get(undefined, "kites-sim-1");
  const ready = n1.status?.conditions?.find((c) => c.type === "Ready");
  assert.equal(ready?.status, "True");
  assert.equal(ready?.reason, "KubeletReady");
  assert.equal((await nodes.get(undefined, "real-1")).status, undefined);
  const l = await leases.get("kube-node-lease", "kites-sim-2");
  assert.equal(l.spec?.holderIdentity, "kites-sim-2");
  assert.equal(l.spec?.leaseDurationSeconds, 40);
  assert.equal(l.metadata.ownerReferences?.[0]?.kind, "Node");
  // steady state: nothing more is written
  const writes = fake.actions.length;
  await new Promise((r) => setTimeout(r, 50));
  await kubelet.idle();
  assert.equal(fake.actions.length, writes);
  assert.equal(kubelet.nodeCount, 2);
});

test("pods bound to simulated nodes run with unique pod IPs; others are untouched", async (t) => {
  const running = pod("kept", "kites-sim-1");
  running.status = { phase: "Running", podIP: "10.244.1.2", podIPs: [{ ip: "10.244.1.2" }] };
  const { fake, ac, pods, kubelet } = await setup([
    simNode(1),
    realNode,
    running,
    pod("a", "kites-sim-1"),
    pod("b", "kites-sim-1"),
    pod("on-real", "real-1"),
    pod("unbound"),
    pod("host", "kites-sim-1", {
      spec: { nodeName: "kites-sim-1", hostNetwork: true, containers: [{ name: "c", image: "x" }] },
    }),
  ]);
  t.after(() => ac.abort());
  await waitFor("pods running", async () => {
    const items = (await pods.list("default")).items;
    return ["a", "b", "kept", "host"].every(
      (n) => items.find((p) => p.metadata.name === n)?.status?.phase === "Running",
    );
  });
  const get = (n: string) => pods.get("default", n);
  const kept = await get("kept");
  assert.equal(kept.status?.podIP, "10.244.1.2", "a running pod keeps its IP");
  const ips = [(await get("a")).status?.podIP, (await get("b")).status?.podIP].sort();
  assert.deepEqual(ips, ["10.244.1.3", "10.244.1.4"]);
  assert.equal((await get("host")).status?.podIP, "10.16.244.1", "hostNetwork pods use the node IP");
  assert.equal((await get("a")).status?.hostIP, "10.16.244.1");
  assert.equal((await get("on-real")).status?.phase, "Pending");
  assert.equal((await get("unbound")).status?.phase, "Pending");
  assert.ok(!fake.actions.some((a) => a.name === "on-real" || a.name === "unbound"));

  // a deleted pod's IP goes to the next pod
  const aIp = (await get("a")).status?.podIP;
  await pods.delete("default", "a");
  await waitFor("informer saw the delete", () => true);
  await new Promise((r) => setTimeout(r, 20));
  await pods.create(pod("c", "kites-sim-1"));
  await waitFor("c running", async () => (await get("c")).status?.phase === "Running");
  assert.equal((await get("c")).status?.podIP, aIp);
  await kubelet.idle();
  assert.equal(kubelet.metrics.podStatusWrites, 5, "one write per pod, no repeats");
});

test("gracefully deleted pods on simulated nodes are finished at once", async (t) => {
  const p = pod("bye", "kites-sim-1");
  p.metadata.deletionTimestamp = "2026-01-02T03:04:05Z";
  p.metadata.deletionGracePeriodSeconds = 30;
  const { fake, ac, pods } = await setup([simNode(1), p]);
  t.after(() => ac.abort());
  await waitFor("pod gone", async () => (await pods.list("default")).items.length === 0);
  const del = fake.actions.find((a) => a.verb === "delete" && a.name === "bye");
  assert.ok(del, "deleted through the API");
});

test("sim-exit-code pods finish as Succeeded/Failed and give their IP back", async (t) => {
  const ok = pod("job-ok", "kites-sim-1", {
    metadata: { name: "job-ok", namespace: "default", annotations: { "kites.io/sim-exit-code": "0" } },
  });
  ok.spec!.restartPolicy = "Never";
  const bad = pod("job-bad", "kites-sim-1", {
    metadata: { name: "job-bad", namespace: "default", annotations: { "kites.io/sim-exit-code": "2" } },
  });
  bad.spec!.restartPolicy = "Never";
  const { ac, pods } = await setup([simNode(1), ok, bad]);
  t.after(() => ac.abort());
  await waitFor("jobs finished", async () => {
    const [a, b] = await Promise.all([pods.get("default", "job-ok"), pods.get("default", "job-bad")]);
    return a.status?.phase === "Succeeded" && b.status?.phase === "Failed";
  });
  await new Promise((r) => setTimeout(r, 20));
  await pods.create(pod("next", "kites-sim-1"));
  await waitFor("next running", async () => (await pods.get("default", "next")).status?.phase === "Running");
  assert.equal(
    (await pods.get("default", "next")).status?.podIP,
    "10.244.1.2",
    "terminal pods released their IPs",
  );
});

test("leases are renewed on the wheel; deleting a simulated node deletes its Lease", async (t) => {
  const { ac, nodes, leases, kubelet } = await setup([simNode(1), simNode(2)], { leaseRenewMs: 40 });
  t.after(() => ac.abort());
  await waitFor("first leases", async () => (await leases.list("kube-node-lease")).items.length === 2);
  const first = (await leases.get("kube-node-lease", "kites-sim-1")).metadata.resourceVersion;
  await waitFor("renewals", () => kubelet.metrics.leaseWrites >= 6);
  assert.notEqual((await leases.get("kube-node-lease", "kites-sim-1")).metadata.resourceVersion, first);
  await nodes.delete(undefined, "kites-sim-2");
  await waitFor("lease deleted", async () => (await leases.list("kube-node-lease")).items.length === 1);
  await new Promise((r) => setTimeout(r, 100));
  await kubelet.idle();
  const left = (await leases.list("kube-node-lease")).items.map((l) => l.metadata.name);
  assert.deepEqual(left, ["kites-sim-1"], "not re-created by a later renewal");
  assert.equal(kubelet.nodeCount, 1);
});

test("a node labelled simulated later starts its pending pods", async (t) => {
  const plain: Node = { ...simNode(3), metadata: { name: "kites-sim-3", labels: {} } };
  const { ac, pods, nodes } = await setup([plain, pod("w", "kites-sim-3")]);
  t.after(() => ac.abort());
  await new Promise((r) => setTimeout(r, 30));
  assert.equal((await pods.get("default", "w")).status?.phase, "Pending");
  const n = await nodes.get(undefined, "kites-sim-3");
  n.metadata.labels = { "kites.io/simulated": "true" };
  await nodes.update(n);
  await waitFor("w running", async () => (await pods.get("default", "w")).status?.phase === "Running");
  assert.equal((await pods.get("default", "w")).status?.podIP, "10.244.3.2");
});
