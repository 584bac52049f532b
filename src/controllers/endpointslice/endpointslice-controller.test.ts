import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test, type TestContext } from "node:test";
import type { Node, Pod, Service } from "../../api/types/core-v1.ts";
import type { EndpointSlice } from "../../api/types/discovery-v1.ts";
import { FakeClient } from "../../client/fake-client.ts";
import { InformerFactory } from "../../client/informer.ts";
import { EndpointSliceReconciler } from "./endpointslice-controller.ts";

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

function pod(name: string, ip: string, ready: boolean, port = 8080): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: "web" } },
    spec: {
      nodeName: "n1",
      containers: [{ name: "c", image: "x", ports: [{ name: "http", containerPort: port }] }],
    },
    status: {
      phase: "Running",
      podIP: ip,
      conditions: [
        { type: "Ready", status: ready ? "True" : "False", lastTransitionTime: "2026-01-01T00:00:00Z" },
      ],
    },
  };
}

const service: Service = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web", namespace: "default" },
  spec: {
    selector: { app: "web" },
    clusterIP: "10.96.0.20",
    ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: "http" }],
  },
};

async function setup(t: TestContext, fake: FakeClient, max?: number) {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const informers = new InformerFactory(fake);
  const r = new EndpointSliceReconciler({
    client: fake,
    services: informers.informer<Service>("", "services"),
    pods: informers.informer<Pod>("", "pods"),
    slices: informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices"),
    nodes: informers.informer<Node>("", "nodes"),
    ...(max ? { maxEndpointsPerSlice: max } : {}),
  });
  const queued: string[] = [];
  r.register((k) => queued.push(k));
  informers.start(ac.signal);
  await informers.waitForSync();
  const sync = async () => {
    await r.reconcile({ namespace: "default", name: "web" });
    await settle();
  };
  return { r, queued, sync };
}

const slices = (fake: FakeClient) => fake.objects<EndpointSlice>("discovery.k8s.io", "endpointslices");

test("slices hold ready, not-ready and terminating endpoints with labels, owner and zone", async (t) => {
  const terminating = pod("c", "10.244.0.4", true);
  terminating.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
  const fake = new FakeClient([
    service,
    {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "n1", labels: { "topology.kubernetes.io/zone": "z1" } },
    },
    pod("a", "10.244.0.2", true),
    pod("b", "10.244.0.3", false, 8081),
    terminating,
  ]);
  const { sync } = await setup(t, fake);
  await sync();
  const all = slices(fake);
  // Two port sets (8080 and 8081): two slices.
  assert.equal(all.length, 2);
  const svcUid = fake.objects("", "services")[0]!.metadata.uid;
  for (const s of all) {
    assert.equal(s.addressType, "IPv4");
    assert.equal(s.metadata.labels?.["kubernetes.io/service-name"], "web");
    assert.equal(
      s.metadata.labels?.["endpointslice.kubernetes.io/managed-by"],
      "endpointslice-controller.k8s.io",
    );
    assert.equal(s.metadata.ownerReferences?.[0]?.uid, svcUid);
    assert.ok(s.metadata.annotations?.["endpoints.kubernetes.io/last-change-trigger-time"]);
  }
  const byPort = (p: number) => all.find((s) => s.ports?.[0]?.port === p)!;
  const eps8080 = byPort(8080).endpoints.map((e) => [e.targetRef?.name, e.conditions, e.zone, e.nodeName]);
  assert.deepEqual(eps8080, [
    ["a", { ready: true, serving: true, terminating: false }, "z1", "n1"],
    ["c", { ready: false, serving: true, terminating: true }, "z1", "n1"],
  ]);
  assert.deepEqual(byPort(8081).endpoints[0]!.conditions, {
    ready: false,
    serving: false,
    terminating: false,
  });
});

test("slices are capped, updated in place, and an empty service keeps one placeholder", async (t) => {
  const pods = Array.from({ length: 5 }, (_, i) => pod(`p${i}`, `10.244.0.${10 + i}`, true));
  const fake = new FakeClient([service, ...pods]);
  const { sync, queued } = await setup(t, fake, 2);
  await sync();
  assert.deepEqual(
    slices(fake)
      .map((s) => s.endpoints.length)
      .sort(),
    [1, 2, 2],
  );
  const names = slices(fake)
    .map((s) => s.metadata.name)
    .sort();

  // A readiness change updates one slice in place; no slice is created or deleted.
  queued.length = 0;
  const p = await fake.resource<Pod>("", "pods").get("default", "p3");
  p.status!.conditions = [{ type: "Ready", status: "False", lastTransitionTime: "2026-01-01T00:02:00Z" }];
  await fake.resource<Pod>("", "pods").updateStatus(p);
  await settle();
  assert.deepEqual(queued, ["default/web"]);
  const before = fake.actions.length;
  await sync();
  const writes = fake.actions.slice(before);
  assert.deepEqual(
    writes.map((a) => a.verb),
    ["update"],
  );
  assert.deepEqual(
    slices(fake)
      .map((s) => s.metadata.name)
      .sort(),
    names,
  );
  const ep = slices(fake)
    .flatMap((s) => s.endpoints)
    .find((e) => e.targetRef?.name === "p3")!;
  assert.equal(ep.conditions?.ready, false);

  // Our own writes do not queue the service again.
  await settle();
  assert.deepEqual(queued, ["default/web"]);

  // A second pass with nothing new writes nothing.
  const n = fake.actions.length;
  await sync();
  assert.equal(fake.actions.length, n);

  // All pods gone: one placeholder slice, no endpoints, no ports.
  for (const x of pods) await fake.resource("", "pods").delete("default", x.metadata.name!);
  await settle();
  await sync();
  const left = slices(fake);
  assert.equal(left.length, 1);
  assert.deepEqual(left[0]!.endpoints, []);
  assert.deepEqual(left[0]!.ports, []);
});

test("services without a selector get no slices", async (t) => {
  const fake = new FakeClient([
    { ...service, spec: { ports: [{ port: 80 }] } },
    pod("a", "10.244.0.2", true),
  ]);
  const { sync } = await setup(t, fake);
  await sync();
  assert.equal(slices(fake).length, 0);
});
