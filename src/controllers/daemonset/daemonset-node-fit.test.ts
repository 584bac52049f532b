import assert from "node:assert/strict";
import { test } from "node:test";
import type { Node, PodSpec } from "../../api/types/core-v1.ts";
import { nodeShouldRunDaemonPod } from "./daemonset-node-fit.ts";
import { addDaemonTolerations } from "./daemonset-pods.ts";

function node(labels: Record<string, string>, taints: NonNullable<Node["spec"]>["taints"] = []): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name: "n1", labels }, spec: { taints } };
}

const base = (extra: Partial<PodSpec> = {}): PodSpec => {
  const spec: PodSpec = { containers: [{ name: "c" }], ...extra };
  addDaemonTolerations(spec);
  return spec;
};

const cases: { name: string; spec: PodSpec; node: Node; want: [boolean, boolean] }[] = [
  { name: "plain node", spec: base(), node: node({}), want: [true, true] },
  {
    name: "nodeSelector matches",
    spec: base({ nodeSelector: { disk: "ssd" } }),
    node: node({ disk: "ssd" }),
    want: [true, true],
  },
  {
    name: "nodeSelector mismatch",
    spec: base({ nodeSelector: { disk: "ssd" } }),
    node: node({ disk: "hdd" }),
    want: [false, false],
  },
  {
    name: "affinity NotIn on a missing label",
    spec: base({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "role", operator: "NotIn", values: ["db"] }] }],
          },
        },
      },
    }),
    node: node({}),
    want: [true, true],
  },
  {
    name: "affinity Gt fails",
    spec: base({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "cpus", operator: "Gt", values: ["8"] }] }],
          },
        },
      },
    }),
    node: node({ cpus: "4" }),
    want: [false, false],
  },
  {
    name: "affinity matchFields metadata.name",
    spec: base({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }],
          },
        },
      },
    }),
    node: node({}),
    want: [true, true],
  },
  {
    name: "untolerated NoSchedule: do not start, but keep running",
    spec: base(),
    node: node({}, [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }]),
    want: [false, true],
  },
  {
    name: "untolerated NoExecute: evict",
    spec: base(),
    node: node({}, [{ key: "dedicated", value: "gpu", effect: "NoExecute" }]),
    want: [false, false],
  },
  {
    name: "PreferNoSchedule is ignored",
    spec: base(),
    node: node({}, [{ key: "x", effect: "PreferNoSchedule" }]),
    want: [true, true],
  },
  {
    name: "automatic tolerations: not-ready, unreachable, unschedulable, pressure",
    spec: base(),
    node: node({}, [
      { key: "node.kubernetes.io/not-ready", effect: "NoExecute" },
      { key: "node.kubernetes.io/unreachable", effect: "NoExecute" },
      { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" },
      { key: "node.kubernetes.io/memory-pressure", effect: "NoSchedule" },
    ]),
    want: [true, true],
  },
  {
    name: "network-unavailable is tolerated only with hostNetwork",
    spec: base(),
    node: node({}, [{ key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule" }]),
    want: [false, true],
  },
  {
    name: "network-unavailable with hostNetwork",
    spec: base({ hostNetwork: true }),
    node: node({}, [{ key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule" }]),
    want: [true, true],
  },
  {
    name: "user toleration Equal with value",
    spec: base({ tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoExecute" }] }),
    node: node({}, [{ key: "dedicated", value: "gpu", effect: "NoExecute" }]),
    want: [true, true],
  },
  {
    name: "template nodeName elsewhere",
    spec: base({ nodeName: "other" }),
    node: node({}),
    want: [false, false],
  },
];

for (const c of cases) {
  test(`node fit: ${c.name}`, () => {
    const fit = nodeShouldRunDaemonPod(c.spec, c.node);
    assert.deepEqual([fit.shouldRun, fit.shouldContinueRunning], c.want);
  });
}
