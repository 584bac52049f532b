import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test } from "node:test";
import type { Service } from "../api/types/core-v1.ts";
import { FakeClient } from "../client/fake-client.ts";
import { InformerFactory } from "../client/informer.ts";
import { LoadBalancerStatusController } from "./lb-status.ts";
import { svc } from "./test-fixtures.ts";

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

test("LoadBalancer services without a class get the node address; a taken port stays pending", async (t) => {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const lb = (name: string, port: number, created: string, extra: Partial<Service["spec"]> = {}) => {
    const s = svc(name, { type: "LoadBalancer", clusterIP: "10.96.0.9", ports: [{ port }], ...extra });
    s.metadata.creationTimestamp = created;
    return s;
  };
  const fake = new FakeClient([
    lb("a", 80, "2026-01-01T00:00:00Z"),
    lb("b", 80, "2026-01-01T00:01:00Z"),
    lb("c", 443, "2026-01-01T00:02:00Z", { loadBalancerClass: "example.com/other" }),
    svc(
      "d",
      { type: "ClusterIP", clusterIP: "10.96.0.8", ports: [{ port: 80 }] },
      {
        loadBalancer: { ingress: [{ ip: "192.0.2.9" }] },
      },
    ),
  ]);
  const informers = new InformerFactory(fake);
  const c = new LoadBalancerStatusController({
    client: fake,
    services: informers.informer<Service>("", "services"),
    nodeIP: "192.0.2.9",
  });
  c.start(ac.signal);
  const ingress = (name: string) =>
    fake.objects<Service>("", "services").find((s) => s.metadata.name === name)?.status?.loadBalancer
      ?.ingress;
  const run = async () => {
    await settle();
    await c.controller.idle();
    await settle();
    await c.controller.idle();
  };
  await run();
  assert.deepEqual(ingress("a"), [{ ip: "192.0.2.9" }]);
  assert.equal(ingress("b"), undefined, "port 80 is taken by the older a");
  assert.equal(ingress("c"), undefined, "another class: not ours");
  assert.equal(ingress("d"), undefined, "not a LoadBalancer: our address removed");
  const writes = fake.actions
    .filter((a) => a.subresource === "status")
    .map((a) => a.name)
    .sort();
  assert.deepEqual(writes, ["a", "d"]);

  // a goes away: b gets the port.
  await fake.resource("", "services").delete("default", "a");
  await run();
  assert.deepEqual(ingress("b"), [{ ip: "192.0.2.9" }]);

  // b stops being a LoadBalancer: its entry goes.
  const b = fake.objects<Service>("", "services").find((s) => s.metadata.name === "b")!;
  await fake.resource<Service>("", "services").update({ ...b, spec: { ...b.spec, type: "ClusterIP" } });
  await run();
  assert.equal(ingress("b"), undefined);
});
