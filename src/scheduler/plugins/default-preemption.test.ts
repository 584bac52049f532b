import assert from "node:assert/strict";
import { test } from "node:test";
import { SchedulingAlgorithm } from "../algorithm.ts";
import { PodInfo } from "../framework/pod-info.ts";
import { buildFramework } from "../registry.ts";
import { node, pod, snapshotOf } from "../testing.ts";
import { NOT_ELIGIBLE_NEVER, pickOneNodeForPreemption } from "./default-preemption.ts";

function attempt(placed: [ReturnType<typeof pod>, string][], preemptor: ReturnType<typeof pod>) {
  const snap = snapshotOf([node("n1", { cpu: "2" }), node("n2", { cpu: "2" })], placed);
  const fw = buildFramework({ snapshot: snap, random: () => 0 });
  const algo = new SchedulingAlgorithm(snap, fw, { random: () => 0 });
  const info = new PodInfo(preemptor);
  const r = algo.schedule(info);
  assert.ok("error" in r, "the preemptor must not fit before preemption");
  const res = fw.postFilters[0]!.postFilter(r.state, info, r.error.statuses);
  if (res.status) r.error.postFilterMsg = res.status.message();
  return { res, message: r.error.message() };
}

test("DefaultPreemption: evicts the fewest lowest-priority pods and nominates the node", () => {
  const { res } = attempt(
    [
      [pod("low-a", { cpu: "1", priority: 1 }), "n1"],
      [pod("low-b", { cpu: "1", priority: 1 }), "n1"],
      [pod("mid", { cpu: "1500m", priority: 5 }), "n2"],
    ],
    pod("high", { cpu: "1", priority: 10 }),
  );
  assert.equal(res.status, null);
  // n1: one victim of priority 1 suffices; n2 needs the priority-5 pod.
  assert.equal(res.result?.nominatedNodeName, "n1");
  assert.equal(res.victims?.length, 1);
  assert.equal(res.victims?.[0]?.priority, 1);
});

test("DefaultPreemption: nothing lower to evict, and preemptionPolicy Never", () => {
  const placed: [ReturnType<typeof pod>, string][] = [
    [pod("a", { cpu: "2", priority: 10 }), "n1"],
    [pod("b", { cpu: "2", priority: 10 }), "n2"],
  ];
  const none = attempt(placed, pod("p", { cpu: "1", priority: 10 }));
  assert.equal(
    none.message,
    "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
  );
  const never = attempt(
    [
      [pod("low", { cpu: "2", priority: 1 }), "n1"],
      [pod("low2", { cpu: "2", priority: 1 }), "n2"],
    ],
    pod("p", { cpu: "1", priority: 10, spec: { preemptionPolicy: "Never" } }),
  );
  assert.equal(
    never.message,
    `0/2 nodes are available: 2 Insufficient cpu. preemption: ${NOT_ELIGIBLE_NEVER}`,
  );
  const tooBig = attempt([], pod("p", { cpu: "3", priority: 10 }));
  assert.equal(
    tooBig.message,
    "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
  );
});

test("pickOneNodeForPreemption: lowest top priority, then sum, then count", () => {
  const v = (p: number) => new PodInfo(pod(`v${p}`, { priority: p }));
  const pick = pickOneNodeForPreemption([
    { node: "x", victims: [v(5)] },
    { node: "y", victims: [v(3), v(3)] },
    { node: "z", victims: [v(3), v(1)] },
  ]);
  assert.equal(pick.node, "z");
});
