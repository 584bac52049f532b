import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject } from "../../api/object.ts";
import { printerFor, toTable } from "./index.ts";

const now = new Date("2024-05-01T12:00:00Z");
const created = "2024-05-01T11:59:30Z";

const pods: KubeObject[] = [
  {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "a",
      namespace: "default",
      uid: "u1",
      creationTimestamp: created,
      labels: { app: "x" },
    },
    spec: { containers: [{ name: "c", image: "busybox" }] },
    status: { phase: "Running" },
  },
  {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "b", namespace: "kube-system", uid: "u2", creationTimestamp: created },
    spec: { containers: [{ name: "c", image: "busybox" }] },
    status: { phase: "Succeeded" },
  },
];

describe("toTable", () => {
  it("builds a meta.k8s.io/v1 Table with column definitions and one row per object", () => {
    const t = toTable(pods, {
      group: "",
      kind: "Pod",
      now,
      resourceVersion: "42",
      continue: "tok",
      remainingItemCount: 7,
    });
    assert.equal(t.kind, "Table");
    assert.equal(t.apiVersion, "meta.k8s.io/v1");
    assert.deepEqual(t.metadata, { resourceVersion: "42", continue: "tok", remainingItemCount: 7 });
    assert.deepEqual(
      t.columnDefinitions.map((c) => c.name),
      ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"],
    );
    for (const c of t.columnDefinitions) assert.equal(typeof c.description, "string");
    assert.deepEqual(
      t.rows.map((r) => r.cells.slice(0, 5)),
      [
        ["a", "0/1", "Running", "0", "30s"],
        ["b", "0/1", "Succeeded", "0", "30s"],
      ],
    );
  });

  it("puts PartialObjectMetadata in rows by default, sharing the object's metadata", () => {
    const t = toTable(pods, { group: "", kind: "Pod", now });
    assert.deepEqual(t.rows[0]?.object, {
      kind: "PartialObjectMetadata",
      apiVersion: "meta.k8s.io/v1",
      metadata: pods[0]!.metadata,
    });
    assert.deepEqual(t.metadata, {});
  });

  it("includes the whole object or nothing on request", () => {
    assert.equal(
      toTable(pods, { group: "", kind: "Pod", now, includeObject: "Object" }).rows[1]?.object,
      pods[1],
    );
    const none = toTable(pods, { group: "", kind: "Pod", now, includeObject: "None" });
    assert.equal("object" in none.rows[0]!, false);
  });

  it("marks finished pods with a Completed row condition only", () => {
    const t = toTable(pods, { group: "", kind: "Pod", now });
    assert.equal(t.rows[0]?.conditions, undefined);
    assert.equal(t.rows[1]?.conditions?.[0]?.type, "Completed");
  });

  it("omits column definitions with noHeaders", () => {
    const t = toTable(pods, { group: "", kind: "Pod", now, noHeaders: true });
    assert.deepEqual(t.columnDefinitions, []);
    assert.equal(t.rows.length, 2);
  });

  it("serves the default Name / Created At table for kinds without a printer", () => {
    const widget: KubeObject = {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w1", creationTimestamp: created },
    };
    const t = toTable([widget], { group: "example.com", kind: "Widget", now });
    assert.deepEqual(
      t.columnDefinitions.map((c) => [c.name, c.type, c.format]),
      [
        ["Name", "string", "name"],
        ["Created At", "date", ""],
      ],
    );
    assert.deepEqual(t.rows[0]?.cells, ["w1", created]);
  });

  it("picks printers by group as well as kind", () => {
    assert.notEqual(printerFor("", "Event"), printerFor("events.k8s.io", "Event"));
    assert.equal(printerFor("", "Event").columns, printerFor("events.k8s.io", "Event").columns);
    assert.deepEqual(
      printerFor("apps", "Deployment")
        .columns.map((c) => c.name)
        .slice(0, 4),
      ["Name", "Ready", "Up-to-date", "Available"],
    );
    // A Deployment-named kind in another group is not a Deployment.
    assert.deepEqual(
      printerFor("example.com", "Deployment").columns.map((c) => c.name),
      ["Name", "Created At"],
    );
  });

  it("prints an empty list as a table without rows", () => {
    const t = toTable([], { group: "apps", kind: "StatefulSet", now, resourceVersion: "9" });
    assert.deepEqual(t.rows, []);
    assert.equal(t.columnDefinitions.length, 5);
  });

  it("serializes to JSON kubectl can read", () => {
    const json = JSON.parse(
      JSON.stringify(toTable(pods.slice(0, 1), { group: "", kind: "Pod", now, resourceVersion: "5" })),
    );
    assert.equal(json.columnDefinitions[0].format, "name");
    assert.equal(json.rows[0].object.metadata.namespace, "default");
    assert.equal(json.metadata.resourceVersion, "5");
  });
});
