import assert from "node:assert/strict";
import { test } from "node:test";
import { FitError } from "./fit-error.ts";
import { unresolvable, unschedulable } from "./status.ts";

test("FitError message: counted, sorted reasons then the preemption message", () => {
  const taint = unresolvable("node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }");
  const mem = unschedulable("Insufficient memory");
  const fe = new FitError(
    3,
    new Map([
      ["cp", taint],
      ["w1", mem],
      ["w2", mem],
    ]),
  );
  fe.postFilterMsg = "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
  assert.equal(
    fe.message(),
    "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
  );
});

test("FitError message: several reasons on one node, absent nodes, PreFilter message", () => {
  const both = unschedulable("Insufficient cpu", "Insufficient memory");
  const fe = new FitError(
    4,
    new Map([
      ["a", both],
      ["b", unschedulable("Too many pods")],
    ]),
    unresolvable("Preemption is not helpful for scheduling"),
  );
  assert.equal(
    fe.message(),
    "0/4 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods, 2 Preemption is not helpful for scheduling.",
  );
  const pre = new FitError(2, new Map());
  pre.preFilterMsg = "no nodes available to schedule pods";
  assert.equal(pre.message(), "0/2 nodes are available: no nodes available to schedule pods.");
});
