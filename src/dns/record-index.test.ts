import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test, type TestContext } from "node:test";
import type { KubeObject } from "../api/object.ts";
import type { Service } from "../api/types/core-v1.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import { FakeClient } from "../client/fake-client.ts";
import { InformerFactory } from "../client/informer.ts";
import { expandIPv6, parseDashedIP, reverseName } from "./names.ts";
import { RecordIndex, type Lookup } from "./record-index.ts";
import { endpoint, eventually, externalName, namespace, service, slice } from "./test-fixtures.ts";

const Z = "cluster.local";

async function setup(t: TestContext, objects: KubeObject[]) {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const fake = new FakeClient(objects);
  const informers = new InformerFactory(fake);
  const index = new RecordIndex();
  let changes = 0;
  index.onChange(() => changes++);
  index.attach(informers);
  informers.start(ac.signal);
  await informers.waitForSync();
  return {
    fake,
    index,
    changes: () => changes,
    informers,
    services: fake.resource<Service>("", "services"),
    slices: fake.resource<EndpointSlice>("discovery.k8s.io", "endpointslices"),
  };
}

/** The data of the answers, sorted, for comparison. */
const data = (l: Lookup): string[] =>
  l.answers.map((a) => (typeof a.data === "string" ? a.data : JSON.stringify(a.data))).sort();

test("names: reverse names, dashed addresses", () => {
  assert.equal(reverseName("10.96.0.10"), "10.0.96.10.in-addr.arpa");
  assert.equal(expandIPv6("fd00::1"), "fd000000000000000000000000000001");
  assert.equal(reverseName("fd00::1"), `1.${"0.".repeat(27)}0.0.d.f.ip6.arpa`);
  assert.deepEqual(parseDashedIP("10-244-0-5"), { ip: "10.244.0.5", v6: false });
  assert.deepEqual(parseDashedIP("fd00--5"), { ip: "fd00::5", v6: true });
  assert.equal(parseDashedIP("10-244-0-999"), undefined);
  assert.equal(parseDashedIP("web"), undefined);
});

test("ClusterIP service: A, NODATA for other types, NXDOMAIN for unknown names", async (t) => {
  const { index } = await setup(t, [
    namespace("shop"),
    service("shop", "web", "10.96.1.5", [{ name: "http", port: 80, protocol: "TCP" }]),
  ]);
  const a = index.lookup(`web.shop.svc.${Z}`, "A");
  assert.equal(a.kind, "zone");
  assert.equal(a.rcode, "NOERROR");
  assert.deepEqual(data(a), ["10.96.1.5"]);
  assert.equal(a.answers[0]!.name, `web.shop.svc.${Z}`);

  const aaaa = index.lookup(`web.shop.svc.${Z}`, "AAAA");
  assert.equal(aaaa.rcode, "NOERROR");
  assert.equal(aaaa.answers.length, 0, "NODATA for an existing name");

  assert.equal(index.lookup(`nope.shop.svc.${Z}`, "A").rcode, "NXDOMAIN");
  assert.equal(index.lookup(`web.other.svc.${Z}`, "A").rcode, "NXDOMAIN");
  assert.equal(index.lookup(`x.web.shop.svc.${Z}`, "A").rcode, "NXDOMAIN");
  assert.equal(index.lookup(`foo.${Z}`, "A").rcode, "NXDOMAIN");
  assert.equal(index.lookup("example.com", "A").kind, "forward");
});

