import assert from "node:assert/strict";
import { Resolver } from "node:dns/promises";
import { setMaxListeners } from "node:events";
import { test, type TestContext } from "node:test";
import * as packet from "dns-packet";
import type { KubeObject } from "../api/object.ts";
import type { Service } from "../api/types/core-v1.ts";
import { FakeClient } from "../client/fake-client.ts";
import { InformerFactory } from "../client/informer.ts";
import {
  query,
  rcodeOf,
  startUpstream,
  tcp,
  udp,
  udpExchange,
  type FakeUpstream,
} from "./dns-test-client.ts";
import { startClusterDNS, type ClusterDNS, type DnsAddress } from "./index.ts";
import { endpoint, externalName, namespace, service, slice } from "./test-fixtures.ts";

const Z = "cluster.local";

async function start(
  t: TestContext,
  objects: KubeObject[],
  upstreams: DnsAddress[] = [],
): Promise<{ dns: ClusterDNS; port: number; fake: FakeClient }> {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  const fake = new FakeClient(objects);
  const dns = await startClusterDNS({
    informers: new InformerFactory(fake),
    client: fake,
    listen: [{ address: "127.0.0.1", port: 0 }],
    upstreams,
    signal: ac.signal,
    forwardTimeoutMs: 300,
  });
  t.after(async () => {
    ac.abort();
    await dns.stop();
  });
  return { dns, port: dns.addresses[0]!.port, fake };
}

async function upstream(t: TestContext, ...args: Parameters<typeof startUpstream>): Promise<FakeUpstream> {
  const u = await startUpstream(...args);
  t.after(() => u.close());
  return u;
}

function resolverFor(port: number): Resolver {
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  return r;
}

const base = [
  namespace("shop"),
  service("shop", "web", "10.96.1.5", [{ name: "http", port: 80, protocol: "TCP" }]),
];

test("A, SRV and PTR through node's resolver over UDP", async (t) => {
  const { port } = await start(t, base);
  const r = resolverFor(port);
  assert.deepEqual(await r.resolve4(`web.shop.svc.${Z}`), ["10.96.1.5"]);
  assert.deepEqual(await r.resolveSrv(`_http._tcp.web.shop.svc.${Z}`), [
    { name: `web.shop.svc.${Z}`, port: 80, priority: 0, weight: 100 },
  ]);
  assert.deepEqual(await r.reverse("10.96.1.5"), [`web.shop.svc.${Z}`]);
  await assert.rejects(r.resolve4(`nope.shop.svc.${Z}`), { code: "ENOTFOUND" });
});

test("answers echo the question's case, are authoritative, carry TTL 5 and the query ID", async (t) => {
  const { port } = await start(t, base);
  const a = await udp(port, query(`WEB.Shop.svc.cluster.LOCAL`, "A", { id: 777 }));
  assert.equal(a.id, 777);
  assert.equal(rcodeOf(a), "NOERROR");
  assert.equal(a.flag_aa, true);
  assert.equal(a.flag_rd, true, "RD echoed");
  assert.equal(a.questions![0]!.name, "WEB.Shop.svc.cluster.LOCAL");
  assert.deepEqual(
    a.answers!.map((x) => [x.name, x.type, (x as { ttl: number }).ttl, (x as { data: unknown }).data]),
    [["WEB.Shop.svc.cluster.LOCAL", "A", 5, "10.96.1.5"]],
  );
  // The same query again is served from the encoded-answer cache with the new ID.
  const b = await udp(port, query(`WEB.Shop.svc.cluster.LOCAL`, "A", { id: 778 }));
  assert.equal(b.id, 778);
  assert.deepEqual(b.answers, a.answers);
});

