import assert from "node:assert/strict";
import { test } from "node:test";
import type { CronJob, Job } from "../../api/types/batch-v1.ts";
import { parseCronSchedule, type CronSchedule } from "../../api/validation/cron-schedule.ts";
import { Harness } from "../statefulset/statefulset-test-util.ts";
import { CronJobController } from "./cronjob-controller.ts";
import { jobNameFor, mostRecentScheduleTime, rfc3339In } from "./cronjob-schedule.ts";

const T0 = Date.parse("2025-01-01T00:00:00Z");
const MIN = 60_000;

function cronJob(spec: Partial<NonNullable<CronJob["spec"]>> = {}, status?: CronJob["status"]): CronJob {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: {
      name: "tick",
      namespace: "default",
      uid: "cj-uid",
      creationTimestamp: "2025-01-01T00:00:00Z",
    },
    spec: {
      schedule: "*/5 * * * *",
      timeZone: "UTC",
      concurrencyPolicy: "Allow",
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: {
        metadata: { labels: { app: "tick" } },
        spec: {
          template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "c", image: "busybox" }] } },
        },
      },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

async function setup(cj: CronJob): Promise<{ h: Harness; c: CronJobController }> {
  const h = new Harness([cj]);
  h.clock.ms = T0;
  const c = new CronJobController({
    client: h.fake,
    informers: h.informers,
    recorder: h.recorder,
    now: h.clock.now,
  });
  await h.start();
  return { h, c };
}

async function sync(h: Harness, c: CronJobController) {
  await h.settle();
  const r = await c.reconcile({ namespace: "default", name: "tick" });
  await h.settle();
  return r;
}

const jobs = (h: Harness): Job[] =>
  h.fake
    .objects<Job>("batch", "jobs")
    .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
const cjStatus = (h: Harness) => h.fake.objects<CronJob>("batch", "cronjobs")[0]?.status ?? {};

async function finishJob(h: Harness, name: string, type: "Complete" | "Failed", at: number): Promise<void> {
  const client = h.fake.resource<Job>("batch", "jobs");
  const j = await client.get("default", name);
  const ts = new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z");
  j.status = {
    startTime: ts,
    ...(type === "Complete" ? { completionTime: ts, succeeded: 1 } : { failed: 1 }),
    conditions: [{ type, status: "True", lastTransitionTime: ts }],
  };
  await client.updateStatus(j);
}

test("starts a Job at each scheduled time and sleeps exactly until the next one", async () => {
  const { h, c } = await setup(cronJob());
  try {
    h.clock.ms = T0 + 30_000;
    let r = await sync(h, c);
    assert.equal(jobs(h).length, 0);
    assert.deepEqual(r, { requeueAfterMs: 4 * MIN + 30_000 + 100 });
    h.clock.ms = T0 + 5 * MIN;
    r = await sync(h, c);
    const [job] = jobs(h);
    assert.equal(job?.metadata.name, `tick-${(T0 + 5 * MIN) / MIN}`);
    assert.equal(
      job?.metadata.annotations?.["batch.kubernetes.io/cronjob-scheduled-timestamp"],
      "2025-01-01T00:05:00Z",
    );
    assert.equal(job?.metadata.labels?.app, "tick");
    assert.deepEqual(
      job?.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.controller, o.blockOwnerDeletion]),
      [["CronJob", "tick", true, true]],
    );
    assert.equal(job?.spec?.template.spec?.restartPolicy, "OnFailure");
    assert.deepEqual(r, { requeueAfterMs: 5 * MIN + 100 });
    const st = cjStatus(h);
    assert.equal(st.lastScheduleTime, "2025-01-01T00:05:00Z");
    assert.deepEqual(
      st.active?.map((a) => [a.kind, a.name, a.uid]),
      [["Job", job!.metadata.name, job!.metadata.uid]],
    );
    assert.deepEqual(
      h.eventsWith("SuccessfulCreate").map((e) => e.message),
      [`Created job ${job!.metadata.name}`],
    );
    // A second sync in the same minute does not start another.
    await sync(h, c);
    assert.equal(jobs(h).length, 1);
  } finally {
    h.stop();
  }
});

test("a finished Job leaves the active list, sets lastSuccessfulTime, and history is trimmed to the limit", async () => {
  const { h, c } = await setup(cronJob({ schedule: "* * * * *", successfulJobsHistoryLimit: 1 }));
  try {
    for (let i = 1; i <= 3; i++) {
      h.clock.ms = T0 + i * MIN;
      await sync(h, c);
      const name = jobNameFor(cronJob(), T0 + i * MIN);
      await finishJob(h, name, "Complete", T0 + i * MIN + 10_000);
    }
    h.clock.ms = T0 + 3 * MIN + 20_000;
    await sync(h, c);
    assert.deepEqual(
      jobs(h).map((j) => j.metadata.name),
      [jobNameFor(cronJob(), T0 + 3 * MIN)],
    );
    const st = cjStatus(h);
    assert.equal(st.active, undefined);
    assert.equal(st.lastSuccessfulTime, "2025-01-01T00:03:10Z");
    assert.ok(h.eventsWith("SawCompletedJob").some((e) => e.message.endsWith(", condition: Complete")));
    assert.equal(h.eventsWith("SuccessfulDelete").length, 2);
  } finally {
    h.stop();
  }
});

