import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node } from "../api/types/core-v1.ts";
import { formatMicroTime, nodeConditionsUpdate, nodeLease } from "./node-heartbeat.ts";

const node = (conditions?: NonNullable<Node["status"]>["conditions"]): Node => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: "kites-sim-1", uid: "u-1", resourceVersion: "5" },
  status: conditions ? { conditions } : {},
});

test("a node without conditions gets Ready=True and the pressures False, upstream wording", () => {
  const now = new Date("2026-01-02T03:04:05.678Z");
  const c = nodeConditionsUpdate(node(), now)!;
  assert.deepEqual(
    c.map((x) => [x.type, x.status, x.reason, x.message]),
    [
      ["MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"],
      ["DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"],
      ["PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"],
      ["Ready", "True", "KubeletReady", "kubelet is posting ready status"],
    ],
  );
  for (const x of c) {
    assert.equal(x.lastHeartbeatTime, "2026-01-02T03:04:05Z");
    assert.equal(x.lastTransitionTime, "2026-01-02T03:04:05Z");
  }
});

test("no write while nothing changed and the last report is recent; a write every report period", () => {
  const t0 = new Date("2026-01-02T03:00:00Z");
  const first = nodeConditionsUpdate(node(), t0)!;
  assert.equal(nodeConditionsUpdate(node(first), new Date(t0.getTime() + 60_000)), undefined);
  const later = new Date(t0.getTime() + 5 * 60_000);
  const again = nodeConditionsUpdate(node(first), later)!;
  assert.ok(again, "re-posted after 5 minutes");
  const ready = again.find((c) => c.type === "Ready")!;
  assert.equal(ready.lastHeartbeatTime, "2026-01-02T03:05:00Z");
  assert.equal(ready.lastTransitionTime, "2026-01-02T03:00:00Z", "transition time kept");
});

test("a Ready=Unknown set by the node lifecycle controller is flipped back, foreign conditions kept", () => {
  const t0 = new Date("2026-01-02T03:00:00Z");
  const first = nodeConditionsUpdate(node(), t0)!;
  const unknown = first.map((c) =>
    c.type === "Ready"
      ? {
          ...c,
          status: "Unknown",
          reason: "NodeStatusUnknown",
          message: "Kubelet stopped posting node status.",
          lastTransitionTime: "2026-01-02T03:01:00Z",
        }
      : c,
  );
  unknown.push({ type: "NetworkUnavailable", status: "False", reason: "RouteCreated", message: "ok" });
  const t1 = new Date(t0.getTime() + 90_000);
  const next = nodeConditionsUpdate(node(unknown), t1)!;
  const ready = next.find((c) => c.type === "Ready")!;
  assert.equal(ready.status, "True");
  assert.equal(ready.lastTransitionTime, "2026-01-02T03:01:30Z");
  assert.equal(next.find((c) => c.type === "MemoryPressure")!.lastTransitionTime, "2026-01-02T03:00:00Z");
  assert.equal(next[0]!.type, "NetworkUnavailable");
});

test("nodeLease: holder, 40 s, MicroTime renewTime, owned by the Node; renewal keeps resourceVersion", () => {
  const now = new Date("2026-01-02T03:04:05.678Z");
  assert.equal(formatMicroTime(now), "2026-01-02T03:04:05.678000Z");
  const l = nodeLease(node(), now);
  assert.equal(l.metadata.namespace, "kube-node-lease");
  assert.equal(l.metadata.name, "kites-sim-1");
  assert.deepEqual(l.metadata.ownerReferences, [
    { apiVersion: "v1", kind: "Node", name: "kites-sim-1", uid: "u-1" },
  ]);
  assert.deepEqual(l.spec, {
    holderIdentity: "kites-sim-1",
    leaseDurationSeconds: 40,
    renewTime: "2026-01-02T03:04:05.678000Z",
  });
  const stored = { ...l, metadata: { ...l.metadata, resourceVersion: "9" } };
  const renewed = nodeLease(node(), new Date(now.getTime() + 10_000), stored);
  assert.equal(renewed.metadata.resourceVersion, "9");
  assert.equal(renewed.spec?.renewTime, "2026-01-02T03:04:15.678000Z");
});