test("NXDOMAIN and NODATA carry the zone's SOA in the authority section", async (t) => {
  const { port } = await start(t, base);
  const nx = await udp(port, query(`nope.shop.svc.${Z}`, "A"));
  assert.equal(rcodeOf(nx), "NXDOMAIN");
  assert.equal(nx.answers!.length, 0);
  assert.equal(nx.authorities![0]!.type, "SOA");
  assert.equal(nx.authorities![0]!.name, Z);
  const soa = nx.authorities![0] as packet.SoaAnswer;
  assert.equal(soa.data.mname, `ns.dns.${Z}`);
  assert.equal(soa.data.minimum, 5);

  const nodata = await udp(port, query(`web.shop.svc.${Z}`, "AAAA"));
  assert.equal(rcodeOf(nodata), "NOERROR");
  assert.equal(nodata.answers!.length, 0);
  assert.equal(nodata.authorities![0]!.type, "SOA");
});

test("large answers: TC over UDP, complete over TCP and over UDP with a big enough EDNS size", async (t) => {
  const eps = Array.from({ length: 60 }, (_, i) => endpoint(`10.244.3.${i + 1}`));
  const { port } = await start(t, [
    namespace("shop"),
    service("shop", "big", "None"),
    slice("shop", "big-1", "big", eps),
  ]);
  const name = `big.shop.svc.${Z}`;
  const overUdp = await udp(port, query(name, "A"));
  assert.equal(overUdp.flag_tc, true);
  assert.equal(overUdp.answers!.length, 0);
  const raw = await udpExchange(port, query(name, "A"));
  assert.ok(raw.length <= 512);

  const overTcp = await tcp(port, query(name, "A"));
  assert.equal(overTcp.flag_tc, false);
  assert.equal(overTcp.answers!.length, 60);

  const edns = await udp(port, query(name, "A", { edns: 4096 }));
  assert.equal(edns.flag_tc, false);
  assert.equal(edns.answers!.length, 60);
  const opt = edns.additionals!.find((a) => a.type === "OPT") as packet.OptAnswer | undefined;
  assert.ok(opt, "OPT echoed");
  assert.equal(opt.udpPayloadSize, 1232);

  // A small EDNS size still truncates, and the OPT stays in the truncated answer.
  const small = await udp(port, query(name, "A", { edns: 512 }));
  assert.equal(small.flag_tc, true);
  assert.ok(small.additionals!.some((a) => a.type === "OPT"));
});

test("malformed and unsupported queries: FORMERR, NOTIMP, REFUSED, BADVERS", async (t) => {
  const { port } = await start(t, base);
  // A header promising a question that is not there.
  const junk = Buffer.alloc(14);
  junk.writeUInt16BE(99, 0);
  junk.writeUInt16BE(1, 4);
  junk[12] = 0x3f;
  const formerr = await udp(port, junk);
  assert.equal(formerr.id, 99);
  assert.equal(rcodeOf(formerr), "FORMERR");

  const two = packet.encode({
    type: "query",
    id: 5,
    questions: [
      { name: `web.shop.svc.${Z}`, type: "A" },
      { name: `web.shop.svc.${Z}`, type: "AAAA" },
    ],
  });
  assert.equal(rcodeOf(await udp(port, two)), "FORMERR");

  const status = query(`web.shop.svc.${Z}`, "A");
  status.writeUInt16BE(status.readUInt16BE(2) | (2 << 11), 2); // opcode STATUS
  assert.equal(rcodeOf(await udp(port, status)), "NOTIMP");

  assert.equal(rcodeOf(await tcp(port, query(Z, "AXFR"))), "REFUSED");

  const badvers = await udp(port, query(`web.shop.svc.${Z}`, "A", { edns: 1232, ednsVersion: 1 }));
  const opt = badvers.additionals!.find((a) => a.type === "OPT") as packet.OptAnswer;
  assert.equal(opt.extendedRcode, 1, "BADVERS is extended rcode 16");
  assert.equal(badvers.answers!.length, 0);

  // With no upstream, names outside the cluster are refused rather than forwarded.
  assert.equal(rcodeOf(await udp(port, query("example.test", "A"))), "REFUSED");
});