test("zone structure: apex SOA/NS, dns-version, namespaces as empty non-terminals", async (t) => {
  const { index } = await setup(t, [
    namespace("shop"),
    namespace("kube-system"),
    service("kube-system", "kube-dns", "10.96.0.10", [{ name: "dns", port: 53, protocol: "UDP" }]),
  ]);
  const soa = index.lookup(Z, "SOA");
  assert.equal(soa.answers[0]!.type, "SOA");
  const ns = index.lookup(Z, "NS");
  assert.deepEqual(data(ns), [`ns.dns.${Z}`]);
  assert.deepEqual(
    ns.additionals.map((r) => r.data),
    ["10.96.0.10"],
  );
  assert.deepEqual(data(index.lookup(`ns.dns.${Z}`, "A")), ["10.96.0.10"]);
  assert.deepEqual(data(index.lookup(`dns-version.${Z}`, "TXT")), ["1.0.1"]);
  for (const name of [Z, `svc.${Z}`, `pod.${Z}`, `shop.svc.${Z}`, `shop.pod.${Z}`]) {
    const l = index.lookup(name, "A");
    assert.equal(l.rcode, "NOERROR", name);
    assert.equal(l.answers.length, 0, name);
  }
  assert.equal(index.lookup(`nons.svc.${Z}`, "A").rcode, "NXDOMAIN");
});

test("SRV for named ports, targets the service, A in additionals; PTR for the cluster IP", async (t) => {
  const { index } = await setup(t, [
    namespace("shop"),
    service("shop", "web", "10.96.1.5", [
      { name: "http", port: 80, protocol: "TCP" },
      { name: "dns", port: 53, protocol: "UDP" },
      { port: 9000, protocol: "TCP" },
    ]),
  ]);
  const srv = index.lookup(`_http._tcp.web.shop.svc.${Z}`, "SRV");
  assert.equal(srv.answers.length, 1);
  const r = srv.answers[0]!;
  assert.equal(r.type, "SRV");
  assert.deepEqual(r.data, { priority: 0, weight: 100, port: 80, target: `web.shop.svc.${Z}` });
  assert.deepEqual(
    srv.additionals.map((a) => [a.name, a.type, a.data]),
    [[`web.shop.svc.${Z}`, "A", "10.96.1.5"]],
  );
  assert.equal(index.lookup(`_dns._udp.web.shop.svc.${Z}`, "SRV").answers.length, 1);
  assert.equal(index.lookup(`_dns._tcp.web.shop.svc.${Z}`, "SRV").rcode, "NXDOMAIN");
  // The service name answers SRV with every port, unnamed ones too, weight shared out.
  const all = index.lookup(`web.shop.svc.${Z}`, "SRV");
  assert.deepEqual(all.answers.map((a) => (a.type === "SRV" ? [a.data.port, a.data.weight] : [])).sort(), [
    [53, 33],
    [80, 33],
    [9000, 33],
  ]);
  const ptr = index.lookup("5.1.96.10.in-addr.arpa", "PTR");
  assert.equal(ptr.kind, "reverse");
  assert.deepEqual(data(ptr), [`web.shop.svc.${Z}`]);
  assert.equal(
    index.lookup("6.1.96.10.in-addr.arpa", "PTR").kind,
    "forward",
    "unknown reverse names go upstream",
  );
});

test("headless service: ready endpoint A records, per-endpoint names, SRV per endpoint, PTR", async (t) => {
  const { index } = await setup(t, [
    namespace("shop"),
    service("shop", "db", "None", [{ name: "pg", port: 5432, protocol: "TCP" }]),
    slice(
      "shop",
      "db-abc",
      "db",
      [
        endpoint("10.244.0.5", true, "db-0"),
        endpoint("10.244.0.6", true),
        endpoint("10.244.0.7", false, "db-2"),
      ],
      [{ name: "pg", port: 5432, protocol: "TCP" }],
    ),
  ]);
  assert.deepEqual(data(index.lookup(`db.shop.svc.${Z}`, "A")), ["10.244.0.5", "10.244.0.6"]);
  assert.deepEqual(data(index.lookup(`db-0.db.shop.svc.${Z}`, "A")), ["10.244.0.5"]);
  assert.deepEqual(data(index.lookup(`10-244-0-6.db.shop.svc.${Z}`, "A")), ["10.244.0.6"]);
  assert.equal(
    index.lookup(`db-2.db.shop.svc.${Z}`, "A").rcode,
    "NXDOMAIN",
    "not-ready endpoints are left out",
  );

  const srv = index.lookup(`_pg._tcp.db.shop.svc.${Z}`, "SRV");
  assert.deepEqual(
    srv.answers
      .map((a) => (a.type === "SRV" ? `${a.data.weight} ${a.data.port} ${a.data.target}` : ""))
      .sort(),
    [`50 5432 10-244-0-6.db.shop.svc.${Z}`, `50 5432 db-0.db.shop.svc.${Z}`],
  );
  assert.deepEqual(srv.additionals.map((a) => `${a.name} ${a.data as string}`).sort(), [
    `10-244-0-6.db.shop.svc.${Z} 10.244.0.6`,
    `db-0.db.shop.svc.${Z} 10.244.0.5`,
  ]);
  assert.deepEqual(data(index.lookup("5.0.244.10.in-addr.arpa", "PTR")), [`db-0.db.shop.svc.${Z}`]);
  assert.deepEqual(data(index.lookup("6.0.244.10.in-addr.arpa", "PTR")), [`10-244-0-6.db.shop.svc.${Z}`]);
  assert.equal(index.lookup("7.0.244.10.in-addr.arpa", "PTR").kind, "forward");
});

