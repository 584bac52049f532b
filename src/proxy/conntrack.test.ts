/**
 * Unit tests of the stale UDP conntrack decisions, alone and as the proxier applies them
 * after its syncs (recorded, not run).
 */
import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test } from "node:test";
import type { Service } from "../api/types/core-v1.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import { FakeClient } from "../client/fake-client.ts";
import { InformerFactory } from "../client/informer.ts";
import type { ConntrackDeletion } from "./conntrack.ts";
import { staleConntrackEntries, udpPorts } from "./conntrack.ts";
import type { NftRunner } from "./nft-runner.ts";
import { Proxier } from "./proxier.ts";
import { servicePorts } from "./service-ports.ts";
import { ready, slice, svc } from "./test-fixtures.ts";

const dns = svc("dns", {
  type: "NodePort",
  clusterIP: "10.96.0.10",
  externalIPs: ["192.0.2.9"],
  ports: [
    { name: "dns", port: 53, protocol: "UDP", nodePort: 30053 },
    { name: "dns-tcp", port: 53, protocol: "TCP", nodePort: 30054 },
  ],
});
const dnsSlice = (ips: string[]) =>
  slice(
    "dns",
    [
      { name: "dns", port: 5353, protocol: "UDP" },
      { name: "dns-tcp", port: 5353, protocol: "TCP" },
    ],
    ips.map(ready),
  );
const udp = (ips: string[]) => udpPorts(servicePorts(dns, [dnsSlice(ips)]));

test("udpPorts keeps only the UDP ports", () => {
  assert.deepEqual(
    udp(["10.244.0.2"]).map((p) => p.nameString),
    ["default/dns/udp/dns"],
  );
});

test("an endpoint gone: entries DNATed to it through every address of the port are deleted", () => {
  assert.deepEqual(staleConntrackEntries(udp(["10.244.0.2", "10.244.0.3"]), udp(["10.244.0.2"])), [
    ["-D", "-p", "udp", "--orig-dst", "10.96.0.10", "--orig-port-dst", "53", "--dst-nat", "10.244.0.3"],
    ["-D", "-p", "udp", "--orig-dst", "192.0.2.9", "--orig-port-dst", "53", "--dst-nat", "10.244.0.3"],
    ["-D", "-p", "udp", "--orig-port-dst", "30053", "--dst-nat", "10.244.0.3"],
  ]);
  // The Service (or port) gone: every endpoint's entries.
  assert.equal(staleConntrackEntries(udp(["10.244.0.2", "10.244.0.3"]), []).length, 6);
});

test("no endpoints to some: entries to the port's addresses are deleted; no change: nothing", () => {
  const expected = [
    ["-D", "-p", "udp", "--orig-dst", "10.96.0.10", "--orig-port-dst", "53"],
    ["-D", "-p", "udp", "--orig-dst", "192.0.2.9", "--orig-port-dst", "53"],
    ["-D", "-p", "udp", "--orig-port-dst", "30053"],
  ];
  assert.deepEqual(staleConntrackEntries(udp([]), udp(["10.244.0.2"])), expected);
  assert.deepEqual(staleConntrackEntries([], udp(["10.244.0.2"])), expected);
  assert.deepEqual(staleConntrackEntries(udp(["10.244.0.2"]), udp(["10.244.0.2"])), []);
  // An endpoint added to a port that had some: nothing to clear.
  assert.deepEqual(staleConntrackEntries(udp(["10.244.0.2"]), udp(["10.244.0.2", "10.244.0.3"])), []);
  // TCP ports never appear.
  assert.deepEqual(staleConntrackEntries([], []), []);
});

test("the proxier clears after its syncs, not on its first full sync", async (t) => {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const fake = new FakeClient([dns, dnsSlice(["10.244.0.2", "10.244.0.3"])]);
  const informers = new InformerFactory(fake);
  const runner: NftRunner = { apply: () => Promise.resolve(), run: () => Promise.resolve("") };
  const calls: ConntrackDeletion[][] = [];
  const proxier = new Proxier({
    services: informers.informer<Service>("", "services"),
    slices: informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices"),
    runner,
    log: () => undefined,
    conntrack: (d) => {
      calls.push([...d]);
      return Promise.resolve();
    },
  });
  t.after(() => proxier.stop());
  await proxier.start(ac.signal);
  assert.equal(calls.length, 0);
  const slices = fake.resource<EndpointSlice>("discovery.k8s.io", "endpointslices");
  const synced = async () => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    await proxier.idle();
  };
  await slices.update(dnsSlice(["10.244.0.2"]));
  await synced();
  assert.equal(calls.length, 1);
  assert.ok(
    calls[0]!.every((d) => d.includes("10.244.0.3") && d.includes("udp")),
    JSON.stringify(calls),
  );
  assert.equal(calls[0]!.length, 3);
  await slices.update(dnsSlice([]));
  await synced();
  await slices.update(dnsSlice(["10.244.0.4"]));
  await synced();
  assert.equal(calls.length, 3);
  assert.deepEqual(calls[2]![0], ["-D", "-p", "udp", "--orig-dst", "10.96.0.10", "--orig-port-dst", "53"]);
  // A TCP-only change calls nothing.
  await fake
    .resource<Service>("", "services")
    .create(svc("web", { clusterIP: "10.96.0.20", ports: [{ port: 80 }] }));
  await synced();
  assert.equal(calls.length, 3);
});
