/**
 * @module Tests of the gnostic `openapi.v2.Document` encoder: a small Swagger document is
 * encoded and read back field by field with the wire reader, checking the field numbers
 * against gnostic's OpenAPIv2.proto.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WireReader, WireType } from "../protobuf/wire.ts";
import { encodeDocument, ProtoWriter } from "./protobuf-v2.ts";

/** A decoded message: field number → raw values (Buffers for length-delimited fields). */
type Fields = Map<number, (Buffer | bigint | number)[]>;

function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  const r = new WireReader(buf);
  while (!r.eof()) {
    const t = r.tag();
    let v: Buffer | bigint | number;
    if (t.wire === WireType.Bytes) v = r.bytes();
    else if (t.wire === WireType.Varint) v = r.varint();
    else if (t.wire === WireType.Fixed64) v = r.double();
    else throw new Error(`unexpected wire type ${t.wire}`);
    out.set(t.field, [...(out.get(t.field) ?? []), v]);
  }
  return out;
}

function msg(f: Fields, n: number, i = 0): Fields {
  const v = f.get(n)?.[i];
  assert.ok(Buffer.isBuffer(v), `field ${n}[${i}] is not a message`);
  return fields(v);
}

function str(f: Fields, n: number, i = 0): string {
  const v = f.get(n)?.[i];
  assert.ok(Buffer.isBuffer(v), `field ${n}[${i}] is not a string`);
  return v.toString("utf8");
}

function strs(f: Fields, n: number): string[] {
  return (f.get(n) ?? []).map((v) => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v)));
}

/** `NamedAny` list → name → parsed `Any.yaml` (field 2 of `Any`). */
function extensions(list: (Buffer | bigint | number)[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const raw of list ?? []) {
    const named = fields(raw as Buffer);
    out[str(named, 1)] = JSON.parse(str(msg(named, 2), 2));
  }
  return out;
}

const gvk = { group: "apps", version: "v1", kind: "Deployment" };
const doc = {
  swagger: "2.0",
  info: { title: "Kubernetes", version: "v1.33.0" },
  paths: {
    "/apis/apps/v1/namespaces/{namespace}/deployments/{name}": {
      patch: {
        description: "Partially update the specified Deployment.",
        consumes: ["application/strategic-merge-patch+json"],
        produces: ["application/json"],
        schemes: ["https"],
        tags: ["apps_v1"],
        operationId: "patchAppsV1NamespacedDeployment",
        parameters: [
          { name: "body", in: "body", required: true, schema: { type: "object" } },
          {
            name: "fieldValidation",
            in: "query",
            description: "How to validate.",
            type: "string",
            uniqueItems: true,
          },
        ],
        responses: { "200": { description: "OK", schema: { $ref: "#/definitions/D" } } },
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": gvk,
      },
      parameters: [{ name: "name", in: "path", required: true, type: "string", uniqueItems: true }],
    },
  },
  definitions: {
    D: {
      description: "A deployment.",
      type: "object",
      required: ["spec"],
      properties: {
        spec: { $ref: "#/definitions/S", description: "The spec." },
        containers: {
          type: "array",
          items: { type: "string" },
          "x-kubernetes-patch-strategy": "merge",
          "x-kubernetes-patch-merge-key": "name",
        },
        labels: { type: "object", additionalProperties: { type: "string" } },
        replicas: { type: "integer", format: "int32", minimum: 1.5 },
      },
      "x-kubernetes-group-version-kind": [gvk],
    },
    S: { type: "object", additionalProperties: false },
  },
};

