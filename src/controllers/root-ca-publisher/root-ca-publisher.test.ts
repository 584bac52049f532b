import assert from "node:assert/strict";
import { setMaxListeners } from "node:events";
import { test, type TestContext } from "node:test";
import type { ConfigMap, Namespace } from "../../api/types/core-v1.ts";
import { FakeClient } from "../../client/fake-client.ts";
import { Informer } from "../../client/informer.ts";
import { RootCaPublisher, ROOT_CA_CONFIGMAP } from "./root-ca-publisher.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

async function setup(t: TestContext, fake: FakeClient) {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  t.after(() => ac.abort());
  const namespaces = new Informer<Namespace>(fake.resource<Namespace>("", "namespaces"));
  const configMaps = new Informer<ConfigMap>(fake.resource<ConfigMap>("", "configmaps"));
  namespaces.start(ac.signal);
  configMaps.start(ac.signal);
  await Promise.all([namespaces.synced, configMaps.synced]);
  const publisher = new RootCaPublisher({ client: fake, namespaces, configMaps, rootCA: CA });
  const queued: string[] = [];
  publisher.register((k) => queued.push(k));
  return { publisher, configMaps, queued };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
const rootCa = async (fake: FakeClient, ns: string): Promise<ConfigMap | undefined> =>
  (await fake.resource<ConfigMap>("", "configmaps").list(ns)).items.find(
    (c) => c.metadata.name === ROOT_CA_CONFIGMAP,
  );

test("every active namespace gets kube-root-ca.crt with the CA; edits are put back, terminating namespaces left alone", async (t) => {
  const fake = new FakeClient();
  fake.seed({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a" }, status: { phase: "Active" } });
  fake.seed({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "going", deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: ["x/hold"] },
    status: { phase: "Terminating" },
  });
  const { publisher, queued } = await setup(t, fake);
  assert.deepEqual(queued.sort(), ["a", "going"], "namespace adds are queued");

  await publisher.reconcile({ namespace: "", name: "a" });
  await publisher.reconcile({ namespace: "", name: "going" });
  const cm = await rootCa(fake, "a");
  assert.deepEqual(cm?.data, { "ca.crt": CA });
  assert.ok(cm?.metadata.annotations?.["kubernetes.io/description"]);
  assert.equal(await rootCa(fake, "going"), undefined, "no ConfigMap in a terminating namespace");

  // A user edit is queued and undone; their own labels stay.
  await settle();
  queued.length = 0;
  const edited = structuredClone(cm!);
  edited.data = { "ca.crt": "junk", extra: "x" };
  edited.metadata.labels = { mine: "yes" };
  await fake.resource<ConfigMap>("", "configmaps").update(edited);
  await settle();
  assert.deepEqual(queued, ["a"]);
  await publisher.reconcile({ namespace: "", name: "a" });
  const fixed = await rootCa(fake, "a");
  assert.deepEqual(fixed?.data, { "ca.crt": CA });
  assert.deepEqual(fixed?.metadata.labels, { mine: "yes" });

  // Deleted: queued and created again; a second pass writes nothing.
  await fake.resource<ConfigMap>("", "configmaps").delete("a", ROOT_CA_CONFIGMAP);
  await settle();
  await publisher.reconcile({ namespace: "", name: "a" });
  const again = await rootCa(fake, "a");
  assert.deepEqual(again?.data, { "ca.crt": CA });
  await settle();
  const rv = again?.metadata.resourceVersion;
  await publisher.reconcile({ namespace: "", name: "a" });
  assert.equal((await rootCa(fake, "a"))?.metadata.resourceVersion, rv, "nothing to do: no write");
});
