import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test, type TestContext } from "node:test";
import type { Node, Pod, Service } from "../api/types/core-v1.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import { FakeClient } from "../client/fake-client.ts";
import { InformerFactory } from "../client/informer.ts";
import { EndpointSliceReconciler } from "../controllers/endpointslice/endpointslice-controller.ts";
import { startClusterDNS } from "./index.ts";
import { desiredSlice, PUBLISHED_SLICE_NAME, startSlicePublisher } from "./publish.ts";
import { eventually, namespace } from "./test-fixtures.ts";

/** The kube-dns Service as the API server bootstrap creates it (no selector). */
const kubeDns: Service = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "kube-dns", namespace: "kube-system" },
  spec: {
    type: "ClusterIP",
    clusterIP: "10.96.0.10",
    clusterIPs: ["10.96.0.10"],
    ports: [
      { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
      { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
    ],
  },
};

const publish = { namespace: "kube-system", service: "kube-dns", ip: "10.244.0.1" };

function setup(t: TestContext, fake: FakeClient) {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const informers = new InformerFactory(fake);
  const slices = informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices");
  informers.start(ac.signal);
  return { slices, signal: ac.signal };
}

test("desired slice shape", () => {
  const s = desiredSlice(publish);
  assert.equal(s.metadata.name, "kube-dns-node");
  assert.equal(s.metadata.namespace, "kube-system");
  assert.deepEqual(s.metadata.labels, {
    "kubernetes.io/service-name": "kube-dns",
    "endpointslice.kubernetes.io/managed-by": "kites-dns",
  });
  assert.equal(s.addressType, "IPv4");
  assert.deepEqual(s.endpoints, [{ addresses: ["10.244.0.1"], conditions: { ready: true } }]);
  assert.deepEqual(s.ports, [
    { name: "dns", port: 53, protocol: "UDP" },
    { name: "dns-tcp", port: 53, protocol: "TCP" },
  ]);
});

test("publisher creates the slice, restores it when changed and re-creates it when deleted", async (t) => {
  const fake = new FakeClient([namespace("kube-system"), kubeDns]);
  const { slices, signal } = setup(t, fake);
  const rc = fake.resource<EndpointSlice>("discovery.k8s.io", "endpointslices");
  const ctl = startSlicePublisher({ client: fake, slices, publish, signal });
  await eventually(() => slices.get("kube-system", PUBLISHED_SLICE_NAME) !== undefined, "slice created");
  const created = await rc.get("kube-system", PUBLISHED_SLICE_NAME);
  assert.deepEqual(created.endpoints, desiredSlice(publish).endpoints);

  const tampered = structuredClone(created);
  tampered.endpoints = [{ addresses: ["10.244.0.99"], conditions: { ready: false } }];
  tampered.metadata.labels = { ...tampered.metadata.labels, extra: "kept" };
  const tamperedRv = Number((await rc.update(tampered)).metadata.resourceVersion);
  await eventually(() => {
    const s = slices.get("kube-system", PUBLISHED_SLICE_NAME);
    return (
      Number(s?.metadata.resourceVersion) > tamperedRv && s?.endpoints?.[0]?.addresses[0] === "10.244.0.1"
    );
  }, "slice restored");
  assert.equal(slices.get("kube-system", PUBLISHED_SLICE_NAME)?.metadata.labels?.extra, "kept");

  await rc.delete("kube-system", PUBLISHED_SLICE_NAME);
  await eventually(() => fake.actions.filter((a) => a.verb === "create").length === 2, "slice re-created");
  await ctl.idle();
  assert.deepEqual((await rc.get("kube-system", PUBLISHED_SLICE_NAME)).ports, desiredSlice(publish).ports);
});

test("publisher adopts an existing slice it cannot see in its cache yet", async (t) => {
  const fake = new FakeClient([namespace("kube-system"), kubeDns]);
  const rc = fake.resource<EndpointSlice>("discovery.k8s.io", "endpointslices");
  const stale = desiredSlice({ ...publish, ip: "10.244.9.1" });
  await rc.create(stale);
  const { slices, signal } = setup(t, fake);
  // Started before the informer listed: the create hits AlreadyExists and the live object is fixed.
  const ctl = startSlicePublisher({ client: fake, slices, publish, signal });
  await eventually(
    () => slices.get("kube-system", PUBLISHED_SLICE_NAME)?.endpoints?.[0]?.addresses[0] === "10.244.0.1",
    "slice corrected",
  );
  await ctl.idle();
  assert.equal((await rc.list("kube-system")).items.length, 1);
});

test("the EndpointSlice controller leaves the published slice of the selector-less kube-dns alone", async (t) => {
  const fake = new FakeClient([namespace("kube-system"), kubeDns, desiredSlice(publish)]);
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const informers = new InformerFactory(fake);
  const reconciler = new EndpointSliceReconciler({
    client: fake,
    services: informers.informer<Service>("", "services"),
    pods: informers.informer<Pod>("", "pods"),
    slices: informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices"),
    nodes: informers.informer<Node>("", "nodes"),
  });
  const queued: string[] = [];
  reconciler.register((k) => queued.push(k));
  informers.start(ac.signal);
  await informers.waitForSync();
  await reconciler.reconcile({ namespace: "kube-system", name: "kube-dns" });
  assert.deepEqual(fake.actions, [], "no write at all");
  assert.ok(
    (
      await fake
        .resource<EndpointSlice>("discovery.k8s.io", "endpointslices")
        .get("kube-system", PUBLISHED_SLICE_NAME)
    ).endpoints.length === 1,
  );
});

test("startClusterDNS publishes the listen address with its port", async (t) => {
  const fake = new FakeClient([namespace("kube-system"), kubeDns]);
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  const dns = await startClusterDNS({
    informers: new InformerFactory(fake),
    client: fake,
    listen: [{ address: "127.0.0.1", port: 0 }],
    upstreams: [],
    signal: ac.signal,
    publish: { namespace: "kube-system", service: "kube-dns", ip: "127.0.0.1" },
  });
  t.after(async () => {
    ac.abort();
    await dns.stop();
  });
  const rc = fake.resource<EndpointSlice>("discovery.k8s.io", "endpointslices");
  await eventually(() => fake.actions.some((a) => a.verb === "create"), "slice written");
  const s = await rc.get("kube-system", PUBLISHED_SLICE_NAME);
  assert.deepEqual(
    s.ports?.map((p) => p.port),
    [dns.addresses[0]!.port, dns.addresses[0]!.port],
  );
  assert.deepEqual(s.endpoints[0]!.addresses, ["127.0.0.1"]);
});