describe("encodeDocument", () => {
  const d = fields(encodeDocument(doc));

  it("writes swagger (1), info (2) with title (1) and version (2)", () => {
    assert.equal(str(d, 1), "2.0");
    const info = msg(d, 2);
    assert.equal(str(info, 1), "Kubernetes");
    assert.equal(str(info, 2), "v1.33.0");
  });

  it("writes a patch operation (PathItem 8) with its parameters and GVK extension", () => {
    const named = msg(msg(d, 8), 2); // Paths.path → NamedPathItem
    assert.equal(str(named, 1), "/apis/apps/v1/namespaces/{namespace}/deployments/{name}");
    const item = msg(named, 2);
    assert.equal(item.get(2), undefined, "no get operation");
    const op = msg(item, 8);
    assert.deepEqual(strs(op, 1), ["apps_v1"]);
    assert.equal(str(op, 3), "Partially update the specified Deployment.");
    assert.equal(str(op, 5), "patchAppsV1NamespacedDeployment");
    assert.deepEqual(strs(op, 6), ["application/json"]);
    assert.deepEqual(strs(op, 7), ["application/strategic-merge-patch+json"]);
    assert.deepEqual(strs(op, 10), ["https"]);
    // ParametersItem.parameter (1) → Parameter.body_parameter (1)
    const body = msg(msg(msg(op, 8, 0), 1), 1);
    assert.equal(str(body, 2), "body");
    assert.equal(str(body, 3), "body");
    assert.deepEqual(body.get(4), [1n]);
    assert.deepEqual(strs(msg(msg(body, 5), 22), 1), ["object"]);
    // ParametersItem.parameter → Parameter.non_body_parameter (2) → query_parameter_sub_schema (3)
    const query = msg(msg(msg(msg(op, 8, 1), 1), 2), 3);
    assert.equal(str(query, 2), "query");
    assert.equal(str(query, 3), "How to validate.");
    assert.equal(str(query, 4), "fieldValidation");
    assert.equal(str(query, 6), "string");
    assert.deepEqual(query.get(20), [1n], "unique_items is field 20");
    // Responses.response_code (1) → NamedResponseValue → ResponseValue.response (1) → SchemaItem.schema
    const code = msg(msg(op, 9), 1);
    assert.equal(str(code, 1), "200");
    const response = msg(msg(code, 2), 1);
    assert.equal(str(response, 1), "OK");
    assert.equal(str(msg(msg(response, 2), 1), 1), "#/definitions/D");
    const ext = extensions(op.get(13));
    assert.deepEqual(ext, { "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk });
    // Path-level parameter: path_parameter_sub_schema (4) has type at 5, unique_items at 19.
    const path = msg(msg(msg(msg(item, 9), 1), 2), 4);
    assert.deepEqual(path.get(1), [1n]);
    assert.equal(str(path, 4), "name");
    assert.equal(str(path, 5), "string");
    assert.deepEqual(path.get(19), [1n]);
  });

  it("writes definitions (9) as NamedSchemas with properties, items, maps and extensions", () => {
    const defs = msg(d, 9);
    assert.equal(defs.get(1)?.length, 2);
    const named = msg(defs, 1, 0);
    assert.equal(str(named, 1), "D");
    const s = msg(named, 2);
    assert.equal(str(s, 4), "A deployment.");
    assert.deepEqual(strs(s, 19), ["spec"]);
    assert.deepEqual(strs(msg(s, 22), 1), ["object"]);
    assert.deepEqual(extensions(s.get(31)), { "x-kubernetes-group-version-kind": [gvk] });
    const props = new Map(
      (msg(s, 25).get(1) ?? []).map((raw) => {
        const p = fields(raw as Buffer);
        return [str(p, 1), msg(p, 2)] as const;
      }),
    );
    assert.deepEqual([...props.keys()], ["spec", "containers", "labels", "replicas"]);
    const spec = props.get("spec")!;
    assert.equal(str(spec, 1), "#/definitions/S");
    assert.equal(str(spec, 4), "The spec.");
    assert.equal(spec.get(22), undefined, "a $ref carries no type");
    const containers = props.get("containers")!;
    assert.deepEqual(strs(msg(msg(msg(containers, 23), 1), 22), 1), ["string"]);
    assert.deepEqual(extensions(containers.get(31)), {
      "x-kubernetes-patch-strategy": "merge",
      "x-kubernetes-patch-merge-key": "name",
    });
    const labels = props.get("labels")!;
    assert.deepEqual(strs(msg(msg(msg(labels, 21), 1), 22), 1), ["string"]);
    const replicas = props.get("replicas")!;
    assert.equal(str(replicas, 2), "int32");
    assert.deepEqual(replicas.get(9), [1.5], "minimum is a double in field 9");
    // additionalProperties: false is a oneof member, so it is written (AdditionalPropertiesItem.boolean = 2).
    const sDef = msg(msg(defs, 1, 1), 2);
    assert.deepEqual(msg(sDef, 21).get(2), [0n]);
  });
});

describe("ProtoWriter", () => {
  it("leaves out proto3 defaults and encodes varints, negatives and doubles", () => {
    const b = new ProtoWriter()
      .string(1, "")
      .bool(2, false)
      .int64(3, 0)
      .double(4, 0)
      .int64(5, 300)
      .int64(6, -1)
      .double(7, -2.25)
      .finish();
    const f = fields(b);
    assert.deepEqual([...f.keys()], [5, 6, 7]);
    assert.deepEqual(f.get(5), [300n]);
    assert.deepEqual(f.get(6), [0xffffffffffffffffn]);
    assert.deepEqual(f.get(7), [-2.25]);
    assert.deepEqual([...b.subarray(0, 3)], [5 << 3, 0xac, 0x02]);
  });
});
