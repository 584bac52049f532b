import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ipam } from "./ipam.ts";
import { gatewayOf, intToIp, ipToInt, parseCidr } from "./cidr.ts";

test("cidr arithmetic", () => {
  const c = parseCidr("10.244.3.77/24");
  assert.equal(intToIp(c.network), "10.244.3.0");
  assert.equal(c.size, 256);
  assert.equal(gatewayOf(c), "10.244.3.1");
  assert.equal(intToIp(ipToInt("255.1.2.3")), "255.1.2.3");
  assert.throws(() => parseCidr("10.0.0.0"), /invalid pod CIDR/);
  assert.throws(() => ipToInt("10.0.0.256"), /invalid IPv4/);
});

test("Ipam hands out distinct host addresses, is idempotent per owner, persists, and exhausts", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "kites-ipam-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "ipam.json");
  const ipam = new Ipam(file, "10.9.0.0/29"); // hosts .2 … .6 (.1 gateway, .7 broadcast)
  const got = await Promise.all(["a", "b", "c", "d", "e"].map((o) => ipam.allocate(o)));
  assert.deepEqual([...got].sort(), ["10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6"]);
  assert.equal(await ipam.allocate("c"), got[2], "same owner, same address");
  await assert.rejects(ipam.allocate("f"), /exhausted/);
  await ipam.release("b");
  await ipam.release("nobody");
  // A new allocator over the same file (agent restart) sees the same allocations.
  const again = new Ipam(file, "10.9.0.0/29");
  assert.equal(await again.get("a"), got[0]);
  assert.equal(await again.get("b"), undefined);
  assert.equal(await again.allocate("f"), got[1], "the only free address is the released one");
  const saved = JSON.parse(await readFile(file, "utf8")) as { allocations: Record<string, string> };
  assert.equal(Object.keys(saved.allocations).length, 5);
  assert.ok(again.contains("10.9.0.7") && !again.contains("10.9.0.8"));
});
