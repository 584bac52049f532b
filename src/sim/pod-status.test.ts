import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "../api/types/core-v1.ts";
import { sameStatus, simExitCode, simPodStatus } from "./pod-status.ts";

const NOW = "2026-01-02T03:04:05Z";
const LATER = "2026-01-02T03:09:05Z";
const where = { hostIP: "10.16.244.1", podIP: "10.244.1.2", now: NOW };

function pod(over: Partial<Pod["spec"]> = {}, annotations?: Record<string, string>): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "default", uid: "uid-1", ...(annotations ? { annotations } : {}) },
    spec: {
      nodeName: "kites-sim-1",
      containers: [
        { name: "b", image: "nginx:1" },
        { name: "a", image: "busybox" },
      ],
      ...over,
    },
    status: {
      phase: "Pending",
      qosClass: "BestEffort",
      conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: "2026-01-02T03:00:00Z" }],
    },
  };
}

const cond = (s: NonNullable<Pod["status"]>, type: string) => s.conditions?.find((c) => c.type === type);

test("a started pod is Running and Ready with IPs, start time and container statuses sorted by name", () => {
  const s = simPodStatus(pod(), where);
  assert.equal(s.phase, "Running");
  assert.equal(s.qosClass, "BestEffort", "qosClass preserved");
  assert.equal(s.hostIP, "10.16.244.1");
  assert.deepEqual(s.hostIPs, [{ ip: "10.16.244.1" }]);
  assert.equal(s.podIP, "10.244.1.2");
  assert.deepEqual(s.podIPs, [{ ip: "10.244.1.2" }]);
  assert.equal(s.startTime, NOW);
  assert.deepEqual(
    s.conditions?.map((c) => [c.type, c.status]),
    [
      ["PodReadyToStartContainers", "True"],
      ["Initialized", "True"],
      ["Ready", "True"],
      ["ContainersReady", "True"],
      ["PodScheduled", "True"],
    ],
  );
  assert.equal(
    cond(s, "PodScheduled")?.lastTransitionTime,
    "2026-01-02T03:00:00Z",
    "scheduler's condition kept",
  );
  assert.equal(cond(s, "Ready")?.lastTransitionTime, NOW);
  assert.deepEqual(
    s.containerStatuses?.map((c) => c.name),
    ["a", "b"],
  );
  assert.deepEqual(s.containerStatuses?.[1], {
    name: "b",
    image: "nginx:1",
    imageID: "kites-sim://nginx:1",
    containerID: "kites-sim://uid-1-b",
    state: { running: { startedAt: NOW } },
    lastState: {},
    ready: true,
    restartCount: 0,
    started: true,
  });
  assert.equal(s.initContainerStatuses, undefined);
});

test("building again later changes nothing (times kept), so no second write", () => {
  const p = pod();
  p.status = simPodStatus(p, where);
  const again = simPodStatus(p, { ...where, now: LATER });
  assert.equal(sameStatus(again, p.status), true);
  assert.equal(sameStatus(again, { ...p.status, podIP: "10.244.1.3" }), false);
  // the API may drop empty objects: still the same
  const roundTripped = JSON.parse(JSON.stringify(p.status, (k, v) => (k === "lastState" ? undefined : v)));
  assert.equal(sameStatus(again, roundTripped), true);
});

test("a pod created with nodeName (never scheduled) gets PodScheduled from the kubelet", () => {
  const p = pod();
  p.status = { phase: "Pending" };
  const s = simPodStatus(p, where);
  assert.equal(cond(s, "PodScheduled")?.status, "True");
  assert.equal(cond(s, "PodScheduled")?.lastTransitionTime, NOW);
});

test("init containers report Completed; sidecars keep running", () => {
  const s = simPodStatus(
    pod({
      initContainers: [
        { name: "init", image: "busybox" },
        { name: "side", image: "envoy", restartPolicy: "Always" },
      ],
    }),
    where,
  );
  const [init, side] = s.initContainerStatuses!;
  assert.deepEqual(init?.state?.terminated, {
    exitCode: 0,
    reason: "Completed",
    startedAt: NOW,
    finishedAt: NOW,
    containerID: "kites-sim://uid-1-init",
  });
  assert.equal(init?.ready, true);
  assert.equal(side?.state?.running?.startedAt, NOW);
  assert.equal(side?.started, true);
});

test("kites.io/sim-exit-code with restartPolicy Never: Succeeded on 0, Failed otherwise", () => {
  const ok = simPodStatus(pod({ restartPolicy: "Never" }, { "kites.io/sim-exit-code": "0" }), where);
  assert.equal(ok.phase, "Succeeded");
  assert.equal(ok.containerStatuses?.[0]?.state?.terminated?.reason, "Completed");
  assert.equal(cond(ok, "Ready")?.status, "False");
  assert.equal(cond(ok, "Ready")?.reason, "PodCompleted");
  assert.equal(cond(ok, "PodReadyToStartContainers")?.status, "False");
  const bad = simPodStatus(pod({ restartPolicy: "Never" }, { "kites.io/sim-exit-code": "3" }), where);
  assert.equal(bad.phase, "Failed");
  assert.deepEqual(
    bad.containerStatuses?.map((c) => [c.state?.terminated?.exitCode, c.state?.terminated?.reason, c.ready]),
    [
      [3, "Error", false],
      [3, "Error", false],
    ],
  );
});

test("exit code with a restarting policy: Running, CrashLoopBackOff, not ready; OnFailure+0 succeeds", () => {
  const s = simPodStatus(pod({ restartPolicy: "OnFailure" }, { "kites.io/sim-exit-code": "1" }), where);
  assert.equal(s.phase, "Running");
  const c = s.containerStatuses![0]!;
  assert.equal(c.state?.waiting?.reason, "CrashLoopBackOff");
  assert.match(
    c.state?.waiting?.message ?? "",
    /^back-off 10s restarting failed container=a pod=web_default\(uid-1\)$/,
  );
  assert.equal(c.lastState?.terminated?.exitCode, 1);
  assert.equal(c.restartCount, 1);
  assert.equal(cond(s, "Ready")?.reason, "ContainersNotReady");
  assert.equal(cond(s, "Ready")?.message, "containers with unready status: [a b]");
  assert.equal(
    simPodStatus(pod({ restartPolicy: "OnFailure" }, { "kites.io/sim-exit-code": "0" }), where).phase,
    "Succeeded",
  );
});

test("simExitCode ignores values that are not exit codes", () => {
  for (const v of ["x", "-1", "256", "1.5", ""])
    assert.equal(simExitCode(pod({}, { "kites.io/sim-exit-code": v })), undefined, v);
  assert.equal(simExitCode(pod({}, { "kites.io/sim-exit-code": " 42 " })), 42);
});

test("readiness gates hold Ready back until their condition is True", () => {
  const p = pod({ readinessGates: [{ conditionType: "example.com/lb" }] });
  const s = simPodStatus(p, where);
  assert.equal(cond(s, "ContainersReady")?.status, "True");
  assert.equal(cond(s, "Ready")?.status, "False");
  assert.equal(cond(s, "Ready")?.reason, "ReadinessGatesNotReady");
  assert.equal(
    cond(s, "Ready")?.message,
    'corresponding condition of pod readiness gate "example.com/lb" does not exist.',
  );
  p.status!.conditions!.push({ type: "example.com/lb", status: "True" });
  const s2 = simPodStatus(p, where);
  assert.equal(cond(s2, "Ready")?.status, "True");
  assert.equal(cond(s2, "example.com/lb")?.status, "True", "foreign condition kept");
});
