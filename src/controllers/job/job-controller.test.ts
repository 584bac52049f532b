import assert from "node:assert/strict";
import { test } from "node:test";
import type { Job } from "../../api/types/batch-v1.ts";
import type { Pod } from "../../api/types/core-v1.ts";
import { Harness } from "../statefulset/statefulset-test-util.ts";
import { JobController } from "./job-controller.ts";
import { JOB_TRACKING_FINALIZER } from "./job-pods.ts";

const UID = "0b7e7f3c-0000-4000-8000-000000000001";

function job(spec: Partial<NonNullable<Job["spec"]>> = {}): Job {
  const labels = {
    "batch.kubernetes.io/controller-uid": UID,
    "batch.kubernetes.io/job-name": "pi",
    "controller-uid": UID,
    "job-name": "pi",
  };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "pi", namespace: "default", uid: UID, generation: 1 },
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: "NonIndexed",
      suspend: false,
      podReplacementPolicy: "TerminatingOrFailed",
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": UID } },
      template: {
        metadata: { labels },
        spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox" }] },
      },
      ...spec,
    },
  };
}

async function setup(j: Job): Promise<{ h: Harness; c: JobController }> {
  const h = new Harness([j]);
  const c = new JobController({
    client: h.fake,
    informers: h.informers,
    recorder: h.recorder,
    now: h.clock.now,
  });
  await h.start();
  return { h, c };
}

async function sync(h: Harness, c: JobController): Promise<{ requeueAfterMs?: number } | void> {
  await h.settle();
  const r = await c.reconcile({ namespace: "default", name: "pi" });
  await h.settle();
  return r;
}

const getJob = (h: Harness): Job | undefined => h.fake.objects<Job>("batch", "jobs")[0];
const cond = (h: Harness, type: string) => getJob(h)?.status?.conditions?.find((c) => c.type === type);
const activePods = (h: Harness): Pod[] =>
  h.pods().filter((p) => !p.status?.phase || p.status.phase === "Pending" || p.status.phase === "Running");

test("NonIndexed: runs `parallelism` pods until `completions` succeed, counting through the tracking finalizer", async () => {
  const { h, c } = await setup(job({ completions: 3, parallelism: 2 }));
  try {
    await sync(h, c);
    let pods = h.pods();
    assert.equal(pods.length, 2);
    const pod = pods[0]!;
    assert.match(pod.metadata.name!, /^pi-[a-z0-9]{5}$/);
    assert.deepEqual(pod.metadata.finalizers, [JOB_TRACKING_FINALIZER]);
    assert.equal(pod.metadata.labels?.["job-name"], "pi");
    assert.equal(pod.metadata.labels?.["batch.kubernetes.io/controller-uid"], UID);
    assert.deepEqual(
      pod.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.controller]),
      [["Job", "pi", true]],
    );
    assert.equal(pod.spec?.restartPolicy, "Never");
    assert.ok(getJob(h)!.status?.startTime);
    assert.equal(getJob(h)!.status?.active, 2);

    await h.setPodPhase("default", pod.metadata.name!, "Succeeded");
    await sync(h, c);
    pods = h.pods();
    const done = pods.find((p) => p.metadata.name === pod.metadata.name)!;
    assert.deepEqual(done.metadata.finalizers ?? [], [], "finalizer removed once counted");
    let st = getJob(h)!.status!;
    assert.equal(st.succeeded, 1);
    assert.deepEqual(st.uncountedTerminatedPods, {});
    assert.equal(st.active, 2, "a replacement started: min(completions - succeeded, parallelism)");
    // The uid went through uncountedTerminatedPods before the finalizer came off.
    const statusWrites = h.fake.actions.filter((a) => a.resource === "jobs" && a.subresource === "status");
    assert.ok(
      statusWrites.some((a) =>
        (a.object as Job).status?.uncountedTerminatedPods?.succeeded?.includes(pod.metadata.uid!),
      ),
    );

    for (const p of activePods(h)) await h.setPodPhase("default", p.metadata.name!, "Succeeded");
    await sync(h, c);
    st = getJob(h)!.status!;
    assert.equal(st.succeeded, 3);
    assert.equal(st.active, undefined);
    assert.equal(cond(h, "Complete")?.status, "True");
    assert.equal(cond(h, "SuccessCriteriaMet")?.status, "True");
    assert.ok(st.completionTime);
    assert.deepEqual(
      h.eventsWith("Completed").map((e) => e.message),
      ["Job completed"],
    );
    assert.equal(h.eventsWith("SuccessfulCreate").length, 3);
  } finally {
    h.stop();
  }
});

