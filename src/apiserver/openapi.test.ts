/** @module Tests of the OpenAPI v3 endpoints: the index, the group-version documents, caching. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { allKinds } from "../api/kinds.ts";
import { OpenApi } from "./openapi.ts";

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  assert.ok(
    typeof v === "object" && v !== null && !Array.isArray(v),
    `expected an object, got ${JSON.stringify(v)}`,
  );
  return v as Json;
}

const api = new OpenApi();

function doc(key: string): Json {
  const body = api.serve(`/openapi/v3/${key}`);
  assert.ok(body !== undefined, `no document for ${key}`);
  return obj(JSON.parse(body));
}

function op(d: Json, path: string, method: string): Json {
  return obj(obj(obj(d.paths)[path])[method]);
}

function schema(d: Json, name: string): Json {
  return obj(obj(obj(d.components).schemas)[name]);
}

function prop(d: Json, type: string, field: string): Json {
  return obj(obj(schema(d, type).properties)[field]);
}

function paramNames(o: Json): string[] {
  assert.ok(Array.isArray(o.parameters));
  return o.parameters.map((p) => String(obj(p).name));
}

describe("OpenApi index", () => {
  const index = obj(obj(JSON.parse(api.serve("/openapi/v3") ?? "null")).paths);

  it("lists one document per group-version of the kinds table", () => {
    const expected = new Set(
      allKinds().map((k) => (k.group === "" ? `api/${k.version}` : `apis/${k.group}/${k.version}`)),
    );
    assert.deepEqual(new Set(Object.keys(index)), expected);
  });

  it("points at each document with the SHA-512 of its content", () => {
    for (const [key, entry] of Object.entries(index)) {
      const url = String(obj(entry).serverRelativeURL);
      const body = api.serve(url) ?? "";
      const hash = createHash("sha512").update(body).digest("hex").toUpperCase();
      assert.equal(url, `/openapi/v3/${key}?hash=${hash}`);
    }
  });

  it("answers nothing for v2 and unknown group-versions", () => {
    for (const path of ["/openapi/v2", "/openapi/v3/apis/nope.io/v1", "/openapi/v3/api/v2", "/openapi"]) {
      assert.equal(api.serve(path), undefined, path);
    }
  });

  it("builds each document once and serves the cached string", () => {
    const a = api.serve("/openapi/v3/apis/apps/v1");
    assert.ok(a !== undefined);
    assert.equal(api.serve("/openapi/v3/apis/apps/v1?hash=whatever"), a);
  });
});

describe("OpenApi group-version documents", () => {
  it("has the OpenAPI header", () => {
    const d = doc("api/v1");
    assert.equal(d.openapi, "3.0.0");
    assert.deepEqual(d.info, { title: "Kubernetes", version: "v1.33.0" });
  });

  const patchCases = [
    {
      key: "api/v1",
      path: "/api/v1/namespaces/{namespace}/pods/{name}",
      gvk: { group: "", version: "v1", kind: "Pod" },
    },
    { key: "api/v1", path: "/api/v1/nodes/{name}", gvk: { group: "", version: "v1", kind: "Node" } },
    {
      key: "apis/apps/v1",
      path: "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
      gvk: { group: "apps", version: "v1", kind: "Deployment" },
    },
    {
      key: "apis/apps/v1",
      path: "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
      gvk: { group: "autoscaling", version: "v1", kind: "Scale" },
    },
    {
      key: "apis/scheduling.k8s.io/v1",
      path: "/apis/scheduling.k8s.io/v1/priorityclasses/{name}",
      gvk: { group: "scheduling.k8s.io", version: "v1", kind: "PriorityClass" },
    },
  ];
  for (const c of patchCases) {
    it(`patch ${c.path} carries its GVK and the write parameters kubectl looks for`, () => {
      const patch = op(doc(c.key), c.path, "patch");
      assert.deepEqual(patch["x-kubernetes-group-version-kind"], c.gvk);
      assert.deepEqual(paramNames(patch), ["dryRun", "fieldManager", "fieldValidation", "force"]);
    });
  }

  it("gives every patch operation of every document fieldValidation and a GVK", () => {
    for (const key of Object.keys(obj(obj(JSON.parse(api.serve("/openapi/v3") ?? "{}")).paths))) {
      for (const [path, item] of Object.entries(obj(doc(key).paths))) {
        const patch = obj(item).patch;
        if (patch === undefined) continue;
        assert.ok(paramNames(obj(patch)).includes("fieldValidation"), path);
        assert.ok(obj(obj(patch)["x-kubernetes-group-version-kind"]).kind, path);
      }
    }
  });

  it("lays out collection, item, all-namespaces and subresource paths by scope and verbs", () => {
    const d = doc("api/v1");
    const paths = obj(d.paths);
    assert.equal(op(d, "/api/v1/namespaces/{namespace}/pods", "get")["x-kubernetes-action"], "list");
    assert.equal(
      op(d, "/api/v1/namespaces/{namespace}/pods", "post").operationId,
      "createCoreV1NamespacedPod",
    );
    assert.equal(op(d, "/api/v1/pods", "get").operationId, "listCoreV1PodForAllNamespaces");
    assert.equal(
      op(d, "/api/v1/namespaces/{namespace}/pods/{name}/status", "put").operationId,
      "replaceCoreV1NamespacedPodStatus",
    );
    assert.equal(
      op(d, "/api/v1/namespaces/{namespace}/pods/{name}/log", "get").operationId,
      "readCoreV1NamespacedPodLog",
    );
    assert.equal(
      op(d, "/api/v1/namespaces/{namespace}/pods/{name}/exec", "post")["x-kubernetes-action"],
      "connect",
    );
    assert.ok(paths["/api/v1/nodes"] !== undefined);
    assert.equal(paths["/api/v1/namespaces/{namespace}/nodes"], undefined, "nodes are cluster-scoped");
    // Namespaces have no deletecollection verb.
    assert.equal(obj(paths["/api/v1/namespaces"]).delete, undefined);
    assert.ok(obj(paths["/api/v1/namespaces/{namespace}/configmaps"]).delete !== undefined);
    assert.deepEqual(paramNames(obj(paths["/api/v1/namespaces/{namespace}/pods/{name}"])), [
      "name",
      "namespace",
      "pretty",
    ]);
  });

  it("carries the kind schemas with their GVK and descriptions", () => {
    const d = doc("apis/apps/v1");
    const dep = schema(d, "io.k8s.api.apps.v1.Deployment");
    assert.deepEqual(dep["x-kubernetes-group-version-kind"], [
      { group: "apps", kind: "Deployment", version: "v1" },
    ]);
    assert.match(String(dep.description), /Deployment/);
    assert.match(String(prop(d, "io.k8s.api.core.v1.Container", "image").description), /image/i);
    assert.deepEqual(schema(d, "io.k8s.api.core.v1.Container").required, ["name"]);
  });

  it("resolves every $ref inside the same document", () => {
    for (const key of ["api/v1", "apis/apps/v1", "apis/batch/v1"]) {
      const text = api.serve(`/openapi/v3/${key}`) ?? "";
      const schemas = obj(obj(obj(JSON.parse(text)).components).schemas);
      for (const m of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
        assert.ok(m[1] !== undefined && schemas[m[1]] !== undefined, `${key}: dangling ${m[1]}`);
      }
    }
  });

  it("marks the strategic-merge-patch strategies kubectl computes patches from", () => {
    const d = doc("apis/apps/v1");
    const cases = [
      ["io.k8s.api.core.v1.PodSpec", "containers", "merge", "name"],
      ["io.k8s.api.core.v1.PodSpec", "volumes", "merge,retainKeys", "name"],
      ["io.k8s.api.core.v1.Container", "ports", "merge", "containerPort"],
      ["io.k8s.api.core.v1.Container", "env", "merge", "name"],
      ["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "ownerReferences", "merge", "uid"],
      ["io.k8s.api.apps.v1.DeploymentSpec", "strategy", "retainKeys", undefined],
    ] as const;
    for (const [type, field, strategy, key] of cases) {
      const p = prop(d, type, field);
      assert.equal(p["x-kubernetes-patch-strategy"], strategy, `${type}.${field}`);
      assert.equal(p["x-kubernetes-patch-merge-key"], key, `${type}.${field}`);
    }
  });

  it("describes the scalar wrappers as upstream does", () => {
    const d = doc("api/v1");
    const ios = schema(d, "io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    assert.equal(ios.format, "int-or-string");
    assert.equal(ios["x-kubernetes-int-or-string"], true);
    assert.deepEqual(schema(d, "io.k8s.apimachinery.pkg.api.resource.Quantity").oneOf, [
      { type: "string" },
      { type: "number" },
    ]);
    const time = schema(d, "io.k8s.apimachinery.pkg.apis.meta.v1.Time");
    assert.equal(time.type, "string");
    assert.equal(time.format, "date-time");
    assert.deepEqual(prop(d, "io.k8s.api.core.v1.ServicePort", "targetPort").allOf, [
      { $ref: "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString" },
    ]);
    assert.deepEqual(
      prop(d, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "labels").additionalProperties,
      {
        type: "string",
      },
    );
  });
});
