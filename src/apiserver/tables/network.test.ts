import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Endpoints, Service } from "../../api/types/core-v1.ts";
import type { EndpointSlice } from "../../api/types/discovery-v1.ts";
import {
  endpointSlicePrinter,
  endpointsPrinter,
  formatEndpoints,
  serviceExternalIP,
  servicePorts,
  servicePrinter,
} from "./network.ts";

const NOW = Date.parse("2024-05-01T12:00:00Z");
const meta = { name: "web", namespace: "default", creationTimestamp: new Date(NOW - 5_000).toISOString() };

function svc(spec: Service["spec"], status?: Service["status"]): Service {
  return { apiVersion: "v1", kind: "Service", metadata: meta, spec, ...(status ? { status } : {}) };
}

describe("Service", () => {
  it("has upstream's columns", () => {
    assert.deepEqual(
      servicePrinter.columns.map((c) => [c.name, c.priority]),
      [
        ["Name", 0],
        ["Type", 0],
        ["Cluster-IP", 0],
        ["External-IP", 0],
        ["Port(s)", 0],
        ["Age", 0],
        ["Selector", 1],
      ],
    );
  });

  it("prints a NodePort service", () => {
    const s = svc({
      type: "NodePort",
      clusterIP: "10.96.0.20",
      clusterIPs: ["10.96.0.20"],
      ports: [
        { port: 80, nodePort: 30080, protocol: "TCP" },
        { port: 53, protocol: "UDP" },
      ],
      selector: { app: "web", tier: "front" },
    });
    assert.deepEqual(servicePrinter.cells(s, NOW), [
      "web",
      "NodePort",
      "10.96.0.20",
      "<none>",
      "80:30080/TCP,53/UDP",
      "5s",
      "app=web,tier=front",
    ]);
  });

  it("prints a headless service without ports or selector", () => {
    const s = svc({ type: "ClusterIP", clusterIP: "None", clusterIPs: ["None"] });
    assert.deepEqual(servicePrinter.cells(s, NOW), [
      "web",
      "ClusterIP",
      "None",
      "<none>",
      "<none>",
      "5s",
      "<none>",
    ]);
  });

  const external: [string, Service, string][] = [
    [
      "ClusterIP with external IPs",
      svc({ type: "ClusterIP", externalIPs: ["1.2.3.4", "5.6.7.8"] }),
      "1.2.3.4,5.6.7.8",
    ],
    ["LoadBalancer pending", svc({ type: "LoadBalancer" }), "<pending>"],
    [
      "LoadBalancer with ingress, sorted and de-duplicated",
      svc(
        { type: "LoadBalancer" },
        {
          loadBalancer: {
            ingress: [{ ip: "203.0.113.9" }, { hostname: "lb.example.com" }, { ip: "203.0.113.9" }],
          },
        },
      ),
      "203.0.113.9,lb.example.com",
    ],
    [
      "LoadBalancer with ingress and external IPs",
      svc(
        { type: "LoadBalancer", externalIPs: ["1.2.3.4"] },
        { loadBalancer: { ingress: [{ ip: "203.0.113.9" }] } },
      ),
      "203.0.113.9,1.2.3.4",
    ],
    [
      "LoadBalancer with external IPs only",
      svc({ type: "LoadBalancer", externalIPs: ["1.2.3.4"] }),
      "1.2.3.4",
    ],
    ["ExternalName", svc({ type: "ExternalName", externalName: "db.example.com" }), "db.example.com"],
    ["no type", svc({}), "<unknown>"],
  ];
  for (const [name, s, want] of external) {
    it(`EXTERNAL-IP: ${name}`, () => assert.equal(serviceExternalIP(s), want));
  }

  it("PORT(S) is <none> without ports", () => assert.equal(servicePorts([]), "<none>"));
});

describe("Endpoints", () => {
  const ep = (subsets: Endpoints["subsets"]): Endpoints => ({
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: meta,
    ...(subsets ? { subsets } : {}),
  });
  const addrs = (...ips: string[]) => ips.map((ip) => ({ ip }));

  const cases: [string, Endpoints, string][] = [
    ["no subsets", ep(undefined), "<none>"],
    ["subset without addresses", ep([{ ports: [{ port: 80 }] }]), ""],
    [
      "two addresses",
      ep([{ addresses: addrs("10.0.0.1", "10.0.0.2"), ports: [{ port: 80 }] }]),
      "10.0.0.1:80,10.0.0.2:80",
    ],
    [
      "more than three",
      ep([{ addresses: addrs("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"), ports: [{ port: 80 }] }]),
      "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...",
    ],
    [
      "every port of every address counts",
      ep([{ addresses: addrs("10.0.0.1", "10.0.0.2"), ports: [{ port: 80 }, { port: 443 }] }]),
      "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...",
    ],
    ["headless without ports", ep([{ addresses: addrs("10.0.0.1", "10.0.0.2") }]), "10.0.0.1,10.0.0.2"],
    ["IPv6 is bracketed", ep([{ addresses: addrs("fd00::1"), ports: [{ port: 80 }] }]), "[fd00::1]:80"],
  ];
  for (const [name, e, want] of cases) {
    it(name, () => assert.equal(formatEndpoints(e), want));
  }

  it("prints NAME ENDPOINTS AGE", () => {
    assert.deepEqual(
      endpointsPrinter.columns.map((c) => c.name),
      ["Name", "Endpoints", "Age"],
    );
    assert.deepEqual(
      endpointsPrinter.cells(ep([{ addresses: addrs("10.0.0.1"), ports: [{ port: 8080 }] }]), NOW),
      ["web", "10.0.0.1:8080", "5s"],
    );
  });
});

describe("EndpointSlice", () => {
  const slice = (over: Partial<EndpointSlice>): EndpointSlice => ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { ...meta, name: "web-abc12" },
    addressType: "IPv4",
    endpoints: [],
    ...over,
  });

  it("prints ports and endpoints, truncated after three", () => {
    const s = slice({
      ports: [{ port: 80 }, { name: "metrics" }, {}, { port: 9000 }],
      endpoints: [
        { addresses: ["10.0.0.1"] },
        { addresses: ["10.0.0.2", "10.0.0.3"] },
        { addresses: ["10.0.0.4"] },
        { addresses: ["10.0.0.5"] },
      ],
    });
    assert.deepEqual(
      endpointSlicePrinter.columns.map((c) => c.name),
      ["Name", "AddressType", "Ports", "Endpoints", "Age"],
    );
    assert.deepEqual(endpointSlicePrinter.cells(s, NOW), [
      "web-abc12",
      "IPv4",
      "80,metrics,* + 1 more...",
      "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...",
      "5s",
    ]);
  });

  it("prints <unset> for empty ports and endpoints", () => {
    assert.deepEqual(endpointSlicePrinter.cells(slice({}), NOW).slice(2, 4), ["<unset>", "<unset>"]);
  });
});