test("backoffLimit: failures are counted, replacements wait out the backoff, exceeding fails the Job", async () => {
  const { h, c } = await setup(job({ backoffLimit: 1 }));
  try {
    await sync(h, c);
    await h.setPodPhase("default", h.pods()[0]!.metadata.name!, "Failed");
    const r = await sync(h, c);
    assert.equal(getJob(h)!.status?.failed, 1);
    assert.equal(activePods(h).length, 0, "no replacement during the 10 s backoff");
    assert.equal(r?.requeueAfterMs, 10_000);
    h.clock.advance(10_000);
    await sync(h, c);
    assert.equal(activePods(h).length, 1);
    await h.setPodPhase("default", activePods(h)[0]!.metadata.name!, "Failed");
    await sync(h, c);
    const failed = cond(h, "Failed");
    assert.equal(failed?.status, "True");
    assert.equal(failed?.reason, "BackoffLimitExceeded");
    assert.equal(failed?.message, "Job has reached the specified backoff limit");
    assert.equal(cond(h, "FailureTarget")?.reason, "BackoffLimitExceeded");
    assert.equal(getJob(h)!.status?.failed, 2);
    assert.equal(getJob(h)!.status?.completionTime, undefined);
    assert.deepEqual(
      h.eventsWith("BackoffLimitExceeded").map((e) => e.type),
      ["Warning"],
    );
  } finally {
    h.stop();
  }
});

test("activeDeadlineSeconds: requeues for the deadline, then fails with DeadlineExceeded and removes active pods", async () => {
  const { h, c } = await setup(job({ activeDeadlineSeconds: 30, parallelism: 2, completions: 2 }));
  try {
    const r = await sync(h, c);
    assert.equal(r?.requeueAfterMs, 30_000);
    assert.equal(activePods(h).length, 2);
    h.clock.advance(30_000);
    await sync(h, c);
    assert.equal(cond(h, "Failed")?.reason, "DeadlineExceeded");
    assert.equal(cond(h, "Failed")?.message, "Job was active longer than specified deadline");
    assert.equal(h.pods().length, 0, "active pods deleted (finalizer removed first)");
    assert.equal(getJob(h)!.status?.failed, 2);
  } finally {
    h.stop();
  }
});

test("Indexed: one pod per index with annotation, label, hostname and JOB_COMPLETION_INDEX; completedIndexes", async () => {
  const { h, c } = await setup(job({ completionMode: "Indexed", completions: 3, parallelism: 2 }));
  try {
    await sync(h, c);
    let pods = h.pods();
    const idx = (p: Pod) => p.metadata.annotations?.["batch.kubernetes.io/job-completion-index"];
    assert.deepEqual(pods.map(idx).sort(), ["0", "1"]);
    const p1 = pods.find((p) => idx(p) === "1")!;
    assert.match(p1.metadata.name!, /^pi-1-[a-z0-9]{5}$/);
    assert.equal(p1.metadata.labels?.["batch.kubernetes.io/job-completion-index"], "1");
    assert.equal(p1.spec?.hostname, "pi-1");
    assert.deepEqual(p1.spec?.containers[0]?.env, [
      {
        name: "JOB_COMPLETION_INDEX",
        valueFrom: {
          fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
        },
      },
    ]);
    await h.setPodPhase("default", p1.metadata.name!, "Succeeded");
    await sync(h, c);
    assert.equal(getJob(h)!.status?.completedIndexes, "1");
    pods = activePods(h);
    assert.deepEqual(pods.map(idx).sort(), ["0", "2"]);
    for (const p of pods) await h.setPodPhase("default", p.metadata.name!, "Succeeded");
    await sync(h, c);
    const st = getJob(h)!.status!;
    assert.equal(st.completedIndexes, "0-2");
    assert.equal(st.succeeded, 3);
    assert.equal(cond(h, "Complete")?.status, "True");
  } finally {
    h.stop();
  }
});

