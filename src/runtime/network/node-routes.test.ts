import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { Node } from "../../api/types/core-v1.ts";
import { FakeClient } from "../../client/fake-client.ts";
import { InformerFactory } from "../../client/informer.ts";
import {
  desiredRoutes,
  NodeRoutes,
  parsePeerRules,
  parseRoutes,
  planRoutes,
  planRules,
  ROUTE_PROTO,
  startNodeRoutes,
} from "./node-routes.ts";

function node(name: string, podCIDR: string | undefined, ip: string | undefined): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name },
    spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
    status: ip
      ? {
          addresses: [
            { type: "Hostname", address: name },
            { type: "InternalIP", address: ip },
          ],
        }
      : {},
  };
}

const self = { nodeName: "a", nodeIP: "192.168.77.1", podCIDR: "10.244.0.0/24" };

test("desiredRoutes: one route per other node, skipping self, missing data, own IP, loopback, overlaps", () => {
  const { routes, skipped } = desiredRoutes(
    [
      node("a", "10.244.0.0/24", "192.168.77.1"),
      node("c", "10.244.2.5/24", "192.168.77.3"),
      node("b", "10.244.1.0/24", "192.168.77.2"),
      node("nocidr", undefined, "192.168.77.4"),
      node("noip", "10.244.4.0/24", undefined),
      node("sameip", "10.244.5.0/24", "192.168.77.1"),
      node("lo", "10.244.6.0/24", "127.0.0.1"),
      node("overlapself", "10.244.0.0/16", "192.168.77.7"),
      node("z-dup", "10.244.1.0/24", "192.168.77.8"),
      node("v6", "fd00::/64", "192.168.77.9"),
    ],
    self,
  );
  assert.deepEqual(routes, [
    { cidr: "10.244.1.0/24", gateway: "192.168.77.2", node: "b" },
    { cidr: "10.244.2.0/24", gateway: "192.168.77.3", node: "c" },
  ]);
  const reasons = new Map(skipped.map((s) => [s.node, s.reason]));
  assert.equal(reasons.has("a"), false);
  assert.match(reasons.get("nocidr") ?? "", /no spec.podCIDR/);
  assert.match(reasons.get("noip") ?? "", /no InternalIP/);
  assert.match(reasons.get("sameip") ?? "", /this node's/);
  assert.match(reasons.get("lo") ?? "", /loopback/);
  assert.match(reasons.get("overlapself") ?? "", /overlaps this node's/);
  assert.match(reasons.get("z-dup") ?? "", /overlaps node b's/);
  assert.match(reasons.get("v6") ?? "", /not an IPv4/);
});

test("desiredRoutes: simulated nodes all on 127.0.0.1 want no routes", () => {
  const { routes } = desiredRoutes(
    [node("a", "10.244.0.0/24", "127.0.0.1"), node("b", "10.244.1.0/24", "127.0.0.1")],
    { nodeName: "a", nodeIP: "127.0.0.1", podCIDR: "10.244.0.0/24" },
  );
  assert.deepEqual(routes, []);
});

test("planRoutes: adds missing, re-points changed, removes stale", () => {
  const plan = planRoutes(
    [
      { cidr: "10.244.1.0/24", gateway: "192.168.77.2", node: "b" },
      { cidr: "10.244.2.0/24", gateway: "192.168.77.30", node: "c" },
      { cidr: "10.244.3.0/24", gateway: "192.168.77.4", node: "d" },
    ],
    [
      { cidr: "10.244.1.0/24", gateway: "192.168.77.2" },
      { cidr: "10.244.2.0/24", gateway: "192.168.77.3" },
      { cidr: "10.244.9.0/24", gateway: "192.168.77.9" },
    ],
  );
  assert.deepEqual(
    plan.replace.map((r) => r.cidr),
    ["10.244.2.0/24", "10.244.3.0/24"],
  );
  assert.deepEqual(plan.remove, [{ cidr: "10.244.9.0/24", gateway: "192.168.77.9" }]);
  assert.deepEqual(planRoutes([], []), { replace: [], remove: [] });
});

test("planRules: RETURN per peer from the own CIDR; stale, foreign-source and duplicate rules go", () => {
  const plan = planRules(
    "10.244.0.0/24",
    [
      { cidr: "10.244.1.0/24", gateway: "x", node: "b" },
      { cidr: "10.244.2.0/24", gateway: "y", node: "c" },
    ],
    [
      { source: "10.244.0.0/24", dest: "10.244.1.0/24" },
      { source: "10.244.0.0/24", dest: "10.244.1.0/24" },
      { source: "10.244.0.0/24", dest: "10.244.7.0/24" },
      { source: "10.244.8.0/24", dest: "10.244.2.0/24" },
    ],
  );
  assert.deepEqual(plan.add, [{ source: "10.244.0.0/24", dest: "10.244.2.0/24" }]);
  assert.deepEqual(plan.remove, [
    { source: "10.244.0.0/24", dest: "10.244.1.0/24" },
    { source: "10.244.0.0/24", dest: "10.244.7.0/24" },
    { source: "10.244.8.0/24", dest: "10.244.2.0/24" },
  ]);
});

test("parseRoutes and parsePeerRules read iproute2 JSON and iptables -S", () => {
  assert.deepEqual(
    parseRoutes(
      '[{"dst":"10.244.1.0/24","gateway":"192.168.77.2","dev":"d0","flags":[]},{"dst":"10.1.2.3","gateway":"1.1.1.1"}]\n',
    ),
    [
      { cidr: "10.244.1.0/24", gateway: "192.168.77.2" },
      { cidr: "10.1.2.3/32", gateway: "1.1.1.1" },
    ],
  );
  assert.deepEqual(parseRoutes(""), []);
  const s = [
    "-N KITES-POSTROUTING",
    "-A KITES-POSTROUTING -s 10.244.0.0/24 -d 10.244.1.0/24 -m comment --comment kites-peer -j RETURN",
    '-A KITES-POSTROUTING -s 10.244.0.0/24 -d 10.244.2.0/24 -m comment --comment "kites-peer" -j RETURN',
    '-A KITES-POSTROUTING -s 10.244.0.0/24 ! -d 10.244.0.0/24 -m comment --comment "kites pods 10.244.0.0/24" -j MASQUERADE',
    "-A KITES-POSTROUTING -s 10.244.0.0/24 -d 10.9.0.0/24 -m comment --comment other -j RETURN",
  ].join("\n");
  assert.deepEqual(parsePeerRules(s), [
    { source: "10.244.0.0/24", dest: "10.244.1.0/24" },
    { source: "10.244.0.0/24", dest: "10.244.2.0/24" },
  ]);
});

// ---- real apply inside a network namespace (root) ----

function sh(args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: "utf8" });
}

function rootSkip(): string | undefined {
  if (process.getuid?.() === 0) return undefined;
  const msg = "SKIPPED: node route tests need root (ip netns, iptables)";
  console.warn(`\n*** ${msg} ***\n`);
  return msg;
}

/** A fresh netns with a link carrying 192.168.77.1/24 (a dummy, or a bridge where dummy is missing). */
function makeNetns(t: { after(fn: () => void): void }): string {
  const ns = `kites-t-${randomBytes(4).toString("hex")}`;
  sh(["ip", "netns", "add", ns]);
  t.after(() => {
    execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  });
  try {
    execFileSync("ip", ["-n", ns, "link", "add", "l0", "type", "dummy"], { stdio: "ignore" });
  } catch {
    sh(["ip", "-n", ns, "link", "add", "l0", "type", "bridge"]);
  }
  sh(["ip", "-n", ns, "addr", "add", "192.168.77.1/24", "dev", "l0"]);
  sh(["ip", "-n", ns, "link", "set", "l0", "up"]);
  // As setupNodeNetwork leaves it: the masquerade rule in KITES-POSTROUTING, jumped to from POSTROUTING.
  const ipt = (a: string[]): string => sh(["ip", "netns", "exec", ns, "iptables", "-w", "-t", "nat", ...a]);
  ipt(["-N", "KITES-POSTROUTING"]);
  ipt(["-A", "POSTROUTING", "-j", "KITES-POSTROUTING"]);
  ipt(["-A", "KITES-POSTROUTING", "-s", "10.244.0.0/24", "!", "-d", "10.244.0.0/24", "-j", "MASQUERADE"]);
  return ns;
}

function routesIn(ns: string): string {
  return sh(["ip", "-n", ns, "route", "show", "proto", String(ROUTE_PROTO)]);
}

function natIn(ns: string): string[] {
  return sh(["ip", "netns", "exec", ns, "iptables", "-w", "-t", "nat", "-S", "KITES-POSTROUTING"])
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("-A "));
}

