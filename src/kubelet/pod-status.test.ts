import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContainerStatus as Api, Pod } from "../api/types/core-v1.ts";
import type { ContainerStatus } from "../runtime/types.ts";
import { computePodStatus, podPhase } from "./pod-status.ts";

const running = (name: string): Api => ({
  name,
  state: { running: { startedAt: "t" } },
  ready: true,
  restartCount: 0,
  image: "i",
  imageID: "",
});
const exited = (name: string, exitCode: number): Api => ({
  name,
  state: { terminated: { exitCode, startedAt: "t", finishedAt: "t" } },
  ready: false,
  restartCount: 0,
  image: "i",
  imageID: "",
});
const waiting = (name: string, lastExit?: number): Api => ({
  name,
  state: { waiting: { reason: "CrashLoopBackOff" } },
  lastState:
    lastExit === undefined ? {} : { terminated: { exitCode: lastExit, startedAt: "t", finishedAt: "t" } },
  ready: false,
  restartCount: 1,
  image: "i",
  imageID: "",
});

function pod(policy: string, containers: string[], init: string[] = []): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "ns", uid: "u" },
    spec: {
      restartPolicy: policy,
      containers: containers.map((name) => ({ name, image: "i" })),
      initContainers: init.map((name) => ({ name, image: "i" })),
    },
  };
}

test("phase computation matches upstream's getPhase", () => {
  const cases: [string, Pod, Api[], Api[], boolean, string][] = [
    ["nothing yet", pod("Always", ["a"]), [], [], false, "Pending"],
    [
      "waiting without history",
      pod("Always", ["a"]),
      [],
      [{ ...waiting("a"), lastState: {} }],
      false,
      "Pending",
    ],
    ["running", pod("Always", ["a", "b"]), [], [running("a"), running("b")], false, "Running"],
    ["one unknown", pod("Always", ["a", "b"]), [], [running("a")], false, "Pending"],
    ["all exited 0, Never", pod("Never", ["a"]), [], [exited("a", 0)], false, "Succeeded"],
    ["exited 1, Never", pod("Never", ["a"]), [], [exited("a", 1)], false, "Failed"],
    ["exited 1, OnFailure (will restart)", pod("OnFailure", ["a"]), [], [exited("a", 1)], false, "Running"],
    ["exited 0, OnFailure", pod("OnFailure", ["a"]), [], [exited("a", 0)], false, "Succeeded"],
    ["exited 0, Always", pod("Always", ["a"]), [], [exited("a", 0)], false, "Running"],
    ["crash loop counts as stopped", pod("Always", ["a"]), [], [waiting("a", 1)], false, "Running"],
    ["terminal with failures", pod("Always", ["a"]), [], [exited("a", 137)], true, "Failed"],
    ["terminal all ok", pod("Always", ["a"]), [], [exited("a", 0)], true, "Succeeded"],
    ["init running", pod("Always", ["a"], ["i"]), [running("i")], [], false, "Pending"],
    ["init failed, Never", pod("Never", ["a"], ["i"]), [exited("i", 1)], [], false, "Failed"],
    ["init failed, Always: retried", pod("Always", ["a"], ["i"]), [waiting("i", 1)], [], false, "Pending"],
    [
      "init done, app running",
      pod("Always", ["a"], ["i"]),
      [exited("i", 0)],
      [running("a")],
      false,
      "Running",
    ],
  ];
  for (const [name, p, init, app, terminal, want] of cases)
    assert.equal(podPhase(p, init, app, terminal), want, name);
});

function rc(
  name: string,
  attempt: number,
  state: ContainerStatus["state"],
  exitCode?: number,
): ContainerStatus {
  return {
    id: `${name}-${attempt}`,
    name,
    podUid: "u",
    attempt,
    state,
    createdAt: "2024-01-01T00:00:00Z",
    startedAt: "2024-01-01T00:00:01Z",
    ...(state === "exited"
      ? { finishedAt: "2024-01-01T00:00:02Z", exitCode, reason: exitCode === 0 ? "Completed" : "Error" }
      : {}),
    imageRef: "docker.io/library/busybox:latest",
    imageId: "sha256:abc",
    logPath: "/x",
    labels: {},
  };
}

test("status: container states, lastState, restartCount, conditions", () => {
  const p = pod("Always", ["b", "a"]);
  p.status = {
    phase: "Pending",
    conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: "t0" }],
  };
  const s = computePodStatus({
    pod: p,
    containers: [rc("a", 0, "exited", 1), rc("a", 1, "exited", 2), rc("b", 0, "running")],
    waiting: new Map([
      [
        "a",
        { reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container=a pod=p_ns(u)" },
      ],
    ]),
    ready: () => true,
    started: () => true,
    podIPs: ["10.244.0.3"],
    hostIPs: ["127.0.0.1"],
    sandboxReady: true,
    terminal: false,
    startTime: "2024-01-01T00:00:00Z",
    runtimeName: "runc",
    now: "2024-01-01T00:01:00Z",
  });
  assert.equal(s.phase, "Running");
  assert.deepEqual(
    s.containerStatuses?.map((c) => c.name),
    ["a", "b"],
    "sorted by name",
  );
  const a = s.containerStatuses![0]!;
  assert.equal(a.state?.waiting?.reason, "CrashLoopBackOff");
  assert.equal(a.lastState?.terminated?.exitCode, 2);
  assert.equal(a.lastState?.terminated?.containerID, "runc://a-1");
  assert.equal(a.restartCount, 1);
  assert.equal(a.imageID, "docker.io/library/busybox@sha256:abc");
  assert.equal(s.containerStatuses![1]!.ready, true);
  assert.deepEqual(
    s.conditions?.map((c) => [c.type, c.status, c.reason ?? "", c.message ?? ""]),
    [
      ["PodReadyToStartContainers", "True", "", ""],
      ["Initialized", "True", "", ""],
      ["Ready", "False", "ContainersNotReady", "containers with unready status: [a]"],
      ["ContainersReady", "False", "ContainersNotReady", "containers with unready status: [a]"],
      ["PodScheduled", "True", "", ""],
    ],
  );
  assert.equal(s.podIP, "10.244.0.3");
  assert.deepEqual(s.hostIPs, [{ ip: "127.0.0.1" }]);
  assert.equal(s.qosClass, "BestEffort");
});
