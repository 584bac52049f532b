/** @module Tests for ObjectMeta validation on create and update. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import { FieldPath, formatFieldError } from "../field-errors.ts";
import { nameIsDNSSubdomain, validatePathSegmentName } from "./names.ts";
import {
  finalizerWarnings,
  validateFinalizers,
  validateImmutableField,
  validateKubeFinalizerName,
  validateManagedFields,
  validateObjectMeta,
  validateObjectMetaUpdate,
  validateOwnerReferences,
} from "./object-meta.ts";

const META = FieldPath.root("metadata");
const namespaced = { namespaced: true, nameFn: nameIsDNSSubdomain };
const clusterScoped = { namespaced: false, nameFn: nameIsDNSSubdomain };

function msgs(errs: ReturnType<typeof validateObjectMeta>): string[] {
  return errs.map(formatFieldError);
}

test("validateObjectMeta accepts a well-formed namespaced object", () => {
  const meta: ObjectMeta = {
    name: "web",
    namespace: "default",
    labels: { app: "web" },
    annotations: { "example.com/note": "hello" },
    ownerReferences: [
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-1", uid: "u1", controller: true },
    ],
    finalizers: ["example.com/cleanup"],
    generation: 1,
  };
  assert.deepEqual(validateObjectMeta(meta, namespaced, META), []);
});

test("validateObjectMeta: name, generateName and namespace rules", () => {
  const table: [string, ObjectMeta, typeof namespaced, string[]][] = [
    [
      "missing name",
      { namespace: "default" },
      namespaced,
      ["metadata.name: Required value: name or generateName is required"],
    ],
    [
      "generateName alone still needs a generated name",
      { generateName: "web-", namespace: "default" },
      namespaced,
      ["metadata.name: Required value: name or generateName is required"],
    ],
    [
      "generateName with generated name",
      { generateName: "web-", name: "web-x7k2p", namespace: "default" },
      namespaced,
      [],
    ],
    [
      "bad generateName",
      { generateName: "Web-", name: "web-abcde", namespace: "default" },
      namespaced,
      [`metadata.generateName: Invalid value: "Web-": ${nameIsDNSSubdomain("Web-", true)[0]}`],
    ],
    [
      "bad name",
      { name: "Web", namespace: "default" },
      namespaced,
      [`metadata.name: Invalid value: "Web": ${nameIsDNSSubdomain("Web", false)[0]}`],
    ],
    ["namespace required", { name: "web" }, namespaced, ["metadata.namespace: Required value"]],
    [
      "namespace must be a label",
      { name: "web", namespace: "a.b" },
      namespaced,
      ['metadata.namespace: Invalid value: "a.b": must not contain dots'],
    ],
    [
      "namespace forbidden on cluster-scoped",
      { name: "node-1", namespace: "default" },
      clusterScoped,
      ["metadata.namespace: Forbidden: not allowed on this type"],
    ],
    ["cluster-scoped without namespace", { name: "node-1" }, clusterScoped, []],
    [
      "negative generation",
      { name: "web", namespace: "default", generation: -1 },
      namespaced,
      ["metadata.generation: Invalid value: -1: must be greater than or equal to 0"],
    ],
  ];
  for (const [what, meta, opts, expected] of table)
    assert.deepEqual(msgs(validateObjectMeta(meta, opts, META)), expected, what);
});

test("validateObjectMeta uses the kind's name function", () => {
  const opts = { namespaced: false, nameFn: validatePathSegmentName };
  assert.deepEqual(validateObjectMeta({ name: "system:controller:x" }, opts, META), []);
  assert.deepEqual(msgs(validateObjectMeta({ name: "a/b" }, opts, META)), [
    `metadata.name: Invalid value: "a/b": may not contain '/'`,
  ]);
});

test("validateObjectMeta checks labels, annotations and finalizers under their paths", () => {
  const errs = validateObjectMeta(
    {
      name: "x",
      namespace: "ns",
      labels: { "a b": "ok" },
      annotations: { "/x": "" },
      finalizers: ["bad name"],
    },
    namespaced,
    META,
  );
  assert.deepEqual(
    errs.map((e) => e.field),
    ["metadata.labels", "metadata.annotations", "metadata.finalizers"],
  );
});

test("validateOwnerReferences: required fields, banned owners, one controller", () => {
  const p = META.child("ownerReferences");
  assert.deepEqual(msgs(validateOwnerReferences([{ apiVersion: "", kind: "", name: "", uid: "" }], p)), [
    'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
    'metadata.ownerReferences.kind: Invalid value: "": must not be empty',
    'metadata.ownerReferences.name: Invalid value: "": must not be empty',
    'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
  ]);
  assert.deepEqual(
    msgs(validateOwnerReferences([{ apiVersion: "apps/", kind: "Deployment", name: "d", uid: "u" }], p)),
    ['metadata.ownerReferences.apiVersion: Invalid value: "apps/": version must not be empty'],
  );
  assert.deepEqual(
    msgs(validateOwnerReferences([{ apiVersion: "a/b/c", kind: "K", name: "d", uid: "u" }], p)),
    ['metadata.ownerReferences.apiVersion: Invalid value: "a/b/c": version must not be empty'],
  );
  const event = validateOwnerReferences([{ apiVersion: "v1", kind: "Event", name: "e", uid: "u" }], p);
  assert.equal(event.length, 1);
  assert.equal(event[0]?.detail, "/v1, Kind=Event is disallowed from being an owner");
  const two = validateOwnerReferences(
    [
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "a", uid: "1", controller: true },
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "b", uid: "2", controller: false },
      { apiVersion: "apps/v1", kind: "Deployment", name: "c", uid: "3", controller: true },
    ],
    p,
  );
  assert.equal(two.length, 1);
  assert.equal(two[0]?.field, "metadata.ownerReferences");
  assert.equal(
    two[0]?.detail,
    'Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/a and Deployment/c',
  );
});

test("validateFinalizers: qualified names, orphan with foregroundDeletion, duplicates accepted", () => {
  const p = META.child("finalizers");
  assert.deepEqual(validateFinalizers(["kubernetes", "example.com/x", "example.com/x"], p), []);
  assert.deepEqual(msgs(validateFinalizers(["orphan", "foregroundDeletion"], p)), [
    'metadata.finalizers: Invalid value: []string{"orphan", "foregroundDeletion"}: finalizer orphan and foregroundDeletion cannot be both set',
  ]);
  assert.equal(validateFinalizers(["a/b/c"], p).length, 1);
});

test("validateKubeFinalizerName requires standard or prefixed names", () => {
  const p = FieldPath.root("spec").child("finalizers").index(0);
  assert.deepEqual(validateKubeFinalizerName("kubernetes", p), []);
  assert.deepEqual(validateKubeFinalizerName("example.com/x", p), []);
  assert.deepEqual(msgs(validateKubeFinalizerName("custom", p)), [
    'spec.finalizers[0]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
  ]);
});

test("finalizerWarnings warns about new unqualified finalizers only", () => {
  const p = META.child("finalizers");
  assert.deepEqual(finalizerWarnings(["orphan", "example.com/x", "old"], ["old"], p), []);
  assert.deepEqual(finalizerWarnings(["cleanup", "resources-finalizer.argocd.argoproj.io"], undefined, p), [
    'metadata.finalizers: "cleanup": prefer a domain-qualified finalizer name to avoid accidental conflicts with other finalizer writers',
    'metadata.finalizers: "resources-finalizer.argocd.argoproj.io": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers',
  ]);
});

test("validateManagedFields", () => {
  const p = META.child("managedFields");
  assert.deepEqual(
    validateManagedFields([{ manager: "kubectl", operation: "Apply", fieldsType: "FieldsV1" }], p),
    [],
  );
  assert.deepEqual(
    msgs(validateManagedFields([{ manager: "bad\u0007", operation: "Patch", fieldsType: "FieldsV2" }], p)),
    [
      'metadata.managedFields[0].operation: Invalid value: "Patch": must be `Apply` or `Update`',
      'metadata.managedFields[0].fieldsType: Invalid value: "FieldsV2": must be `FieldsV1`',
      'metadata.managedFields[0].manager: Invalid value: "bad\\u0007": invalid characters: field manager must contain only printable characters',
    ],
  );
  const long = validateManagedFields([{ manager: "m".repeat(129), operation: "Update" }], p);
  assert.deepEqual(
    long.map((e) => [e.field, e.type]),
    [["metadata.managedFields[0].manager", "FieldValueTooLong"]],
  );
});

test("validateImmutableField compares structurally", () => {
  const p = META.child("name");
  assert.deepEqual(validateImmutableField({ a: [1] }, { a: [1] }, p), []);
  assert.deepEqual(msgs(validateImmutableField("x", "y", p)), [
    'metadata.name: Invalid value: "x": field is immutable',
  ]);
});

const stored: ObjectMeta = {
  name: "web",
  namespace: "default",
  uid: "u-1",
  resourceVersion: "10",
  creationTimestamp: "2026-01-02T03:04:05Z",
  generation: 3,
};

test("validateObjectMetaUpdate accepts an update that keeps identity", () => {
  assert.deepEqual(
    validateObjectMetaUpdate({ ...stored, labels: { a: "b" }, generation: 4 }, stored, META),
    [],
  );
});

test("validateObjectMetaUpdate: immutable fields, resourceVersion, generation", () => {
  const table: [string, ObjectMeta, ObjectMeta, string[]][] = [
    ["rename", { ...stored, name: "x" }, stored, ['metadata.name: Invalid value: "x": field is immutable']],
    [
      "move namespace",
      { ...stored, namespace: "other" },
      stored,
      ['metadata.namespace: Invalid value: "other": field is immutable'],
    ],
    ["uid", { ...stored, uid: "u-2" }, stored, ['metadata.uid: Invalid value: "u-2": field is immutable']],
    [
      "creationTimestamp",
      { ...stored, creationTimestamp: "2027-01-01T00:00:00Z" },
      stored,
      ['metadata.creationTimestamp: Invalid value: "2027-01-01T00:00:00Z": field is immutable'],
    ],
    [
      "no resourceVersion",
      { ...stored, resourceVersion: undefined },
      stored,
      ['metadata.resourceVersion: Invalid value: "": must be specified for an update'],
    ],
    [
      "generation decremented",
      { ...stored, generation: 2 },
      stored,
      ["metadata.generation: Invalid value: 2: must not be decremented"],
    ],
    [
      "set deletionTimestamp",
      { ...stored, deletionTimestamp: "2026-02-01T00:00:00Z" },
      stored,
      ['metadata.deletionTimestamp: Invalid value: "2026-02-01T00:00:00Z": field is immutable'],
    ],
    [
      "change grace period",
      { ...stored, deletionTimestamp: "2026-02-01T00:00:00Z", deletionGracePeriodSeconds: 10 },
      { ...stored, deletionTimestamp: "2026-02-01T00:00:00Z", deletionGracePeriodSeconds: 30 },
      ["metadata.deletionGracePeriodSeconds: Invalid value: 10: field is immutable"],
    ],
    [
      "bad label on update",
      { ...stored, labels: { "-x": "y" } },
      stored,
      [
        `metadata.labels: Invalid value: "-x": ${"name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"}`,
      ],
    ],
  ];
  for (const [what, n, o, expected] of table)
    assert.deepEqual(msgs(validateObjectMetaUpdate(n, o, META)), expected, what);
});

test("validateObjectMetaUpdate: no new finalizers while deleting", () => {
  const deleting: ObjectMeta = {
    ...stored,
    deletionTimestamp: "2026-02-01T00:00:00Z",
    finalizers: ["a.io/x"],
  };
  assert.deepEqual(validateObjectMetaUpdate({ ...deleting, finalizers: [] }, deleting, META), []);
  assert.deepEqual(
    msgs(
      validateObjectMetaUpdate({ ...deleting, finalizers: ["a.io/x", "b.io/z", "b.io/y"] }, deleting, META),
    ),
    [
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b.io/y", "b.io/z"}',
    ],
  );
  // Adding finalizers is fine before deletion starts.
  assert.deepEqual(validateObjectMetaUpdate({ ...stored, finalizers: ["b.io/y"] }, stored, META), []);
});
