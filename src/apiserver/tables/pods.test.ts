import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ContainerStatus, Pod, PodCondition, PodStatus } from "../../api/types/core-v1.ts";
import { podPrinter, podSummary, POD_COLUMNS } from "./pods.ts";

const NOW = Date.parse("2024-05-01T12:00:00Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const MIN = 60_000;

interface PodInput {
  containers?: string[];
  init?: { name: string; sidecar?: boolean }[];
  status?: PodStatus;
  deleting?: boolean;
}

function makePod(p: PodInput): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web",
      namespace: "default",
      creationTimestamp: ago(3 * MIN + 20_000),
      ...(p.deleting ? { deletionTimestamp: ago(1000) } : {}),
    },
    spec: {
      containers: (p.containers ?? ["app"]).map((name) => ({ name, image: "busybox" })),
      ...(p.init
        ? {
            initContainers: p.init.map((c) => ({
              name: c.name,
              image: "busybox",
              ...(c.sidecar ? { restartPolicy: "Always" } : {}),
            })),
          }
        : {}),
    },
    ...(p.status ? { status: p.status } : {}),
  };
}

const running = (name: string, ready = true, restartCount = 0): ContainerStatus => ({
  name,
  image: "busybox",
  imageID: "",
  ready,
  restartCount,
  state: { running: { startedAt: ago(MIN) } },
});
const waiting = (name: string, reason: string, restartCount = 0): ContainerStatus => ({
  name,
  image: "busybox",
  imageID: "",
  ready: false,
  restartCount,
  state: { waiting: { reason } },
});
const terminated = (
  name: string,
  t: { exitCode: number; reason?: string; signal?: number },
  restartCount = 0,
): ContainerStatus => ({
  name,
  image: "busybox",
  imageID: "",
  ready: false,
  restartCount,
  state: { terminated: t },
});
const cond = (type: string, status: "True" | "False", reason?: string): PodCondition => ({
  type,
  status,
  ...(reason ? { reason } : {}),
});
const READY: PodCondition[] = [cond("Initialized", "True"), cond("Ready", "True")];