test(
  "NodeRoutes applies routes and RETURN rules in a netns, follows changes, tears down",
  { skip: rootSkip() },
  async (t) => {
    const ns = makeNetns(t);
    const logs: string[] = [];
    const r = new NodeRoutes({ ...self, netns: ns, log: (m) => logs.push(m) });
    const b = node("b", "10.244.1.0/24", "192.168.77.2");
    const c = node("c", "10.244.2.0/24", "192.168.77.3");
    const far = node("far", "10.244.3.0/24", "10.99.0.1");

    const first = await r.sync([node("a", "10.244.0.0/24", "192.168.77.1"), b, c, far]);
    assert.deepEqual(
      first.routes.map((x) => x.node),
      ["b", "c"],
    );
    assert.equal(first.failed.length, 1);
    assert.match(first.failed[0]!.error, /invalid gateway/i);
    assert.equal(
      logs.filter((l) => l.includes("far") && /not on a directly connected network/.test(l)).length,
      1,
    );
    let routes = routesIn(ns);
    assert.match(routes, /10\.244\.1\.0\/24 via 192\.168\.77\.2 dev l0/);
    assert.match(routes, /10\.244\.2\.0\/24 via 192\.168\.77\.3 dev l0/);
    assert.doesNotMatch(routes, /10\.244\.3\.0/);
    let nat = natIn(ns);
    assert.equal(nat.length, 3);
    assert.match(nat[0]!, /-d 10\.244\.\d\.0\/24 .*kites-peer.* -j RETURN/);
    assert.match(nat[1]!, /-d 10\.244\.\d\.0\/24 .*kites-peer.* -j RETURN/);
    assert.match(nat[2]!, /MASQUERADE/, "RETURN rules come before the MASQUERADE");
    assert.equal(
      nat.some((l) => l.includes("10.244.3.0")),
      false,
      "no RETURN for an unrouted peer",
    );

    // A second sync with nothing new changes nothing and logs the unreachable peer no more.
    const again = await r.sync([b, c, far]);
    assert.equal(again.changed, 0);
    assert.equal(
      logs.filter((l) => l.includes("far") && /not on a directly connected network/.test(l)).length,
      1,
    );

    // b moves to another address; c goes away.
    const b2 = node("b", "10.244.1.0/24", "192.168.77.20");
    await r.sync([b2]);
    routes = routesIn(ns);
    assert.match(routes, /10\.244\.1\.0\/24 via 192\.168\.77\.20 dev l0/);
    assert.doesNotMatch(routes, /10\.244\.2\.0/);
    nat = natIn(ns);
    assert.equal(nat.length, 2);
    assert.match(nat[0]!, /-s 10\.244\.0\.0\/24 -d 10\.244\.1\.0\/24 .*-j RETURN/);

    // b's pod CIDR changes.
    await r.sync([node("b", "10.244.5.0/24", "192.168.77.20")]);
    routes = routesIn(ns);
    assert.doesNotMatch(routes, /10\.244\.1\.0/);
    assert.match(routes, /10\.244\.5\.0\/24 via 192\.168\.77\.20/);
    assert.match(natIn(ns)[0]!, /-d 10\.244\.5\.0\/24/);

    // Teardown: no routes of ours, only the masquerade rule left.
    await r.teardown();
    assert.equal(routesIn(ns).trim(), "");
    nat = natIn(ns);
    assert.equal(nat.length, 1);
    assert.match(nat[0]!, /MASQUERADE/);
    // The connected route is untouched.
    assert.match(sh(["ip", "-n", ns, "route", "show"]), /192\.168\.77\.0\/24 dev l0/);
  },
);

