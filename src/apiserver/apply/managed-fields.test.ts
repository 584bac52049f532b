import { test } from "node:test";
import assert from "node:assert/strict";
import { FieldSet } from "./field-set.ts";
import {
  ANCIENT_CHANGES_MANAGER,
  capUpdateManagers,
  conflictError,
  decodeManagedFields,
  defaultManager,
  encodeManagedFields,
  managerKey,
  type ManagerEntry,
  type Managers,
} from "./managed-fields.ts";

test("defaultManager takes the User-Agent up to its first slash", () => {
  const cases: [string | undefined, string][] = [
    ["kubectl/v1.30.0 (linux/amd64) kubernetes/7c48c2b", "kubectl"],
    [
      "kube-controller-manager/v1.30.0 (linux/amd64) kubernetes/abc/system:serviceaccount:x",
      "kube-controller-manager",
    ],
    ["node-fetch", "node-fetch"],
    ["bad\u0001name/1", "badname"],
    ["", ""],
    [undefined, ""],
    ["x".repeat(200), "x".repeat(128)],
  ];
  for (const [ua, want] of cases) assert.equal(defaultManager(ua), want, String(ua));
});

test("managerKey leaves apiVersion out for appliers only", () => {
  assert.equal(
    managerKey({ manager: "kubectl", operation: "Apply", apiVersion: "v1" }),
    '{"manager":"kubectl","operation":"Apply"}',
  );
  assert.equal(
    managerKey({ manager: "k", operation: "Update", apiVersion: "apps/v1", subresource: "status" }),
    '{"manager":"k","operation":"Update","apiVersion":"apps/v1","subresource":"status"}',
  );
});

const entry = (
  manager: string,
  operation: "Apply" | "Update",
  time: string,
  ...fields: string[]
): ManagerEntry => ({
  manager,
  operation,
  apiVersion: "v1",
  time,
  set: FieldSet.of(...fields.map((f) => ["f:data", `f:${f}`])),
});

const managersOf = (...entries: ManagerEntry[]): Managers => new Map(entries.map((e) => [managerKey(e), e]));

test("encode sorts Apply before Update, then by time and name, and round-trips", () => {
  const managers = managersOf(
    entry("b", "Update", "2024-01-01T00:00:02Z", "b"),
    entry("a", "Update", "2024-01-01T00:00:02Z", "a"),
    entry("z", "Update", "2024-01-01T00:00:01Z", "z"),
    entry("y", "Apply", "2024-01-01T00:00:09Z", "y"),
    entry("empty", "Update", "2024-01-01T00:00:00Z"),
  );
  const encoded = encodeManagedFields(managers);
  assert.deepEqual(
    encoded.map((e) => e.manager),
    ["y", "z", "a", "b"],
  );
  assert.deepEqual(encoded[0], {
    manager: "y",
    operation: "Apply",
    apiVersion: "v1",
    time: "2024-01-01T00:00:09Z",
    fieldsType: "FieldsV1",
    fieldsV1: { "f:data": { "f:y": {} } },
  });
  const decoded = decodeManagedFields(encoded);
  assert.deepEqual(encodeManagedFields(decoded), encoded);
});

test("decode refuses entries upstream cannot decode", () => {
  assert.throws(() => decodeManagedFields([{ manager: "a", operation: "Update", fieldsType: "FieldsV2" }]));
  assert.throws(() => decodeManagedFields([{ manager: "a", operation: "Patch", fieldsType: "FieldsV1" }]));
});

test("conflict errors carry upstream's message and causes", () => {
  const kubectl = entry("kubectl", "Apply", "", "a");
  const csa = { ...entry("kubectl-client-side-apply", "Update", "", "b"), apiVersion: "apps/v1" };
  const one = conflictError([{ key: managerKey(csa), owner: csa, path: ["f:spec", "f:replicas"] }]);
  assert.equal(one.code, 409);
  assert.equal(one.reason, "Conflict");
  assert.equal(
    one.message,
    'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
  );
  assert.deepEqual(one.status.details, {
    causes: [
      {
        reason: "FieldManagerConflict",
        message: 'conflict with "kubectl-client-side-apply" using apps/v1',
        field: ".spec.replicas",
      },
    ],
  });
  const many = conflictError([
    { key: managerKey(kubectl), owner: kubectl, path: ["f:data", "f:a"] },
    { key: managerKey(csa), owner: csa, path: ["f:data", "f:b"] },
    { key: managerKey(kubectl), owner: kubectl, path: ["f:data", "f:c"] },
  ]);
  assert.equal(
    many.message,
    'Apply failed with 3 conflicts: conflicts with "kubectl":\n- .data.a\n- .data.c\nconflicts with "kubectl-client-side-apply" using apps/v1:\n- .data.b',
  );
  assert.equal(many.status.details?.causes?.length, 3);
});

test("more than ten Update managers: the oldest merge into ancient-changes", () => {
  const entries = Array.from({ length: 12 }, (_, i) =>
    entry(
      `m${String(i).padStart(2, "0")}`,
      "Update",
      `2024-01-01T00:00:${String(i).padStart(2, "0")}Z`,
      `f${i}`,
    ),
  );
  const managers = managersOf(entry("applier", "Apply", "2024-01-01T00:00:00Z", "x"), ...entries);
  capUpdateManagers(managers);
  const updaters = [...managers.values()].filter((m) => m.operation === "Update");
  assert.equal(updaters.length, 10);
  const ancient = updaters.find((m) => m.manager === ANCIENT_CHANGES_MANAGER);
  assert.deepEqual(ancient?.set.paths(), [
    ["f:data", "f:f0"],
    ["f:data", "f:f1"],
    ["f:data", "f:f2"],
  ]);
  assert.equal(ancient?.time, "2024-01-01T00:00:02Z");
  assert.equal(
    [...managers.values()].some((m) => m.manager === "applier"),
    true,
  );
});