test("headless service with no ready endpoint does not exist (NXDOMAIN)", async (t) => {
  const { index } = await setup(t, [
    namespace("shop"),
    service("shop", "db", "None"),
    slice("shop", "db-abc", "db", [endpoint("10.244.0.7", false)]),
  ]);
  assert.equal(index.lookup(`db.shop.svc.${Z}`, "A").rcode, "NXDOMAIN");
});

test("ExternalName service answers a CNAME and asks for the target to be chased", async (t) => {
  const { index } = await setup(t, [namespace("shop"), externalName("shop", "ext", "www.example.com.")]);
  const a = index.lookup(`ext.shop.svc.${Z}`, "A");
  assert.equal(a.rcode, "NOERROR");
  assert.deepEqual(
    a.answers.map((r) => [r.type, r.data]),
    [["CNAME", "www.example.com"]],
  );
  assert.equal(a.chase, "www.example.com");
  const c = index.lookup(`ext.shop.svc.${Z}`, "CNAME");
  assert.equal(c.chase, undefined);
  assert.deepEqual(data(c), ["www.example.com"]);
});

test("pod names: a-b-c-d.<ns>.pod A for an existing namespace (pods insecure)", async (t) => {
  const { index } = await setup(t, [namespace("shop")]);
  assert.deepEqual(data(index.lookup(`10-244-0-9.shop.pod.${Z}`, "A")), ["10.244.0.9"]);
  const aaaa = index.lookup(`10-244-0-9.shop.pod.${Z}`, "AAAA");
  assert.equal(aaaa.rcode, "NOERROR");
  assert.equal(aaaa.answers.length, 0);
  assert.deepEqual(data(index.lookup(`fd00--9.shop.pod.${Z}`, "AAAA")), ["fd00::9"]);
  assert.equal(index.lookup(`10-244-0-9.nons.pod.${Z}`, "A").rcode, "NXDOMAIN");
  assert.equal(index.lookup(`not-an-ip.shop.pod.${Z}`, "A").rcode, "NXDOMAIN");
  assert.equal(index.lookup(`x.10-244-0-9.shop.pod.${Z}`, "A").rcode, "NXDOMAIN");
});

test("a cluster IP's PTR wins over an endpoint with the same address", async (t) => {
  const { index } = await setup(t, [
    namespace("a"),
    service("a", "vip", "10.96.3.3"),
    service("a", "other", "10.96.3.4"),
    slice("a", "other-1", "other", [endpoint("10.96.3.3")]),
  ]);
  assert.deepEqual(data(index.lookup("3.3.96.10.in-addr.arpa", "PTR")), [`vip.a.svc.${Z}`]);
});

