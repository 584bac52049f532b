import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject } from "../../api/object.ts";
import { StatusError } from "../../api/status-error.ts";
import { applyObject, LAST_APPLIED_ANNOTATION, recordUpdate } from "./apply.ts";

const T0 = new Date("2024-05-01T10:00:00Z");
const T1 = new Date("2024-05-01T11:00:00Z");
const cm = { group: "", version: "v1", kind: "ConfigMap" };
const deploy = { group: "apps", version: "v1", kind: "Deployment" };

const configMap = (
  data: Record<string, string>,
  extra: Partial<KubeObject["metadata"]> = {},
): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "c", namespace: "default", ...extra },
  data,
});

/** A stored copy, as the registry would keep it (system fields set). */
const stored = (o: KubeObject): KubeObject => ({
  ...o,
  metadata: { ...o.metadata, uid: "u-1", resourceVersion: "7", creationTimestamp: "2024-05-01T09:00:00Z" },
});

const fieldsOf = (o: KubeObject, manager: string, operation = "Apply"): unknown =>
  o.metadata.managedFields?.find((e) => e.manager === manager && e.operation === operation)?.fieldsV1;

const managersOf = (o: KubeObject): string[] =>
  (o.metadata.managedFields ?? []).map((e) => `${e.manager}/${e.operation}`);

function conflictOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  assert.fail("expected a conflict");
}

test("apply creates the object and records the applier's fields", () => {
  const applied = configMap({ a: "1" }, { labels: { app: "x" } });
  const out = applyObject(undefined, applied, { ...cm, manager: "kubectl", force: false, now: T0 });
  assert.deepEqual(out.data, { a: "1" });
  assert.deepEqual(out.metadata.labels, { app: "x" });
  assert.deepEqual(out.metadata.managedFields, [
    {
      manager: "kubectl",
      operation: "Apply",
      apiVersion: "v1",
      time: "2024-05-01T10:00:00Z",
      fieldsType: "FieldsV1",
      fieldsV1: { "f:data": { "f:a": {} }, "f:metadata": { "f:labels": { "f:app": {} } } },
    },
  ]);
  assert.equal(applied.metadata.managedFields, undefined, "input untouched");
});

test("re-applying the same configuration changes nothing, not even the time", () => {
  const applied = configMap({ a: "1" });
  const first = stored(applyObject(undefined, applied, { ...cm, manager: "m", force: false, now: T0 }));
  const again = applyObject(first, applied, { ...cm, manager: "m", force: false, now: T1 });
  assert.deepEqual(again, first);
});

test("apply removes a field it owned and no longer applies", () => {
  const first = stored(
    applyObject(undefined, configMap({ a: "1", b: "2" }), { ...cm, manager: "m", force: false, now: T0 }),
  );
  const out = applyObject(first, configMap({ a: "1" }), { ...cm, manager: "m", force: false, now: T1 });
  assert.deepEqual(out.data, { a: "1" });
  assert.deepEqual(fieldsOf(out, "m"), { "f:data": { "f:a": {} } });
  assert.equal(out.metadata.managedFields?.[0]?.time, "2024-05-01T11:00:00Z");
});

test("a field dropped by one applier stays when another manager owns it", () => {
  let obj = stored(
    applyObject(undefined, configMap({ a: "1", b: "2" }), { ...cm, manager: "one", force: false, now: T0 }),
  );
  obj = stored(applyObject(obj, configMap({ b: "2" }), { ...cm, manager: "two", force: false, now: T0 }));
  const out = applyObject(obj, configMap({ a: "1" }), { ...cm, manager: "one", force: false, now: T1 });
  assert.deepEqual(out.data, { a: "1", b: "2" });
  assert.deepEqual(fieldsOf(out, "two"), { "f:data": { "f:b": {} } });
});