test("forwards other names upstream, retries the next upstream, SERVFAIL when all fail", async (t) => {
  const dead = await upstream(t, () => "silent");
  const live = await upstream(t, (q) =>
    q.name === "example.test" ? [{ name: q.name, type: "A", ttl: 60, data: "192.0.2.1" }] : [],
  );
  const { port } = await start(t, base, [
    { address: "127.0.0.1", port: dead.port },
    { address: "127.0.0.1", port: live.port },
  ]);
  const a = await udp(port, query("example.test", "A", { id: 31337 }));
  assert.equal(a.id, 31337);
  assert.equal(rcodeOf(a), "NOERROR");
  assert.deepEqual(
    a.answers!.map((x) => (x as { data: unknown }).data),
    ["192.0.2.1"],
  );
  assert.deepEqual(dead.seen, ["udp example.test A"]);
  assert.deepEqual(live.seen, ["udp example.test A"]);
  assert.equal(a.flag_ra, true);
  // Unknown reverse names fall through to the upstream too.
  await udp(port, query("9.9.9.10.in-addr.arpa", "PTR"));
  assert.ok(live.seen.includes("udp 9.9.9.10.in-addr.arpa PTR"));

  const { port: port2 } = await start(t, base, [{ address: "127.0.0.1", port: dead.port }]);
  assert.equal(rcodeOf(await udp(port2, query("example.test", "A"))), "SERVFAIL");
});

test("a truncated upstream answer is fetched over TCP for a TCP client", async (t) => {
  const txt = Array.from({ length: 20 }, (_, i) => `record-${i}-${"x".repeat(40)}`);
  const up = await upstream(t, (q) => [{ name: q.name, type: "TXT", ttl: 60, data: txt }]);
  const { port } = await start(t, base, [{ address: "127.0.0.1", port: up.port }]);
  const viaUdp = await udp(port, query("big.example.test", "TXT"));
  assert.equal(viaUdp.flag_tc, true, "UDP client gets the truncated answer to retry itself");
  const viaTcp = await tcp(port, query("big.example.test", "TXT"));
  assert.equal(viaTcp.flag_tc, false);
  assert.equal(viaTcp.answers!.length, 1);
  assert.deepEqual(up.seen, [
    "udp big.example.test TXT",
    "udp big.example.test TXT",
    "tcp big.example.test TXT",
  ]);
});

test("ExternalName: CNAME plus the target's records from upstream", async (t) => {
  const up = await upstream(t, (q) =>
    q.name === "www.example.test" ? [{ name: q.name, type: "A", ttl: 30, data: "192.0.2.7" }] : [],
  );
  const { port } = await start(
    t,
    [namespace("shop"), externalName("shop", "ext", "www.example.test")],
    [{ address: "127.0.0.1", port: up.port }],
  );
  const a = await udp(port, query(`ext.shop.svc.${Z}`, "A"));
  assert.deepEqual(
    a.answers!.map((x) => [x.name, x.type, (x as { data: unknown }).data]),
    [
      [`ext.shop.svc.${Z}`, "CNAME", "www.example.test"],
      ["www.example.test", "A", "192.0.2.7"],
    ],
  );
  const r = resolverFor(port);
  assert.deepEqual(await r.resolve4(`ext.shop.svc.${Z}`), ["192.0.2.7"]);
});