test("updates and deletes are applied incrementally", async (t) => {
  const { index, services, slices, fake, informers, changes } = await setup(t, [namespace("shop")]);
  const changesAtStart = changes();
  // A slice arriving before its Service is kept until the Service exists.
  await slices.create(slice("shop", "db-1", "db", [endpoint("10.244.1.1", true, "db-0")]));
  const sliceCache = informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices");
  await eventually(() => sliceCache.get("shop", "db-1") !== undefined, "slice event");
  assert.equal(index.lookup(`db.shop.svc.${Z}`, "A").rcode, "NXDOMAIN");
  await services.create(service("shop", "db", "None"));
  await eventually(() => index.lookup(`db.shop.svc.${Z}`, "A").answers.length === 1, "headless A");

  // A second slice adds addresses; updating a slice removes the ones gone.
  await slices.create(slice("shop", "db-2", "db", [endpoint("10.244.1.2")]));
  await eventually(() => index.lookup(`db.shop.svc.${Z}`, "A").answers.length === 2, "second slice");
  const s1 = await slices.get("shop", "db-1");
  s1.endpoints = [endpoint("10.244.1.3", true, "db-0")];
  await slices.update(s1);
  await eventually(
    () => data(index.lookup(`db-0.db.shop.svc.${Z}`, "A")).join() === "10.244.1.3",
    "endpoint address change",
  );
  assert.equal(index.lookup("1.1.244.10.in-addr.arpa", "PTR").kind, "forward", "old PTR dropped");
  assert.deepEqual(data(index.lookup(`db.shop.svc.${Z}`, "A")), ["10.244.1.2", "10.244.1.3"]);
  await slices.delete("shop", "db-2");
  await eventually(() => index.lookup(`db.shop.svc.${Z}`, "A").answers.length === 1, "slice deleted");

  assert.ok(changes() > changesAtStart, "change listeners are told (the server drops its answer cache)");

  // A ClusterIP Service whose IP changes, then goes.
  await services.create(service("shop", "web", "10.96.2.1"));
  await eventually(() => index.lookup(`web.shop.svc.${Z}`, "A").answers.length === 1, "web");
  const web = await services.get("shop", "web");
  web.spec!.clusterIP = "10.96.2.2";
  web.spec!.clusterIPs = ["10.96.2.2"];
  await services.update(web);
  await eventually(
    () => data(index.lookup(`web.shop.svc.${Z}`, "A")).join() === "10.96.2.2",
    "new cluster IP",
  );
  assert.equal(index.lookup("1.2.96.10.in-addr.arpa", "PTR").kind, "forward");
  assert.deepEqual(data(index.lookup("2.2.96.10.in-addr.arpa", "PTR")), [`web.shop.svc.${Z}`]);
  await services.delete("shop", "web");
  await eventually(() => index.lookup(`web.shop.svc.${Z}`, "A").rcode === "NXDOMAIN", "deleted service");
  assert.equal(index.lookup("2.2.96.10.in-addr.arpa", "PTR").kind, "forward");

  // Relabelling a slice to another Service moves its endpoints.
  await services.create(service("shop", "db2", "None"));
  const s1b = await slices.get("shop", "db-1");
  s1b.metadata.labels = { "kubernetes.io/service-name": "db2" };
  await slices.update(s1b);
  await eventually(() => index.lookup(`db2.shop.svc.${Z}`, "A").answers.length === 1, "relabelled slice");
  assert.equal(index.lookup(`db.shop.svc.${Z}`, "A").rcode, "NXDOMAIN");

  // Deleting the namespace makes its pod names disappear.
  assert.equal(index.lookup(`10-0-0-1.shop.pod.${Z}`, "A").rcode, "NOERROR");
  await fake.resource("", "namespaces").delete(undefined, "shop");
  await eventually(() => index.lookup(`10-0-0-1.shop.pod.${Z}`, "A").rcode === "NXDOMAIN", "namespace gone");
});

test("a custom domain and case: names are stored lowercase", () => {
  const index = new RecordIndex({ domain: "Example.Internal." });
  index.addNamespace("ns");
  index.upsertService(service("ns", "api", "10.96.9.9"));
  assert.deepEqual(data(index.lookup("api.ns.svc.example.internal", "A")), ["10.96.9.9"]);
  assert.equal(index.lookup(`api.ns.svc.${Z}`, "A").kind, "forward");
});