test("two appliers own different fields side by side", () => {
  let obj = stored(
    applyObject(undefined, configMap({ a: "1" }), { ...cm, manager: "one", force: false, now: T0 }),
  );
  obj = applyObject(obj, configMap({ b: "2" }), { ...cm, manager: "two", force: false, now: T1 });
  assert.deepEqual(obj.data, { a: "1", b: "2" });
  assert.deepEqual(managersOf(obj), ["one/Apply", "two/Apply"]);
  assert.deepEqual(fieldsOf(obj, "one"), { "f:data": { "f:a": {} } });
  assert.deepEqual(fieldsOf(obj, "two"), { "f:data": { "f:b": {} } });
});

test("applying the value another manager set shares ownership without conflict", () => {
  let obj = stored(
    applyObject(undefined, configMap({ a: "1" }), { ...cm, manager: "one", force: false, now: T0 }),
  );
  obj = applyObject(obj, configMap({ a: "1" }), { ...cm, manager: "two", force: false, now: T1 });
  assert.deepEqual(fieldsOf(obj, "one"), { "f:data": { "f:a": {} } });
  assert.deepEqual(fieldsOf(obj, "two"), { "f:data": { "f:a": {} } });
});

const conflictCases = [
  {
    name: "owned by another applier",
    create: () =>
      applyObject(undefined, configMap({ a: "1" }), { ...cm, manager: "other", force: false, now: T0 }),
    message: 'Apply failed with 1 conflict: conflict with "other": .data.a',
    cause: 'conflict with "other"',
    left: ["mine/Apply"],
  },
  {
    name: "owned by an updater",
    create: () =>
      recordUpdate(undefined, configMap({ a: "1" }), {
        ...cm,
        manager: "kubectl-client-side-apply",
        operation: "Update",
        now: T0,
      }),
    message: 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.a',
    cause: 'conflict with "kubectl-client-side-apply" using v1',
    // The updater created `.data`, so it keeps owning the map itself (`".": {}`).
    left: ["mine/Apply", "kubectl-client-side-apply/Update"],
  },
];

for (const c of conflictCases) {
  test(`conflict on a field ${c.name}: 409 with upstream's message; force takes it over`, () => {
    const live = stored(c.create());
    const err = conflictOf(() =>
      applyObject(live, configMap({ a: "2" }), { ...cm, manager: "mine", force: false, now: T1 }),
    );
    assert.equal(err.code, 409);
    assert.equal(err.reason, "Conflict");
    assert.equal(err.message, c.message);
    assert.deepEqual(err.status.details?.causes, [
      { reason: "FieldManagerConflict", message: c.cause, field: ".data.a" },
    ]);

    const forced = applyObject(live, configMap({ a: "2" }), { ...cm, manager: "mine", force: true, now: T1 });
    assert.deepEqual(forced.data, { a: "2" });
    assert.deepEqual(fieldsOf(forced, "mine"), { "f:data": { "f:a": {} } });
    assert.deepEqual(managersOf(forced), c.left, "the loser keeps only what it still owns");
  });
}

test("several conflicts are listed per manager", () => {
  let live = stored(
    applyObject(undefined, configMap({ a: "1", b: "1" }), { ...cm, manager: "x", force: false, now: T0 }),
  );
  live = stored(
    recordUpdate(live, configMap({ a: "1", b: "1", c: "1" }), {
      ...cm,
      manager: "y",
      operation: "Update",
      now: T0,
    }),
  );
  const err = conflictOf(() =>
    applyObject(live, configMap({ a: "2", b: "2", c: "2" }), { ...cm, manager: "z", force: false, now: T1 }),
  );
  assert.equal(
    err.message,
    'Apply failed with 3 conflicts: conflicts with "x":\n- .data.a\n- .data.b\nconflicts with "y" using v1:\n- .data.c',
  );
});

const deployment = (containers: unknown[], replicas?: number): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d", namespace: "default" },
  spec: {
    ...(replicas === undefined ? {} : { replicas }),
    selector: { matchLabels: { app: "d" } },
    template: { metadata: { labels: { app: "d" } }, spec: { containers } },
  },
});

