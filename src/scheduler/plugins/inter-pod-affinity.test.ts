import assert from "node:assert/strict";
import { test } from "node:test";
import { PodInfo } from "../framework/pod-info.ts";
import { CycleState } from "../framework/types.ts";
import { node, pod, runFilter, snapshotOf } from "../testing.ts";
import {
  ERR_REASON_AFFINITY,
  ERR_REASON_ANTI_AFFINITY,
  ERR_REASON_EXISTING_ANTI_AFFINITY,
  InterPodAffinity,
} from "./inter-pod-affinity.ts";

const HOST = "kubernetes.io/hostname";
const nodes = [
  node("a1", { labels: { zone: "a" } }),
  node("a2", { labels: { zone: "a" } }),
  node("b1", { labels: { zone: "b" } }),
];
const term = (labels: Record<string, string>, key: string) => ({
  topologyKey: key,
  labelSelector: { matchLabels: labels },
});
const affinity = (labels: Record<string, string>, key: string) => ({
  affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(labels, key)] } },
});
const antiAffinity = (labels: Record<string, string>, key: string) => ({
  affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(labels, key)] } },
});

test("InterPodAffinity filter: required affinity, anti-affinity and existing pods' anti-affinity", () => {
  const snap = snapshotOf(nodes, [
    [pod("db", { labels: { app: "db" } }), "a1"],
    [pod("guard", { labels: { app: "guard" }, spec: antiAffinity({ app: "web" }, "zone") }), "b1"],
  ]);
  const cases: [string, Parameters<typeof pod>[1], string, string | null][] = [
    ["affinity same zone", { spec: affinity({ app: "db" }, "zone") }, "a2", null],
    ["affinity other zone", { spec: affinity({ app: "db" }, "zone") }, "b1", ERR_REASON_AFFINITY],
    ["affinity by host", { spec: affinity({ app: "db" }, HOST) }, "a2", ERR_REASON_AFFINITY],
    [
      "affinity nobody matches, not self",
      { spec: affinity({ app: "none" }, "zone") },
      "a1",
      ERR_REASON_AFFINITY,
    ],
    [
      "affinity nobody matches, self",
      { labels: { app: "none" }, spec: affinity({ app: "none" }, "zone") },
      "a1",
      null,
    ],
    ["anti same zone", { spec: antiAffinity({ app: "db" }, "zone") }, "a2", ERR_REASON_ANTI_AFFINITY],
    ["anti other zone", { spec: antiAffinity({ app: "db" }, "zone") }, "b1", null],
    [
      "existing anti rejects web in zone b",
      { labels: { app: "web" } },
      "b1",
      ERR_REASON_EXISTING_ANTI_AFFINITY,
    ],
    ["existing anti allows web in zone a", { labels: { app: "web" } }, "a1", null],
    ["existing anti ignores other namespaces", { labels: { app: "web" }, namespace: "other" }, "b1", null],
  ];
  for (const [name, opts, on, reason] of cases) {
    const st = runFilter(new InterPodAffinity(), snap, pod("p", opts), on);
    assert.equal(st?.reasons[0] ?? null, reason, name);
  }
});

test("InterPodAffinity: counts follow pods added and removed", () => {
  const snap = snapshotOf(nodes);
  const p = pod("p", { spec: antiAffinity({ app: "db" }, HOST) });
  assert.equal(runFilter(new InterPodAffinity(), snap, p, "a1"), null);
  const db = new PodInfo(pod("db", { labels: { app: "db" } }));
  snap.addPod(db, "a1");
  assert.equal(runFilter(new InterPodAffinity(), snap, p, "a1")?.reasons[0], ERR_REASON_ANTI_AFFINITY);
  snap.removePod(db.uid);
  assert.equal(runFilter(new InterPodAffinity(), snap, p, "a1"), null);
});

test("InterPodAffinity score: preferred affinity pulls, preferred anti-affinity pushes", () => {
  const snap = snapshotOf(nodes, [[pod("db", { labels: { app: "db" } }), "a1"]]);
  const pl = new InterPodAffinity();
  const feasible = nodes.map((n) => snap.node(n.metadata.name!)!);
  for (const [kind, best] of [
    ["podAffinity", "a2"],
    ["podAntiAffinity", "b1"],
  ] as const) {
    const p = new PodInfo(
      pod("p", {
        spec: {
          affinity: {
            [kind]: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 50, podAffinityTerm: term({ app: "db" }, "zone") },
              ],
            },
          },
        },
      }),
    );
    const state = new CycleState();
    assert.equal(pl.preScore(state, p, feasible, snap), null);
    const scores = new Float64Array(feasible.map((n) => pl.score(state, p, n)));
    pl.normalizeScore(state, p, feasible, scores);
    const i = feasible.findIndex((n) => n.name === best);
    assert.equal(scores[i], 100, `${kind}: ${[...scores]}`);
  }
});
