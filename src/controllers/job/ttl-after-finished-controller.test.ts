import assert from "node:assert/strict";
import { test } from "node:test";
import type { Job } from "../../api/types/batch-v1.ts";
import { Harness } from "../statefulset/statefulset-test-util.ts";
import { expiresAtMs, TtlAfterFinishedController } from "./ttl-after-finished-controller.ts";

function finishedJob(ttl: number | undefined, completionTime: string | undefined): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "pi", namespace: "default" },
    spec: { template: {}, ...(ttl === undefined ? {} : { ttlSecondsAfterFinished: ttl }) },
    status: {
      ...(completionTime ? { completionTime } : {}),
      conditions: [{ type: "Complete", status: "True", lastTransitionTime: "2025-01-01T00:00:00Z" }],
    },
  };
}

const cases: { name: string; job: Job; want: number | undefined }[] = [
  { name: "no TTL", job: finishedJob(undefined, "2025-01-01T00:00:00Z"), want: undefined },
  {
    name: "completionTime + ttl",
    job: finishedJob(60, "2025-01-01T00:00:10Z"),
    want: Date.parse("2025-01-01T00:01:10Z"),
  },
  {
    name: "condition time when no completionTime",
    job: finishedJob(0, undefined),
    want: Date.parse("2025-01-01T00:00:00Z"),
  },
  {
    name: "not finished",
    job: { ...finishedJob(5, undefined), status: {} },
    want: undefined,
  },
];
for (const c of cases) {
  test(`expiresAtMs: ${c.name}`, () => assert.equal(expiresAtMs(c.job), c.want));
}

test("a finished Job is deleted (Background) once its TTL has passed, not before", async () => {
  const h = new Harness([finishedJob(100, "2025-01-01T00:00:00Z")]);
  const c = new TtlAfterFinishedController({ client: h.fake, informers: h.informers, now: h.clock.now });
  await h.start();
  try {
    h.clock.ms = Date.parse("2025-01-01T00:00:40Z");
    const r = await c.reconcile({ namespace: "default", name: "pi" });
    assert.deepEqual(r, { requeueAfterMs: 60_000 });
    assert.equal(h.fake.objects("batch", "jobs").length, 1);
    h.clock.advance(60_000);
    await c.reconcile({ namespace: "default", name: "pi" });
    assert.equal(h.fake.objects("batch", "jobs").length, 0);
    assert.ok(h.fake.actions.some((a) => a.verb === "delete" && a.resource === "jobs"));
  } finally {
    h.stop();
  }
});
