import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { EndpointSlice } from "../types/discovery-v1.ts";
import type { PriorityClass } from "../types/scheduling-v1.ts";
import { defaultEndpointSlice, defaultPriorityClass } from "./other.ts";

describe("defaultEndpointSlice", () => {
  it("gives ports protocol TCP and an empty name, keeping what is set", () => {
    const s: EndpointSlice = {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "web-abc" },
      addressType: "IPv4",
      endpoints: [],
      ports: [{ port: 80 }, { name: "dns", port: 53, protocol: "UDP" }],
    };
    defaultEndpointSlice(s);
    assert.deepEqual(s.ports, [
      { port: 80, name: "", protocol: "TCP" },
      { name: "dns", port: 53, protocol: "UDP" },
    ]);
  });
});

describe("defaultPriorityClass", () => {
  it("defaults preemptionPolicy to PreemptLowerPriority and keeps Never", () => {
    const pc: PriorityClass = {
      apiVersion: "scheduling.k8s.io/v1",
      kind: "PriorityClass",
      metadata: { name: "high" },
      value: 1000,
    };
    defaultPriorityClass(pc);
    assert.equal(pc.preemptionPolicy, "PreemptLowerPriority");
    const never: PriorityClass = { ...pc, preemptionPolicy: "Never" };
    defaultPriorityClass(never);
    assert.equal(never.preemptionPolicy, "Never");
  });
});