const policyCases: { policy: "Allow" | "Forbid" | "Replace"; wantJobs: number; event?: string }[] = [
  { policy: "Allow", wantJobs: 2 },
  { policy: "Forbid", wantJobs: 1, event: "JobAlreadyActive" },
  { policy: "Replace", wantJobs: 1, event: "SuccessfulDelete" },
];
for (const pc of policyCases) {
  test(`concurrencyPolicy ${pc.policy} with a Job still running at the next start`, async () => {
    const { h, c } = await setup(cronJob({ schedule: "* * * * *", concurrencyPolicy: pc.policy }));
    try {
      h.clock.ms = T0 + MIN;
      await sync(h, c);
      h.clock.ms = T0 + 2 * MIN;
      await sync(h, c);
      assert.equal(jobs(h).length, pc.wantJobs);
      if (pc.event) assert.equal(h.eventsWith(pc.event).length, 1);
      if (pc.policy === "Replace")
        assert.equal(jobs(h)[0]!.metadata.name, jobNameFor(cronJob(), T0 + 2 * MIN));
      if (pc.policy === "Forbid")
        assert.equal(
          h.eventsWith("JobAlreadyActive")[0]!.message,
          "Not starting job because prior execution is running and concurrency policy is Forbid",
        );
    } finally {
      h.stop();
    }
  });
}

test("suspend starts nothing and does not requeue", async () => {
  const { h, c } = await setup(cronJob({ suspend: true }));
  try {
    h.clock.ms = T0 + 10 * MIN;
    const r = await sync(h, c);
    assert.equal(jobs(h).length, 0);
    assert.equal(r, undefined);
  } finally {
    h.stop();
  }
});

test("after a long outage: too many missed starts warns, and only the most recent one runs", async () => {
  const { h, c } = await setup(cronJob({ schedule: "* * * * *" }));
  try {
    h.clock.ms = T0 + 500 * MIN + 5_000;
    await sync(h, c);
    assert.equal(h.eventsWith("TooManyMissedTimes").length, 1);
    assert.deepEqual(
      jobs(h).map((j) => j.metadata.name),
      [jobNameFor(cronJob(), T0 + 500 * MIN)],
    );
  } finally {
    h.stop();
  }
});

test("startingDeadlineSeconds: a start older than the deadline is skipped", async () => {
  const { h, c } = await setup(cronJob({ schedule: "0 * * * *", startingDeadlineSeconds: 60 }));
  try {
    h.clock.ms = T0 + 60 * MIN + 2 * MIN;
    const r = await sync(h, c);
    assert.equal(jobs(h).length, 0);
    assert.deepEqual(r, { requeueAfterMs: 58 * MIN + 100 });
    h.clock.ms = T0 + 120 * MIN + 30_000;
    await sync(h, c);
    assert.equal(jobs(h).length, 1);
  } finally {
    h.stop();
  }
});

test("timeZone: the schedule is read in the zone and the annotation carries its offset", async () => {
  const { h, c } = await setup(cronJob({ schedule: "1 9 * * *", timeZone: "Asia/Tokyo" }));
  try {
    h.clock.ms = T0 + 90_000; // 09:01:30 in Tokyo
    await sync(h, c);
    const [job] = jobs(h);
    assert.equal(
      job?.metadata.annotations?.["batch.kubernetes.io/cronjob-scheduled-timestamp"],
      "2025-01-01T09:01:00+09:00",
    );
    assert.equal(job?.metadata.name, `tick-${T0 / MIN + 1}`);
  } finally {
    h.stop();
  }
});

test("an unknown timeZone is reported and nothing starts", async () => {
  const { h, c } = await setup(cronJob({ timeZone: "Mars/Olympus" }));
  try {
    h.clock.ms = T0 + 10 * MIN;
    await sync(h, c);
    assert.equal(jobs(h).length, 0);
    assert.equal(
      h.eventsWith("UnknownTimeZone")[0]?.message,
      'invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus',
    );
  } finally {
    h.stop();
  }
});

const sched = (s: string): CronSchedule => {
  const r = parseCronSchedule(s);
  assert.ok(r.ok);
  return r.schedule;
};

const recentCases: {
  name: string;
  schedule: string;
  nowMs: number;
  last?: string;
  want: [number | undefined, string];
}[] = [
  { name: "before the first start", schedule: "@hourly", nowMs: T0 + 59 * MIN, want: [undefined, "none"] },
  { name: "exactly at a start", schedule: "@hourly", nowMs: T0 + 60 * MIN, want: [T0 + 60 * MIN, "few"] },
  { name: "two missed", schedule: "@hourly", nowMs: T0 + 150 * MIN, want: [T0 + 120 * MIN, "few"] },
  {
    name: "since lastScheduleTime",
    schedule: "*/10 * * * *",
    nowMs: T0 + 25 * MIN,
    last: "2025-01-01T00:20:00Z",
    want: [undefined, "none"],
  },
  {
    name: "irregular schedule",
    schedule: "30 6-16/4 * * 1-5",
    nowMs: Date.parse("2025-01-03T18:00:00Z"),
    want: [Date.parse("2025-01-03T14:30:00Z"), "few"],
  },
  { name: "@every", schedule: "@every 90s", nowMs: T0 + 10 * MIN, want: [T0 + 9 * MIN, "few"] },
];
for (const rc of recentCases) {
  test(`mostRecentScheduleTime: ${rc.name}`, () => {
    const cj = cronJob({}, rc.last ? { lastScheduleTime: rc.last } : undefined);
    const r = mostRecentScheduleTime(cj, rc.nowMs, sched(rc.schedule), true);
    assert.deepEqual([r.mostRecentMs, r.missed], rc.want);
  });
}

test("rfc3339In formats in UTC and in a zone with its offset", () => {
  assert.equal(rfc3339In(T0, undefined), "2025-01-01T00:00:00Z");
  assert.equal(rfc3339In(T0, "America/New_York"), "2024-12-31T19:00:00-05:00");
});
