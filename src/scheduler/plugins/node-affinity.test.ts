import assert from "node:assert/strict";
import { test } from "node:test";
import { PodInfo } from "../framework/pod-info.ts";
import { CycleState } from "../framework/types.ts";
import { node, pod, runFilter, snapshotOf } from "../testing.ts";
import { ERR_REASON_NODE_AFFINITY, NodeAffinity } from "./node-affinity.ts";

const snap = snapshotOf([
  node("n1", { labels: { zone: "a", disk: "ssd", gen: "5" } }),
  node("n2", { labels: { zone: "b", gen: "3" } }),
]);

function required(
  exprs: { key: string; operator: string; values?: string[] }[],
  fields?: { key: string; operator: string; values?: string[] }[],
) {
  return {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: exprs, ...(fields ? { matchFields: fields } : {}) }],
        },
      },
    },
  };
}

test("NodeAffinity filter: nodeSelector and every operator", () => {
  const cases: [string, Parameters<typeof pod>[1], string, boolean][] = [
    ["selector match", { spec: { nodeSelector: { disk: "ssd" } } }, "n1", true],
    ["selector miss", { spec: { nodeSelector: { disk: "ssd" } } }, "n2", false],
    ["In", { spec: required([{ key: "zone", operator: "In", values: ["a", "c"] }]) }, "n1", true],
    ["In miss", { spec: required([{ key: "zone", operator: "In", values: ["c"] }]) }, "n1", false],
    ["NotIn", { spec: required([{ key: "zone", operator: "NotIn", values: ["a"] }]) }, "n2", true],
    ["NotIn miss", { spec: required([{ key: "zone", operator: "NotIn", values: ["a"] }]) }, "n1", false],
    ["Exists", { spec: required([{ key: "disk", operator: "Exists" }]) }, "n1", true],
    ["Exists miss", { spec: required([{ key: "disk", operator: "Exists" }]) }, "n2", false],
    ["DoesNotExist", { spec: required([{ key: "disk", operator: "DoesNotExist" }]) }, "n2", true],
    ["Gt", { spec: required([{ key: "gen", operator: "Gt", values: ["4"] }]) }, "n1", true],
    ["Gt miss", { spec: required([{ key: "gen", operator: "Gt", values: ["4"] }]) }, "n2", false],
    ["Lt", { spec: required([{ key: "gen", operator: "Lt", values: ["4"] }]) }, "n2", true],
    [
      "matchFields name",
      { spec: required([], [{ key: "metadata.name", operator: "In", values: ["n2"] }]) },
      "n2",
      true,
    ],
    [
      "matchFields name miss",
      { spec: required([], [{ key: "metadata.name", operator: "In", values: ["n2"] }]) },
      "n1",
      false,
    ],
    ["no constraint", {}, "n2", true],
  ];
  for (const [name, opts, on, fits] of cases) {
    const st = runFilter(new NodeAffinity(), snap, pod("p", opts), on);
    assert.equal(st === null, fits, name);
    if (st) {
      assert.equal(st.reasons[0], ERR_REASON_NODE_AFFINITY);
      assert.equal(st.code, "UnschedulableAndUnresolvable");
    }
  }
});

test("NodeAffinity score: preferred term weights, normalized to 100", () => {
  const p = new PodInfo(
    pod("p", {
      spec: {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 10,
                preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] },
              },
              {
                weight: 30,
                preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["b"] }] },
              },
            ],
          },
        },
      },
    }),
  );
  const pl = new NodeAffinity();
  const state = new CycleState();
  assert.equal(pl.preScore(state, p), null);
  const nodes = [snap.node("n1")!, snap.node("n2")!];
  const scores = new Float64Array(nodes.map((n) => pl.score(state, p, n)));
  assert.deepEqual([...scores], [10, 30]);
  pl.normalizeScore(state, p, nodes, scores);
  assert.deepEqual([...scores], [33, 100]);
});