test("startNodeRoutes follows the Node informer and tears down on abort", { skip: rootSkip() }, async (t) => {
  const ns = makeNetns(t);
  const fake = new FakeClient([
    node("a", "10.244.0.0/24", "192.168.77.1"),
    node("b", "10.244.1.0/24", "192.168.77.2"),
  ]);
  const informers = new InformerFactory(fake);
  const ac = new AbortController();
  t.after(() => ac.abort());
  const h = startNodeRoutes({
    teardownOnStop: true,
    ...self,
    informers,
    signal: ac.signal,
    netns: ns,
    resyncMs: 0,
    log: () => undefined,
  });
  informers.start(ac.signal);
  await informers.waitForSync();
  await h.idle();
  assert.match(routesIn(ns), /10\.244\.1\.0\/24 via 192\.168\.77\.2/);

  const nodes = fake.resource<Node>("", "nodes");
  await nodes.create(node("c", "10.244.2.0/24", "192.168.77.3"));
  await nodes.delete(undefined, "b");
  // Wait for the informer to see both changes, then for the reconcile.
  const inf = informers.informer<Node>("", "nodes");
  while (inf.get(undefined, "c") === undefined || inf.get(undefined, "b") !== undefined) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await h.idle();
  const routes = routesIn(ns);
  assert.match(routes, /10\.244\.2\.0\/24 via 192\.168\.77\.3/);
  assert.doesNotMatch(routes, /10\.244\.1\.0/);
  assert.equal(natIn(ns).filter((l) => l.includes("kites-peer")).length, 1);

  ac.abort();
  await h.stopped;
  assert.equal(routesIn(ns).trim(), "");
  assert.equal(natIn(ns).filter((l) => l.includes("kites-peer")).length, 0);
});
