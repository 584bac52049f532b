import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../../api/object.ts";
import { isForbidden, isNotFound } from "../../api/status-error.ts";
import { startTestApiServer } from "../../testing/api-server.ts";

type Ns = KubeObject & { spec?: { finalizers?: string[] }; status?: { phase?: string } };

test("namespace delete: Terminating until spec.finalizers are finalized away, new content refused", async (t) => {
  const api = await startTestApiServer();
  t.after(() => api.stop());
  const nss = api.client.resource<Ns>("", "namespaces");
  const created = await nss.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "doomed" } });
  assert.deepEqual(created.spec?.finalizers, ["kubernetes"]);
  assert.equal(created.status?.phase, "Active");

  // spec.finalizers cannot be dropped through the main resource.
  const upd = await nss.update({ ...created, spec: {} });
  assert.deepEqual(upd.spec?.finalizers, ["kubernetes"]);

  const marked = (await nss.delete(undefined, "doomed")) as Ns;
  assert.equal(marked.status?.phase, "Terminating");
  assert.ok(marked.metadata.deletionTimestamp);
  const again = await nss.get(undefined, "doomed");
  assert.equal(again.status?.phase, "Terminating");
  // A status write while terminating keeps the namespace (its finalizer is still there).
  await nss.updateStatus({ ...again, status: { phase: "Terminating" } });
  await nss.get(undefined, "doomed");

  await assert.rejects(
    api.client.resource("", "configmaps").create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "x", namespace: "doomed" },
    }),
    (e: unknown) =>
      isForbidden(e) &&
      /unable to create new content in namespace doomed because it is being terminated/.test(String(e)),
  );

  // The namespace controller's last steps: finalize, then delete again.
  const cur = await nss.get(undefined, "doomed");
  const fin = await nss.updateSubresource({ ...cur, spec: { finalizers: [] } }, "finalize");
  assert.equal(fin.spec?.finalizers, undefined);
  assert.ok(fin.metadata.deletionTimestamp, "still there until deleted again");
  await nss.delete(undefined, "doomed").catch((e: unknown) => {
    if (!isNotFound(e)) throw e;
  });
  await assert.rejects(nss.get(undefined, "doomed"), (e: unknown) => isNotFound(e));
});
