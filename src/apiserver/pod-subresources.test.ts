import { test } from "node:test";
import assert from "node:assert/strict";
import { kindByGroupResource } from "../api/kinds.ts";
import { rulesFor } from "../api/rules.ts";
import type { KubeObject } from "../api/object.ts";
import { StatusError } from "../api/status-error.ts";
import type { PodDisruptionBudget } from "../api/types/policy-v1.ts";
import { openBackend } from "../storage/open.ts";
import { WatchCache } from "./watch-cache.ts";
import { codecFor } from "./registry/codec.ts";
import { ResourceStore } from "./registry/store.ts";
import { evictPod } from "./pod-subresources.ts";

async function stores() {
  const backend = await openBackend("memory://", { compactIntervalMs: 0 });
  const ac = new AbortController();
  const mk = (group: string, resource: string): ResourceStore => {
    const info = kindByGroupResource(group, resource)!;
    const cache = new WatchCache(backend, info.storageRoot, ac.signal, codecFor(info));
    return new ResourceStore(info, backend, cache, rulesFor(info), async () => {});
  };
  const pods = mk("", "pods");
  const pdbs = mk("policy", "poddisruptionbudgets");
  return {
    pods,
    pdbs,
    budgets: { store: pdbs, backend },
    async close() {
      ac.abort();
      await backend.close();
    },
  };
}

const pod = (name: string): KubeObject =>
  ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: "web" } },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  }) as unknown as KubeObject;

async function runningReady(s: Awaited<ReturnType<typeof stores>>, name: string): Promise<void> {
  await s.pods.create("default", pod(name));
  await s.pods.guaranteedUpdate(
    "default",
    name,
    (cur) => ({ ...cur, status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] } }),
    { subresource: "status" },
  );
}

async function budget(s: Awaited<ReturnType<typeof stores>>, name: string, allowed: number): Promise<void> {
  await s.pdbs.create("default", {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, namespace: "default" },
    spec: { minAvailable: 1, selector: { matchLabels: { app: "web" } } },
  } as unknown as KubeObject);
  await s.pdbs.guaranteedUpdate(
    "default",
    name,
    (cur) => ({
      ...cur,
      status: { observedGeneration: 1, currentHealthy: 1 + allowed, desiredHealthy: 1, expectedPods: 1 + allowed, disruptionsAllowed: allowed },
    }),
    { subresource: "status" },
  );
}

test("eviction is refused with 429 while the budget allows no disruption", async () => {
  const s = await stores();
  try {
    await runningReady(s, "a");
    await budget(s, "web", 0);
    await assert.rejects(evictPod(s.pods, "default", "a", {}, s.budgets), (e: unknown) => {
      assert.ok(e instanceof StatusError);
      assert.equal(e.code, 429);
      assert.equal(e.status.reason, "TooManyRequests");
      assert.equal(e.message, "Cannot evict pod as it would violate the pod's disruption budget.");
      assert.match(JSON.stringify(e.status.details), /The disruption budget web needs 1 healthy pods and has 1 currently/);
      return true;
    });
    assert.ok(await s.pods.get("default", "a"));
  } finally {
    await s.close();
  }
});

test("eviction takes a disruption, records the pod, then deletes it", async () => {
  const s = await stores();
  try {
    await runningReady(s, "a");
    await budget(s, "web", 1);
    await evictPod(s.pods, "default", "a", {}, s.budgets);
    const got = (await s.pdbs.get("default", "web")).obj as unknown as PodDisruptionBudget;
    assert.equal(got.status?.disruptionsAllowed, 0);
    assert.ok(got.status?.disruptedPods?.["a"]);
    assert.equal(got.status?.conditions?.[0]?.reason, "InsufficientPods");
    await assert.rejects(s.pods.get("default", "a"), (e: unknown) => e instanceof StatusError && e.code === 404);
  } finally {
    await s.close();
  }
});

test("eviction with two budgets is a 500; a pending pod ignores budgets", async () => {
  const s = await stores();
  try {
    await runningReady(s, "a");
    await budget(s, "one", 1);
    await budget(s, "two", 1);
    await assert.rejects(evictPod(s.pods, "default", "a", {}, s.budgets), (e: unknown) => {
      assert.ok(e instanceof StatusError);
      assert.equal(e.code, 500);
      assert.match(e.message, /more than one PodDisruptionBudget/);
      return true;
    });
    await s.pods.create("default", pod("p"));
    await evictPod(s.pods, "default", "p", {}, s.budgets);
    await assert.rejects(s.pods.get("default", "p"));
  } finally {
    await s.close();
  }
});
