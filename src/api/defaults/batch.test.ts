import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { CronJob, Job, JobSpec } from "../types/batch-v1.ts";
import { defaultCronJob, defaultJob, defaultJobSpec } from "./batch.ts";

const UID = "6f1c7f0e-1111-4a2b-9c3d-000000000001";

function job(spec: Partial<JobSpec> = {}, meta: Job["metadata"] = {}): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "pi", namespace: "default", uid: UID, ...meta },
    spec: {
      template: { spec: { restartPolicy: "Never", containers: [{ name: "pi", image: "perl" }] } },
      ...spec,
    },
  };
}

describe("defaultJobSpec", () => {
  const cases: [string, Partial<JobSpec>, Partial<JobSpec>][] = [
    ["both unset", {}, { completions: 1, parallelism: 1 }],
    ["only completions", { completions: 5 }, { completions: 5, parallelism: 1 }],
    ["only parallelism", { parallelism: 3 }, { completions: undefined, parallelism: 3 }],
    [
      "backoffLimit per index",
      { backoffLimitPerIndex: 1, completionMode: "Indexed", completions: 2 },
      { backoffLimit: 2147483647 },
    ],
    ["podFailurePolicy", { podFailurePolicy: { rules: [] } }, { podReplacementPolicy: "Failed" }],
  ];
  for (const [name, given, want] of cases) {
    it(name, () => {
      const spec = { template: {}, ...given } as JobSpec;
      defaultJobSpec(spec);
      for (const [k, v] of Object.entries(want)) assert.equal(spec[k as keyof JobSpec], v, k);
    });
  }

  it("fills the fixed defaults", () => {
    const spec = { template: {} } as JobSpec;
    defaultJobSpec(spec);
    assert.equal(spec.backoffLimit, 6);
    assert.equal(spec.completionMode, "NonIndexed");
    assert.equal(spec.suspend, false);
    assert.equal(spec.manualSelector, false);
    assert.equal(spec.podReplacementPolicy, "TerminatingOrFailed");
    assert.equal(spec.template.spec?.restartPolicy, "Always");
  });

  it("defaults onPodConditions status to True", () => {
    const spec = {
      template: {},
      podFailurePolicy: { rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] }] },
    } as unknown as JobSpec;
    defaultJobSpec(spec);
    assert.equal(spec.podFailurePolicy?.rules[0]?.onPodConditions?.[0]?.status, "True");
  });
});

describe("defaultJob", () => {
  it("generates the selector and the pod labels, and copies them onto the Job", () => {
    const j = job();
    defaultJob(j);
    const want = {
      "job-name": "pi",
      "batch.kubernetes.io/job-name": "pi",
      "controller-uid": UID,
      "batch.kubernetes.io/controller-uid": UID,
    };
    assert.deepEqual(j.spec?.template.metadata?.labels, want);
    assert.deepEqual(j.spec?.selector, { matchLabels: { "batch.kubernetes.io/controller-uid": UID } });
    assert.deepEqual(j.metadata.labels, want);
  });

  it("keeps the Job's own labels and the user's template labels", () => {
    const j = job(
      { template: { metadata: { labels: { app: "pi", "job-name": "custom" } }, spec: { containers: [] } } },
      { labels: { team: "a" } },
    );
    defaultJob(j);
    assert.equal(j.spec?.template.metadata?.labels?.app, "pi");
    assert.equal(j.spec?.template.metadata?.labels?.["job-name"], "custom");
    assert.deepEqual(j.metadata.labels, { team: "a" });
  });

  it("generates nothing with manualSelector or without a uid", () => {
    const manual = job({ manualSelector: true, selector: { matchLabels: { app: "pi" } } });
    defaultJob(manual);
    assert.deepEqual(manual.spec?.selector, { matchLabels: { app: "pi" } });
    assert.equal(manual.spec?.template.metadata, undefined);
    const noUid = job({}, { uid: undefined });
    defaultJob(noUid);
    assert.equal(noUid.spec?.selector, undefined);
  });
});

describe("defaultCronJob", () => {
  it("fills policy, suspend and history limits, and the job template's pod defaults only", () => {
    const cj: CronJob = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "c" },
      spec: {
        schedule: "* * * * *",
        jobTemplate: { spec: { template: { spec: { containers: [{ name: "c", image: "busybox" }] } } } },
      },
    };
    defaultCronJob(cj);
    assert.equal(cj.spec?.concurrencyPolicy, "Allow");
    assert.equal(cj.spec?.suspend, false);
    assert.equal(cj.spec?.successfulJobsHistoryLimit, 3);
    assert.equal(cj.spec?.failedJobsHistoryLimit, 1);
    const jobSpec = cj.spec?.jobTemplate.spec;
    assert.equal(jobSpec?.template.spec?.dnsPolicy, "ClusterFirst");
    assert.equal(jobSpec?.backoffLimit, undefined);
    assert.equal(jobSpec?.parallelism, undefined);
  });
});
