import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test, type TestContext } from "node:test";
import type { Lease } from "../../api/types/coordination-v1.ts";
import type { Node, Pod } from "../../api/types/core-v1.ts";
import { requestOf, type Result } from "../../client/controller.ts";
import { FakeClient } from "../../client/fake-client.ts";
import { InformerFactory } from "../../client/informer.ts";
import { DISRUPTION_KEY, NodeLifecycleReconciler } from "./node-lifecycle-controller.ts";
import { TaintEvictionReconciler } from "./taint-eviction.ts";
import { TokenBucket, computeZoneState, zoneKey } from "./zone-disruption.ts";

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

const T0 = Date.parse("2026-01-01T00:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function node(name: string, zone: string): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "topology.kubernetes.io/zone": zone } },
    status: {
      conditions: [
        { type: "Ready", status: "True", lastHeartbeatTime: iso(T0), lastTransitionTime: iso(T0) },
      ],
    },
  };
}

function lease(name: string): Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace: "kube-node-lease" },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date(T0).toISOString() },
  };
}

/** A pod on `nodeName` that tolerates no taint: evicted as soon as its node has a NoExecute one. */
function pod(name: string, nodeName: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    spec: { nodeName, containers: [{ name: "c", image: "x" }] },
    status: { phase: "Running" },
  };
}

/**
 * A cluster of `zones` (zone name → node count; nodes `<zone>-<i>`) with one pod per node,
 * the lifecycle and eviction reconcilers over fake informers and a fake clock, and a queue
 * run as the Controller would (without its timers: the test moves time).
 */
async function cluster(t: TestContext, zones: Record<string, number>) {
  const names: string[] = [];
  const objects: (Node | Lease | Pod)[] = [];
  for (const [zone, count] of Object.entries(zones)) {
    for (let i = 1; i <= count; i++) {
      const name = `${zone}-${i}`;
      names.push(name);
      objects.push(node(name, zone), lease(name), pod(`p-${name}`, name));
    }
  }
  const fake = new FakeClient(objects);
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const informers = new InformerFactory(fake);
  const clock = { ms: T0 };
  const logs: string[] = [];
  const nodes = informers.informer<Node>("", "nodes");
  const pods = informers.informer<Pod>("", "pods");
  const lifecycle = new NodeLifecycleReconciler({
    client: fake,
    nodes,
    leases: informers.informer<Lease>("coordination.k8s.io", "leases", { namespace: "kube-node-lease" }),
    gracePeriodMs: 40_000,
    now: () => clock.ms,
    log: (line) => logs.push(line),
  });
  const eviction = new TaintEvictionReconciler({ client: fake, nodes, pods, now: () => clock.ms });
  const queue = new Set<string>();
  const podQueue = new Set<string>();
  lifecycle.register((k) => queue.add(k));
  eviction.register((k) => podQueue.add(k));
  informers.start(ac.signal);
  await informers.waitForSync();

  let zonePass: Result | void = undefined;
  /** When the zone pass asked to run again (its requeueAfter timer). */
  let zoneTimerAt = Infinity;
  /** Runs queued keys (lifecycle, then evictions) until none is left; failed ones are retried. */
  const drain = async () => {
    for (let round = 0; queue.size + podQueue.size > 0; round++) {
      assert.ok(round < 50, "the queues do not drain");
      for (const key of [...queue]) {
        queue.delete(key);
        try {
          const r = await lifecycle.reconcile(requestOf(key));
          if (key === DISRUPTION_KEY) {
            zonePass = r;
            zoneTimerAt = r?.requeueAfterMs === undefined ? Infinity : clock.ms + r.requeueAfterMs;
          }
        } catch {
          queue.add(key);
        }
        await settle();
      }
      for (const key of [...podQueue]) {
        podQueue.delete(key);
        await eviction.reconcile(requestOf(key));
        await settle();
      }
    }
  };
  const leases = fake.resource<Lease>("coordination.k8s.io", "leases");
  const nodeClient = fake.resource<Node>("", "nodes");
  await drain();
  return {
    fake,
    lifecycle,
    logs,
    clock,
    /**
     * Moves the clock by `ms`; the nodes in `alive` renew their Lease (and post Ready=True if
     * they were not ready); then every node is re-examined, as its timer would, and the
     * queues run. Returns the zone pass's last result.
     */
    async step(ms: number, alive: (name: string) => boolean): Promise<Result | void> {
      clock.ms += ms;
      for (const name of names.filter(alive)) {
        const l = await leases.get("kube-node-lease", name);
        l.spec!.renewTime = new Date(clock.ms).toISOString();
        await leases.update(l);
        const n = await nodeClient.get(undefined, name);
        const ready = n.status!.conditions!.find((c) => c.type === "Ready")!;
        if (ready.status !== "True") {
          Object.assign(ready, { status: "True", lastHeartbeatTime: iso(clock.ms) });
          await nodeClient.updateStatus(n);
        }
      }
      await settle();
      for (const name of names) queue.add(name);
      if (clock.ms >= zoneTimerAt) queue.add(DISRUPTION_KEY);
      zonePass = undefined;
      await drain();
      return zonePass;
    },
    /** Nodes with a NoExecute taint. */
    tainted: () =>
      fake
        .objects<Node>("", "nodes")
        .filter((n) => (n.spec?.taints ?? []).some((x) => x.effect === "NoExecute"))
        .map((n) => n.metadata.name!)
        .sort(),
    /** Nodes whose Ready condition is Unknown. */
    unknown: () =>
      fake
        .objects<Node>("", "nodes")
        .filter((n) => n.status?.conditions?.find((c) => c.type === "Ready")?.status === "Unknown")
        .map((n) => n.metadata.name!)
        .sort(),
    /** Nodes whose pod was evicted. */
    evicted: () => {
      const left = new Set(fake.objects<Pod>("", "pods").map((p) => p.spec!.nodeName!));
      return names.filter((n) => !left.has(n)).sort();
    },
  };
}

