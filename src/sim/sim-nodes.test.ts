import { test } from "node:test";
import assert from "node:assert/strict";
import type { Lease } from "../api/types/coordination-v1.ts";
import type { Node } from "../api/types/core-v1.ts";
import { FakeClient } from "../client/fake-client.ts";
import { DEFAULT_SIM_CAPACITY } from "./sim-node.ts";
import { forEachConcurrent, syncSimNodes } from "./sim-nodes.ts";

const opts = (count: number, zones = 1) => ({
  count,
  zones,
  prefix: "kites-sim-",
  capacity: DEFAULT_SIM_CAPACITY,
});

test("creates N nodes with zones and non-colliding pod CIDRs, then scales down highest first", async () => {
  const real: Node = {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "real" },
    spec: { podCIDR: "10.244.1.0/24", podCIDRs: ["10.244.1.0/24"] },
  };
  const fake = new FakeClient([real]);
  const lines: string[] = [];
  const r = await syncSimNodes(fake, opts(3, 2), (l) => lines.push(l));
  assert.deepEqual(r.created.sort(), ["kites-sim-1", "kites-sim-2", "kites-sim-3"]);
  assert.deepEqual(lines.sort(), [
    "node/kites-sim-1 created",
    "node/kites-sim-2 created",
    "node/kites-sim-3 created",
  ]);
  const nodes = fake.resource<Node>("", "nodes");
  const byName = new Map((await nodes.list()).items.map((n) => [n.metadata.name, n]));
  assert.equal(byName.size, 4);
  const cidrs = ["kites-sim-1", "kites-sim-2", "kites-sim-3"].map((n) => byName.get(n)?.spec?.podCIDR);
  assert.deepEqual(
    cidrs.sort(),
    ["10.244.2.0/24", "10.244.3.0/24", "10.244.4.0/24"],
    "10.244.1.0/24 is taken",
  );
  assert.deepEqual(
    ["kites-sim-1", "kites-sim-2", "kites-sim-3"].map(
      (n) => byName.get(n)?.metadata.labels?.["topology.kubernetes.io/zone"],
    ),
    ["zone-0", "zone-1", "zone-0"],
  );

  // a Lease as the simulated kubelet would have made
  const leases = fake.resource<Lease>("coordination.k8s.io", "leases");
  for (const n of ["kites-sim-2", "kites-sim-3"]) {
    await leases.create({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: n, namespace: "kube-node-lease" },
      spec: {},
    });
  }
  const lines2: string[] = [];
  const r2 = await syncSimNodes(fake, opts(1), (l) => lines2.push(l));
  assert.deepEqual(r2.deleted.sort(), ["kites-sim-2", "kites-sim-3"]);
  assert.equal(r2.unchanged, 1);
  assert.deepEqual(lines2.sort(), ["node/kites-sim-2 deleted", "node/kites-sim-3 deleted"]);
  assert.deepEqual((await nodes.list()).items.map((n) => n.metadata.name).sort(), ["kites-sim-1", "real"]);
  assert.equal((await leases.list("kube-node-lease")).items.length, 0);

  const r3 = await syncSimNodes(fake, opts(1), () => assert.fail("nothing to do"));
  assert.deepEqual([r3.created, r3.deleted, r3.unchanged], [[], [], 1]);
});

test("other prefixes and non-simulated nodes with a matching name are respected", async () => {
  const squatter: Node = { apiVersion: "v1", kind: "Node", metadata: { name: "kites-sim-1" } };
  const fake = new FakeClient([squatter]);
  await syncSimNodes(fake, opts(2), () => {});
  await syncSimNodes(fake, { ...opts(1), prefix: "big-" }, () => {});
  const names = (await fake.resource<Node>("", "nodes").list()).items.map((n) => n.metadata.name).sort();
  assert.deepEqual(names, ["big-1", "kites-sim-1", "kites-sim-2", "kites-sim-3"]);
  await syncSimNodes(fake, opts(0), () => {});
  const left = (await fake.resource<Node>("", "nodes").list()).items.map((n) => n.metadata.name).sort();
  assert.deepEqual(left, ["big-1", "kites-sim-1"], "the real kites-sim-1 and the other prefix stay");
});

test("failures are collected and reported after every request was tried", async () => {
  const fake = new FakeClient();
  const nodes = fake.resource<Node>("", "nodes");
  const orig = nodes.create.bind(nodes);
  nodes.create = async (n) => {
    if (n.metadata.name === "kites-sim-2") throw new Error("boom");
    return orig(n);
  };
  await assert.rejects(
    syncSimNodes(fake, opts(3), () => {}),
    /1 request\(s\) failed:\n {2}node\/kites-sim-2: boom/,
  );
  assert.equal((await nodes.list()).items.length, 2);
});

test("bad counts are refused", async () => {
  const fake = new FakeClient();
  await assert.rejects(
    syncSimNodes(fake, opts(-1), () => {}),
    /--count/,
  );
  await assert.rejects(
    syncSimNodes(fake, opts(2, 0), () => {}),
    /--zones/,
  );
});

test("forEachConcurrent bounds the calls in flight", async () => {
  let inFlight = 0;
  let peak = 0;
  const done: number[] = [];
  await forEachConcurrent([...Array(100).keys()], 8, async (i) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setImmediate(r));
    inFlight--;
    done.push(i);
  });
  assert.equal(done.length, 100);
  assert.equal(peak, 8);
});
