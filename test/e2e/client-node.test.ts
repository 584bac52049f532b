/**
 * e2e: the official JavaScript client (@kubernetes/client-node 1.x) against a real kites
 * server: create, list, patch, delete, watch, and an informer that survives a server restart.
 */
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { startServer, type TestServer } from "./harness.ts";

function client(s: TestServer): { kc: k8s.KubeConfig; core: k8s.CoreV1Api } {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(s.kubeconfig);
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api) };
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("@kubernetes/client-node against kites", () => {
  let s: TestServer;
  // The restart test starts a second server on the first one's data dir, which the harness
  // then leaves alone: removed here.
  let dataDir = "";
  before(async () => {
    s = await startServer();
    dataDir = s.dataDir;
  });
  after(async () => {
    await s?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("creates, lists, patches and deletes", async () => {
    const { core } = client(s);
    const created = await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: "cfg", labels: { app: "demo" } }, data: { a: "1" } },
    });
    assert.equal(created.metadata?.name, "cfg");
    assert.match(created.metadata?.uid ?? "", /^[0-9a-f-]{36}$/);
    const list = await core.listNamespacedConfigMap({ namespace: "default", labelSelector: "app=demo" });
    assert.deepEqual(
      list.items.map((i) => i.metadata?.name),
      ["cfg"],
    );
    const patched = await core.patchNamespacedConfigMap(
      { name: "cfg", namespace: "default", body: { data: { b: "2" } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    assert.deepEqual(patched.data, { a: "1", b: "2" });
    await core.deleteNamespacedConfigMap({ name: "cfg", namespace: "default" });
    await assert.rejects(
      core.readNamespacedConfigMap({ name: "cfg", namespace: "default" }),
      (e: unknown) => {
        assert.equal((e as { code?: number }).code, 404);
        return true;
      },
    );
  });

  it("watches changes as they happen", async () => {
    const { kc, core } = client(s);
    const seen: string[] = [];
    const w = new k8s.Watch(kc);
    const req = await w.watch(
      "/api/v1/namespaces/default/configmaps",
      {},
      (type: string, obj: k8s.V1ConfigMap) => seen.push(`${type} ${obj.metadata?.name}`),
      () => undefined,
    );
    try {
      await new Promise((r) => setTimeout(r, 200));
      await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "w1" } } });
      await core.deleteNamespacedConfigMap({ name: "w1", namespace: "default" });
      await until("ADDED and DELETED", () => seen.includes("DELETED w1"));
      // A watch from "now" starts with what exists: the namespace's kube-root-ca.crt.
      assert.deepEqual(
        seen.filter((e) => !e.endsWith(" kube-root-ca.crt")),
        ["ADDED w1", "DELETED w1"],
      );
    } finally {
      req.abort();
    }
  });

  it("keeps an informer in sync across a server restart", async () => {
    const dataDir = s.dataDir;
    const { kc, core } = client(s);
    const informer = k8s.makeInformer(kc, "/api/v1/namespaces/default/configmaps", () =>
      core.listNamespacedConfigMap({ namespace: "default" }),
    );
    const names = (): string[] =>
      informer
        .list("default")
        .map((c) => c.metadata?.name ?? "")
        .sort();
    let stopped = false;
    informer.on("error", () => {
      // The informer reports the lost connection; restart it after a pause, as its docs advise.
      if (!stopped) setTimeout(() => void (stopped || informer.start().catch(() => undefined)), 500);
    });
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "before" } } });
      await until("the informer sees 'before'", () => names().includes("before"));
      // Restart the server on the same data dir and port.
      const port = s.port;
      await s.stop({ keep: true });
      s = await startServer({ dataDir, port });
      const fresh = client(s).core;
      await fresh.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "after" } } });
      await until("the informer sees 'after'", () => names().includes("after"), 30_000);
      assert.ok(names().includes("before"), "state from before the restart is kept");
    } finally {
      stopped = true;
      await informer.stop();
    }
  });
});