const inZone = (zone: string) => (name: string) => name.startsWith(`${zone}-`);
const none = () => false;
const all = () => true;

test("every node silent: no NoExecute taint and no eviction (master disruption mode)", async (t) => {
  const c = await cluster(t, { a: 2, b: 2 });
  await c.step(40_000, none);
  assert.deepEqual(c.unknown(), ["a-1", "a-2", "b-1", "b-2"]);
  assert.deepEqual(c.tainted(), []);
  assert.deepEqual(c.evicted(), []);
  assert.ok(
    c.logs.includes("Controller detected that all Nodes are not-Ready. Entering master disruption mode"),
  );
  assert.equal(c.lifecycle.zones.frozen, true);
  // Still frozen later on: nothing is tainted however long it lasts.
  await c.step(600_000, none);
  assert.deepEqual(c.tainted(), []);
  assert.deepEqual(c.evicted(), []);
  // The zone pass counts a node whose grace period ran out as not ready before its status says so:
  // one node's Unknown status is enough for the pass to see the whole cluster down.
  const early = await cluster(t, { a: 2, b: 2 });
  early.clock.ms += 40_000;
  await early.lifecycle.reconcile({ namespace: "", name: "a-1" });
  await settle();
  assert.deepEqual(early.unknown(), ["a-1"]);
  await early.lifecycle.reconcile(requestOf(DISRUPTION_KEY));
  await settle();
  assert.equal(early.lifecycle.zones.frozen, true);
  assert.deepEqual(early.tainted(), []);
  // Also a single node cluster: its one zone is fully disrupted.
  const one = await cluster(t, { solo: 1 });
  await one.step(40_000, none);
  assert.deepEqual(one.unknown(), ["solo-1"]);
  assert.deepEqual(one.tainted(), []);
});

test("one zone of two silent: its nodes are tainted at the eviction rate; then all silent: taints removed; recovery", async (t) => {
  const c = await cluster(t, { a: 3, b: 3 });
  // Zone a goes silent: FullDisruption while b is Normal → the normal rate, 0.1/s, burst 1.
  const r = await c.step(40_000, inZone("b"));
  assert.deepEqual(c.unknown(), ["a-1", "a-2", "a-3"]);
  assert.equal(c.lifecycle.zones.states.get(":\0:a"), "FullDisruption");
  assert.equal(c.lifecycle.zones.states.get(":\0:b"), "Normal");
  assert.deepEqual(c.tainted(), ["a-1"]);
  assert.deepEqual(c.evicted(), ["a-1"]);
  assert.deepEqual(r, { requeueAfterMs: 10_000 });
  await c.step(10_000, inZone("b"));
  assert.deepEqual(c.tainted(), ["a-1", "a-2"]);
  await c.step(10_000, inZone("b"));
  assert.deepEqual(c.tainted(), ["a-1", "a-2", "a-3"]);
  assert.deepEqual(c.evicted(), ["a-1", "a-2", "a-3"]);

  // Zone b goes silent too: every zone is fully disrupted → the taints go.
  await c.step(40_000, none);
  assert.deepEqual(c.unknown(), ["a-1", "a-2", "a-3", "b-1", "b-2", "b-3"]);
  assert.equal(c.lifecycle.zones.frozen, true);
  assert.deepEqual(c.tainted(), []);
  assert.deepEqual(c.evicted(), ["a-1", "a-2", "a-3"]);

  // Zone b comes back: master disruption mode ends; zone a (still down, FullDisruption while b
  // is healthy) is tainted again at the normal rate, its limiter restarting empty.
  const back = await c.step(5_000, inZone("b"));
  assert.ok(c.logs.includes("Controller detected that some Nodes are Ready. Exiting master disruption mode"));
  assert.equal(c.lifecycle.zones.frozen, false);
  assert.deepEqual(c.tainted(), []);
  assert.deepEqual(back, { requeueAfterMs: 10_000 });
  await c.step(10_000, inZone("b"));
  assert.deepEqual(c.tainted(), ["a-1"]);
  // Zone a comes back: Normal everywhere, no taint left.
  await c.step(1_000, all);
  assert.deepEqual(c.tainted(), []);
  assert.equal(c.lifecycle.zones.states.get(":\0:a"), "Normal");
});