test("list items by merge key: each container owned by its own applier", () => {
  let obj = stored(
    applyObject(undefined, deployment([{ name: "web", image: "nginx" }], 2), {
      ...deploy,
      manager: "team-web",
      force: false,
      now: T0,
    }),
  );
  obj = stored(
    applyObject(obj, deployment([{ name: "sidecar", image: "envoy", ports: [{ containerPort: 9901 }] }]), {
      ...deploy,
      manager: "team-mesh",
      force: false,
      now: T1,
    }),
  );
  const spec = obj.spec as { template: { spec: { containers: { name: string; image: string }[] } } };
  assert.deepEqual(
    spec.template.spec.containers.map((c) => `${c.name}=${c.image}`),
    ["web=nginx", "sidecar=envoy"],
  );
  assert.deepEqual(fieldsOf(obj, "team-mesh"), {
    "f:spec": {
      "f:selector": {},
      "f:template": {
        "f:metadata": { "f:labels": { "f:app": {} } },
        "f:spec": {
          "f:containers": {
            'k:{"name":"sidecar"}': {
              ".": {},
              "f:image": {},
              "f:name": {},
              "f:ports": { 'k:{"containerPort":9901,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} } },
            },
          },
        },
      },
    },
  });

  // Changing the other team's container conflicts on exactly that field.
  const err = conflictOf(() =>
    applyObject(
      obj,
      deployment([
        { name: "sidecar", image: "envoy" },
        { name: "web", image: "httpd" },
      ]),
      {
        ...deploy,
        manager: "team-mesh",
        force: false,
        now: T1,
      },
    ),
  );
  assert.equal(
    err.message,
    'Apply failed with 1 conflict: conflict with "team-web": .spec.template.spec.containers[name="web"].image',
  );

  // Dropping its container removes it and leaves the other team's alone.
  const out = applyObject(obj, deployment([]), { ...deploy, manager: "team-mesh", force: false, now: T1 });
  const after = out.spec as { replicas: number; template: { spec: { containers: { name: string }[] } } };
  assert.deepEqual(
    after.template.spec.containers.map((c) => c.name),
    ["web"],
  );
  assert.equal(after.replicas, 2);
});

test("status is not owned through the main resource of a kind with a status subresource", () => {
  const applied = { ...deployment([{ name: "web", image: "nginx" }]), status: { replicas: 3 } };
  const out = applyObject(undefined, applied, { ...deploy, manager: "m", force: false, now: T0 });
  const fields = fieldsOf(out, "m") as Record<string, unknown>;
  assert.equal(fields["f:status"], undefined);
  assert.ok(fields["f:spec"]);
});

test("apply refuses managedFields in the configuration and a wrong apiVersion", () => {
  const withMf = configMap({ a: "1" }, { managedFields: [] });
  assert.throws(
    () => applyObject(undefined, withMf, { ...cm, manager: "m", force: false, now: T0 }),
    /metadata.managedFields must be nil/,
  );
  const wrong = { ...configMap({}), apiVersion: "v2" };
  assert.throws(
    () => applyObject(undefined, wrong, { ...cm, manager: "m", force: false, now: T0 }),
    /Incorrect version specified in apply patch. Specified patch version: v2, expected: v1/,
  );
});

test("first apply to an object without managedFields conflicts with before-first-apply", () => {
  const live = stored(configMap({ a: "1" }));
  const err = conflictOf(() =>
    applyObject(live, configMap({ a: "2" }), { ...cm, manager: "m", force: false, now: T1 }),
  );
  assert.equal(
    err.message,
    'Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.a',
  );
});

test("kubectl may take over fields of its last client-side apply, and keeps the annotation current", () => {
  const lastApplied = JSON.stringify(configMap({ a: "1" }));
  const created = recordUpdate(
    undefined,
    configMap({ a: "1" }, { annotations: { [LAST_APPLIED_ANNOTATION]: lastApplied } }),
    {
      ...cm,
      manager: "kubectl-client-side-apply",
      operation: "Update",
      now: T0,
    },
  );
  const out = applyObject(stored(created), configMap({ a: "2" }), {
    ...cm,
    manager: "kubectl",
    force: false,
    now: T1,
  });
  assert.deepEqual(out.data, { a: "2" });
  assert.equal(
    out.metadata.annotations?.[LAST_APPLIED_ANNOTATION],
    '{"apiVersion":"v1","data":{"a":"2"},"kind":"ConfigMap","metadata":{"name":"c","namespace":"default"}}\n',
  );
});

test("recordUpdate on create owns every field, with '.' on maps it added", () => {
  const out = recordUpdate(undefined, configMap({ a: "1" }, { labels: { app: "x" } }), {
    ...cm,
    manager: "kubectl-create",
    operation: "Update",
    now: T0,
  });
  assert.deepEqual(out.metadata.managedFields, [
    {
      manager: "kubectl-create",
      operation: "Update",
      apiVersion: "v1",
      time: "2024-05-01T10:00:00Z",
      fieldsType: "FieldsV1",
      fieldsV1: { "f:data": { ".": {}, "f:a": {} }, "f:metadata": { "f:labels": { ".": {}, "f:app": {} } } },
    },
  ]);
});

test("recordUpdate gives changed fields to the writer and takes them from others", () => {
  const created = stored(
    recordUpdate(undefined, configMap({ a: "1", b: "1" }), {
      ...cm,
      manager: "creator",
      operation: "Update",
      now: T0,
    }),
  );
  const edited = recordUpdate(
    created,
    { ...created, data: { a: "2", b: "1" } },
    {
      ...cm,
      manager: "kubectl-edit",
      operation: "Update",
      now: T1,
    },
  );
  assert.deepEqual(fieldsOf(edited, "creator", "Update"), { "f:data": { ".": {}, "f:b": {} } });
  assert.deepEqual(fieldsOf(edited, "kubectl-edit", "Update"), { "f:data": { "f:a": {} } });

  const removed = recordUpdate(
    stored(edited),
    { ...created, data: { b: "1" } },
    {
      ...cm,
      manager: "kubectl-edit",
      operation: "Update",
      now: T1,
    },
  );
  assert.deepEqual(managersOf(removed), ["creator/Update"], "a removed field leaves every set");

  const unchanged = recordUpdate(created, structuredClone(created), {
    ...cm,
    manager: "noop",
    operation: "Update",
    now: T1,
  });
  assert.deepEqual(unchanged.metadata.managedFields, created.metadata.managedFields);
});

test("recordUpdate does not start tracking an existing object without managedFields", () => {
  const live = stored(configMap({ a: "1" }));
  const out = recordUpdate(
    live,
    { ...live, data: { a: "2" } },
    { ...cm, manager: "m", operation: "Update", now: T1 },
  );
  assert.equal(out.metadata.managedFields, undefined);
  assert.deepEqual(out.data, { a: "2" });
});

test("recordUpdate on the status subresource records the subresource and ignores spec", () => {
  const live = stored(
    applyObject(undefined, deployment([{ name: "web", image: "nginx" }]), {
      ...deploy,
      manager: "m",
      force: false,
      now: T0,
    }),
  );
  const next = { ...live, spec: { replicas: 9 }, status: { replicas: 1 } };
  const out = recordUpdate(live, next, {
    ...deploy,
    subresource: "status",
    manager: "kcm",
    operation: "Update",
    now: T1,
  });
  const entry = out.metadata.managedFields?.find((e) => e.manager === "kcm");
  assert.equal(entry?.subresource, "status");
  assert.deepEqual(entry?.fieldsV1, { "f:status": { ".": {}, "f:replicas": {} } });
});
