import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap, Namespace, Node, Secret, ServiceAccount } from "../../api/types/core-v1.ts";
import type { Lease } from "../../api/types/coordination-v1.ts";
import type { PriorityClass } from "../../api/types/scheduling-v1.ts";
import type { KubeObject } from "../../api/object.ts";
import type { TablePrinter } from "./table.ts";
import {
  configMapPrinter,
  leasePrinter,
  namespacePrinter,
  nodePrinter,
  nodeRoles,
  nodeStatus,
  priorityClassPrinter,
  secretPrinter,
  serviceAccountPrinter,
} from "./core.ts";

const NOW = Date.parse("2024-05-01T12:00:00Z");
const meta = { name: "x", creationTimestamp: new Date(NOW - 47 * 3_600_000).toISOString() };

function header(p: TablePrinter): string {
  return p.columns.map((c) => (c.priority > 0 ? `[${c.name}]` : c.name)).join(" ");
}

function node(over: Partial<Node> = {}): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { ...meta, name: "n1" }, ...over };
}

describe("Node", () => {
  it("has upstream's columns", () => {
    assert.equal(
      header(nodePrinter),
      "Name Status Roles Age Version [Internal-IP] [External-IP] [OS-Image] [Kernel-Version] [Container-Runtime]",
    );
  });

  const statuses: [string, Partial<Node>, string][] = [
    ["ready", { status: { conditions: [{ type: "Ready", status: "True" }] } }, "Ready"],
    ["not ready", { status: { conditions: [{ type: "Ready", status: "False" }] } }, "NotReady"],
    ["unknown readiness", { status: { conditions: [{ type: "Ready", status: "Unknown" }] } }, "NotReady"],
    [
      "no Ready condition",
      { status: { conditions: [{ type: "MemoryPressure", status: "False" }] } },
      "Unknown",
    ],
    [
      "cordoned",
      { spec: { unschedulable: true }, status: { conditions: [{ type: "Ready", status: "True" }] } },
      "Ready,SchedulingDisabled",
    ],
    ["cordoned without status", { spec: { unschedulable: true } }, "Unknown,SchedulingDisabled"],
  ];
  for (const [name, over, want] of statuses) {
    it(`STATUS ${name}`, () => assert.equal(nodeStatus(node(over)), want));
  }

  it("ROLES come from role labels, sorted and de-duplicated", () => {
    const n = node();
    n.metadata.labels = {
      "node-role.kubernetes.io/worker": "",
      "node-role.kubernetes.io/control-plane": "",
      "node-role.kubernetes.io/": "",
      "kubernetes.io/role": "worker",
      "kubernetes.io/hostname": "n1",
    };
    assert.deepEqual(nodeRoles(n), ["control-plane", "worker"]);
  });

  it("prints all cells, with <none> and <unknown> for what the node did not report", () => {
    const n = node({
      status: {
        conditions: [{ type: "Ready", status: "True" }],
        addresses: [
          { type: "Hostname", address: "n1" },
          { type: "InternalIP", address: "10.0.0.5" },
          { type: "InternalIP", address: "10.0.0.6" },
        ],
        nodeInfo: {
          kubeletVersion: "v1.30.0-kites",
          osImage: "Debian GNU/Linux 12 (bookworm)",
          kernelVersion: "6.1.0",
          containerRuntimeVersion: "",
          architecture: "amd64",
          bootID: "",
          kubeProxyVersion: "",
          machineID: "",
          operatingSystem: "linux",
          systemUUID: "",
        },
      },
    });
    assert.deepEqual(nodePrinter.cells(n, NOW), [
      "n1",
      "Ready",
      "<none>",
      "47h",
      "v1.30.0-kites",
      "10.0.0.5",
      "<none>",
      "Debian GNU/Linux 12 (bookworm)",
      "6.1.0",
      "<unknown>",
    ]);
  });
});

describe("simple kinds", () => {
  const cases: { name: string; p: TablePrinter; obj: KubeObject; header: string; cells: unknown[] }[] = [
    {
      name: "Namespace",
      p: namespacePrinter,
      obj: {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: meta,
        status: { phase: "Terminating" },
      } satisfies Namespace,
      header: "Name Status Age",
      cells: ["x", "Terminating", "47h"],
    },
    {
      name: "ConfigMap counts data and binaryData keys",
      p: configMapPrinter,
      obj: {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: meta,
        data: { a: "1", b: "2" },
        binaryData: { c: "AA==" },
      } satisfies ConfigMap,
      header: "Name Data Age",
      cells: ["x", 3, "47h"],
    },
    {
      name: "empty ConfigMap",
      p: configMapPrinter,
      obj: { apiVersion: "v1", kind: "ConfigMap", metadata: meta },
      header: "Name Data Age",
      cells: ["x", 0, "47h"],
    },
    {
      name: "Secret",
      p: secretPrinter,
      obj: {
        apiVersion: "v1",
        kind: "Secret",
        metadata: meta,
        type: "kubernetes.io/tls",
        data: { "tls.crt": "", "tls.key": "" },
      } satisfies Secret,
      header: "Name Type Data Age",
      cells: ["x", "kubernetes.io/tls", 2, "47h"],
    },
    {
      name: "ServiceAccount",
      p: serviceAccountPrinter,
      obj: {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: meta,
        secrets: [{ name: "tok" }],
      } satisfies ServiceAccount,
      header: "Name Secrets Age",
      cells: ["x", 1, "47h"],
    },
    {
      name: "Lease",
      p: leasePrinter,
      obj: {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: meta,
        spec: { holderIdentity: "n1_abc" },
      } satisfies Lease,
      header: "Name Holder Age",
      cells: ["x", "n1_abc", "47h"],
    },
    {
      name: "Lease without a holder",
      p: leasePrinter,
      obj: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: meta, spec: {} } satisfies Lease,
      header: "Name Holder Age",
      cells: ["x", "", "47h"],
    },
    {
      name: "PriorityClass",
      p: priorityClassPrinter,
      obj: {
        apiVersion: "scheduling.k8s.io/v1",
        kind: "PriorityClass",
        metadata: meta,
        value: 2000001000,
        globalDefault: false,
        preemptionPolicy: "PreemptLowerPriority",
      } satisfies PriorityClass,
      header: "Name Value Global-Default Age PreemptionPolicy",
      cells: ["x", 2000001000, false, "47h", "PreemptLowerPriority"],
    },
    {
      name: "PriorityClass with defaults unset",
      p: priorityClassPrinter,
      obj: { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: meta, value: 10 },
      header: "Name Value Global-Default Age PreemptionPolicy",
      cells: ["x", 10, false, "47h", ""],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(header(c.p), c.header);
      assert.deepEqual(c.p.cells(c.obj, NOW), c.cells);
    });
  }
});
