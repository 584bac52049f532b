import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { StatusError } from "../../api/status-error.ts";
import { applyJsonPatch, jsonEqual, maxJSONPatchOperations } from "./json-patch.ts";

const pod = () => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "web",
    labels: { A: "true", app: "web" },
    annotations: { "example.com/x": "1", "a~b": "2" },
  },
  spec: {
    containers: [
      { name: "app", image: "nginx:1", args: ["--a"] },
      { name: "side", image: "busybox" },
    ],
  },
});

describe("applyJsonPatch applies RFC 6902 operations", () => {
  const cases: { name: string; patch: unknown; check: (out: ReturnType<typeof pod>) => void }[] = [
    {
      name: "add a new member",
      patch: [{ op: "add", path: "/metadata/labels/tier", value: "front" }],
      check: (o) => assert.equal(o.metadata.labels["tier" as "A"], "front"),
    },
    {
      name: "add over an existing member replaces it",
      patch: [{ op: "add", path: "/metadata/labels/A", value: "false" }],
      check: (o) => assert.equal(o.metadata.labels.A, "false"),
    },
    {
      name: "add with - appends to an array",
      patch: [{ op: "add", path: "/spec/containers/0/args/-", value: "--b" }],
      check: (o) => assert.deepEqual(o.spec.containers[0]?.args, ["--a", "--b"]),
    },
    {
      name: "add at an index inserts before it",
      patch: [{ op: "add", path: "/spec/containers/0", value: { name: "first", image: "x" } }],
      check: (o) =>
        assert.deepEqual(
          o.spec.containers.map((c) => c.name),
          ["first", "app", "side"],
        ),
    },
    {
      name: "add at the array length appends",
      patch: [{ op: "add", path: "/spec/containers/2", value: { name: "last", image: "x" } }],
      check: (o) => assert.equal(o.spec.containers[2]?.name, "last"),
    },
    {
      name: "~1 in a pointer is a slash",
      patch: [{ op: "replace", path: "/metadata/annotations/example.com~1x", value: "9" }],
      check: (o) => assert.equal(o.metadata.annotations["example.com/x"], "9"),
    },
    {
      name: "~0 in a pointer is a tilde",
      patch: [{ op: "remove", path: "/metadata/annotations/a~0b" }],
      check: (o) => assert.deepEqual(o.metadata.annotations, { "example.com/x": "1" }),
    },
    {
      name: "remove an array element shifts the rest",
      patch: [{ op: "remove", path: "/spec/containers/0" }],
      check: (o) =>
        assert.deepEqual(
          o.spec.containers.map((c) => c.name),
          ["side"],
        ),
    },
    {
      name: "replace an image",
      patch: [{ op: "replace", path: "/spec/containers/1/image", value: "busybox:2" }],
      check: (o) => assert.equal(o.spec.containers[1]?.image, "busybox:2"),
    },
    {
      name: "move a label",
      patch: [{ op: "move", from: "/metadata/labels/A", path: "/metadata/labels/B" }],
      check: (o) => assert.deepEqual(o.metadata.labels, { app: "web", B: "true" }),
    },
    {
      name: "copy is a deep copy",
      patch: [
        { op: "copy", from: "/spec/containers/0", path: "/spec/containers/-" },
        { op: "replace", path: "/spec/containers/2/name", value: "copy" },
      ],
      check: (o) =>
        assert.deepEqual(
          o.spec.containers.map((c) => c.name),
          ["app", "side", "copy"],
        ),
    },
    {
      name: "test then replace (a guarded update)",
      patch: [
        { op: "test", path: "/metadata/labels/A", value: "true" },
        { op: "replace", path: "/metadata/labels/A", value: "false" },
      ],
      check: (o) => assert.equal(o.metadata.labels.A, "false"),
    },
    {
      name: "test compares objects structurally, key order aside",
      patch: [{ op: "test", path: "/spec/containers/1", value: { image: "busybox", name: "side" } }],
      check: (o) => assert.equal(o.spec.containers.length, 2),
    },
    {
      name: "a null patch is empty",
      patch: null,
      check: (o) => assert.deepEqual(o, pod()),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const doc = pod();
      const out = applyJsonPatch(doc, c.patch) as ReturnType<typeof pod>;
      c.check(out);
      assert.deepEqual(doc, pod(), "input document unchanged");
    });
  }

  it("does not change the patch's values when the result is changed", () => {
    const value = { name: "new", image: "x" };
    const out = applyJsonPatch(pod(), [{ op: "add", path: "/spec/containers/-", value }]) as ReturnType<
      typeof pod
    >;
    out.spec.containers[2]!.name = "changed";
    assert.equal(value.name, "new");
  });
});

