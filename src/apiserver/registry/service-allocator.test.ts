import assert from "node:assert/strict";
import { test } from "node:test";
import type { Service } from "../../api/types/core-v1.ts";
import { isInvalid } from "../../api/status-error.ts";
import { startTestApiServer } from "../../testing/api-server.ts";
import { AllocationError, RangeBitmap, ServiceAllocator } from "./service-allocator.ts";

const svc = (name: string, spec: Service["spec"]): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: "default" },
  spec: { type: "ClusterIP", ports: [{ port: 80, protocol: "TCP" }], ...spec },
});

test("dynamic values come from the upper band and fall back to the lower one when it is full", () => {
  const b = new RangeBitmap(20, 4);
  const got = new Set<number>();
  for (let i = 0; i < 16; i++) got.add(b.next()!);
  assert.deepEqual(
    [...got].sort((x, y) => x - y),
    Array.from({ length: 16 }, (_, i) => i + 4),
  );
  const low = b.next()!;
  assert.ok(low < 4);
  for (let i = 0; i < 3; i++) b.next();
  assert.equal(b.next(), undefined);
  assert.equal(b.free, 0);
});

test("a cluster IP is handed out once, outside the band kept for requested addresses", () => {
  const a = new ServiceAllocator();
  const s1 = svc("a", {});
  a.allocate(s1).commit();
  const ip = s1.spec!.clusterIP!;
  assert.match(ip, /^10\.(9[6-9]|10[0-9]|11[01])\./);
  assert.deepEqual(s1.spec!.clusterIPs, [ip]);
  assert.notEqual(ip, "10.96.0.10");
  // The same address asked for again is refused with upstream's wording.
  assert.throws(
    () => a.allocate(svc("b", { clusterIP: ip, clusterIPs: [ip] })),
    (e: unknown) => e instanceof AllocationError && /provided IP is already allocated/.test(e.message),
  );
  assert.throws(
    () => a.allocate(svc("c", { clusterIP: "10.0.0.1" })),
    (e: unknown) =>
      e instanceof AllocationError &&
      /not in the valid range\. The range of valid IPs is 10\.96\.0\.0\/12/.test(e.message),
  );
  // Headless and ExternalName services hold no address.
  const h = svc("h", { clusterIP: "None" });
  a.allocate(h).commit();
  assert.equal(h.spec!.clusterIP, "None");
});

test("node ports: requested, allocated, shared by TCP and UDP of one port, released on type change", () => {
  const a = new ServiceAllocator();
  const s = svc("np", {
    type: "NodePort",
    ports: [
      { name: "dns", port: 53, protocol: "UDP" },
      { name: "dns-tcp", port: 53, protocol: "TCP" },
      { name: "web", port: 80, protocol: "TCP", nodePort: 30080 },
    ],
  });
  const before = a.freeCounts.ports;
  a.allocate(s).commit();
  const [udp, tcp, web] = s.spec!.ports!;
  assert.equal(udp!.nodePort, tcp!.nodePort);
  assert.equal(web!.nodePort, 30080);
  assert.equal(a.freeCounts.ports, before - 2);
  assert.throws(
    () => a.allocate(svc("x", { type: "NodePort", ports: [{ port: 1, nodePort: 30080 }] })),
    /provided port is already allocated/,
  );
  // An update to ClusterIP without node ports gives them back once stored.
  const next = structuredClone(s);
  next.spec!.type = "ClusterIP";
  for (const p of next.spec!.ports!) delete p.nodePort;
  const alloc = a.allocate(next, s);
  assert.equal(a.freeCounts.ports, before - 2);
  alloc.commit();
  assert.equal(a.freeCounts.ports, before);
});

test("a failed write gives back what it reserved; restore marks what stored services hold", () => {
  const a = new ServiceAllocator();
  const free = a.freeCounts.ips;
  const s = svc("a", {});
  a.allocate(s).rollback();
  assert.equal(a.freeCounts.ips, free);
  const b = new ServiceAllocator();
  b.restore([svc("k", { clusterIP: "10.96.0.1", clusterIPs: ["10.96.0.1"] })]);
  assert.throws(() => b.allocate(svc("again", { clusterIP: "10.96.0.1" })), /already allocated/);
});

test("through the API: allocated on create, refused twice with 422, free again after delete, not held by dry runs", async () => {
  const t = await startTestApiServer();
  try {
    const api = t.client.resource<Service>("", "services");
    const a = await api.create(svc("a", {}));
    const ip = a.spec!.clusterIP!;
    await assert.rejects(api.create(svc("b", { clusterIP: ip })), (e: unknown) => {
      assert.ok(isInvalid(e));
      assert.match(String((e as Error).message), /spec\.clusterIPs: Invalid value: .*failed to allocate IP/);
      return true;
    });
    // The bootstrap Services hold their well-known addresses.
    await assert.rejects(api.create(svc("dns", { clusterIP: "10.96.0.10" })), /already allocated/);
    await api.create(svc("dry", { clusterIP: "10.96.0.20" }), { dryRun: true });
    await api.create(svc("real", { clusterIP: "10.96.0.20" }));
    await api.delete("default", "a");
    const again = await api.create(svc("c", { clusterIP: ip }));
    assert.equal(again.spec!.clusterIP, ip);
  } finally {
    await t.stop();
  }
});
