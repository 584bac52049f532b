import assert from "node:assert/strict";
import { test } from "node:test";
import {
  affinitySetName,
  endpointChainName,
  externalChainName,
  hash8,
  renderBase,
  renderService,
  serviceChainName,
  VMAP_MIN_ENDPOINTS,
} from "./render.ts";
import { endpointsFor, servicePorts } from "./service-ports.ts";
import { Transaction, diffService } from "./transaction.ts";
import { ready, slice, svc } from "./test-fixtures.ts";

const web = svc("web", {
  clusterIP: "10.96.0.20",
  ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: "http" }],
});

test("chain names follow upstream: hash prefix, ns/name/proto/port, endpoint suffix", () => {
  const h = hash8("default/web/tcp/http");
  assert.match(h, /^[A-Z2-7]{8}$/);
  assert.equal(serviceChainName("default/web/tcp/http"), `service-${h}-default/web/tcp/http`);
  assert.equal(externalChainName("default/web/tcp/http"), `external-${h}-default/web/tcp/http`);
  assert.match(
    endpointChainName("default/web/tcp/http", "10.244.0.2", 8080),
    /^endpoint-[A-Z2-7]{8}-default\/web\/tcp\/http__10\.244\.0\.2\/8080$/,
  );
  // The affinity timeout changes the set's name (a new set replaces the old one).
  assert.notEqual(
    affinitySetName("a/b/tcp/", "1.2.3.4", 80, 10),
    affinitySetName("a/b/tcp/", "1.2.3.4", 80, 20),
  );
});

test("a ClusterIP service: VIP element, service chain picking endpoints, endpoint chains DNAT", () => {
  const ports = servicePorts(web, [
    slice("web", [{ name: "http", port: 8080, protocol: "TCP" }], [ready("10.244.0.3"), ready("10.244.0.2")]),
  ]);
  const r = renderService(ports, { podCIDR: "10.244.0.0/24" });
  const sc = serviceChainName("default/web/tcp/http");
  const e2 = endpointChainName("default/web/tcp/http", "10.244.0.2", 8080);
  const e3 = endpointChainName("default/web/tcp/http", "10.244.0.3", 8080);
  assert.deepEqual(
    [...r.elements.values()],
    [{ map: "service-ips", key: "10.96.0.20 . tcp . 80", value: `goto ${sc}` }],
  );
  assert.deepEqual(r.chains.get(sc), [
    "ip daddr 10.96.0.20 tcp dport 80 ip saddr != 10.244.0.0/24 mark set mark or 0x00004000",
    `numgen random mod 2 == 0 goto ${e2}`,
    `goto ${e3}`,
  ]);
  assert.deepEqual(r.chains.get(e2), [
    "ip saddr 10.244.0.2 mark set mark or 0x00004000",
    "meta l4proto tcp dnat to 10.244.0.2:8080",
  ]);
  assert.equal(r.chains.size, 3);
  assert.equal(r.sets.size, 0);
});

test("endpoints: not-ready left out, terminating only as a fallback, ports matched by name", () => {
  const slices = [
    slice(
      "web",
      [
        { name: "http", port: 8080 },
        { name: "metrics", port: 9090 },
      ],
      [
        ready("10.244.0.2"),
        { addresses: ["10.244.0.3"], conditions: { ready: false, serving: false, terminating: false } },
        { addresses: ["10.244.0.4"], conditions: { ready: false, serving: true, terminating: true } },
        { addresses: ["10.244.0.5"] }, // no conditions: ready
      ],
    ),
    // Another pod set resolved the named port to another number.
    slice("web", [{ name: "http", port: 8081 }], [ready("10.244.0.6")], "web-def"),
  ];
  assert.deepEqual(endpointsFor(slices, "http", "tcp"), [
    { ip: "10.244.0.2", port: 8080 },
    { ip: "10.244.0.5", port: 8080 },
    { ip: "10.244.0.6", port: 8081 },
  ]);
  assert.deepEqual(endpointsFor(slices, "metrics", "tcp").length, 2);
  assert.deepEqual(endpointsFor(slices, "http", "udp"), []);
  // Only terminating-but-serving endpoints left: they are used.
  const draining = [
    slice(
      "web",
      [{ name: "http", port: 8080 }],
      [
        { addresses: ["10.244.0.4"], conditions: { ready: false, serving: true, terminating: true } },
        { addresses: ["10.244.0.7"], conditions: { ready: false, serving: false, terminating: true } },
      ],
    ),
  ];
  assert.deepEqual(endpointsFor(draining, "http", "tcp"), [{ ip: "10.244.0.4", port: 8080 }]);
});