describe("pod STATUS, READY and RESTARTS", () => {
  const cases: { name: string; pod: PodInput; ready: string; status: string; restarts?: string }[] = [
    {
      name: "all containers running and ready",
      pod: {
        containers: ["a", "b"],
        status: { phase: "Running", conditions: READY, containerStatuses: [running("a"), running("b")] },
      },
      ready: "2/2",
      status: "Running",
      restarts: "0",
    },
    {
      name: "running but one container not ready",
      pod: {
        containers: ["a", "b"],
        status: { phase: "Running", containerStatuses: [running("a"), running("b", false)] },
      },
      ready: "1/2",
      status: "Running",
    },
    {
      name: "unschedulable pending pod",
      pod: { status: { phase: "Pending", conditions: [cond("PodScheduled", "False", "Unschedulable")] } },
      ready: "0/1",
      status: "Pending",
    },
    {
      name: "pod with no status at all",
      pod: {},
      ready: "0/1",
      status: "",
    },
    {
      name: "scheduling gated",
      pod: { status: { phase: "Pending", conditions: [cond("PodScheduled", "False", "SchedulingGated")] } },
      ready: "0/1",
      status: "SchedulingGated",
    },
    {
      name: "status reason wins over phase",
      pod: { status: { phase: "Failed", reason: "Evicted" } },
      ready: "0/1",
      status: "Evicted",
    },
    {
      name: "container creating",
      pod: { status: { phase: "Pending", containerStatuses: [waiting("app", "ContainerCreating")] } },
      ready: "0/1",
      status: "ContainerCreating",
    },
    {
      name: "image pull back-off",
      pod: { status: { phase: "Pending", containerStatuses: [waiting("app", "ImagePullBackOff")] } },
      ready: "0/1",
      status: "ImagePullBackOff",
    },
    {
      name: "OOMKilled",
      pod: {
        status: {
          phase: "Running",
          containerStatuses: [terminated("app", { exitCode: 137, reason: "OOMKilled" })],
        },
      },
      ready: "0/1",
      status: "OOMKilled",
    },
    {
      name: "completed",
      pod: {
        status: {
          phase: "Succeeded",
          containerStatuses: [terminated("app", { exitCode: 0, reason: "Completed" })],
        },
      },
      ready: "0/1",
      status: "Completed",
    },
    {
      name: "terminated by a signal without a reason",
      pod: {
        status: { phase: "Failed", containerStatuses: [terminated("app", { exitCode: 137, signal: 9 })] },
      },
      ready: "0/1",
      status: "Signal:9",
    },
    {
      name: "terminated with an exit code without a reason",
      pod: { status: { phase: "Failed", containerStatuses: [terminated("app", { exitCode: 2 })] } },
      ready: "0/1",
      status: "ExitCode:2",
    },
    {
      name: "first container's reason wins",
      pod: {
        containers: ["a", "b"],
        status: {
          phase: "Running",
          containerStatuses: [
            waiting("a", "CrashLoopBackOff"),
            terminated("b", { exitCode: 1, reason: "Error" }),
          ],
        },
      },
      ready: "0/2",
      status: "CrashLoopBackOff",
    },
    {
      name: "completed container beside a running one, pod ready",
      pod: {
        containers: ["job", "proxy"],
        status: {
          phase: "Running",
          conditions: READY,
          containerStatuses: [terminated("job", { exitCode: 0, reason: "Completed" }), running("proxy")],
        },
      },
      ready: "1/2",
      status: "Running",
    },
    {
      name: "completed container beside a running one, pod not ready",
      pod: {
        containers: ["job", "proxy"],
        status: {
          phase: "Running",
          conditions: [cond("Ready", "False")],
          containerStatuses: [terminated("job", { exitCode: 0, reason: "Completed" }), running("proxy")],
        },
      },
      ready: "1/2",
      status: "NotReady",
    },
    {
      name: "deleting a running pod",
      pod: { deleting: true, status: { phase: "Running", containerStatuses: [running("app")] } },
      ready: "1/1",
      status: "Terminating",
    },
    {
      name: "deleting a succeeded pod keeps its status",
      pod: {
        deleting: true,
        status: {
          phase: "Succeeded",
          containerStatuses: [terminated("app", { exitCode: 0, reason: "Completed" })],
        },
      },
      ready: "0/1",
      status: "Completed",
    },
    {
      name: "deleting a pod on a lost node",
      pod: { deleting: true, status: { phase: "Running", reason: "NodeLost" } },
      ready: "0/1",
      status: "Unknown",
    },
    {
      name: "second of two init containers running",
      pod: {
        init: [{ name: "i1" }, { name: "i2" }],
        status: {
          phase: "Pending",
          initContainerStatuses: [
            terminated("i1", { exitCode: 0, reason: "Completed" }),
            running("i2", false),
          ],
          containerStatuses: [waiting("app", "PodInitializing")],
        },
      },
      ready: "0/1",
      status: "Init:1/2",
    },
    {
      name: "init container waiting in PodInitializing counts as progress",
      pod: {
        init: [{ name: "i1" }],
        status: { phase: "Pending", initContainerStatuses: [waiting("i1", "PodInitializing")] },
      },
      ready: "0/1",
      status: "Init:0/1",
    },
    {
      name: "init container crash looping",
      pod: {
        init: [{ name: "i1" }],
        status: {
          phase: "Pending",
          initContainerStatuses: [waiting("i1", "CrashLoopBackOff", 3)],
          containerStatuses: [waiting("app", "PodInitializing")],
        },
      },
      ready: "0/1",
      status: "Init:CrashLoopBackOff",
      restarts: "3",
    },
    {
      name: "init container failed with a reason",
      pod: {
        init: [{ name: "i1" }],
        status: {
          phase: "Pending",
          initContainerStatuses: [terminated("i1", { exitCode: 1, reason: "Error" })],
        },
      },
      ready: "0/1",
      status: "Init:Error",
    },
    {
      name: "init container failed with an exit code only",
      pod: {
        init: [{ name: "i1" }],
        status: { phase: "Pending", initContainerStatuses: [terminated("i1", { exitCode: 3 })] },
      },
      ready: "0/1",
      status: "Init:ExitCode:3",
    },
    {
      name: "init container killed by a signal",
      pod: {
        init: [{ name: "i1" }],
        status: {
          phase: "Pending",
          initContainerStatuses: [terminated("i1", { exitCode: 143, signal: 15 })],
        },
      },
      ready: "0/1",
      status: "Init:Signal:15",
    },
    {
      name: "started sidecar counts as a container",
      pod: {
        init: [{ name: "mesh", sidecar: true }],
        status: {
          phase: "Running",
          conditions: READY,
          initContainerStatuses: [{ ...running("mesh", true, 2), started: true }],
          containerStatuses: [running("app", true, 1)],
        },
      },
      ready: "2/2",
      status: "Running",
      restarts: "3",
    },
    {
      name: "sidecar not started yet blocks initialization",
      pod: {
        init: [{ name: "mesh", sidecar: true }],
        status: {
          phase: "Pending",
          initContainerStatuses: [{ ...waiting("mesh", "ContainerCreating"), started: false }],
        },
      },
      ready: "0/2",
      status: "Init:ContainerCreating",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = podSummary(makePod(c.pod), NOW);
      assert.equal(s.ready, c.ready);
      assert.equal(s.status, c.status);
      if (c.restarts !== undefined) assert.equal(s.restarts, c.restarts);
    });
  }
});

