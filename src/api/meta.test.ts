/** @module Tests for the ObjectMeta lifecycle: create, update, delete, deepEqual. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject } from "./object.ts";
import { StatusError } from "./status-error.ts";
import {
  NAME_SUFFIX_ALPHABET,
  beforeDelete,
  deepEqual,
  formatTimestamp,
  generateName,
  kindTracksGeneration,
  markDeleting,
  prepareForCreate,
  prepareForUpdate,
  randomNameSuffix,
} from "./meta.ts";

const NOW = new Date("2026-01-02T03:04:05.678Z");

test("deepEqual: JSON structure, undefined properties count as missing", () => {
  const table: [unknown, unknown, boolean][] = [
    [1, 1, true],
    ["a", "a", true],
    [null, null, true],
    [1, "1", false],
    [null, undefined, false],
    [null, {}, false],
    [[], {}, false],
    [[1, 2], [1, 2], true],
    [[1, 2], [2, 1], false],
    [[1], [1, undefined], false],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, true],
    [{ a: 1, b: null }, { a: 1 }, false],
    [{ a: { b: [{ c: 1 }] } }, { a: { b: [{ c: 1 }] } }, true],
    [{ a: { b: [{ c: 1 }] } }, { a: { b: [{ c: 2 }] } }, false],
    [{ a: 1 }, { b: 1 }, false],
    [{ a: 1, b: 2 }, { b: 2, a: 1 }, true],
  ];
  for (const [a, b, eq] of table)
    assert.equal(deepEqual(a, b), eq, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
});

test("formatTimestamp drops fractional seconds", () => {
  assert.equal(formatTimestamp(NOW), "2026-01-02T03:04:05Z");
});

test("generated names: upstream alphabet, five characters, base cut to 58", () => {
  for (let i = 0; i < 50; i++) {
    const s = randomNameSuffix();
    assert.equal(s.length, 5);
    for (const c of s) assert.ok(NAME_SUFFIX_ALPHABET.includes(c), c);
  }
  assert.equal(
    generateName("web-", () => "abcde"),
    "web-abcde",
  );
  assert.equal(
    generateName("x".repeat(70), () => "abcde"),
    `${"x".repeat(58)}abcde`,
  );
});

test("kindTracksGeneration", () => {
  const table: [string, string, boolean][] = [
    ["apps/v1", "Deployment", true],
    ["apps/v1", "StatefulSet", true],
    ["batch/v1", "Job", true],
    ["v1", "ReplicationController", true],
    ["networking.k8s.io/v1", "NetworkPolicy", true],
    ["v1", "ConfigMap", false],
    ["v1", "Pod", false],
    ["v1", "Service", false],
    ["rbac.authorization.k8s.io/v1", "Role", false],
    ["example.com/v1", "Widget", true],
    ["gateway.networking.k8s.io/v1", "Gateway", true],
  ];
  for (const [av, kind, want] of table) assert.equal(kindTracksGeneration(av, kind), want, `${av} ${kind}`);
});

function deployment(extra: Partial<KubeObject> = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default" },
    spec: { replicas: 1 },
    ...extra,
  };
}

test("prepareForCreate sets system fields and clears what clients may not set", () => {
  const input = deployment({
    metadata: {
      name: "web",
      namespace: "default",
      uid: "client-uid",
      resourceVersion: "5",
      selfLink: "/x",
      creationTimestamp: "2000-01-01T00:00:00Z",
      deletionTimestamp: "2000-01-01T00:00:00Z",
      deletionGracePeriodSeconds: 30,
      generation: 7,
    },
    status: { replicas: 3 },
  });
  const snapshot = structuredClone(input);
  const out = prepareForCreate(input, {
    now: NOW,
    namespaced: true,
    hasStatusSubresource: true,
    newUID: () => "uid-1",
  });
  assert.deepEqual(input, snapshot, "input untouched");
  assert.deepEqual(out.metadata, {
    name: "web",
    namespace: "default",
    uid: "uid-1",
    creationTimestamp: "2026-01-02T03:04:05Z",
    generation: 1,
  });
  assert.equal(out.status, undefined);
  assert.deepEqual(out.spec, { replicas: 1 });
});

test("prepareForCreate: random uid, generateName, status kept without subresource", () => {
  const cm: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { generateName: "cfg-", namespace: "ns" },
    status: { x: 1 },
  };
  const out = prepareForCreate(cm, { now: NOW, namespaced: true, generateSuffix: () => "x7k2p" });
  assert.equal(out.metadata.name, "cfg-x7k2p");
  assert.equal(out.metadata.generateName, "cfg-");
  assert.match(
    out.metadata.uid ?? "",
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.equal(out.metadata.generation, undefined, "ConfigMap does not track generation");
  assert.deepEqual(out.status, { x: 1 });
  const other = prepareForCreate(cm, { now: NOW, namespaced: true });
  assert.notEqual(other.metadata.uid, out.metadata.uid);
  assert.match(other.metadata.name ?? "", /^cfg-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  // An explicit name wins over generateName.
  const named = prepareForCreate(
    { ...cm, metadata: { ...cm.metadata, name: "fixed" } },
    { now: NOW, namespaced: true },
  );
  assert.equal(named.metadata.name, "fixed");
});

test("prepareForCreate: namespace handling", () => {
  const node: KubeObject = { apiVersion: "v1", kind: "Node", metadata: { name: "n1", namespace: "default" } };
  assert.equal(prepareForCreate(node, { now: NOW, namespaced: false }).metadata.namespace, undefined);
  const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } };
  assert.equal(
    prepareForCreate(cm, { now: NOW, namespaced: true, requestNamespace: "team" }).metadata.namespace,
    "team",
  );
  const other: KubeObject = { ...cm, metadata: { name: "c", namespace: "other" } };
  assert.throws(
    () => prepareForCreate(other, { now: NOW, namespaced: true, requestNamespace: "team" }),
    (e: unknown) =>
      e instanceof StatusError &&
      e.status.code === 400 &&
      e.status.message ===
        "the namespace of the provided object does not match the namespace sent on the request",
  );
});

const storedDeployment: KubeObject = deployment({
  metadata: {
    name: "web",
    namespace: "default",
    uid: "uid-1",
    resourceVersion: "10",
    creationTimestamp: "2026-01-01T00:00:00Z",
    generation: 2,
    labels: { app: "web" },
  },
  status: { observedGeneration: 2, replicas: 1 },
});

test("prepareForUpdate: generation bumps only on spec change", () => {
  const opts = { hasStatusSubresource: true };
  const same = prepareForUpdate(
    {
      ...storedDeployment,
      metadata: { ...storedDeployment.metadata, labels: { app: "v2" }, generation: 99 },
    },
    storedDeployment,
    opts,
  );
  assert.equal(same.metadata.generation, 2, "metadata change and client generation ignored");
  assert.deepEqual(same.metadata.labels, { app: "v2" });

  const scaled = prepareForUpdate({ ...storedDeployment, spec: { replicas: 3 } }, storedDeployment, opts);
  assert.equal(scaled.metadata.generation, 3);

  const undefinedField = prepareForUpdate(
    { ...storedDeployment, spec: { replicas: 1, paused: undefined } },
    storedDeployment,
    opts,
  );
  assert.equal(undefinedField.metadata.generation, 2, "undefined equals missing");

  const statusOnly = prepareForUpdate(
    { ...storedDeployment, status: { replicas: 9 } },
    storedDeployment,
    opts,
  );
  assert.equal(statusOnly.metadata.generation, 2);
  assert.deepEqual(statusOnly.status, storedDeployment.status, "main-resource update keeps old status");
});

test("prepareForUpdate: annotations bump generation only when asked (Deployment)", () => {
  const annotated = {
    ...storedDeployment,
    metadata: { ...storedDeployment.metadata, annotations: { a: "1" } },
  };
  assert.equal(
    prepareForUpdate(annotated, storedDeployment, { hasStatusSubresource: true }).metadata.generation,
    2,
  );
  assert.equal(
    prepareForUpdate(annotated, storedDeployment, {
      hasStatusSubresource: true,
      generationCountsAnnotations: true,
    }).metadata.generation,
    3,
  );
});

test("prepareForUpdate: kinds without generation, and status without a subresource", () => {
  const old: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c", uid: "u" },
    data: { a: "1" },
  };
  const out = prepareForUpdate({ ...old, data: { a: "2" } }, old, { hasStatusSubresource: false });
  assert.equal(out.metadata.generation, undefined);
  // A custom resource without a status subresource: status changes are spec changes.
  const cr: KubeObject = {
    apiVersion: "example.com/v1",
    kind: "Widget",
    metadata: { name: "w", generation: 1 },
    status: { s: 1 },
  };
  const crOut = prepareForUpdate({ ...cr, status: { s: 2 } }, cr, { hasStatusSubresource: false });
  assert.equal(crOut.metadata.generation, 2);
  assert.deepEqual(crOut.status, { s: 2 });
});

test("prepareForUpdate: system fields come from the stored object", () => {
  const deleting: KubeObject = {
    ...storedDeployment,
    metadata: {
      ...storedDeployment.metadata,
      deletionTimestamp: "2026-01-05T00:00:00Z",
      deletionGracePeriodSeconds: 30,
    },
  };
  const out = prepareForUpdate(
    {
      ...storedDeployment,
      metadata: {
        name: "web",
        namespace: "default",
        resourceVersion: "10",
        creationTimestamp: "1999-01-01T00:00:00Z",
        selfLink: "/self",
      },
    },
    deleting,
    { hasStatusSubresource: true },
  );
  assert.deepEqual(out.metadata, {
    name: "web",
    namespace: "default",
    resourceVersion: "10",
    uid: "uid-1",
    creationTimestamp: "2026-01-01T00:00:00Z",
    generation: 2,
    deletionTimestamp: "2026-01-05T00:00:00Z",
    deletionGracePeriodSeconds: 30,
  });
  // A uid the client did send is kept, for validation to reject.
  const otherUID = prepareForUpdate(
    { ...storedDeployment, metadata: { ...storedDeployment.metadata, uid: "evil" } },
    storedDeployment,
    { hasStatusSubresource: true },
  );
  assert.equal(otherUID.metadata.uid, "evil");
  // A shorter grace period the client sends is kept, for validation to reject.
  const shorter = prepareForUpdate(
    { ...deleting, metadata: { ...deleting.metadata, deletionGracePeriodSeconds: 5 } },
    deleting,
    { hasStatusSubresource: true },
  );
  assert.equal(shorter.metadata.deletionGracePeriodSeconds, 5);
  // Cluster-scoped objects lose a namespace.
  const node: KubeObject = { apiVersion: "v1", kind: "Node", metadata: { name: "n", namespace: "x" } };
  assert.equal(
    prepareForUpdate(node, node, { hasStatusSubresource: true, namespaced: false }).metadata.namespace,
    undefined,
  );
});

test("prepareForUpdate: status writes to built-in kinds keep metadata, reset the rest", () => {
  const req = {
    ...storedDeployment,
    metadata: { ...storedDeployment.metadata, annotations: { note: "x" } },
    spec: { replicas: 50 },
    status: { observedGeneration: 2, replicas: 2 },
  };
  const input = structuredClone(req);
  const out = prepareForUpdate(req, storedDeployment, { hasStatusSubresource: true, subresource: "status" });
  assert.deepEqual(req, input, "input untouched");
  assert.deepEqual(out.spec, { replicas: 1 });
  assert.deepEqual(out.status, { observedGeneration: 2, replicas: 2 });
  assert.deepEqual(out.metadata.annotations, { note: "x" });
  assert.equal(out.metadata.generation, 2);
});

test("prepareForUpdate: status writes to custom resources keep only status and managedFields", () => {
  const old: KubeObject = {
    apiVersion: "example.com/v1",
    kind: "Widget",
    metadata: { name: "w", uid: "u", resourceVersion: "4", generation: 1, labels: { a: "1" } },
    spec: { size: 1 },
    status: { ready: false },
  };
  const req: KubeObject = {
    ...old,
    metadata: {
      ...old.metadata,
      labels: { a: "2" },
      managedFields: [{ manager: "ctl", operation: "Update" }],
    },
    spec: { size: 2 },
    status: { ready: true },
  };
  const out = prepareForUpdate(req, old, { hasStatusSubresource: true, subresource: "status" });
  assert.deepEqual(out, {
    ...old,
    metadata: { ...old.metadata, managedFields: [{ manager: "ctl", operation: "Update" }] },
    status: { ready: true },
  });
  // A status write without status removes it.
  const cleared = prepareForUpdate({ ...old, status: undefined }, old, {
    hasStatusSubresource: true,
    subresource: "status",
  });
  assert.equal(cleared.status, undefined);
  // Built-in behaviour can be forced either way.
  const keepMeta = prepareForUpdate(req, old, {
    hasStatusSubresource: true,
    subresource: "status",
    statusResetsMetadata: false,
  });
  assert.deepEqual(keepMeta.metadata.labels, { a: "2" });
});

test("markDeleting sets the deletion time and bumps generation once", () => {
  const obj = deployment({ metadata: { name: "web", generation: 4 } });
  const out = markDeleting(obj, { now: NOW, gracePeriodSeconds: 30 });
  assert.equal(out.metadata.deletionTimestamp, "2026-01-02T03:04:35Z");
  assert.equal(out.metadata.deletionGracePeriodSeconds, 30);
  assert.equal(out.metadata.generation, 5);
  assert.equal(obj.metadata.deletionTimestamp, undefined, "input untouched");
  const again = markDeleting(out, { now: NOW, gracePeriodSeconds: 0 });
  assert.equal(again.metadata.generation, 5);
  const noGen = markDeleting<KubeObject>(
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } },
    { now: NOW, gracePeriodSeconds: 0 },
  );
  assert.equal(noGen.metadata.generation, undefined);
  assert.equal(noGen.metadata.deletionTimestamp, "2026-01-02T03:04:05Z");
  assert.equal(noGen.metadata.deletionGracePeriodSeconds, 0);
});

const pod = (meta: KubeObject["metadata"] = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", ...meta },
});

test("beforeDelete: decisions for graceful and non-graceful kinds", () => {
  const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } };
  assert.equal(beforeDelete(cm, { now: NOW, graceful: false }).action, "delete");

  const withFinalizer: KubeObject = { ...cm, metadata: { name: "c", finalizers: ["example.com/f"] } };
  const fin = beforeDelete(withFinalizer, { now: NOW, graceful: false });
  assert.equal(fin.action, "update");
  assert.equal(fin.obj.metadata.deletionTimestamp, "2026-01-02T03:04:05Z");
  assert.equal(fin.obj.metadata.deletionGracePeriodSeconds, 0);
  assert.equal(beforeDelete(fin.obj, { now: NOW, graceful: false }).action, "pending");
  assert.equal(
    beforeDelete(
      { ...fin.obj, metadata: { ...fin.obj.metadata, finalizers: [] } },
      { now: NOW, graceful: false },
    ).action,
    "delete",
  );

  const graceful = beforeDelete(pod(), { now: NOW, graceful: true, gracePeriodSeconds: 30 });
  assert.equal(graceful.action, "update");
  assert.equal(graceful.obj.metadata.deletionTimestamp, "2026-01-02T03:04:35Z");
  assert.equal(graceful.obj.metadata.deletionGracePeriodSeconds, 30);

  assert.equal(beforeDelete(pod(), { now: NOW, graceful: true, gracePeriodSeconds: 0 }).action, "delete");
  const negative = beforeDelete(pod(), { now: NOW, graceful: true, gracePeriodSeconds: -5 });
  assert.equal(negative.obj.metadata.deletionGracePeriodSeconds, 1, "negative grace means 1s");
});

test("beforeDelete: an object already deleting may only have its grace period shortened", () => {
  const deleting = pod({ deletionTimestamp: "2026-01-02T03:04:35Z", deletionGracePeriodSeconds: 30 });
  assert.equal(beforeDelete(deleting, { now: NOW, graceful: true }).action, "pending");
  assert.equal(
    beforeDelete(deleting, { now: NOW, graceful: true, gracePeriodSeconds: 60 }).action,
    "pending",
  );
  assert.equal(
    beforeDelete(deleting, { now: NOW, graceful: true, gracePeriodSeconds: 30 }).action,
    "pending",
  );
  const shorter = beforeDelete(deleting, { now: NOW, graceful: true, gracePeriodSeconds: 10 });
  assert.equal(shorter.action, "update");
  assert.equal(shorter.obj.metadata.deletionTimestamp, "2026-01-02T03:04:15Z");
  assert.equal(shorter.obj.metadata.deletionGracePeriodSeconds, 10);
  assert.equal(beforeDelete(deleting, { now: NOW, graceful: true, gracePeriodSeconds: 0 }).action, "delete");
  const zero = pod({ deletionTimestamp: "2026-01-02T03:04:05Z", deletionGracePeriodSeconds: 0 });
  assert.equal(beforeDelete(zero, { now: NOW, graceful: true, gracePeriodSeconds: 30 }).action, "delete");
});
