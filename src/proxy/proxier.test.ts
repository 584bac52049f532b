import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test, type TestContext } from "node:test";
import type { Service } from "../api/types/core-v1.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import type { KubeObject } from "../api/object.ts";
import { FakeClient } from "../client/fake-client.ts";
import { InformerFactory } from "../client/informer.ts";
import type { NftRunner } from "./nft-runner.ts";
import { Proxier } from "./proxier.ts";
import { hash8, type RenderConfig } from "./render.ts";
import { ready, slice, svc } from "./test-fixtures.ts";

class RecordingRunner implements NftRunner {
  scripts: string[] = [];
  failNext = false;
  apply(script: string): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error("nft: Could not process rule"));
    }
    this.scripts.push(script);
    return Promise.resolve();
  }
  run(): Promise<string> {
    return Promise.resolve("");
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

const clusterSvc = (i: number) =>
  svc(`svc${i}`, { clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ name: "http", port: 80 }] });
const clusterSlice = (i: number, ips = [`10.244.${i >> 8}.${i & 255}`, `10.245.${i >> 8}.${i & 255}`]) =>
  slice(`svc${i}`, [{ name: "http", port: 8080 }], ips.map(ready));

async function setup(
  t: TestContext,
  objects: KubeObject[],
  opts: { staleChainDelayMs?: number; render?: RenderConfig } = {},
) {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const fake = new FakeClient(objects);
  const informers = new InformerFactory(fake);
  const runner = new RecordingRunner();
  const proxier = new Proxier({
    services: informers.informer<Service>("", "services"),
    slices: informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices"),
    runner,
    render: { podCIDR: "10.244.0.0/16" },
    log: () => undefined,
    ...opts,
  });
  t.after(() => proxier.stop());
  await proxier.start(ac.signal);
  const sync = async () => {
    await settle();
    await proxier.idle();
  };
  return { fake, runner, proxier, sync };
}

test("the first sync rebuilds the whole table in one transaction", async (t) => {
  const objs: KubeObject[] = [];
  for (let i = 0; i < 50; i++) objs.push(clusterSvc(i), clusterSlice(i));
  const { runner, proxier } = await setup(t, objs);
  assert.equal(runner.scripts.length, 1);
  const s = runner.scripts[0]!;
  assert.match(s, /^add table ip kites-proxy .*\ndelete table ip kites-proxy\n/);
  assert.equal(s.match(/^add element ip kites-proxy service-ips /gm)?.length, 50);
  assert.equal(s.match(/^add chain ip kites-proxy service-/gm)?.length, 50);
  assert.equal(s.match(/^add chain ip kites-proxy endpoint-/gm)?.length, 100);
  assert.equal(proxier.stats.fullSyncs, 1);
});

test("adding one service among many touches only its own chains and elements", async (t) => {
  const objs: KubeObject[] = [];
  for (let i = 0; i < 200; i++) objs.push(clusterSvc(i), clusterSlice(i));
  const { fake, runner, sync } = await setup(t, objs);
  runner.scripts.length = 0;
  await fake.resource("discovery.k8s.io", "endpointslices").create(clusterSlice(500));
  await fake.resource("", "services").create(clusterSvc(500));
  await sync();
  assert.ok(runner.scripts.length >= 1 && runner.scripts.length <= 2);
  const lines = runner.scripts.join("").trim().split("\n");
  // 3 chains, 2x2 endpoint rules, the cluster-IP masquerade rule, 2 picks, 1 element.
  assert.equal(lines.length, 3 + 2 * 2 + 1 + 2 + 1);
  for (const l of lines) assert.match(l, /default\/svc500\/tcp\/http|10\.96\.1\.244 \. tcp \. 80/);
  assert.ok(!lines.some((l) => /table|flush|delete/.test(l)));
});

