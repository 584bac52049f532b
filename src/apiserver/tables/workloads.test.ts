import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type {
  ControllerRevision,
  DaemonSet,
  Deployment,
  ReplicaSet,
  StatefulSet,
} from "../../api/types/apps-v1.ts";
import type { CronJob, Job } from "../../api/types/batch-v1.ts";
import type { PodTemplateSpec, ReplicationController } from "../../api/types/core-v1.ts";
import type { TablePrinter } from "./table.ts";
import {
  controllerRevisionPrinter,
  cronJobPrinter,
  daemonSetPrinter,
  deploymentPrinter,
  jobPrinter,
  jobStatus,
  replicaSetPrinter,
  replicationControllerPrinter,
  statefulSetPrinter,
} from "./workloads.ts";

const NOW = Date.parse("2024-05-01T12:00:00Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const H = 3_600_000;
const meta = { name: "web", namespace: "default", creationTimestamp: ago(3 * 24 * H) };
const template: PodTemplateSpec = {
  metadata: { labels: { app: "web" } },
  spec: {
    containers: [
      { name: "app", image: "nginx:1.25" },
      { name: "sidecar", image: "envoy:1.30" },
    ],
  },
};

function header(p: TablePrinter): string {
  return p.columns.map((c) => (c.priority > 0 ? `[${c.name}]` : c.name)).join(" ");
}

describe("workload printers", () => {
  it("Deployment", () => {
    const d: Deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta,
      spec: {
        replicas: 3,
        selector: {
          matchLabels: { app: "web" },
          matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }],
        },
        template,
      },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    assert.equal(
      header(deploymentPrinter),
      "Name Ready Up-to-date Available Age [Containers] [Images] [Selector]",
    );
    assert.deepEqual(deploymentPrinter.cells(d, NOW), [
      "web",
      "2/3",
      3,
      2,
      "3d",
      "app,sidecar",
      "nginx:1.25,envoy:1.30",
      "app=web,tier in (a,b)",
    ]);
  });

  it("Deployment without status or selector prints zeros and an empty selector", () => {
    const d: Deployment = { apiVersion: "apps/v1", kind: "Deployment", metadata: meta };
    assert.deepEqual(deploymentPrinter.cells(d, NOW), ["web", "0/1", 0, 0, "3d", "", "", ""]);
  });

  it("ReplicaSet", () => {
    const rs: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: meta,
      spec: { replicas: 2, selector: { matchLabels: { app: "web" } }, template },
      status: { replicas: 2, readyReplicas: 1 },
    };
    assert.equal(
      header(replicaSetPrinter),
      "Name Desired Current Ready Age [Containers] [Images] [Selector]",
    );
    assert.deepEqual(replicaSetPrinter.cells(rs, NOW), [
      "web",
      2,
      2,
      1,
      "3d",
      "app,sidecar",
      "nginx:1.25,envoy:1.30",
      "app=web",
    ]);
  });

  it("ReplicationController", () => {
    const rc: ReplicationController = {
      apiVersion: "v1",
      kind: "ReplicationController",
      metadata: meta,
      spec: { replicas: 0, selector: { app: "web", tier: "front" }, template },
      status: { replicas: 0 },
    };
    assert.equal(header(replicationControllerPrinter), header(replicaSetPrinter));
    assert.deepEqual(replicationControllerPrinter.cells(rc, NOW).slice(0, 5), ["web", 0, 0, 0, "3d"]);
    assert.equal(replicationControllerPrinter.cells(rc, NOW)[7], "app=web,tier=front");
  });

  it("DaemonSet", () => {
    const ds: DaemonSet = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: meta,
      spec: {
        selector: { matchLabels: { app: "web" } },
        template: { ...template, spec: { ...template.spec!, nodeSelector: { "kubernetes.io/os": "linux" } } },
      },
      status: {
        desiredNumberScheduled: 3,
        currentNumberScheduled: 3,
        numberReady: 2,
        updatedNumberScheduled: 1,
        numberAvailable: 2,
        numberMisscheduled: 0,
      },
    };
    assert.equal(
      header(daemonSetPrinter),
      "Name Desired Current Ready Up-to-date Available Node Selector Age [Containers] [Images] [Selector]",
    );
    assert.deepEqual(daemonSetPrinter.cells(ds, NOW), [
      "web",
      3,
      3,
      2,
      1,
      2,
      "kubernetes.io/os=linux",
      "3d",
      "app,sidecar",
      "nginx:1.25,envoy:1.30",
      "app=web",
    ]);
    ds.spec!.template.spec!.nodeSelector = {};
    assert.equal(daemonSetPrinter.cells(ds, NOW)[6], "<none>");
  });

  it("StatefulSet", () => {
    const sts: StatefulSet = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta,
      spec: { replicas: 3, serviceName: "web", selector: { matchLabels: { app: "web" } }, template },
      status: { replicas: 3, readyReplicas: 3 },
    };
    assert.equal(header(statefulSetPrinter), "Name Ready Age [Containers] [Images]");
    assert.deepEqual(statefulSetPrinter.cells(sts, NOW), [
      "web",
      "3/3",
      "3d",
      "app,sidecar",
      "nginx:1.25,envoy:1.30",
    ]);
  });

  it("ControllerRevision", () => {
    const rev: ControllerRevision = {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: {
        ...meta,
        name: "web-7c9d",
        ownerReferences: [
          { apiVersion: "v1", kind: "Pod", name: "other", uid: "1" },
          { apiVersion: "apps/v1", kind: "DaemonSet", name: "web", uid: "2", controller: true },
        ],
      },
      revision: 4,
    };
    assert.equal(header(controllerRevisionPrinter), "Name Controller Revision Age");
    assert.deepEqual(controllerRevisionPrinter.cells(rev, NOW), ["web-7c9d", "daemonset.apps/web", 4, "3d"]);
    rev.metadata.ownerReferences = [{ apiVersion: "v1", kind: "Pod", name: "p", uid: "1", controller: true }];
    assert.equal(controllerRevisionPrinter.cells(rev, NOW)[1], "pod/p");
    delete rev.metadata.ownerReferences;
    assert.equal(controllerRevisionPrinter.cells(rev, NOW)[1], "<none>");
  });
});

