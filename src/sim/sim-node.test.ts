import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildSimNode,
  DEFAULT_SIM_CAPACITY,
  isSimNode,
  nodeInternalIP,
  planNodeCount,
  simNodeIndex,
  simNodeName,
  simZone,
} from "./sim-node.ts";

test("simNodeName / simNodeIndex", () => {
  assert.equal(simNodeName("kites-sim-", 3), "kites-sim-3");
  assert.equal(simNodeIndex("kites-sim-", "kites-sim-3"), 3);
  for (const other of ["kites-sim-0", "kites-sim-03", "kites-sim-", "kites-sim-x", "node-3"]) {
    assert.equal(simNodeIndex("kites-sim-", other), undefined, other);
  }
});

test("simZone spreads nodes round robin over zone-0 … zone-<Z-1>", () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((i) => simZone(i, 2)),
    ["zone-0", "zone-1", "zone-0", "zone-1", "zone-0"],
  );
  assert.equal(simZone(7, 1), "zone-0");
  assert.equal(simZone(7, 0), "zone-0", "zones < 1 means one zone");
});

test("planNodeCount: fill lowest gaps, delete highest first, skip blocked names", () => {
  const cases: [number[], number, number[], { create: number[]; delete: number[] }][] = [
    [[], 3, [], { create: [1, 2, 3], delete: [] }],
    [[1, 2, 3], 1, [], { create: [], delete: [3, 2] }],
    [[1, 3, 7], 5, [], { create: [2, 4], delete: [] }],
    [[1, 3, 7], 2, [], { create: [], delete: [7] }],
    [[2, 3], 3, [], { create: [1], delete: [] }],
    [[1, 2], 2, [], { create: [], delete: [] }],
    [[], 2, [1], { create: [2, 3], delete: [] }],
    [[4, 9], 0, [], { create: [], delete: [9, 4] }],
  ];
  for (const [have, n, blocked, want] of cases) {
    assert.deepEqual(planNodeCount(have, n, blocked), want, `${JSON.stringify(have)} → ${n}`);
  }
});

test("buildSimNode registers labels, capacity, CIDR, addresses and nodeInfo", () => {
  const n = buildSimNode({
    name: "kites-sim-2",
    zone: "zone-1",
    podCIDR: "10.244.2.0/24",
    internalIP: "10.16.244.2",
    capacity: DEFAULT_SIM_CAPACITY,
  });
  assert.equal(isSimNode(n), true);
  assert.deepEqual(
    {
      simulated: n.metadata.labels?.["kites.io/simulated"],
      hostname: n.metadata.labels?.["kubernetes.io/hostname"],
      os: n.metadata.labels?.["kubernetes.io/os"],
      arch: n.metadata.labels?.["kubernetes.io/arch"],
      zone: n.metadata.labels?.["topology.kubernetes.io/zone"],
      type: n.metadata.labels?.["node.kubernetes.io/instance-type"],
    },
    {
      simulated: "true",
      hostname: "kites-sim-2",
      os: "linux",
      arch: "amd64",
      zone: "zone-1",
      type: "kites-sim",
    },
  );
  assert.deepEqual(n.spec?.podCIDRs, ["10.244.2.0/24"]);
  assert.equal(n.spec?.podCIDR, "10.244.2.0/24");
  assert.deepEqual(n.status?.capacity, {
    cpu: "32",
    memory: "256Gi",
    pods: "110",
    "ephemeral-storage": "1Ti",
  });
  assert.deepEqual(n.status?.allocatable, n.status?.capacity);
  assert.equal(nodeInternalIP(n), "10.16.244.2");
  assert.deepEqual(n.status?.addresses?.[1], { type: "Hostname", address: "kites-sim-2" });
  const info = n.status?.nodeInfo;
  assert.equal(info?.kubeletVersion, "v1.33.0-kites");
  assert.equal(info?.containerRuntimeVersion, "kites-sim://0");
  assert.equal(info?.operatingSystem, "linux");
  assert.equal(info?.architecture, "amd64");
  assert.equal(n.status?.conditions, undefined, "conditions come from the simulated kubelet");
  assert.equal(isSimNode({ ...n, metadata: { name: "x" } }), false);
});
