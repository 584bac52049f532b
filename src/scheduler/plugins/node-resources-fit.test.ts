import assert from "node:assert/strict";
import { test } from "node:test";
import { PodInfo } from "../framework/pod-info.ts";
import { CycleState } from "../framework/types.ts";
import { node, pod, runFilter, snapshotOf } from "../testing.ts";
import { NodeResourcesBalancedAllocation } from "./node-resources-balanced-allocation.ts";
import { NodeResourcesFit } from "./node-resources-fit.ts";

const snap = snapshotOf(
  [node("a", { cpu: "2", memory: "4Gi", pods: "2", extra: { "example.com/gpu": "1" } })],
  [[pod("used", { cpu: "1", memory: "1Gi" }), "a"]],
);

test("NodeResourcesFit filter: requests against allocatable minus requested", () => {
  const cases: [string, Parameters<typeof pod>[1], string[] | null, string?][] = [
    ["fits", { cpu: "1", memory: "3Gi" }, null],
    ["cpu", { cpu: "1500m" }, ["Insufficient cpu"], "Unschedulable"],
    [
      "cpu and memory",
      { cpu: "1500m", memory: "3500Mi" },
      ["Insufficient cpu", "Insufficient memory"],
      "Unschedulable",
    ],
    ["more than the node has", { memory: "5Gi" }, ["Insufficient memory"], "UnschedulableAndUnresolvable"],
    ["best effort fits", {}, null],
    [
      "extended resource",
      {
        spec: {
          containers: [{ name: "c", image: "x", resources: { requests: { "example.com/gpu": "2" } } }],
        },
      },
      ["Insufficient example.com/gpu"],
      "UnschedulableAndUnresolvable",
    ],
    [
      "init container max rule",
      {
        spec: {
          initContainers: [{ name: "i", image: "x", resources: { requests: { cpu: "1500m" } } }],
          containers: [{ name: "c", image: "x", resources: { requests: { cpu: "100m" } } }],
        },
      },
      ["Insufficient cpu"],
    ],
    ["overhead counted", { cpu: "900m", spec: { overhead: { cpu: "200m" } } }, ["Insufficient cpu"]],
  ];
  for (const [name, opts, reasons, code] of cases) {
    const st = runFilter(new NodeResourcesFit(), snap, pod("p", opts), "a");
    assert.deepEqual(st ? [...st.reasons] : null, reasons, name);
    if (st && code) assert.equal(st.code, code, name);
  }
});

test("NodeResourcesFit filter: Too many pods", () => {
  const full = snapshotOf([node("a", { pods: "1" })], [[pod("x"), "a"]]);
  assert.deepEqual(runFilter(new NodeResourcesFit(), full, pod("p"), "a")?.reasons, ["Too many pods"]);
});

test("NodeResourcesFit score: LeastAllocated and MostAllocated; BalancedAllocation", () => {
  const s = snapshotOf(
    [node("empty", { cpu: "4", memory: "8Gi" }), node("half", { cpu: "4", memory: "8Gi" })],
    [[pod("u", { cpu: "2", memory: "4Gi" }), "half"]],
  );
  const p = new PodInfo(pod("p", { cpu: "1", memory: "2Gi" }));
  const state = new CycleState();
  const nodes = [s.node("empty")!, s.node("half")!];
  const least = new NodeResourcesFit("LeastAllocated");
  const most = new NodeResourcesFit("MostAllocated");
  assert.deepEqual(
    nodes.map((n) => least.score(state, p, n)),
    [75, 25],
  );
  assert.deepEqual(
    nodes.map((n) => most.score(state, p, n)),
    [25, 75],
  );
  const bal = new NodeResourcesBalancedAllocation();
  assert.equal(bal.preScore(state, p), null);
  assert.deepEqual(
    nodes.map((n) => bal.score(state, p, n)),
    [100, 100],
  );
  const skewed = new PodInfo(pod("q", { cpu: "2", memory: "0" }));
  // cpu 2/4 = 0.5, memory 0/8 = 0 → std 0.25 → 75.
  assert.equal(bal.score(state, skewed, nodes[0]!), 75);
  assert.equal(bal.preScore(state, new PodInfo(pod("be")))?.code, "Skip");
});
