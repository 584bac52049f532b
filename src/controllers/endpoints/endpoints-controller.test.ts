import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test, type TestContext } from "node:test";
import type { Endpoints, Pod, Service } from "../../api/types/core-v1.ts";
import { FakeClient } from "../../client/fake-client.ts";
import { InformerFactory } from "../../client/informer.ts";
import { EndpointsReconciler } from "./endpoints-controller.ts";

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

function pod(
  name: string,
  ip: string | undefined,
  ready: boolean,
  extra: Partial<Pod> = {},
  port = 8080,
): Pod {
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
      ...(ip ? { podIP: ip } : {}),
      conditions: [
        { type: "Ready", status: ready ? "True" : "False", lastTransitionTime: "2026-01-01T00:00:00Z" },
      ],
    },
    ...extra,
  };
}

const service: Service = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web", namespace: "default", labels: { tier: "front" } },
  spec: {
    selector: { app: "web" },
    clusterIP: "10.96.0.20",
    ports: [
      { name: "http", port: 80, protocol: "TCP", targetPort: "http" },
      { name: "metrics", port: 9090, protocol: "TCP", targetPort: 9090 },
    ],
  },
};

async function setup(t: TestContext, fake: FakeClient) {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const informers = new InformerFactory(fake);
  const r = new EndpointsReconciler({
    client: fake,
    services: informers.informer<Service>("", "services"),
    pods: informers.informer<Pod>("", "pods"),
    endpoints: informers.informer<Endpoints>("", "endpoints"),
  });
  const queued: string[] = [];
  r.register((k) => queued.push(k));
  informers.start(ac.signal);
  await informers.waitForSync();
  return { r, queued };
}

test("endpoints list ready and not-ready pods with named ports resolved per pod", async (t) => {
  const fake = new FakeClient([
    service,
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "manual", namespace: "default" },
      spec: { ports: [{ port: 1 }] },
    },
    pod("a", "10.244.0.2", true),
    pod("b", "10.244.0.3", false, {}, 8081),
    pod("noip", undefined, true),
    pod("done", "10.244.0.9", true, { status: { phase: "Succeeded", podIP: "10.244.0.9" } }),
    {
      ...pod("other", "10.244.0.7", true),
      metadata: { name: "other", namespace: "default", labels: { app: "db" } },
    },
    {
      ...pod("noname", "10.244.0.5", true),
      spec: { nodeName: "n1", containers: [{ name: "c", image: "x" }] },
    },
  ]);
  const { r } = await setup(t, fake);
  await r.reconcile({ namespace: "default", name: "web" });
  await r.reconcile({ namespace: "default", name: "manual" });
  const eps = fake.objects<Endpoints>("", "endpoints");
  assert.deepEqual(
    eps.map((e) => e.metadata.name),
    ["web"],
  );
  const ep = eps[0]!;
  assert.deepEqual(ep.metadata.labels, { tier: "front" });
  assert.ok(ep.metadata.annotations?.["endpoints.kubernetes.io/last-change-trigger-time"]);
  const addr = (ip: string, name: string) => ({
    ip,
    nodeName: "n1",
    targetRef: {
      kind: "Pod",
      namespace: "default",
      name,
      uid: fake.objects("", "pods").find((p) => p.metadata.name === name)!.metadata.uid,
    },
  });
  // http: a on 8080 ready, b on 8081 not ready; metrics: a, b and noname (numeric targetPort).
  assert.deepEqual(ep.subsets, [
    { addresses: [addr("10.244.0.2", "a")], ports: [{ name: "http", port: 8080, protocol: "TCP" }] },
    { notReadyAddresses: [addr("10.244.0.3", "b")], ports: [{ name: "http", port: 8081, protocol: "TCP" }] },
    {
      addresses: [addr("10.244.0.2", "a"), addr("10.244.0.5", "noname")],
      notReadyAddresses: [addr("10.244.0.3", "b")],
      ports: [{ name: "metrics", port: 9090, protocol: "TCP" }],
    },
  ]);
});

test("pod readiness changes queue the service and move the address; deleting the service deletes its endpoints", async (t) => {
  const fake = new FakeClient([service, pod("a", "10.244.0.2", false)]);
  const { r, queued } = await setup(t, fake);
  await r.reconcile({ namespace: "default", name: "web" });
  let ep = fake.objects<Endpoints>("", "endpoints")[0]!;
  assert.equal(ep.subsets?.[0]?.notReadyAddresses?.length, 2 - 1);
  assert.equal(ep.subsets?.[0]?.addresses, undefined);

  queued.length = 0;
  const p = await fake.resource<Pod>("", "pods").get("default", "a");
  p.status!.conditions = [{ type: "Ready", status: "True", lastTransitionTime: "2026-01-01T00:01:00Z" }];
  await settle();
  await fake.resource<Pod>("", "pods").updateStatus(p);
  await settle();
  assert.deepEqual(queued, ["default/web"]);
  await r.reconcile({ namespace: "default", name: "web" });
  ep = fake.objects<Endpoints>("", "endpoints")[0]!;
  assert.equal(ep.subsets?.[0]?.addresses?.[0]?.ip, "10.244.0.2");
  assert.equal(
    ep.metadata.annotations?.["endpoints.kubernetes.io/last-change-trigger-time"],
    "2026-01-01T00:01:00Z",
  );

  // A no-op pass writes nothing.
  await settle();
  const writes = fake.actions.length;
  await r.reconcile({ namespace: "default", name: "web" });
  assert.equal(fake.actions.length, writes);

  await fake.resource("", "services").delete("default", "web");
  await settle();
  await r.reconcile({ namespace: "default", name: "web" });
  assert.equal(fake.objects("", "endpoints").length, 0);
});

test("publishNotReadyAddresses lists unready pods as ready; headless services get hostnames and the headless label", async (t) => {
  const headless: Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default" },
    spec: { selector: { app: "web" }, clusterIP: "None", publishNotReadyAddresses: true },
  };
  const fake = new FakeClient([
    headless,
    pod("a", "10.244.0.2", false, {
      spec: { hostname: "a", subdomain: "web", nodeName: "n1", containers: [{ name: "c", image: "x" }] },
    }),
  ]);
  const { r } = await setup(t, fake);
  await r.reconcile({ namespace: "default", name: "web" });
  const ep = fake.objects<Endpoints>("", "endpoints")[0]!;
  assert.deepEqual(ep.metadata.labels, { "service.kubernetes.io/headless": "" });
  assert.equal(ep.subsets?.length, 1);
  assert.equal(ep.subsets?.[0]?.addresses?.[0]?.hostname, "a");
  assert.equal(ep.subsets?.[0]?.ports, undefined);
});
