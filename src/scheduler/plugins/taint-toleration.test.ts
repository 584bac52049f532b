import assert from "node:assert/strict";
import { test } from "node:test";
import { PodInfo } from "../framework/pod-info.ts";
import { CycleState } from "../framework/types.ts";
import { node, pod, runFilter, snapshotOf } from "../testing.ts";
import { TaintToleration } from "./taint-toleration.ts";

const snap = snapshotOf([
  node("cp", { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] }),
  node("gpu", { taints: [{ key: "gpu", value: "true", effect: "NoExecute" }] }),
  node("soft", { taints: [{ key: "spot", value: "yes", effect: "PreferNoSchedule" }] }),
  node("plain"),
]);

test("TaintToleration filter: NoSchedule and NoExecute need a toleration", () => {
  const cases: [string, unknown[], string | null][] = [
    ["cp", [], "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"],
    [
      "cp",
      [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
      null,
    ],
    ["cp", [{ operator: "Exists" }], null],
    ["gpu", [], "node(s) had untolerated taint {gpu: true}"],
    ["gpu", [{ key: "gpu", operator: "Equal", value: "false" }], "node(s) had untolerated taint {gpu: true}"],
    ["gpu", [{ key: "gpu", operator: "Equal", value: "true", effect: "NoExecute" }], null],
    [
      "gpu",
      [{ key: "gpu", value: "true", effect: "NoSchedule" }],
      "node(s) had untolerated taint {gpu: true}",
    ],
    ["soft", [], null],
    ["plain", [], null],
  ];
  for (const [on, tolerations, reason] of cases) {
    const st = runFilter(
      new TaintToleration(),
      snap,
      pod("p", { spec: { tolerations: tolerations as never } }),
      on,
    );
    assert.equal(st?.reasons[0] ?? null, reason, `${on} ${JSON.stringify(tolerations)}`);
    if (st) assert.equal(st.code, "UnschedulableAndUnresolvable");
  }
});

test("TaintToleration score: untolerated PreferNoSchedule taints score lower", () => {
  const pl = new TaintToleration();
  const nodes = [snap.node("soft")!, snap.node("plain")!];
  for (const [tolerations, want] of [
    [[], [0, 100]],
    [[{ key: "spot", operator: "Exists", effect: "PreferNoSchedule" }], [100, 100]],
  ] as const) {
    const p = new PodInfo(pod("p", { spec: { tolerations: tolerations as never } }));
    const state = new CycleState();
    pl.preScore(state, p);
    const scores = new Float64Array(nodes.map((n) => pl.score(state, p, n)));
    pl.normalizeScore(state, p, nodes, scores);
    assert.deepEqual([...scores], want);
  }
});
