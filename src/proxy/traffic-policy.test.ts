/**
 * Unit tests of the Local traffic policies: which endpoints count as local, the local chain,
 * the external chain's short circuits, and drop versus reject when no endpoint is usable.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import { externalChainName, localChainName, renderService, serviceChainName } from "./render.ts";
import { categorizeEndpoints, servicePorts } from "./service-ports.ts";
import { slice, svc } from "./test-fixtures.ts";

type Ep = EndpointSlice["endpoints"][number];
const on = (ip: string, nodeName: string, conditions: Ep["conditions"] = { ready: true }): Ep => ({
  addresses: [ip],
  nodeName,
  conditions,
});
const N = "default/web/tcp/";
const cfg = { podCIDR: "10.244.0.0/24", flatEndpoints: true };

test("local endpoints: this node's ready ones, else its serving-terminating ones", () => {
  const s = [
    slice(
      "web",
      [{ port: 8080 }],
      [
        on("10.244.0.2", "n1"),
        on("10.244.1.2", "n2"),
        on("10.244.0.3", "n1", { ready: false, serving: true, terminating: true }),
      ],
    ),
  ];
  assert.deepEqual(categorizeEndpoints(s, "", "tcp", true, "n1"), {
    cluster: [
      { ip: "10.244.0.2", port: 8080 },
      { ip: "10.244.1.2", port: 8080 },
    ],
    local: [{ ip: "10.244.0.2", port: 8080 }],
  });
  const draining = [
    slice(
      "web",
      [{ port: 8080 }],
      [
        on("10.244.1.2", "n2"),
        on("10.244.0.3", "n1", { ready: false, serving: true, terminating: true }),
        on("10.244.0.4", "n1", { ready: false, serving: false, terminating: true }),
      ],
    ),
  ];
  assert.deepEqual(categorizeEndpoints(draining, "", "tcp", true, "n1").local, [
    { ip: "10.244.0.3", port: 8080 },
  ]);
  // Not asked for: no local list; no node name: every endpoint is local.
  assert.deepEqual(categorizeEndpoints(s, "", "tcp", false, "n1").local, []);
  assert.equal(categorizeEndpoints(s, "", "tcp", true, undefined).local.length, 2);
});

test("internalTrafficPolicy Local: the VIP goes to a local chain over local endpoints only", () => {
  const service = svc("web", {
    clusterIP: "10.96.0.20",
    internalTrafficPolicy: "Local",
    ports: [{ port: 80 }],
  });
  const r = renderService(
    servicePorts(
      service,
      [slice("web", [{ port: 8080 }], [on("10.244.0.2", "n1"), on("10.244.1.2", "n2")])],
      "n1",
    ),
    cfg,
  );
  const lc = localChainName(N);
  assert.deepEqual([...r.chains.keys()], [lc]);
  assert.deepEqual(r.chains.get(lc), [
    "ip daddr 10.96.0.20 tcp dport 80 ip saddr != 10.244.0.0/24 mark set mark or 0x00004000",
    "meta l4proto tcp dnat to 10.244.0.2:8080",
  ]);
  assert.equal(r.elements.get("service-ips\t10.96.0.20 . tcp . 80")?.value, `goto ${lc}`);
  // Endpoints only elsewhere: dropped, not rejected (upstream); none at all: rejected.
  const remote = renderService(
    servicePorts(service, [slice("web", [{ port: 8080 }], [on("10.244.1.2", "n2")])], "n1"),
    cfg,
  );
  assert.equal(remote.chains.size, 0);
  assert.deepEqual(
    [...remote.elements.values()],
    [{ map: "no-endpoint-services", key: "10.96.0.20 . tcp . 80", value: "drop" }],
  );
  const none = renderService(servicePorts(service, [slice("web", [{ port: 8080 }], [])], "n1"), cfg);
  assert.equal(none.elements.get("no-endpoint-services\t10.96.0.20 . tcp . 80")?.value, "goto reject-chain");
});

test("externalTrafficPolicy Local: external chain keeps the source for outside traffic", () => {
  const service = svc("web", {
    type: "NodePort",
    clusterIP: "10.96.0.20",
    externalTrafficPolicy: "Local",
    ports: [{ port: 80, nodePort: 30080 }],
  });
  const slices = [slice("web", [{ port: 8080 }], [on("10.244.0.2", "n1"), on("10.244.1.2", "n2")])];
  const r = renderService(servicePorts(service, slices, "n1"), cfg);
  const sc = serviceChainName(N);
  const lc = localChainName(N);
  const ec = externalChainName(N);
  assert.deepEqual(r.chains.get(ec), [
    `ip saddr 10.244.0.0/24 goto ${sc}`,
    "fib saddr type local mark set mark or 0x00004000",
    `fib saddr type local goto ${sc}`,
    `goto ${lc}`,
  ]);
  assert.deepEqual(r.chains.get(lc), ["meta l4proto tcp dnat to 10.244.0.2:8080"]);
  // Cluster-IP traffic still reaches every endpoint.
  assert.equal(r.chains.get(sc)?.length, 3);
  assert.equal(r.elements.get("service-ips\t10.96.0.20 . tcp . 80")?.value, `goto ${sc}`);
  assert.equal(r.elements.get("service-nodeports\ttcp . 30080")?.value, `goto ${ec}`);
  // No local endpoint: the node port drops, the cluster IP still works.
  const remote = renderService(
    servicePorts(service, [slice("web", [{ port: 8080 }], [on("10.244.1.2", "n2")])], "n1"),
    cfg,
  );
  assert.equal(remote.elements.get("no-endpoint-nodeports\ttcp . 30080")?.value, "drop");
  assert.equal(remote.elements.get("service-ips\t10.96.0.20 . tcp . 80")?.value, `goto ${sc}`);
  assert.ok(!remote.chains.has(ec) && !remote.chains.has(lc));
  // A ClusterIP Service without external addresses ignores externalTrafficPolicy.
  const plain = svc("web", {
    clusterIP: "10.96.0.20",
    externalTrafficPolicy: "Local",
    ports: [{ port: 80 }],
  });
  assert.equal(servicePorts(plain, slices, "n1")[0]?.externalLocal, false);
});

test("Local policies with per-endpoint chains share endpoint chains between service and local chain", () => {
  const service = svc("web", {
    type: "NodePort",
    clusterIP: "10.96.0.20",
    externalTrafficPolicy: "Local",
    sessionAffinity: "ClientIP",
    ports: [{ port: 80, nodePort: 30080 }],
  });
  const r = renderService(
    servicePorts(
      service,
      [slice("web", [{ port: 8080 }], [on("10.244.0.2", "n1"), on("10.244.1.2", "n2")])],
      "n1",
    ),
    cfg,
  );
  const lc = r.chains.get(localChainName(N))!;
  assert.match(lc[0]!, /^ip saddr @affinity-.*10\.244\.0\.2\/8080 goto endpoint-/);
  assert.match(lc[1]!, /^goto endpoint-.*10\.244\.0\.2\/8080$/);
  assert.equal([...r.chains.keys()].filter((c) => c.startsWith("endpoint-")).length, 2);
});
