import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "../../api/types/core-v1.ts";
import { podQOSClass } from "./strategies.ts";

const pod = (
  ...resources: ({ requests?: Record<string, string>; limits?: Record<string, string> } | undefined)[]
): Pod =>
  ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p" },
    spec: {
      containers: resources.map((r, i) => ({
        name: `c${i}`,
        image: "busybox",
        ...(r ? { resources: r } : {}),
      })),
    },
  }) as Pod;

test("QoS class as upstream computes it", () => {
  const cases: [string, Pod, string][] = [
    ["no resources", pod(undefined), "BestEffort"],
    ["zero amounts count as none", pod({ requests: { cpu: "0" } }), "BestEffort"],
    ["limits only (requests default to them)", pod({ limits: { cpu: "1", memory: "1Gi" } }), "Guaranteed"],
    [
      "equal amounts written differently",
      pod({ requests: { cpu: "1", memory: "1024Mi" }, limits: { cpu: "1000m", memory: "1Gi" } }),
      "Guaranteed",
    ],
    [
      "request below limit",
      pod({ requests: { cpu: "500m" }, limits: { cpu: "1", memory: "1Gi" } }),
      "Burstable",
    ],
    ["memory limit missing", pod({ limits: { cpu: "1" } }), "Burstable"],
    ["one container without resources", pod({ limits: { cpu: "1", memory: "1Gi" } }, undefined), "Burstable"],
  ];
  for (const [name, p, want] of cases) assert.equal(podQOSClass(p), want, name);
});
