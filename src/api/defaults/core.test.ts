import { test } from "node:test";
import assert from "node:assert/strict";
import type { Service } from "../types/core-v1.ts";
import { defaultService, patchAllocatedServiceValues } from "./core.ts";

function svc(spec: Service["spec"]): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { name: "s", namespace: "default" }, spec };
}

test("defaultService: LoadBalancer gets traffic policies and node-port allocation flag", () => {
  const s = svc({ type: "LoadBalancer", ports: [{ port: 443, targetPort: "https" }] });
  defaultService(s);
  assert.equal(s.spec!.externalTrafficPolicy, "Cluster");
  assert.equal(s.spec!.internalTrafficPolicy, "Cluster");
  assert.equal(s.spec!.allocateLoadBalancerNodePorts, true);
  assert.equal(s.spec!.ports![0]!.targetPort, "https");
});

test("defaultService: ClientIP affinity gets the three-hour timeout; clusterIPs follow clusterIP", () => {
  const s = svc({ sessionAffinity: "ClientIP", clusterIP: "10.96.0.9", ports: [{ port: 80 }] });
  defaultService(s);
  assert.deepEqual(s.spec!.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  assert.deepEqual(s.spec!.clusterIPs, ["10.96.0.9"]);
});

test("defaultService: ExternalName gets no internalTrafficPolicy or cluster IPs", () => {
  const s = svc({ type: "ExternalName", externalName: "example.com" });
  defaultService(s);
  assert.equal(s.spec!.internalTrafficPolicy, undefined);
  assert.equal(s.spec!.clusterIPs, undefined);
});

test("patchAllocatedServiceValues carries clusterIP and nodePorts over from the stored object", () => {
  const old = svc({
    type: "NodePort",
    clusterIP: "10.96.0.9",
    clusterIPs: ["10.96.0.9"],
    ports: [{ port: 80, protocol: "TCP", nodePort: 30080 }],
  });
  const now = svc({ type: "NodePort", ports: [{ port: 80, protocol: "TCP" }] });
  patchAllocatedServiceValues(now, old);
  assert.equal(now.spec!.clusterIP, "10.96.0.9");
  assert.deepEqual(now.spec!.clusterIPs, ["10.96.0.9"]);
  assert.equal(now.spec!.ports![0]!.nodePort, 30080);
});
