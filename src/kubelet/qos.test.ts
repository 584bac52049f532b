import assert from "node:assert/strict";
import { test } from "node:test";
import type { Container, Pod } from "../api/types/core-v1.ts";
import { containerLimits, milliCpuToShares, podCgroupParent, podQOS } from "./qos.ts";

const pod = (...containers: Container[]): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", uid: "u" },
  spec: { containers },
});

test("QoS class and cgroup parent", () => {
  const cases: [string, Pod, string][] = [
    ["no resources", pod({ name: "a" }), "BestEffort"],
    ["requests only", pod({ name: "a", resources: { requests: { cpu: "100m" } } }), "Burstable"],
    [
      "limits = requests",
      pod({
        name: "a",
        resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "1000m", memory: "1Gi" } },
      }),
      "Guaranteed",
    ],
    [
      "limits only (requests default to them)",
      pod({ name: "a", resources: { limits: { cpu: "1", memory: "1Gi" } } }),
      "Guaranteed",
    ],
    ["memory limit missing", pod({ name: "a", resources: { limits: { cpu: "1" } } }), "Burstable"],
  ];
  for (const [name, p, want] of cases) assert.equal(podQOS(p), want, name);
  assert.equal(podCgroupParent(pod({ name: "a" }), "BestEffort"), "/kites/besteffort/podu");
});

test("cpu shares and limits follow upstream's formulas", () => {
  assert.equal(milliCpuToShares(0), 2);
  assert.equal(milliCpuToShares(1), 2);
  assert.equal(milliCpuToShares(100), 102);
  assert.equal(milliCpuToShares(1000), 1024);
  assert.equal(milliCpuToShares(1_000_000), 262_144);
  assert.deepEqual(
    containerLimits({
      name: "a",
      resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "250m" } },
    }),
    {
      cpuShares: 256,
      cpuQuotaMillis: 500,
      memoryLimitBytes: 128 * 1024 * 1024,
    },
  );
  assert.deepEqual(containerLimits({ name: "a" }), { cpuShares: 2 });
});
