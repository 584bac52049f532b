import { test } from "node:test";
import assert from "node:assert/strict";
import { podsToDelete } from "./replicaset-ranking.ts";
import { ago, makePod, type PodOptions } from "./replicaset-testing.ts";

const NOW = Date.parse("2030-01-01T00:00:00Z");
const running = (o: PodOptions = {}): PodOptions => ({
  node: "n1",
  readySince: ago(NOW, 3600),
  created: ago(NOW, 7200),
  ...o,
});

/** Each case: two pods; `first` is the one deleted when only one goes. */
const cases: { name: string; a: PodOptions; b: PodOptions; first: "a" | "b" }[] = [
  {
    name: "unassigned before assigned",
    a: running(),
    b: running({ node: undefined, phase: "Pending" }),
    first: "b",
  },
  { name: "Pending before Running", a: running(), b: running({ phase: "Pending" }), first: "b" },
  { name: "Unknown before Running", a: running({ phase: "Unknown" }), b: running(), first: "a" },
  {
    name: "Pending before Unknown",
    a: running({ phase: "Unknown" }),
    b: running({ phase: "Pending" }),
    first: "b",
  },
  { name: "not ready before ready", a: running(), b: running({ readySince: false }), first: "b" },
  {
    name: "lower deletion cost first",
    a: running({ deletionCost: 10 }),
    b: running({ deletionCost: -5 }),
    first: "b",
  },
  {
    name: "ready for shorter before longer",
    a: running({ readySince: ago(NOW, 5) }),
    b: running(),
    first: "a",
  },
  { name: "more restarts first", a: running({ restarts: 1 }), b: running({ restarts: 7 }), first: "b" },
  {
    name: "newer before older",
    a: running({ created: ago(NOW, 86_400) }),
    b: running({ created: ago(NOW, 60) }),
    first: "b",
  },
];

for (const c of cases) {
  test(`surplus ranking: ${c.name}`, () => {
    const a = makePod("a", { uid: "a", ...c.a });
    const b = makePod("b", { uid: "b", ...c.b });
    for (const order of [
      [a, b],
      [b, a],
    ]) {
      const out = podsToDelete(order, order, 1, NOW);
      assert.equal(out[0]!.metadata.name, c.first);
    }
  });
}

test("surplus ranking: pods doubled up on a node go before lone ones", () => {
  const lone = makePod("lone", running({ node: "n1" }));
  const twin1 = makePod("twin1", running({ node: "n2", uid: "1" }));
  const twin2 = makePod("twin2", running({ node: "n2", uid: "2" }));
  const out = podsToDelete([lone, twin1, twin2], [lone, twin1, twin2], 2, NOW);
  assert.deepEqual(out.map((p) => p.metadata.name).sort(), ["twin1", "twin2"]);
});

test("surplus ranking: asking for all (or more) returns every pod; zero returns none", () => {
  const pods = [makePod("a"), makePod("b")];
  assert.equal(podsToDelete(pods, pods, 5, NOW).length, 2);
  assert.equal(podsToDelete(pods, pods, 0, NOW).length, 0);
});