test("an endpoint going away flushes its chain now and deletes it later", async (t) => {
  // Long enough that the deletion never lands before the first transaction is checked, even
  // on a loaded machine (a 10 ms delay made this test flaky).
  const { fake, runner, sync } = await setup(t, [clusterSvc(1), clusterSlice(1)], {
    staleChainDelayMs: 1000,
  });
  runner.scripts.length = 0;
  const s = fake.objects<EndpointSlice>("discovery.k8s.io", "endpointslices")[0]!;
  await fake.resource<EndpointSlice>("discovery.k8s.io", "endpointslices").update({
    ...s,
    endpoints: [ready("10.244.0.1")],
  });
  await sync();
  assert.equal(runner.scripts.length, 1);
  const gone = "default/svc1/tcp/http__10.245.0.1/8080";
  assert.match(
    runner.scripts[0]!,
    new RegExp(`^flush chain ip kites-proxy endpoint-${hash8(gone)}-${gone}$`, "m"),
  );
  assert.doesNotMatch(runner.scripts[0]!, /element|delete chain/);
  // The retired chain is deleted by a later transaction of its own (bounded wait).
  for (let i = 0; i < 500 && runner.scripts.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(runner.scripts[1], `delete chain ip kites-proxy endpoint-${hash8(gone)}-${gone}\n`);
});

test("a burst of endpoint updates is coalesced into few transactions", async (t) => {
  const objs: KubeObject[] = [];
  for (let i = 0; i < 100; i++) objs.push(clusterSvc(i), clusterSlice(i));
  const { fake, runner, sync } = await setup(t, objs);
  runner.scripts.length = 0;
  const slices = fake.resource<EndpointSlice>("discovery.k8s.io", "endpointslices");
  await Promise.all(
    fake
      .objects<EndpointSlice>("discovery.k8s.io", "endpointslices")
      .map((s) => slices.update({ ...s, endpoints: [...s.endpoints, ready("10.246.0.1")] })),
  );
  await sync();
  assert.ok(runner.scripts.length <= 3, `${runner.scripts.length} transactions`);
  const added = runner.scripts
    .join("")
    .match(/^add chain ip kites-proxy endpoint-.*__10\.246\.0\.1\/8080$/gm);
  assert.equal(added?.length, 100);
});

test("a service losing its endpoints rejects, a deleted service leaves nothing", async (t) => {
  const { fake, runner, sync, proxier } = await setup(t, [clusterSvc(1), clusterSlice(1)]);
  runner.scripts.length = 0;
  const s = fake.objects<EndpointSlice>("discovery.k8s.io", "endpointslices")[0]!;
  await fake.resource<EndpointSlice>("discovery.k8s.io", "endpointslices").update({ ...s, endpoints: [] });
  await sync();
  assert.match(
    runner.scripts[0]!,
    /^delete element ip kites-proxy service-ips \{ 10\.96\.0\.1 \. tcp \. 80 \}$/m,
  );
  assert.match(
    runner.scripts[0]!,
    /^add element ip kites-proxy no-endpoint-services \{ 10\.96\.0\.1 \. tcp \. 80 : goto reject-chain \}$/m,
  );
  await fake.resource("", "services").delete("default", "svc1");
  await sync();
  assert.match(
    runner.scripts.at(-1)!,
    /^delete element ip kites-proxy no-endpoint-services \{ 10\.96\.0\.1 \. tcp \. 80 \}$/m,
  );
  assert.equal(proxier.appliedFor("default/svc1"), undefined);
});

test("a failed transaction is followed by a full resync", async (t) => {
  const { fake, runner, sync, proxier } = await setup(t, [clusterSvc(1), clusterSlice(1)]);
  runner.scripts.length = 0;
  runner.failNext = true;
  await fake.resource("", "services").create(clusterSvc(2));
  // The retry waits 500 ms: wait for it (bounded).
  for (let i = 0; i < 100 && runner.scripts.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  await sync();
  assert.equal(proxier.stats.failures, 1);
  assert.match(runner.scripts[0]!, /^add table ip kites-proxy/);
  assert.match(runner.scripts[0]!, /10\.96\.0\.2 \. tcp \. 80/);
  assert.match(runner.scripts[0]!, /10\.96\.0\.1 \. tcp \. 80/);
});

test("two LoadBalancers on one node port: the first keeps it, the second gets it when freed", async (t) => {
  const lb = (name: string, ip: string) =>
    svc(
      name,
      { type: "LoadBalancer", clusterIP: ip, ports: [{ port: 80 }] },
      {
        loadBalancer: { ingress: [{ ip: "127.0.0.1" }] },
      },
    );
  const { fake, runner, sync, proxier } = await setup(t, [
    lb("a", "10.96.0.1"),
    slice("a", [{ port: 80 }], [ready("10.244.0.2")]),
    lb("b", "10.96.0.2"),
    slice("b", [{ port: 80 }], [ready("10.244.0.3")]),
  ]);
  assert.equal(runner.scripts[0]!.match(/service-ips \{ 127\.0\.0\.1 \. tcp \. 80 /g)?.length, 1);
  const aKeys = [...proxier.appliedFor("default/a")!.elements.keys()];
  const bKeys = [...proxier.appliedFor("default/b")!.elements.keys()];
  assert.ok(aKeys.includes("service-ips\t127.0.0.1 . tcp . 80"));
  assert.ok(!bKeys.includes("service-ips\t127.0.0.1 . tcp . 80"));
  await fake.resource("", "services").delete("default", "a");
  await sync();
  assert.ok(proxier.appliedFor("default/b")!.elements.has("service-ips\t127.0.0.1 . tcp . 80"));
  assert.match(
    runner.scripts.join(""),
    /add element ip kites-proxy service-ips \{ 127\.0\.0\.1 \. tcp \. 80 : goto external-.*default\/b\//,
  );
});

test("flat chains: two Services sharing an endpoint share its hairpin pair, kept until both let go", async (t) => {
  const two = (name: string, ip: string) => svc(name, { clusterIP: ip, ports: [{ port: 80 }] });
  const pair = "hairpin-endpoints\t10.244.0.2 . 10.244.0.2";
  const { fake, runner, sync, proxier } = await setup(
    t,
    [
      two("a", "10.96.0.1"),
      slice("a", [{ port: 80 }], [ready("10.244.0.2")]),
      two("b", "10.96.0.2"),
      slice("b", [{ port: 80 }], [ready("10.244.0.2")]),
    ],
    { render: { podCIDR: "10.244.0.0/16", flatEndpoints: true } },
  );
  assert.equal(
    runner.scripts[0]!.match(/hairpin-endpoints \{ 10\.244\.0\.2 \. 10\.244\.0\.2 \}/g)?.length,
    1,
  );
  const holder = proxier.appliedFor("default/a")!.elements.has(pair) ? "a" : "b";
  const other = holder === "a" ? "b" : "a";
  assert.ok(!proxier.appliedFor(`default/${other}`)!.elements.has(pair));
  runner.scripts.length = 0;
  await fake.resource("", "services").delete("default", holder);
  await sync();
  // The other Service took the pair over: in the table throughout its life.
  assert.ok(proxier.appliedFor(`default/${other}`)!.elements.has(pair));
  const text = runner.scripts.join("");
  assert.match(text, /delete element ip kites-proxy hairpin-endpoints \{ 10\.244\.0\.2 \. 10\.244\.0\.2 \}/);
  assert.match(text, /add element ip kites-proxy hairpin-endpoints \{ 10\.244\.0\.2 \. 10\.244\.0\.2 \}/);
  await fake.resource("", "services").delete("default", other);
  await sync();
  assert.equal(proxier.appliedFor(`default/${other}`), undefined);
});