describe("pod RESTARTS with the last restart", () => {
  it("shows the most recent termination across containers", () => {
    const a = running("a", true, 4);
    a.lastState = { terminated: { exitCode: 1, finishedAt: ago(30 * MIN) } };
    const b = running("b", true, 1);
    b.lastState = { terminated: { exitCode: 1, finishedAt: ago(5 * MIN) } };
    const pod = makePod({
      containers: ["a", "b"],
      status: { phase: "Running", conditions: READY, containerStatuses: [a, b] },
    });
    assert.equal(podSummary(pod, NOW).restarts, "5 (5m ago)");
  });

  it("shows only the count when no termination time is known", () => {
    const pod = makePod({
      status: { phase: "Running", containerStatuses: [waiting("app", "CrashLoopBackOff", 7)] },
    });
    assert.equal(podSummary(pod, NOW).restarts, "7");
  });

  it("counts init container restarts only while initializing", () => {
    const init = terminated("i1", { exitCode: 0, reason: "Completed" }, 2);
    const pod = makePod({
      init: [{ name: "i1" }],
      status: {
        phase: "Running",
        conditions: READY,
        initContainerStatuses: [init],
        containerStatuses: [running("app")],
      },
    });
    assert.equal(podSummary(pod, NOW).restarts, "0");
  });
});

describe("podPrinter", () => {
  it("defines upstream's columns, wide ones with priority 1", () => {
    assert.deepEqual(
      POD_COLUMNS.map((c) => [c.name, c.type, c.format, c.priority]),
      [
        ["Name", "string", "name", 0],
        ["Ready", "string", "", 0],
        ["Status", "string", "", 0],
        ["Restarts", "string", "", 0],
        ["Age", "string", "", 0],
        ["IP", "string", "", 1],
        ["Node", "string", "", 1],
        ["Nominated Node", "string", "", 1],
        ["Readiness Gates", "string", "", 1],
      ],
    );
  });

  it("prints wide cells: IP, node, nominated node and readiness gates", () => {
    const pod = makePod({
      status: {
        phase: "Running",
        podIP: "10.244.0.9",
        podIPs: [{ ip: "10.244.0.9" }, { ip: "fd00::9" }],
        nominatedNodeName: "n2",
        conditions: [...READY, cond("example.com/lb", "True"), cond("example.com/dns", "False")],
        containerStatuses: [running("app")],
      },
    });
    pod.spec!.nodeName = "n1";
    pod.spec!.readinessGates = [
      { conditionType: "example.com/lb" },
      { conditionType: "example.com/dns" },
      { conditionType: "example.com/absent" },
    ];
    assert.deepEqual(podPrinter.cells(pod, NOW), [
      "web",
      "1/1",
      "Running",
      "0",
      "3m20s",
      "10.244.0.9",
      "n1",
      "n2",
      "1/3",
    ]);
  });

  it("prints <none> for unset wide cells", () => {
    const cells = podPrinter.cells(makePod({ status: { phase: "Pending" } }), NOW);
    assert.deepEqual(cells.slice(5), ["<none>", "<none>", "<none>", "<none>"]);
  });

  it("marks succeeded and failed pods Completed", () => {
    assert.deepEqual(podPrinter.conditions?.(makePod({ status: { phase: "Succeeded" } })), [
      {
        type: "Completed",
        status: "True",
        reason: "Succeeded",
        message: "The pod has completed successfully.",
      },
    ]);
    assert.equal(podPrinter.conditions?.(makePod({ status: { phase: "Failed" } }))?.[0]?.reason, "Failed");
    assert.equal(podPrinter.conditions?.(makePod({ status: { phase: "Running" } })), undefined);
  });
});