describe("applyJsonPatch errors", () => {
  const cases: { name: string; patch: unknown; code: number; reason: string; message: string | RegExp }[] = [
    {
      name: "failed test",
      patch: [
        { op: "test", path: "/metadata/labels/A", value: "false" },
        { op: "replace", path: "/metadata/labels/A", value: "x" },
      ],
      code: 422,
      reason: "Invalid",
      message: "testing value /metadata/labels/A failed: test failed",
    },
    {
      name: "test of a missing member",
      patch: [{ op: "test", path: "/metadata/labels/nope", value: null }],
      code: 422,
      reason: "Invalid",
      message: "testing value /metadata/labels/nope failed: test failed",
    },
    {
      name: "add under a missing parent",
      patch: [{ op: "add", path: "/spec/nodeSelector/disk", value: "ssd" }],
      code: 422,
      reason: "Invalid",
      message: "add operation does not apply: doc is missing path: /spec/nodeSelector/disk: missing value",
    },
    {
      name: "remove a missing member",
      patch: [{ op: "remove", path: "/metadata/labels/nope" }],
      code: 422,
      reason: "Invalid",
      message:
        "error in remove for path: '/metadata/labels/nope': Unable to remove nonexistent key: nope: missing value",
    },
    {
      name: "replace a missing member",
      patch: [{ op: "replace", path: "/metadata/labels/nope", value: "x" }],
      code: 422,
      reason: "Invalid",
      message: "replace operation does not apply: doc is missing key: /metadata/labels/nope: missing value",
    },
    {
      name: "index past the end",
      patch: [{ op: "add", path: "/spec/containers/3", value: {} }],
      code: 422,
      reason: "Invalid",
      message: /Unable to access invalid index: 3/,
    },
    {
      name: "index with a leading zero",
      patch: [{ op: "remove", path: "/spec/containers/01" }],
      code: 422,
      reason: "Invalid",
      message: /invalid index/,
    },
    {
      name: "move into its own child",
      patch: [{ op: "move", from: "/spec", path: "/spec/inner" }],
      code: 422,
      reason: "Invalid",
      message: /cannot move \/spec into its own child/,
    },
    {
      name: "unknown op",
      patch: [{ op: "frob", path: "/a" }],
      code: 422,
      reason: "Invalid",
      message: "Unexpected kind: frob",
    },
    {
      name: "missing op",
      patch: [{ path: "/a" }],
      code: 422,
      reason: "Invalid",
      message: "Unexpected kind: unknown",
    },
    {
      name: "missing path",
      patch: [{ op: "add", value: 1 }],
      code: 422,
      reason: "Invalid",
      message: "add operation failed to decode path: missing value",
    },
    {
      name: "path that is not a pointer",
      patch: [{ op: "remove", path: "metadata" }],
      code: 422,
      reason: "Invalid",
      message: "remove operation failed to decode path: missing value",
    },
    {
      name: "missing value",
      patch: [{ op: "replace", path: "/metadata/name" }],
      code: 422,
      reason: "Invalid",
      message: /replace operation is missing value/,
    },
    {
      name: "a single operation instead of a list",
      patch: { op: "add", path: "/a", value: 1 },
      code: 400,
      reason: "BadRequest",
      message: "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
    },
    {
      name: "a list of strings",
      patch: ["add"],
      code: 400,
      reason: "BadRequest",
      message: "json: cannot unmarshal string into Go value of type jsonpatch.Operation",
    },
    {
      name: "too many operations",
      patch: Array.from({ length: maxJSONPatchOperations + 1 }, () => ({
        op: "test",
        path: "/kind",
        value: "Pod",
      })),
      code: 413,
      reason: "RequestEntityTooLarge",
      message: "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const doc = pod();
      assert.throws(
        () => applyJsonPatch(doc, c.patch),
        (err: unknown) => {
          assert.ok(err instanceof StatusError);
          assert.equal(err.code, c.code);
          assert.equal(err.reason, c.reason);
          if (typeof c.message === "string") assert.equal(err.message, c.message);
          else assert.match(err.message, c.message);
          return true;
        },
      );
      assert.deepEqual(doc, pod(), "input document unchanged");
    });
  }
});

describe("jsonEqual", () => {
  const cases: [unknown, unknown, boolean][] = [
    [{ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, false],
    [[1, 2], [2, 1], false],
    [null, null, true],
    [null, {}, false],
    ["1", 1, false],
  ];
  for (const [a, b, want] of cases) {
    it(`${JSON.stringify(a)} vs ${JSON.stringify(b)} is ${want}`, () => assert.equal(jsonEqual(a, b), want));
  }
});