describe("Job", () => {
  const job = (spec: Job["spec"], status: Job["status"], deleting = false): Job => ({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { ...meta, ...(deleting ? { deletionTimestamp: ago(1000) } : {}) },
    ...(spec ? { spec } : {}),
    ...(status ? { status } : {}),
  });
  const c = (type: string, status = "True") => ({ type, status });

  it("has upstream's columns", () => {
    assert.equal(header(jobPrinter), "Name Status Completions Duration Age [Containers] [Images] [Selector]");
  });

  it("prints a completed job with its duration", () => {
    const j = job(
      {
        completions: 1,
        template,
        selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "abc" } },
      },
      {
        succeeded: 1,
        startTime: ago(2 * H),
        completionTime: ago(2 * H - 95_000),
        conditions: [c("Complete")],
      },
    );
    assert.deepEqual(jobPrinter.cells(j, NOW), [
      "web",
      "Complete",
      "1/1",
      "95s",
      "3d",
      "app,sidecar",
      "nginx:1.25,envoy:1.30",
      "batch.kubernetes.io/controller-uid=abc",
    ]);
  });

  it("measures a running job's duration until now, and prints nothing before it starts", () => {
    assert.equal(jobPrinter.cells(job({ template }, { startTime: ago(200_000) }), NOW)[3], "3m20s");
    assert.equal(jobPrinter.cells(job({ template }, {}), NOW)[3], "");
  });

  const completions: [Job["spec"], string][] = [
    [{ template, completions: 5 }, "2/5"],
    [{ template, parallelism: 4 }, "2/1 of 4"],
    [{ template, parallelism: 1 }, "2/1"],
    [{ template }, "2/1"],
  ];
  for (const [spec, want] of completions) {
    it(`COMPLETIONS ${want}`, () =>
      assert.equal(jobPrinter.cells(job(spec, { succeeded: 2 }), NOW)[2], want));
  }

  const statuses: [Job["status"], boolean, string][] = [
    [{ conditions: [c("Complete")] }, true, "Complete"],
    [{ conditions: [c("Failed")] }, false, "Failed"],
    [{ conditions: [c("Suspended")] }, true, "Terminating"],
    [{ conditions: [c("Suspended")] }, false, "Suspended"],
    [{ conditions: [c("FailureTarget")] }, false, "FailureTarget"],
    [{ conditions: [c("Complete", "False"), c("Complete")] }, false, "Running"],
    [{}, false, "Running"],
  ];
  for (const [status, deleting, want] of statuses) {
    it(`STATUS ${want}${deleting ? " (deleting)" : ""}`, () => {
      assert.equal(jobStatus(job({ template }, status, deleting)), want);
    });
  }
});

describe("CronJob", () => {
  it("prints schedule, time zone, suspend, active jobs and last schedule", () => {
    const cj: CronJob = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: meta,
      spec: {
        schedule: "*/5 * * * *",
        timeZone: "Etc/UTC",
        suspend: false,
        jobTemplate: { spec: { template } },
      },
      status: { active: [{ name: "web-1" }, { name: "web-2" }], lastScheduleTime: ago(4 * 60_000) },
    };
    assert.equal(
      header(cronJobPrinter),
      "Name Schedule Timezone Suspend Active Last Schedule Age [Containers] [Images] [Selector]",
    );
    assert.deepEqual(cronJobPrinter.cells(cj, NOW), [
      "web",
      "*/5 * * * *",
      "Etc/UTC",
      "False",
      2,
      "4m",
      "3d",
      "app,sidecar",
      "nginx:1.25,envoy:1.30",
      "<none>",
    ]);
  });

  it("prints <none> and <unset> for what is not set", () => {
    const cj: CronJob = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: meta,
      spec: { schedule: "@hourly", jobTemplate: { spec: { template } } },
    };
    assert.deepEqual(cronJobPrinter.cells(cj, NOW).slice(1, 6), [
      "@hourly",
      "<none>",
      "<unset>",
      0,
      "<none>",
    ]);
  });
});