test("partial disruption: a large zone is tainted at the secondary rate, a small one not at all; recovery restores the rate", async (t) => {
  // Zone big: 60 nodes (> 50); 40 go silent (67% ≥ 55%) → PartialDisruption, 0.01/s.
  // Zone small: 6 nodes; 4 go silent → PartialDisruption, ≤ 50 nodes → rate 0.
  const c = await cluster(t, { big: 60, small: 6 });
  const index = (name: string) => Number(name.slice(name.lastIndexOf("-") + 1));
  const alive = (name: string) => (name.startsWith("big-") ? index(name) > 40 : index(name) > 4);
  const r = await c.step(40_000, alive);
  assert.equal(c.unknown().length, 44);
  assert.equal(c.lifecycle.zones.states.get(":\0:big"), "PartialDisruption");
  assert.equal(c.lifecycle.zones.states.get(":\0:small"), "PartialDisruption");
  assert.equal(c.lifecycle.zones.zoneRate(":\0:big"), 0.01);
  assert.equal(c.lifecycle.zones.zoneRate(":\0:small"), 0);
  const first = c.tainted();
  assert.equal(first.length, 1);
  assert.match(first[0]!, /^big-/);
  assert.deepEqual(r, { requeueAfterMs: 100_000 });
  // At the normal rate 0.1/s there would be a second taint after 10 s; here after 100 s.
  await c.step(50_000, alive);
  assert.deepEqual(c.tainted(), first);
  await c.step(50_000, alive);
  const second = c.tainted();
  assert.equal(second.length, 2);
  assert.ok(second.every((n) => n.startsWith("big-") && index(n) <= 40));

  // 30 of big's silent nodes and 2 of small's come back: both zones Normal, 0.1/s again
  // (a new limiter, empty since the old one was waiting).
  const alive2 = (name: string) => (name.startsWith("big-") ? index(name) > 10 : index(name) > 2);
  await c.step(1_000, alive2);
  assert.equal(c.lifecycle.zones.states.get(":\0:big"), "Normal");
  assert.equal(c.lifecycle.zones.states.get(":\0:small"), "Normal");
  assert.ok(
    c.logs.includes('Controller detected that zone is now in new state zone=":\\x00:big" newState="Normal"'),
  );
  // The recovered nodes' taints go at once (if they had one); the remaining wait for a token.
  assert.deepEqual(
    c.tainted(),
    second.filter((n) => index(n) <= 10),
  );
  // Each zone's new limiter starts empty: one node per zone every 10 s from now on.
  const big = () => c.tainted().filter((n) => n.startsWith("big-"));
  const small = () => c.tainted().filter((n) => n.startsWith("small-"));
  const before = big().length;
  assert.deepEqual(small(), []);
  await c.step(9_000, alive2);
  assert.equal(big().length, before);
  assert.deepEqual(small(), []);
  await c.step(1_000, alive2);
  assert.equal(big().length, before + 1);
  assert.equal(small().length, 1);
  await c.step(10_000, alive2);
  assert.equal(big().length, before + 2);
  assert.deepEqual(small(), ["small-1", "small-2"]);
  assert.ok(big().every((n) => index(n) <= 10));
});

test("zone keys, zone states and the token bucket follow upstream", () => {
  const labelled = (labels: Record<string, string>): Node => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "n", labels },
  });
  assert.equal(zoneKey(labelled({})), "");
  assert.equal(zoneKey(labelled({ "topology.kubernetes.io/zone": "z" })), ":\0:z");
  assert.equal(
    zoneKey(
      labelled({
        "topology.kubernetes.io/region": "r",
        "topology.kubernetes.io/zone": "z",
        "failure-domain.beta.kubernetes.io/zone": "old",
      }),
    ),
    "r:\0:old",
  );
  assert.equal(computeZoneState(0, 1, 0.55), "FullDisruption");
  assert.equal(computeZoneState(0, 0, 0.55), "Normal");
  assert.equal(computeZoneState(1, 2, 0.55), "Normal"); // two not ready is never partial
  assert.equal(computeZoneState(2, 3, 0.55), "PartialDisruption");
  assert.equal(computeZoneState(3, 3, 0.55), "Normal");

  const b = new TokenBucket(0.1, 0);
  assert.equal(b.tryTake(0), true);
  assert.equal(b.tryTake(0), false);
  assert.equal(b.msUntilToken(5_000), 5_000);
  assert.equal(b.tryTake(9_999), false);
  assert.equal(b.tryTake(10_000), true);
  assert.equal(new TokenBucket(0, 0).tryTake(1e9), false);
  assert.equal(new TokenBucket(0, 0).msUntilToken(0), undefined);
});
