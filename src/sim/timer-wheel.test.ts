import { test } from "node:test";
import assert from "node:assert/strict";
import { TimerWheel } from "./timer-wheel.ts";

test("every key comes due exactly once per turn, spread evenly over the slots", () => {
  const w = new TimerWheel(10);
  for (let i = 0; i < 1000; i++) w.add(`n${i}`);
  const counts = new Map<string, number>();
  const perTick: number[] = [];
  for (let t = 0; t < 10; t++) {
    const due = w.advance();
    perTick.push(due.length);
    for (const k of due) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  assert.equal(counts.size, 1000);
  assert.ok([...counts.values()].every((c) => c === 1));
  assert.deepEqual(perTick, Array(10).fill(100));
});

test("removed keys stop coming due; re-adding is a no-op for present keys", () => {
  const w = new TimerWheel(4);
  const slot = w.add("a");
  assert.equal(w.add("a"), slot);
  w.add("b");
  w.remove("a");
  assert.equal(w.has("a"), false);
  const due: string[] = [];
  for (let t = 0; t < 4; t++) due.push(...w.advance());
  assert.deepEqual(due, ["b"]);
  assert.equal(w.size, 1);
});

test("a key added to an empty wheel goes to the slot due last", () => {
  const w = new TimerWheel(5);
  w.advance();
  w.advance(); // cursor at slot 2
  assert.equal(w.add("x"), 1);
});

test("start() drives the wheel with one timer and stops on abort", async () => {
  const w = new TimerWheel(4);
  w.add("a");
  w.add("b");
  const ac = new AbortController();
  const seen: string[] = [];
  await new Promise<void>((resolve) => {
    w.start(40, ac.signal, (keys) => {
      seen.push(...keys);
      if (seen.length >= 4) {
        ac.abort();
        resolve();
      }
    });
  });
  assert.deepEqual(seen.slice(0, 4).sort(), ["a", "a", "b", "b"]);
});
