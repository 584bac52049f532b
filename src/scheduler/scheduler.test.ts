import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../api/object.ts";
import type { Event, Pod } from "../api/types/core-v1.ts";
import { InformerFactory } from "../client/informer.ts";
import { FakeClient } from "../client/fake-client.ts";
import { Scheduler } from "./scheduler.ts";
import { node, pod } from "./testing.ts";

async function until(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function ns(name: string): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name } };
}

async function withScheduler(
  objects: KubeObject[],
  fn: (fake: FakeClient, s: Scheduler) => Promise<void>,
): Promise<void> {
  const fake = new FakeClient([ns("default"), ...objects]);
  const informers = new InformerFactory(fake);
  const s = new Scheduler({ client: fake, informers, queue: { initialBackoffMs: 10, maxBackoffMs: 50 } });
  const ac = new AbortController();
  informers.start(ac.signal);
  const running = s.start(ac.signal);
  try {
    await s.ready;
    await fn(fake, s);
  } finally {
    ac.abort();
    await running;
  }
}

const podsOf = (fake: FakeClient) => fake.objects<Pod>("", "pods");
const eventsOf = (fake: FakeClient) => fake.objects<Event>("", "events");

test("Scheduler binds pending pods through pods/binding and records Scheduled", async () => {
  await withScheduler(
    [
      node("n1", { cpu: "2" }),
      node("n2", { cpu: "2" }),
      pod("a", { cpu: "1" }),
      pod("b", { cpu: "1" }),
      pod("c", { cpu: "1" }),
    ],
    async (fake) => {
      await until("three pods bound", () => podsOf(fake).filter((p) => p.spec?.nodeName).length === 3);
      const bindings = fake.actions.filter((a) => a.subresource === "binding");
      assert.equal(bindings.length, 3);
      const perNode = new Map<string, number>();
      for (const p of podsOf(fake)) perNode.set(p.spec!.nodeName!, (perNode.get(p.spec!.nodeName!) ?? 0) + 1);
      assert.ok(
        [...perNode.values()].every((n) => n <= 2),
        "no node over-committed",
      );
      await until(
        "Scheduled events",
        () => eventsOf(fake).filter((e) => e.reason === "Scheduled").length === 3,
      );
      const ev = eventsOf(fake).find((e) => e.involvedObject.name === "a" && e.reason === "Scheduled")!;
      assert.match(ev.message ?? "", /^Successfully assigned default\/a to n[12]$/);
      assert.equal(ev.source?.component, "default-scheduler");
    },
  );
});

test("Scheduler reports FailedScheduling with upstream's message and retries when a node appears", async () => {
  const cp = node("cp", { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] });
  await withScheduler(
    [cp, node("w1", { memory: "1Gi" }), node("w2", { memory: "1Gi" }), pod("big", { memory: "2Gi" })],
    async (fake) => {
      const want =
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. " +
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
      await until("FailedScheduling", () => eventsOf(fake).some((e) => e.reason === "FailedScheduling"));
      const ev = eventsOf(fake).find((e) => e.reason === "FailedScheduling")!;
      assert.equal(ev.type, "Warning");
      assert.equal(ev.message, want);
      await until("PodScheduled condition", () =>
        (podsOf(fake)[0]?.status?.conditions ?? []).some((c) => c.type === "PodScheduled"),
      );
      const cond = podsOf(fake)[0]!.status!.conditions!.find((c) => c.type === "PodScheduled")!;
      assert.deepEqual([cond.status, cond.reason, cond.message], ["False", "Unschedulable", want]);
      assert.ok(
        fake.actions.some((a) => a.verb === "patch" && a.subresource === "status"),
        "condition written through the status subresource",
      );
      await fake.resource("", "nodes").create(node("w3", { memory: "4Gi" }));
      await until("bound to the new node", () => podsOf(fake)[0]?.spec?.nodeName === "w3");
    },
  );
});

test("Scheduler leaves pods of other schedulers alone and preempts for a higher-priority pod", async () => {
  await withScheduler(
    [
      node("n1", { cpu: "1" }),
      pod("other", { cpu: "100m", spec: { schedulerName: "someone-else" } }),
      pod("low", { cpu: "1", priority: 1 }),
    ],
    async (fake, s) => {
      await until(
        "low bound",
        () => podsOf(fake).find((p) => p.metadata.name === "low")?.spec?.nodeName === "n1",
      );
      await fake.resource("", "pods").create(pod("high", { cpu: "1", priority: 100 }));
      await until("low evicted", () => !podsOf(fake).some((p) => p.metadata.name === "low"));
      await until("high nominated or bound", () => {
        const h = podsOf(fake).find((p) => p.metadata.name === "high");
        return h?.status?.nominatedNodeName === "n1" || h?.spec?.nodeName === "n1";
      });
      await until(
        "high bound",
        () => podsOf(fake).find((p) => p.metadata.name === "high")?.spec?.nodeName === "n1",
      );
      assert.equal(podsOf(fake).find((p) => p.metadata.name === "other")?.spec?.nodeName, undefined);
      assert.equal(s.stats.preemptions, 1);
    },
  );
});