const policy = {
  rules: [
    { action: "FailJob", onExitCodes: { containerName: "main", operator: "In", values: [42] } },
    { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
  ],
};

test("podFailurePolicy: Ignore does not count a disrupted pod; FailJob fails the Job with upstream's message", async () => {
  const { h, c } = await setup(job({ podFailurePolicy: policy, podReplacementPolicy: "Failed" }));
  try {
    await sync(h, c);
    const first = h.pods()[0]!.metadata.name!;
    await h.setPodPhase("default", first, "Failed", {
      exitCode: 137,
      conditions: [{ type: "DisruptionTarget", status: "True" }],
    });
    await sync(h, c);
    assert.equal(getJob(h)!.status?.failed, undefined, "ignored");
    assert.equal(activePods(h).length, 1, "replaced at once, no backoff");
    const second = activePods(h)[0]!.metadata.name!;
    await h.setPodPhase("default", second, "Failed", { exitCode: 42 });
    await sync(h, c);
    const failed = cond(h, "Failed");
    assert.equal(failed?.reason, "PodFailurePolicy");
    assert.equal(
      failed?.message,
      `Container main for pod default/${second} failed with exit code 42 matching FailJob rule at index 0`,
    );
  } finally {
    h.stop();
  }
});

test("suspend: no pods and a Suspended condition; resuming resets startTime and starts pods", async () => {
  const { h, c } = await setup(job({ suspend: true, parallelism: 2, completions: 2 }));
  try {
    await sync(h, c);
    assert.equal(h.pods().length, 0);
    assert.equal(cond(h, "Suspended")?.status, "True");
    assert.equal(cond(h, "Suspended")?.reason, "JobSuspended");
    assert.equal(getJob(h)!.status?.startTime, undefined);
    h.clock.advance(5000);
    const jobs = h.fake.resource<Job>("batch", "jobs");
    const j = await jobs.get("default", "pi");
    j.spec!.suspend = false;
    await jobs.update(j);
    await sync(h, c);
    assert.equal(h.pods().length, 2);
    assert.equal(cond(h, "Suspended")?.status, "False");
    assert.equal(cond(h, "Suspended")?.reason, "JobResumed");
    assert.equal(getJob(h)!.status?.startTime, new Date(h.clock.ms).toISOString().replace(/\.\d{3}Z$/, "Z"));
    assert.deepEqual(
      h.eventsWith("Resumed").map((e) => e.message),
      ["Job resumed"],
    );
  } finally {
    h.stop();
  }
});

test("a pod deleted while running counts as failed (TerminatingOrFailed) and is replaced", async () => {
  const { h, c } = await setup(job());
  try {
    await sync(h, c);
    const name = h.pods()[0]!.metadata.name!;
    await h.fake.resource<Pod>("", "pods").delete("default", name);
    await sync(h, c);
    assert.equal(
      h.pods().some((p) => p.metadata.name === name),
      false,
      "finalizer removed, pod gone",
    );
    assert.equal(getJob(h)!.status?.failed, 1);
  } finally {
    h.stop();
  }
});

test("pods of a deleted Job lose the tracking finalizer", async () => {
  const { h, c } = await setup(job());
  try {
    await sync(h, c);
    const name = h.pods()[0]!.metadata.name!;
    await h.fake.resource<Job>("batch", "jobs").delete("default", "pi");
    await sync(h, c);
    const pod = h.pods().find((p) => p.metadata.name === name)!;
    assert.deepEqual(pod.metadata.finalizers ?? [], []);
  } finally {
    h.stop();
  }
});