test("no ready endpoints: no chains, reject entries for the VIP and the node port", () => {
  const s = svc("web", {
    type: "NodePort",
    clusterIP: "10.96.0.20",
    ports: [{ name: "http", port: 80, protocol: "TCP", nodePort: 30080 }],
  });
  const r = renderService(servicePorts(s, [slice("web", [], [])]), {});
  assert.equal(r.chains.size, 0);
  assert.deepEqual(
    [...r.elements.values()],
    [
      { map: "no-endpoint-services", key: "10.96.0.20 . tcp . 80", value: "goto reject-chain" },
      { map: "no-endpoint-nodeports", key: "tcp . 30080", value: "goto reject-chain" },
    ],
  );
});

test("NodePort and LoadBalancer go through an external chain that masquerades", () => {
  const s = svc(
    "lb",
    {
      type: "LoadBalancer",
      clusterIP: "10.96.0.30",
      externalIPs: ["192.0.2.50"],
      ports: [{ port: 53, protocol: "UDP", nodePort: 30053 }],
    },
    {
      loadBalancer: {
        ingress: [{ ip: "127.0.0.1" }, { hostname: "x.example" }, { ip: "10.0.0.9", ipMode: "Proxy" }],
      },
    },
  );
  const r = renderService(
    servicePorts(s, [slice("lb", [{ port: 5353, protocol: "UDP" }], [ready("10.244.0.9")])]),
    {},
  );
  const ext = externalChainName("default/lb/udp/");
  const sc = serviceChainName("default/lb/udp/");
  assert.deepEqual(r.chains.get(ext), ["mark set mark or 0x00004000", `goto ${sc}`]);
  assert.deepEqual(
    [...r.elements.values()].map((e) => `${e.map} ${e.key} ${e.value}`),
    [
      `service-ips 10.96.0.30 . udp . 53 goto ${sc}`,
      `service-ips 192.0.2.50 . udp . 53 goto ${ext}`,
      `service-ips 127.0.0.1 . udp . 53 goto ${ext}`,
      `service-nodeports udp . 30053 goto ${ext}`,
    ],
  );
  // Without podCIDR there is no cluster-IP masquerade rule; one endpoint: a plain goto.
  assert.deepEqual(r.chains.get(sc), [`goto ${endpointChainName("default/lb/udp/", "10.244.0.9", 5353)}`]);
});

test("ClientIP affinity: a timed set per endpoint, checked before the random pick, updated on use", () => {
  const s = svc("sticky", {
    clusterIP: "10.96.0.40",
    sessionAffinity: "ClientIP",
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
    ports: [{ port: 80 }],
  });
  const r = renderService(
    servicePorts(s, [slice("sticky", [{ port: 8080 }], [ready("10.244.0.2"), ready("10.244.0.3")])]),
    {},
  );
  const n = "default/sticky/tcp/";
  const a2 = affinitySetName(n, "10.244.0.2", 8080, 60);
  const e2 = endpointChainName(n, "10.244.0.2", 8080);
  const e3 = endpointChainName(n, "10.244.0.3", 8080);
  assert.equal(r.sets.get(a2), "{ type ipv4_addr; flags dynamic,timeout; timeout 60s; }");
  assert.equal(r.sets.size, 2);
  const rules = r.chains.get(serviceChainName(n))!;
  assert.equal(rules[0], `ip saddr @${a2} goto ${e2}`);
  assert.match(rules[1]!, /^ip saddr @affinity-.* goto endpoint-/);
  assert.equal(rules[2], `numgen random mod 2 == 0 goto ${e2}`);
  assert.deepEqual(
    r.chains.get(e3)?.[1],
    `update @${affinitySetName(n, "10.244.0.3", 8080, 60)} { ip saddr }`,
  );
  // Default timeout: 10800 s.
  const d = renderService(
    servicePorts(svc("d", { clusterIP: "10.96.0.41", sessionAffinity: "ClientIP", ports: [{ port: 80 }] }), [
      slice("d", [{ port: 80 }], [ready("10.244.0.2")]),
    ]),
    {},
  );
  assert.match([...d.sets.values()][0]!, /timeout 10800s/);
});

