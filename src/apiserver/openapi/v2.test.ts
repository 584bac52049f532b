/**
 * @module Tests of the OpenAPI v2 document (`v2.ts`) and of how `/openapi/v2` is served
 * (`OpenApi.respond`): every kind's `patch` advertises `fieldValidation` and its GVK, the
 * definitions obey the rules kubectl's v2 model parser enforces, and the endpoint negotiates
 * protobuf or JSON and answers conditional requests with 304.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allKinds } from "../../api/kinds.ts";
import { OpenApi } from "../openapi.ts";
import { swaggerDocument, V2_REF_PREFIX } from "./v2.ts";

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Json {
  assert.ok(isRecord(v), `expected an object, got ${JSON.stringify(v)}`);
  return v;
}

const doc = swaggerDocument(allKinds());
const paths = obj(doc.paths);
const definitions = obj(doc.definitions);

/** kubectl's check: the first path whose `patch` carries the GVK must list `fieldValidation`. */
function firstPatchFor(group: string, version: string, kind: string): Json | undefined {
  for (const item of Object.values(paths)) {
    const patch = obj(item).patch;
    if (!isRecord(patch)) continue;
    const gvk = obj(patch["x-kubernetes-group-version-kind"]);
    if (gvk.group === group && gvk.version === version && gvk.kind === kind) return patch;
  }
  return undefined;
}

/** The rules of kube-openapi's v2 model parser, which rejects the whole document on a breach. */
function checkSchema(s: Json, where: string): void {
  if (typeof s.$ref === "string") {
    assert.ok(s.$ref.startsWith(V2_REF_PREFIX), `${where}: $ref ${s.$ref} is not a definition`);
    assert.ok(s.$ref.slice(V2_REF_PREFIX.length) in definitions, `${where}: dangling $ref ${s.$ref}`);
    assert.equal(s.type, undefined, `${where}: a $ref may not have a type`);
    assert.equal(s.properties, undefined, `${where}: a $ref may not embed properties`);
    return;
  }
  for (const key of ["allOf", "oneOf", "anyOf", "nullable"])
    assert.ok(!(key in s), `${where}: v3-only ${key}`);
  const type = s.type;
  if (type === undefined) return;
  assert.ok(typeof type === "string", `${where}: one type`);
  assert.ok(
    ["object", "array", "string", "integer", "number", "boolean"].includes(type),
    `${where}: ${type}`,
  );
  if (type === "array") checkSchema(obj(s.items), `${where}[]`);
  if (isRecord(s.additionalProperties)) checkSchema(s.additionalProperties, `${where}{}`);
  if (isRecord(s.properties)) {
    for (const [name, p] of Object.entries(s.properties)) checkSchema(obj(p), `${where}.${name}`);
  }
}

describe("the OpenAPI v2 document", () => {
  it("is Swagger 2.0 with every kind's paths", () => {
    assert.equal(doc.swagger, "2.0");
    assert.ok("/api/v1/namespaces/{namespace}/configmaps/{name}" in paths);
    assert.ok("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale" in paths);
    const keys = Object.keys(paths);
    assert.deepEqual(keys, [...keys].sort());
  });

  it("advertises fieldValidation on the first patch of every kind that can be patched", () => {
    for (const k of allKinds()) {
      if (!k.verbs.includes("patch")) continue;
      const patch = firstPatchFor(k.group, k.version, k.kind);
      assert.ok(patch, `no patch operation for ${k.kind}`);
      const names = (patch.parameters as Json[]).map((p) => p.name);
      assert.ok(names.includes("fieldValidation"), `${k.kind}: ${names.join(",")}`);
    }
  });

  it("shapes operations as v2: a body parameter, typed query parameters, schemas on responses", () => {
    const item = obj(paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]);
    const put = obj(item.put);
    const params = put.parameters as Json[];
    assert.deepEqual(params[0], {
      name: "body",
      in: "body",
      required: true,
      schema: { $ref: "#/definitions/io.k8s.api.apps.v1.Deployment" },
    });
    const fv = params.find((p) => p.name === "fieldValidation")!;
    assert.equal(fv.in, "query");
    assert.equal(fv.type, "string");
    assert.equal(fv.schema, undefined);
    assert.deepEqual(obj(obj(put.responses)["200"]).schema, {
      $ref: "#/definitions/io.k8s.api.apps.v1.Deployment",
    });
    assert.deepEqual(put.consumes, ["*/*"]);
    assert.ok((obj(item.patch).consumes as string[]).includes("application/strategic-merge-patch+json"));
    const pathParams = item.parameters as Json[];
    assert.deepEqual(
      pathParams.map((p) => [p.name, p.in, p.type]),
      [
        ["name", "path", "string"],
        ["namespace", "path", "string"],
        ["pretty", "query", "string"],
      ],
    );
  });

  it("points every $ref in its paths at a definition", () => {
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (isRecord(v)) {
        for (const [key, x] of Object.entries(v)) {
          if (key === "$ref") refs.push(String(x));
          else walk(x);
        }
      }
    };
    walk(paths);
    assert.ok(refs.length > 100);
    for (const ref of refs) {
      assert.ok(ref.startsWith(V2_REF_PREFIX) && ref.slice(V2_REF_PREFIX.length) in definitions, ref);
    }
  });

  it("has definitions kubectl's v2 parser accepts, with patch-strategy extensions kept", () => {
    for (const [name, s] of Object.entries(definitions)) checkSchema(obj(s), name);
    const podSpec = obj(definitions["io.k8s.api.core.v1.PodSpec"]);
    const containers = obj(obj(podSpec.properties).containers);
    assert.equal(containers["x-kubernetes-patch-strategy"], "merge");
    assert.equal(containers["x-kubernetes-patch-merge-key"], "name");
    assert.deepEqual(
      obj(obj(podSpec.properties).securityContext).$ref,
      "#/definitions/io.k8s.api.core.v1.PodSecurityContext",
    );
    const ios = obj(definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]);
    assert.equal(ios.type, "string");
    assert.equal(ios.format, "int-or-string");
    const deployment = obj(definitions["io.k8s.api.apps.v1.Deployment"]);
    assert.deepEqual(deployment["x-kubernetes-group-version-kind"], [
      { group: "apps", version: "v1", kind: "Deployment" },
    ]);
  });
});

