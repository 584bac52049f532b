import assert from "node:assert/strict";
import { test } from "node:test";
import { endpointChainName, renderService, serviceChainName } from "./render.ts";
import { servicePorts } from "./service-ports.ts";
import { ready, slice, svc } from "./test-fixtures.ts";
import { Transaction, diffService } from "./transaction.ts";

const render = (ips: string[], affinity = false) =>
  renderService(
    servicePorts(
      svc("web", {
        clusterIP: "10.96.0.20",
        ports: [{ port: 80 }],
        ...(affinity ? { sessionAffinity: "ClientIP" as const } : {}),
      }),
      [slice("web", [{ port: 8080 }], ips.map(ready))],
    ),
    {},
  );

const lines = (tx: Transaction) => tx.text().trim().split("\n").filter(Boolean);
const N = "default/web/tcp/";

test("a new service: chains created before their rules, the element last", () => {
  const tx = new Transaction();
  diffService(undefined, render(["10.244.0.2", "10.244.0.3"]), tx);
  const l = lines(tx);
  const firstRule = l.findIndex((x) => x.startsWith("add rule"));
  const lastChain = l.findLastIndex((x) => x.startsWith("add chain"));
  assert.ok(lastChain < firstRule);
  assert.equal(l.filter((x) => x.startsWith("add chain")).length, 3);
  assert.equal(
    l.at(-1),
    `add element ip kites-proxy service-ips { 10.96.0.20 . tcp . 80 : goto ${serviceChainName(N)} }`,
  );
  assert.deepEqual(tx.staleChains, []);
});

test("no change: an empty transaction", () => {
  const tx = new Transaction();
  diffService(render(["10.244.0.2"]), render(["10.244.0.2"]), tx);
  assert.equal(tx.empty, true);
});

test("an endpoint removed: the service chain refilled, the endpoint chain flushed and retired", () => {
  const tx = new Transaction();
  diffService(render(["10.244.0.2", "10.244.0.3"]), render(["10.244.0.2"]), tx);
  const gone = endpointChainName(N, "10.244.0.3", 8080);
  const kept = endpointChainName(N, "10.244.0.2", 8080);
  assert.deepEqual(lines(tx), [
    `flush chain ip kites-proxy ${serviceChainName(N)}`,
    `flush chain ip kites-proxy ${gone}`,
    `add rule ip kites-proxy ${serviceChainName(N)} goto ${kept}`,
  ]);
  assert.deepEqual(tx.staleChains, [gone]);
});

test("endpoints gone: the VIP moves from service-ips to no-endpoint-services", () => {
  const tx = new Transaction();
  diffService(render(["10.244.0.2"]), render([]), tx);
  const l = lines(tx);
  assert.ok(l.includes("delete element ip kites-proxy service-ips { 10.96.0.20 . tcp . 80 }"));
  assert.ok(
    l.includes(
      "add element ip kites-proxy no-endpoint-services { 10.96.0.20 . tcp . 80 : goto reject-chain }",
    ),
  );
  assert.equal(tx.staleChains.length, 2);
});

test("affinity switched off: sets deleted after the chains that used them are flushed", () => {
  const tx = new Transaction();
  diffService(render(["10.244.0.2"], true), render(["10.244.0.2"], false), tx);
  const l = lines(tx);
  const del = l.findIndex((x) => x.startsWith("delete set"));
  assert.ok(del > 0);
  assert.ok(l.findLastIndex((x) => x.startsWith("flush chain")) < del);
  assert.ok(l.findLastIndex((x) => x.startsWith("add rule")) < del);
});

test("the service deleted: its elements deleted, its chains retired", () => {
  const tx = new Transaction();
  diffService(render(["10.244.0.2"]), undefined, tx);
  assert.deepEqual(
    lines(tx).filter((x) => !x.startsWith("flush chain")),
    ["delete element ip kites-proxy service-ips { 10.96.0.20 . tcp . 80 }"],
  );
  assert.equal(tx.staleChains.length, 2);
});