test("many endpoints: one numgen vmap; skipped services render nothing", () => {
  const eps = Array.from({ length: VMAP_MIN_ENDPOINTS }, (_, i) => ready(`10.244.1.${i + 1}`));
  const r = renderService(servicePorts(web, [slice("web", [{ name: "http", port: 80 }], eps)]), {});
  const rules = r.chains.get(serviceChainName("default/web/tcp/http"))!;
  assert.equal(rules.length, 1);
  assert.match(rules[0]!, new RegExp(`^numgen random mod ${VMAP_MIN_ENDPOINTS} vmap \\{ 0 : goto endpoint-`));
  for (const skipped of [
    svc("h", { clusterIP: "None", ports: [{ port: 80 }] }),
    svc("x", { type: "ExternalName", externalName: "example.com" }),
    {
      ...web,
      metadata: { ...web.metadata, labels: { "service.kubernetes.io/service-proxy-name": "other" } },
    },
  ]) {
    assert.deepEqual(servicePorts(skipped, []), []);
  }
});

test("the base table: hooks, maps, masquerade and reject chains, recreated in one go", () => {
  const text = renderBase({ localhostNodePorts: true }).join("\n");
  assert.match(text, /^add table ip kites-proxy .*\ndelete table ip kites-proxy\nadd table ip kites-proxy/);
  assert.match(
    text,
    /add chain ip kites-proxy nat-prerouting \{ type nat hook prerouting priority -100; policy accept; \}/,
  );
  assert.match(text, /add chain ip kites-proxy nat-output \{ type nat hook output priority -100;/);
  assert.match(text, /add chain ip kites-proxy nat-postrouting \{ type nat hook postrouting priority 100;/);
  assert.match(
    text,
    /add rule ip kites-proxy services ip daddr \. meta l4proto \. th dport vmap @service-ips/,
  );
  assert.match(
    text,
    /add rule ip kites-proxy services fib daddr type local meta l4proto \. th dport vmap @service-nodeports/,
  );
  assert.match(text, /add rule ip kites-proxy reject-chain meta l4proto tcp reject with tcp reset/);
  assert.match(text, /add rule ip kites-proxy masquerading masquerade fully-random/);
  assert.match(text, /iifname != "lo" ip daddr 127\.0\.0\.0\/8/);
  // Only our table is ever named.
  for (const line of text.split("\n")) assert.match(line, / ip kites-proxy( |$)/);
});

test("flat service chains: DNAT in the service chain, hairpin pairs in the set, no endpoint chains", () => {
  const ports = servicePorts(web, [
    slice("web", [{ name: "http", port: 8080, protocol: "TCP" }], [ready("10.244.0.3"), ready("10.244.0.2")]),
  ]);
  const r = renderService(ports, { podCIDR: "10.244.0.0/24", flatEndpoints: true });
  const sc = serviceChainName("default/web/tcp/http");
  assert.deepEqual([...r.chains.keys()], [sc]);
  assert.deepEqual(r.chains.get(sc), [
    "ip daddr 10.96.0.20 tcp dport 80 ip saddr != 10.244.0.0/24 mark set mark or 0x00004000",
    "numgen random mod 2 == 0 meta l4proto tcp dnat to 10.244.0.2:8080",
    "meta l4proto tcp dnat to 10.244.0.3:8080",
  ]);
  assert.deepEqual(
    [...r.elements.values()],
    [
      { map: "hairpin-endpoints", key: "10.244.0.2 . 10.244.0.2", value: "" },
      { map: "hairpin-endpoints", key: "10.244.0.3 . 10.244.0.3", value: "" },
      { map: "service-ips", key: "10.96.0.20 . tcp . 80", value: `goto ${sc}` },
    ],
  );
  const tx = new Transaction();
  diffService(undefined, r, tx);
  assert.match(
    tx.text(),
    /^add element ip kites-proxy hairpin-endpoints \{ 10\.244\.0\.2 \. 10\.244\.0\.2 \}$/m,
  );
  // The postrouting rule that masquerades exactly a pod reaching itself.
  assert.ok(
    renderBase().includes(
      "add rule ip kites-proxy masquerading ct status dnat ip saddr . ip daddr @hairpin-endpoints masquerade fully-random",
    ),
  );
  // ClientIP affinity still needs per-endpoint chains (the `update @set` before the DNAT).
  const sticky = svc("web", { ...web.spec, sessionAffinity: "ClientIP" });
  const ra = renderService(
    servicePorts(sticky, [
      slice("web", [{ name: "http", port: 8080, protocol: "TCP" }], [ready("10.244.0.2")]),
    ]),
    { flatEndpoints: true },
  );
  assert.ok(ra.chains.has(endpointChainName("default/web/tcp/http", "10.244.0.2", 8080)));
});
