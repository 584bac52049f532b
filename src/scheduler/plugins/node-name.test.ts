import assert from "node:assert/strict";
import { test } from "node:test";
import { node, pod, runFilter, snapshotOf } from "../testing.ts";
import { ERR_REASON_NODE_NAME, NodeName } from "./node-name.ts";
import { ERR_REASON_UNSCHEDULABLE, NodeUnschedulable } from "./node-unschedulable.ts";
import { ERR_REASON_NODE_PORTS, NodePorts } from "./node-ports.ts";

test("NodeName: a pod naming a node fits only that node", () => {
  const snap = snapshotOf([node("a"), node("b")]);
  const cases: [string | undefined, string, string | null][] = [
    [undefined, "a", null],
    ["a", "a", null],
    ["a", "b", ERR_REASON_NODE_NAME],
  ];
  for (const [want, on, reason] of cases) {
    const st = runFilter(new NodeName(), snap, pod("p", { spec: want ? { nodeName: want } : {} }), on);
    assert.equal(st?.reasons[0] ?? null, reason, `${want} on ${on}`);
    if (st) assert.equal(st.code, "UnschedulableAndUnresolvable");
  }
});

test("NodeUnschedulable: cordoned nodes refuse pods unless tolerated", () => {
  const snap = snapshotOf([node("c", { unschedulable: true }), node("u")]);
  const tol = {
    tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }],
  };
  const cases: [string, Parameters<typeof pod>[1], string | null][] = [
    ["u", {}, null],
    ["c", {}, ERR_REASON_UNSCHEDULABLE],
    ["c", { spec: tol }, null],
  ];
  for (const [on, opts, reason] of cases) {
    assert.equal(runFilter(new NodeUnschedulable(), snap, pod("p", opts), on)?.reasons[0] ?? null, reason);
  }
});

test("NodePorts: host port conflicts by protocol, port and IP", () => {
  const withPort = (port: number, protocol = "TCP", hostIP?: string) =>
    pod(`p${port}${protocol}${hostIP ?? ""}`, {
      spec: {
        containers: [
          { name: "c", image: "x", ports: [{ containerPort: 80, hostPort: port, protocol, hostIP }] },
        ],
      },
    });
  const snap = snapshotOf(
    [node("a")],
    [
      [withPort(8080), "a"],
      [withPort(9090, "TCP", "10.0.0.1"), "a"],
    ],
  );
  const cases: [ReturnType<typeof withPort>, string | null][] = [
    [withPort(8080), ERR_REASON_NODE_PORTS],
    [withPort(8080, "UDP"), null],
    [withPort(8081), null],
    [withPort(9090, "TCP", "10.0.0.2"), null],
    [withPort(9090, "TCP", "10.0.0.1"), ERR_REASON_NODE_PORTS],
    [withPort(9090), ERR_REASON_NODE_PORTS],
  ];
  for (const [p, reason] of cases)
    assert.equal(runFilter(new NodePorts(), snap, p, "a")?.reasons[0] ?? null, reason);
  assert.equal(runFilter(new NodePorts(), snap, pod("none"), "a"), null);
});
