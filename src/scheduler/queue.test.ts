import assert from "node:assert/strict";
import { test } from "node:test";
import { PodInfo } from "./framework/pod-info.ts";
import { NODE_RESOURCES_FIT, TAINT_TOLERATION } from "./plugins/names.ts";
import { SchedulingQueue } from "./queue.ts";
import { pod } from "./testing.ts";

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test("queue: priority first, then FIFO", () => {
  const c = clock();
  const q = new SchedulingQueue({ now: c.now });
  q.add(new PodInfo(pod("a"), 0), "ns/a");
  q.add(new PodInfo(pod("b"), 100), "ns/b");
  q.add(new PodInfo(pod("c"), 0), "ns/c");
  assert.deepEqual(
    [q.tryPop()?.key, q.tryPop()?.key, q.tryPop()?.key, q.tryPop()],
    ["ns/b", "ns/a", "ns/c", undefined],
  );
  q.close();
});

test("queue: backoff doubles from 1 s to 10 s", () => {
  const q = new SchedulingQueue();
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => q.backoffDuration(n)),
    [1000, 2000, 4000, 8000, 10000, 10000],
  );
  q.close();
});

test("queue: unschedulable pods move back only on a relevant event", () => {
  const c = clock();
  const q = new SchedulingQueue({ now: c.now });
  q.add(new PodInfo(pod("a")), "ns/a");
  const qp = q.tryPop()!;
  const cycle = q.schedulingCycle;
  q.addUnschedulable(qp, [TAINT_TOLERATION], cycle);
  assert.equal(q.tryPop(), undefined);
  q.moveOnEvent("NodeAllocatableChange");
  assert.equal(q.tryPop(), undefined, "allocatable change does not help a taint rejection");
  c.advance(5000);
  q.moveOnEvent("NodeTaintChange");
  assert.equal(q.tryPop()?.key, "ns/a");
  q.close();
});

test("queue: a pod still backing off goes to the backoff queue, then to active after the timer", async () => {
  const q = new SchedulingQueue({ initialBackoffMs: 20 });
  q.add(new PodInfo(pod("a")), "ns/a");
  const qp = q.tryPop()!;
  q.addUnschedulable(qp, [NODE_RESOURCES_FIT], q.schedulingCycle);
  q.moveOnEvent("AssignedPodDelete");
  assert.equal(q.tryPop(), undefined, "still backing off");
  const popped = await q.pop();
  assert.equal(popped.key, "ns/a");
  assert.equal(popped.attempts, 2);
  q.close();
});

test("queue: a move during the attempt sends the failed pod to backoff, not the pool", async () => {
  const q = new SchedulingQueue({ initialBackoffMs: 10 });
  q.add(new PodInfo(pod("a")), "ns/a");
  const qp = q.tryPop()!;
  const cycle = q.schedulingCycle;
  q.moveOnEvent("NodeAdd");
  q.addUnschedulable(qp, [NODE_RESOURCES_FIT], cycle);
  assert.equal((await q.pop()).key, "ns/a");
  q.close();
});

test("queue: delete forgets the pod; pop waits and is woken by add", async () => {
  const q = new SchedulingQueue();
  q.add(new PodInfo(pod("a")), "ns/a");
  q.delete("ns/a");
  assert.equal(q.tryPop(), undefined);
  const waiting = q.pop();
  q.add(new PodInfo(pod("b")), "ns/b");
  assert.equal((await waiting).key, "ns/b");
  q.close();
});
