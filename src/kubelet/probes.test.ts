import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "../api/types/core-v1.ts";
import { getPod, startHarness, testPod, waitFor } from "./test-harness.ts";

test("readiness probe gates Ready; liveness failure restarts the container with events", async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  let ready = false;
  let alive = true;
  h.runtime.execHandler = (_id, _name, argv) => {
    if (argv[0] === "ready") return { exitCode: ready ? 0 : 1, stdout: ready ? "" : "not yet", stderr: "" };
    if (argv[0] === "alive") return { exitCode: alive ? 0 : 1, stdout: alive ? "" : "dead", stderr: "" };
    return { exitCode: 0, stdout: "", stderr: "" };
  };
  await h.client.resource<Pod>("", "pods").create(
    testPod("probed", {
      containers: [
        {
          name: "main",
          image: "busybox",
          readinessProbe: { exec: { command: ["ready"] }, periodSeconds: 1, failureThreshold: 1 },
          livenessProbe: { exec: { command: ["alive"] }, periodSeconds: 1, failureThreshold: 2 },
        },
      ],
    }),
  );
  const notReady = await waitFor("Running but not Ready", async () => {
    const p = await getPod(h.client, "probed");
    return p.status?.phase === "Running" && h.events.some((e) => e.reason === "Unhealthy") ? p : undefined;
  });
  assert.equal(notReady.status?.conditions?.find((c) => c.type === "Ready")?.status, "False");
  assert.ok(
    h.events.some(
      (e) =>
        e.type === "Warning" && e.reason === "Unhealthy" && e.message === "Readiness probe failed: not yet",
    ),
  );
  ready = true;
  await waitFor(
    "Ready",
    async () =>
      (await getPod(h.client, "probed")).status?.conditions?.find((c) => c.type === "Ready")?.status ===
      "True",
  );

  alive = false;
  const killed = await waitFor("Killing event", () =>
    h.events.find(
      (e) =>
        e.reason === "Killing" && e.message === "Container main failed liveness probe, will be restarted",
    ),
  );
  assert.ok(killed);
  assert.ok(h.events.some((e) => e.reason === "Unhealthy" && e.message === "Liveness probe failed: dead"));
  alive = true;
  const p = await waitFor("restarted", async () => {
    const x = await getPod(h.client, "probed");
    const cs = x.status?.containerStatuses?.[0];
    return cs?.restartCount === 1 && cs.state?.running ? x : undefined;
  });
  assert.equal(p.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 143);
});

test("startup probe holds readiness until it succeeds", async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  let started = false;
  h.runtime.execHandler = (_id, _n, argv) => ({
    exitCode: argv[0] === "started" && !started ? 1 : 0,
    stdout: "",
    stderr: "",
  });
  await h.client.resource<Pod>("", "pods").create(
    testPod("slow", {
      containers: [
        {
          name: "main",
          image: "busybox",
          startupProbe: { exec: { command: ["started"] }, periodSeconds: 1, failureThreshold: 1000 },
        },
      ],
    }),
  );
  const p = await waitFor("Running", async () => {
    const x = await getPod(h.client, "slow");
    return x.status?.phase === "Running" && h.events.some((e) => e.message.startsWith("Startup probe failed"))
      ? x
      : undefined;
  });
  assert.equal(p.status?.containerStatuses?.[0]?.started, false);
  assert.equal(p.status?.containerStatuses?.[0]?.ready, false);
  started = true;
  const q = await waitFor("started", async () => {
    const x = await getPod(h.client, "slow");
    return x.status?.containerStatuses?.[0]?.ready ? x : undefined;
  });
  assert.equal(q.status?.containerStatuses?.[0]?.started, true);
});