describe("OpenApi.respond for /openapi/v2", () => {
  const api = new OpenApi();
  const PB = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
  const PB_DOTTED = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

  it("answers kubectl's protobuf Accept with the gnostic encoding and an ETag", () => {
    const r = api.respond("/openapi/v2?timeout=32s", { accept: PB })!;
    assert.equal(r.status, 200);
    assert.equal(r.headers["Content-Type"], PB_DOTTED);
    assert.ok(Buffer.isBuffer(r.body));
    assert.equal(r.headers["Content-Length"], r.body.length);
    assert.match(String(r.headers.ETag), /^"[0-9A-F]{128}"$/);
    assert.equal(r.headers.Vary, "Accept");
    assert.equal(r.body.subarray(0, 5).toString("latin1"), "\n\x032.0", "field 1 (swagger) comes first");
    assert.equal(api.respond("/openapi/v2", { accept: PB_DOTTED })!.body, r.body, "built once");
  });

  it("answers JSON for application/json, */* and no Accept", () => {
    for (const accept of ["application/json", "*/*", undefined, `application/json, ${PB}`]) {
      const r = api.respond("/openapi/v2", accept === undefined ? {} : { accept })!;
      assert.equal(r.status, 200, String(accept));
      assert.equal(r.headers["Content-Type"], "application/json");
      assert.equal(obj(JSON.parse(String(r.body))).swagger, "2.0");
    }
    assert.equal(
      api.respond("/openapi/v2", { accept: `${PB}, application/json;q=0.5` })!.headers["Content-Type"],
      PB_DOTTED,
    );
  });

  it("answers a matching If-None-Match with 304 and no body, and a stale one with 200", () => {
    const first = api.respond("/openapi/v2", { accept: PB })!;
    const etag = String(first.headers.ETag);
    const again = api.respond("/openapi/v2", { accept: PB, "if-none-match": etag })!;
    assert.equal(again.status, 304);
    assert.equal(again.body, "");
    assert.equal(again.headers.ETag, etag);
    assert.equal(api.respond("/openapi/v2", { accept: PB, "if-none-match": `"x", W/${etag}` })!.status, 304);
    assert.equal(api.respond("/openapi/v2", { accept: PB, "if-none-match": '"stale"' })!.status, 200);
    const json = api.respond("/openapi/v2", { accept: "application/json" })!;
    assert.notEqual(json.headers.ETag, etag, "each encoding has its own ETag");
  });

  it("answers 406 for a media type it cannot produce, and 404 for unknown paths", () => {
    assert.equal(api.respond("/openapi/v2", { accept: "text/html" })!.status, 406);
    assert.equal(api.respond("/openapi/v1", {}), undefined);
    assert.equal(api.respond("/swagger-2.0.0.pb-v1", {}), undefined);
    assert.equal(api.respond("/openapi/v3", {})!.status, 200);
  });
});
