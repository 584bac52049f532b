import { test } from "node:test";
import assert from "node:assert/strict";
import { kindByGroupResource } from "../../api/kinds.ts";
import { rulesFor } from "../../api/rules.ts";
import type { KubeObject } from "../../api/object.ts";
import { StatusError } from "../../api/status-error.ts";
import { openBackend } from "../../storage/open.ts";
import { WatchCache } from "../watch-cache.ts";
import { codecFor } from "./codec.ts";
import { ResourceStore } from "./store.ts";

async function storeOf(resource: string, group = "") {
  const info = kindByGroupResource(group, resource)!;
  const backend = await openBackend("memory://", { compactIntervalMs: 0 });
  const ac = new AbortController();
  const cache = new WatchCache(backend, info.storageRoot, ac.signal, codecFor(info));
  const store = new ResourceStore(info, backend, cache, rulesFor(info), async (ns) => {
    if (ns === "missing") throw new StatusError(404, "NotFound", `namespaces "${ns}" not found`);
  });
  return {
    store,
    backend,
    async close() {
      ac.abort();
      await backend.close();
    },
  };
}

const deployment = (replicas: number): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web" },
  spec: {
    replicas,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "web", image: "busybox" }] },
    },
  },
});

const status = (e: unknown): number => (e instanceof StatusError ? e.code : 0);

test("create defaults, validates and stores; a stale resourceVersion is a 409", async () => {
  const { store, close } = await storeOf("deployments", "apps");
  try {
    const created = await store.create("default", deployment(2));
    const spec = created.obj.spec as { strategy: { type: string }; revisionHistoryLimit: number };
    assert.equal(spec.strategy.type, "RollingUpdate", "defaulted");
    assert.equal(spec.revisionHistoryLimit, 10);
    assert.equal(created.obj.metadata.generation, 1);
    assert.equal(created.obj.metadata.namespace, "default");
    await assert.rejects(store.create("default", deployment(-1)), (e) => status(e) === 422);
    await assert.rejects(store.create("default", deployment(1)), (e) => status(e) === 409);
    const next = structuredClone(created.obj);
    (next.spec as { replicas: number }).replicas = 3;
    const updated = await store.update("default", "web", structuredClone(next)); // the store keeps what it is given
    assert.equal(updated.obj.metadata.generation, 2, "a spec change bumps generation");
    await assert.rejects(
      store.update("default", "web", next),
      (e) => status(e) === 409,
      "stale resourceVersion",
    );
    assert.equal(((await store.get("default", "web")).obj.spec as { replicas: number }).replicas, 3);
  } finally {
    await close();
  }
});

test("dry run validates without storing, and a missing namespace is refused", async () => {
  const { store, close } = await storeOf("configmaps");
  try {
    const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "b" } };
    await store.create("default", structuredClone(cm), { dryRun: true });
    await assert.rejects(store.get("default", "c"), (e) => status(e) === 404);
    await assert.rejects(store.create("missing", structuredClone(cm)), (e) => status(e) === 404);
  } finally {
    await close();
  }
});

test("a delete with finalizers marks the object, which goes when the last finalizer is removed", async () => {
  const { store, close } = await storeOf("configmaps");
  try {
    await store.create("default", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "f", finalizers: ["example.com/hold"] },
    });
    const r = await store.delete("default", "f");
    assert.equal(r.deleted, false);
    assert.ok(r.obj.metadata.deletionTimestamp);
    await store.guaranteedUpdate("default", "f", (cur) => {
      cur.metadata.finalizers = [];
      return cur;
    });
    await assert.rejects(store.get("default", "f"), (e) => status(e) === 404);
  } finally {
    await close();
  }
});

test("a bound pod deletes gracefully; an unbound one at once", async () => {
  const { store, close } = await storeOf("pods");
  try {
    const pod = (name: string, nodeName?: string): KubeObject => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: { containers: [{ name: "c", image: "busybox" }], ...(nodeName ? { nodeName } : {}) },
    });
    const created = await store.create("default", pod("bound", "node-1"));
    assert.equal((created.obj.status as { phase: string }).phase, "Pending");
    const r = await store.delete("default", "bound");
    assert.equal(r.deleted, false);
    assert.equal(r.obj.metadata.deletionGracePeriodSeconds, 30);
    await store.create("default", pod("loose"));
    assert.equal((await store.delete("default", "loose")).deleted, true);
  } finally {
    await close();
  }
});
