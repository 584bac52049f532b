import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { StatusError } from "../../api/status-error.ts";
import { applyMergePatch, isJsonObject } from "./merge-patch.ts";

describe("applyMergePatch follows RFC 7386", () => {
  const cases: { name: string; doc: unknown; patch: unknown; want: unknown }[] = [
    {
      name: "null removes a label, others kept",
      doc: { metadata: { labels: { app: "web", tier: "front" } } },
      patch: { metadata: { labels: { tier: null } } },
      want: { metadata: { labels: { app: "web" } } },
    },
    {
      name: "objects merge recursively",
      doc: { spec: { replicas: 1, selector: { matchLabels: { app: "web" } } } },
      patch: { spec: { replicas: 3 } },
      want: { spec: { replicas: 3, selector: { matchLabels: { app: "web" } } } },
    },
    {
      name: "arrays are replaced, not merged",
      doc: {
        spec: {
          containers: [
            { name: "a", image: "x" },
            { name: "b", image: "y" },
          ],
        },
      },
      patch: { spec: { containers: [{ name: "a", image: "z" }] } },
      want: { spec: { containers: [{ name: "a", image: "z" }] } },
    },
    {
      name: "nulls inside a new object are dropped",
      doc: { data: {} },
      patch: { metadata: { labels: { a: "1", b: null } } },
      want: { data: {}, metadata: { labels: { a: "1" } } },
    },
    {
      name: "an object replaces a scalar",
      doc: { a: "x" },
      patch: { a: { b: "c", d: null } },
      want: { a: { b: "c" } },
    },
    {
      name: "a scalar replaces an object",
      doc: { a: { b: "c" } },
      patch: { a: 1 },
      want: { a: 1 },
    },
    {
      name: "deleting a missing key changes nothing",
      doc: { a: 1 },
      patch: { b: null },
      want: { a: 1 },
    },
    {
      name: "an empty object patch changes nothing",
      doc: { a: [1, 2] },
      patch: {},
      want: { a: [1, 2] },
    },
    {
      name: "a null patch changes nothing (upstream decodes it as empty)",
      doc: { a: 1 },
      patch: null,
      want: { a: 1 },
    },
    {
      name: "a ConfigMap's data key changes, others kept",
      doc: { data: { a: "1", b: "2" } },
      patch: { data: { b: "3", c: "4" } },
      want: { data: { a: "1", b: "3", c: "4" } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const before = structuredClone(c.doc);
      const patchBefore = structuredClone(c.patch);
      assert.deepEqual(applyMergePatch(c.doc, c.patch), c.want);
      assert.deepEqual(c.doc, before, "document unchanged");
      assert.deepEqual(c.patch, patchBefore, "patch unchanged");
    });
  }

  it("the result shares nothing with the input", () => {
    const doc = { spec: { template: { labels: { a: "1" } } }, other: { x: 1 } };
    const out = applyMergePatch(doc, { spec: { replicas: 2 } }) as typeof doc;
    out.other.x = 2;
    out.spec.template.labels.a = "2";
    assert.deepEqual(doc, { spec: { template: { labels: { a: "1" } } }, other: { x: 1 } });
  });

  const badPatches: [string, unknown][] = [
    ["an array", [{ a: 1 }]],
    ["a string", "x"],
    ["a number", 1],
  ];
  for (const [name, patch] of badPatches) {
    it(`rejects ${name} as a patch with 400 Invalid JSON Patch`, () => {
      assert.throws(
        () => applyMergePatch({ a: 1 }, patch),
        (err: unknown) =>
          err instanceof StatusError &&
          err.code === 400 &&
          err.reason === "BadRequest" &&
          err.message === "Invalid JSON Patch",
      );
    });
  }
});

describe("isJsonObject", () => {
  const cases: [unknown, boolean][] = [
    [{}, true],
    [[], false],
    [null, false],
    ["x", false],
  ];
  for (const [v, want] of cases)
    it(`${JSON.stringify(v)} → ${want}`, () => assert.equal(isJsonObject(v), want));
});
