import assert from "node:assert/strict";
import { test } from "node:test";
import { PodInfo } from "../framework/pod-info.ts";
import { CycleState } from "../framework/types.ts";
import { node, pod, runFilter, snapshotOf } from "../testing.ts";
import { ERR_REASON_SPREAD, ERR_REASON_SPREAD_LABEL, PodTopologySpread } from "./pod-topology-spread.ts";

const nodes = [
  node("a1", { labels: { zone: "a" } }),
  node("a2", { labels: { zone: "a" } }),
  node("b1", { labels: { zone: "b" } }),
  node("nolabel"),
];
const app = { app: "web" };
const spreadSpec = (maxSkew: number, key = "zone", when = "DoNotSchedule", extra: object = {}) => ({
  topologySpreadConstraints: [
    { maxSkew, topologyKey: key, whenUnsatisfiable: when, labelSelector: { matchLabels: app }, ...extra },
  ],
});

test("PodTopologySpread filter: maxSkew over zones, self match, missing label", () => {
  const snap = snapshotOf(nodes, [
    [pod("w1", { labels: app }), "a1"],
    [pod("w2", { labels: app }), "a2"],
    [pod("other", { labels: { app: "db" } }), "b1"],
  ]);
  // zone a: 2, zone b: 0 (nolabel is not a domain).
  const cases: [number, string, string | null][] = [
    [1, "a1", ERR_REASON_SPREAD],
    [1, "b1", null],
    [2, "a1", ERR_REASON_SPREAD],
    [3, "a1", null],
    [1, "nolabel", ERR_REASON_SPREAD_LABEL],
  ];
  for (const [skew, on, reason] of cases) {
    const st = runFilter(
      new PodTopologySpread(),
      snap,
      pod("new", { labels: app, spec: spreadSpec(skew) }),
      on,
    );
    assert.equal(st?.reasons[0] ?? null, reason, `maxSkew ${skew} on ${on}`);
  }
  // A pod that does not match its own selector does not add itself.
  assert.equal(
    runFilter(new PodTopologySpread(), snap, pod("x", { labels: { app: "x" }, spec: spreadSpec(2) }), "a1"),
    null,
  );
});

test("PodTopologySpread filter: minDomains forces the global minimum to 0", () => {
  const snap = snapshotOf(nodes.slice(0, 3), [
    [pod("w1", { labels: app }), "a1"],
    [pod("w2", { labels: app }), "b1"],
  ]);
  const p = (md?: number) =>
    pod("n", { labels: app, spec: spreadSpec(1, "zone", "DoNotSchedule", md ? { minDomains: md } : {}) });
  assert.equal(runFilter(new PodTopologySpread(), snap, p(), "a1"), null);
  assert.equal(runFilter(new PodTopologySpread(), snap, p(3), "a1")?.reasons[0], ERR_REASON_SPREAD);
});

test("PodTopologySpread filter: only nodes matching the pod's node affinity count", () => {
  const snap = snapshotOf(
    [
      node("a1", { labels: { zone: "a", ssd: "y" } }),
      node("b1", { labels: { zone: "b" } }),
      node("c1", { labels: { zone: "c", ssd: "y" } }),
    ],
    [[pod("w1", { labels: app }), "a1"]],
  );
  // Without affinity zone b (0 pods) is the minimum; with nodeSelector ssd only a and c count.
  const p = pod("n", { labels: app, spec: { ...spreadSpec(1), nodeSelector: { ssd: "y" } } });
  assert.equal(runFilter(new PodTopologySpread(), snap, p, "a1")?.reasons[0], ERR_REASON_SPREAD);
  assert.equal(runFilter(new PodTopologySpread(), snap, p, "c1"), null);
});

test("PodTopologySpread score: ScheduleAnyway prefers emptier domains", () => {
  const snap = snapshotOf(nodes.slice(0, 3), [
    [pod("w1", { labels: app }), "a1"],
    [pod("w2", { labels: app }), "a2"],
  ]);
  const pl = new PodTopologySpread();
  const p = new PodInfo(pod("n", { labels: app, spec: spreadSpec(1, "zone", "ScheduleAnyway") }));
  const state = new CycleState();
  const feasible = [snap.node("a1")!, snap.node("b1")!];
  assert.equal(pl.preScore(state, p, feasible, snap), null);
  const scores = new Float64Array(feasible.map((n) => pl.score(state, p, n)));
  pl.normalizeScore(state, p, feasible, scores);
  assert.ok(scores[1]! > scores[0]!, `b1 ${scores[1]} should beat a1 ${scores[0]}`);
  assert.equal(scores[1], 100);
});
