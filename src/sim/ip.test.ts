import { test } from "node:test";
import assert from "node:assert/strict";
import {
  formatIPv4,
  parseCidr4,
  parseIPv4,
  PodCidrAllocator,
  PodIpPool,
  SIM_POD_CIDR_CAPACITY,
} from "./ip.ts";

test("parseIPv4 / formatIPv4 round trip and reject junk", () => {
  assert.equal(formatIPv4(parseIPv4("10.244.1.7")!), "10.244.1.7");
  assert.equal(parseIPv4("255.255.255.255"), 2 ** 32 - 1);
  for (const bad of ["10.244.1", "10.244.1.256", "a.b.c.d", "::1", ""])
    assert.equal(parseIPv4(bad), undefined, bad);
});

test("parseCidr4 masks the base and rejects IPv6", () => {
  assert.deepEqual(parseCidr4("10.244.1.77/24"), { base: parseIPv4("10.244.1.0"), prefix: 24 });
  assert.equal(parseCidr4("fd00::/64"), undefined);
  assert.equal(parseCidr4("10.0.0.0/33"), undefined);
});

test("PodCidrAllocator hands out 10.244.<i>.0/24 from i=1 with matching InternalIPs", () => {
  const a = new PodCidrAllocator([]);
  assert.deepEqual(a.next(), { podCIDR: "10.244.1.0/24", internalIP: "10.16.244.1" });
  assert.deepEqual(a.next(), { podCIDR: "10.244.2.0/24", internalIP: "10.16.244.2" });
});

test("PodCidrAllocator skips CIDRs other nodes hold, small and wide", () => {
  const a = new PodCidrAllocator(["10.244.1.0/24", "10.244.2.128/25", "10.244.4.0/23", "fd00::/64"]);
  assert.equal(a.next().podCIDR, "10.244.3.0/24");
  assert.equal(a.next().podCIDR, "10.244.6.0/24");
});

test("PodCidrAllocator continues past 10.244.255.0 and never enters the service range", () => {
  const a = new PodCidrAllocator([]);
  const seen = new Set<string>();
  let last = "";
  for (let i = 0; i < 5000; i++) {
    const { podCIDR, internalIP } = a.next();
    assert.ok(!seen.has(podCIDR), `duplicate ${podCIDR}`);
    seen.add(podCIDR);
    seen.add(internalIP);
    const second = Number(podCIDR.split(".")[1]);
    assert.ok(second >= 128, `${podCIDR} must not be in 10.96.0.0/12`);
    last = podCIDR;
  }
  assert.equal(seen.size, 10_000, "InternalIPs are unique too");
  assert.equal(last, "10.135.136.0/24"); // 3,071 blocks in 10.244–10.255, then from 10.128.0.0
  assert.ok(SIM_POD_CIDR_CAPACITY > 30_000);
});

test("PodCidrAllocator throws a clear error when the range is exhausted", () => {
  const a = new PodCidrAllocator(["10.0.0.0/8"]);
  assert.throws(() => a.next(), /no free pod CIDR left/);
});

test("PodIpPool allocates lowest free from .2, reuses released addresses, is bounded", () => {
  const p = new PodIpPool("10.244.1.0/24");
  assert.equal(p.allocate("a"), "10.244.1.2");
  assert.equal(p.allocate("b"), "10.244.1.3");
  assert.equal(p.allocate("a"), "10.244.1.2", "same key, same address");
  p.release("a");
  assert.equal(p.get("a"), undefined);
  assert.equal(p.allocate("c"), "10.244.1.2", "a released address is reused");
  const small = new PodIpPool("10.0.0.0/29"); // .2 … .6
  const got = ["p1", "p2", "p3", "p4", "p5", "p6"].map((k) => small.allocate(k));
  assert.deepEqual(got, ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6", undefined]);
  assert.equal(small.allocated, 5);
});

test("PodIpPool.reserve claims an address a running pod already shows", () => {
  const p = new PodIpPool("10.244.1.0/24");
  assert.equal(p.reserve("old", "10.244.1.2"), true);
  assert.equal(p.reserve("other", "10.244.1.2"), false, "held by another pod");
  assert.equal(p.reserve("x", "10.244.2.5"), false, "outside the CIDR");
  assert.equal(p.reserve("x", "10.244.1.255"), false, "broadcast");
  assert.equal(p.allocate("new"), "10.244.1.3");
  assert.equal(p.get("old"), "10.244.1.2");
});

test("PodIpPool refuses a CIDR with no room", () => {
  assert.throws(() => new PodIpPool("10.0.0.0/31"), /no room/);
  assert.throws(() => new PodIpPool("fd00::/64"), /no room/);
});
