import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "../../api/types/core-v1.ts";
import type { PriorityClass } from "../../api/types/scheduling-v1.ts";
import { isForbidden } from "../../api/status-error.ts";
import { startTestApiServer } from "../../testing/api-server.ts";

const pod = (name: string, spec: Partial<NonNullable<Pod["spec"]>> = {}): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default" },
  spec: { containers: [{ name: "c", image: "busybox" }], ...spec },
});
const pc = (name: string, value: number, extra: Partial<PriorityClass> = {}): PriorityClass => ({
  apiVersion: "scheduling.k8s.io/v1",
  kind: "PriorityClass",
  metadata: { name },
  value,
  ...extra,
});

test("priority admission: class values, the global default, built-ins, and refusals", async () => {
  const t = await startTestApiServer();
  try {
    const pods = t.client.resource<Pod>("", "pods");
    const classes = t.client.resource<PriorityClass>("scheduling.k8s.io", "priorityclasses");
    // No class and no default: priority 0, may preempt.
    const plain = await pods.create(pod("plain"));
    assert.equal(plain.spec!.priority, 0);
    assert.equal(plain.spec!.preemptionPolicy, "PreemptLowerPriority");
    // The built-in classes exist.
    const crit = await pods.create(pod("crit", { priorityClassName: "system-node-critical" }));
    assert.equal(crit.spec!.priority, 2_000_001_000);
    await classes.create(pc("never", 1000, { preemptionPolicy: "Never" }));
    const never = await pods.create(pod("never", { priorityClassName: "never" }));
    assert.equal(never.spec!.priority, 1000);
    assert.equal(never.spec!.preemptionPolicy, "Never");
    await assert.rejects(pods.create(pod("missing", { priorityClassName: "nope" })), (e: unknown) => {
      assert.ok(isForbidden(e));
      assert.match(
        (e as Error).message,
        /pods "missing" is forbidden: no PriorityClass with name nope was found/,
      );
      return true;
    });
    await assert.rejects(
      pods.create(pod("own", { priorityClassName: "never", priority: 5 })),
      /must not be provided in pod spec/,
    );
    // The lowest globalDefault class applies to pods that name none.
    await classes.create(pc("default-high", 200, { globalDefault: true }));
    await classes.create(pc("default-low", 100, { globalDefault: true }));
    let defaulted: Pod | undefined;
    for (let i = 0; i < 50 && defaulted?.spec?.priority !== 100; i++) {
      if (defaulted) await pods.delete("default", defaulted.metadata.name!, { gracePeriodSeconds: 0 });
      defaulted = await pods.create(pod(`d${i}`));
    }
    assert.equal(defaulted!.spec!.priorityClassName, "default-low");
    assert.equal(defaulted!.spec!.priority, 100);
  } finally {
    await t.stop();
  }
});