test("pod names, headless per-endpoint names and dns-version over the wire", async (t) => {
  const { port } = await start(t, [
    namespace("shop"),
    service("shop", "db", "None", [{ name: "pg", port: 5432, protocol: "TCP" }]),
    slice(
      "shop",
      "db-1",
      "db",
      [endpoint("10.244.0.5", true, "db-0")],
      [{ name: "pg", port: 5432, protocol: "TCP" }],
    ),
  ]);
  const r = resolverFor(port);
  assert.deepEqual(await r.resolve4(`10-244-0-9.shop.pod.${Z}`), ["10.244.0.9"]);
  assert.deepEqual(await r.resolve4(`db-0.db.shop.svc.${Z}`), ["10.244.0.5"]);
  assert.deepEqual(await r.resolveSrv(`_pg._tcp.db.shop.svc.${Z}`), [
    { name: `db-0.db.shop.svc.${Z}`, port: 5432, priority: 0, weight: 100 },
  ]);
  assert.deepEqual(await r.reverse("10.244.0.5"), [`db-0.db.shop.svc.${Z}`]);
  assert.deepEqual(await r.resolveTxt(`dns-version.${Z}`), [["1.0.1"]]);
});

test("answers follow Service changes (the answer cache is dropped on updates)", async (t) => {
  const { port, fake } = await start(t, base);
  const r = resolverFor(port);
  assert.deepEqual(await r.resolve4(`web.shop.svc.${Z}`), ["10.96.1.5"]);
  const services = fake.resource<Service>("", "services");
  const web = await services.get("shop", "web");
  web.spec!.clusterIP = "10.96.1.6";
  web.spec!.clusterIPs = ["10.96.1.6"];
  await services.update(web);
  let got: string[] = [];
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    got = await r.resolve4(`web.shop.svc.${Z}`);
    if (got[0] === "10.96.1.6") break;
    await new Promise((res) => setTimeout(res, 5));
  }
  assert.deepEqual(got, ["10.96.1.6"]);
  await services.delete("shop", "web");
  let code = "";
  while (Date.now() < until + 5000) {
    code = await r.resolve4(`web.shop.svc.${Z}`).then(
      () => "found",
      (e: { code: string }) => e.code,
    );
    if (code === "ENOTFOUND") break;
    await new Promise((res) => setTimeout(res, 5));
  }
  assert.equal(code, "ENOTFOUND");
});

test("TCP: several queries on one connection, pipelined", async (t) => {
  const { port } = await start(t, base);
  const { connect } = await import("node:net");
  const sock = connect({ host: "127.0.0.1", port });
  t.after(() => sock.destroy());
  const frames = [1, 2, 3].map((id) => {
    const q = query(`web.shop.svc.${Z}`, "A", { id });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(q.length, 0);
    return Buffer.concat([len, q]);
  });
  await new Promise<void>((r) => sock.once("connect", () => r()));
  // Split one frame across writes to exercise reassembly.
  const all = Buffer.concat(frames);
  sock.write(all.subarray(0, 5));
  setTimeout(() => sock.write(all.subarray(5)), 20);
  const ids: number[] = [];
  let got = Buffer.alloc(0);
  await new Promise<void>((resolve) => {
    sock.on("data", (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      while (got.length >= 2 && got.length >= got.readUInt16BE(0) + 2) {
        const len = got.readUInt16BE(0);
        ids.push(packet.decode(got.subarray(2, len + 2)).id!);
        got = got.subarray(len + 2);
      }
      if (ids.length === 3) resolve();
    });
  });
  assert.deepEqual(ids.sort(), [1, 2, 3]);
});

test("types dns-packet does not name (HTTPS, 65) get NODATA; other classes are not answered from the zone", async (t) => {
  const { port } = await start(t, base);
  const https = query(`web.shop.svc.${Z}`, "A");
  https.writeUInt16BE(65, https.length - 4);
  const nodata = await udp(port, https);
  assert.equal(rcodeOf(nodata), "NOERROR");
  assert.equal(nodata.answers!.length, 0);
  assert.equal(nodata.authorities![0]!.type, "SOA");
  assert.equal(nodata.questions![0]!.type, "UNKNOWN_65");

  const chaos = packet.encode({
    type: "query",
    id: 9,
    questions: [{ name: `web.shop.svc.${Z}`, type: "TXT", class: "CH" }],
  });
  const answer = await udp(port, chaos);
  assert.equal(rcodeOf(answer), "REFUSED", "no upstream to forward a CHAOS query to");
});
