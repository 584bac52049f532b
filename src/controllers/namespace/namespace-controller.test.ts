import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test, type TestContext } from "node:test";
import type { Namespace, ServiceAccount } from "../../api/types/core-v1.ts";
import { FakeClient } from "../../client/fake-client.ts";
import { Informer } from "../../client/informer.ts";
import { ServiceAccountsReconciler } from "../serviceaccount/serviceaccounts-controller.ts";
import { NamespaceReconciler } from "./namespace-controller.ts";

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

async function namespaceInformer(t: TestContext, fake: FakeClient) {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const inf = new Informer<Namespace>(fake.resource<Namespace>("", "namespaces"));
  inf.start(ac.signal);
  await inf.synced;
  return inf;
}

test("a deleted namespace goes Terminating, loses its content, then disappears", async (t) => {
  const fake = new FakeClient();
  fake.seed({
    apiVersion: "v1",
    kind: "Namespace",
    // The fake client removes an object with a deletionTimestamp once metadata.finalizers are
    // empty (it does not know namespaces also wait for spec.finalizers): a metadata finalizer
    // keeps it around so the test can see what the controller writes.
    metadata: {
      name: "doomed",
      deletionTimestamp: "2026-01-01T00:00:00Z",
      deletionGracePeriodSeconds: 0,
      finalizers: ["example.com/ns-hold"],
    },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  });
  fake.seed({ apiVersion: "v1", kind: "Namespace", metadata: { name: "keep" }, status: { phase: "Active" } });
  for (const ns of ["doomed", "keep"]) {
    fake.seed({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: ns } });
    fake.seed({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: ns } });
    fake.seed({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: ns } });
  }
  fake.seed({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "held", namespace: "doomed", finalizers: ["example.com/hold"] },
  });
  const namespaces = await namespaceInformer(t, fake);
  const r = new NamespaceReconciler({
    client: fake,
    namespaces,
    now: () => new Date("2026-01-02T00:00:00Z"),
  });

  const res = await r.reconcile({ namespace: "", name: "doomed" });
  // The held secret remains: a finalizer estimate (15 s → requeue after 8 s).
  assert.deepEqual(res, { requeueAfterMs: 8000 });
  const ns = fake.objects<Namespace>("", "namespaces").find((n) => n.metadata.name === "doomed")!;
  assert.equal(ns.status?.phase, "Terminating");
  const cond = (type: string) => ns.status?.conditions?.find((c) => c.type === type);
  assert.equal(cond("NamespaceContentRemaining")?.status, "True");
  assert.equal(cond("NamespaceContentRemaining")?.reason, "SomeResourcesRemain");
  assert.equal(
    cond("NamespaceContentRemaining")?.message,
    "Some resources are remaining: secrets. has 1 resource instances",
  );
  assert.equal(
    cond("NamespaceFinalizersRemaining")?.message,
    "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances",
  );
  assert.equal(cond("NamespaceDeletionDiscoveryFailure")?.status, "False");
  assert.equal(cond("NamespaceDeletionDiscoveryFailure")?.reason, "ResourcesDiscovered");
  const left = (res: [string, string]) =>
    fake.objects(...res).filter((o) => o.metadata.namespace === "doomed").length;
  assert.equal(left(["", "pods"]), 0);
  assert.equal(left(["", "configmaps"]), 0);
  assert.equal(left(["apps", "deployments"]), 0);
  // Other namespaces are untouched.
  assert.equal(fake.objects("", "pods").length, 1);
  assert.equal(fake.objects("apps", "deployments").length, 1);

  // The finalizer's owner lets go; the next pass finalizes the namespace, which then goes.
  const held = await fake.resource("", "secrets").get("doomed", "held");
  held.metadata.finalizers = [];
  await fake.resource("", "secrets").update(held);
  await settle();
  assert.equal(await r.reconcile({ namespace: "", name: "doomed" }), undefined);
  const done = fake.objects<Namespace>("", "namespaces").find((n) => n.metadata.name === "doomed")!;
  assert.deepEqual(done.spec?.finalizers, []);
  const last = fake.actions.at(-1)!;
  assert.equal(last.resource, "namespaces");
  assert.equal(last.name, "doomed");
});

test("a namespace that is not being deleted is left alone", async (t) => {
  const fake = new FakeClient([
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "live" }, status: { phase: "Active" } },
    { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "live" } },
  ]);
  const namespaces = await namespaceInformer(t, fake);
  const r = new NamespaceReconciler({ client: fake, namespaces });
  await r.reconcile({ namespace: "", name: "live" });
  assert.equal(fake.actions.length, 0);
});

test("every active namespace gets a default ServiceAccount, recreated when deleted", async (t) => {
  const fake = new FakeClient([
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "a" }, status: { phase: "Active" } },
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "b" }, status: { phase: "Terminating" } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "c" } },
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "c" }, status: { phase: "Active" } },
  ]);
  const namespaces = await namespaceInformer(t, fake);
  const ac = new AbortController();
  t.after(() => ac.abort());
  const serviceAccounts = new Informer<ServiceAccount>(fake.resource<ServiceAccount>("", "serviceaccounts"));
  serviceAccounts.start(ac.signal);
  await serviceAccounts.synced;
  const r = new ServiceAccountsReconciler({ client: fake, namespaces, serviceAccounts });
  const queued: string[] = [];
  r.register((k) => queued.push(k));
  for (const ns of ["a", "b", "c"]) await r.reconcile({ namespace: "", name: ns });
  const sas = () =>
    fake
      .objects("", "serviceaccounts")
      .map((s) => `${s.metadata.namespace}/${s.metadata.name}`)
      .sort();
  assert.deepEqual(sas(), ["a/default", "c/default"]);
  assert.equal(fake.actions.filter((a) => a.verb === "create").length, 1);

  await settle();
  queued.length = 0;
  await fake.resource("", "serviceaccounts").delete("a", "default");
  await settle();
  assert.deepEqual(queued, ["a"]);
  await r.reconcile({ namespace: "", name: "a" });
  assert.deepEqual(sas(), ["a/default", "c/default"]);
});
