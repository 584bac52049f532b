/**
 * @module The OpenAPI v2 (Swagger 2.0) document behind `/openapi/v2`, derived from the same
 * registry as the v3 documents: `definitions` are our component schemas with their `$ref`s
 * pointed at `#/definitions/…` and the v3-only constructs upstream never puts in v2 rewritten
 * (`allOf: [{$ref}]` becomes a plain `$ref`, the `oneOf` of IntOrString and Quantity becomes
 * `type: string`); `paths` are every kind's v3 paths with each operation's parameters, request
 * body and responses reshaped to v2 (a `body` parameter, `consumes`/`produces`, `schema`
 * directly on the response). kubectl 1.27/1.28 read it to learn, from the `fieldValidation`
 * parameter of a kind's `patch` operation, that the server validates fields, and use the
 * definitions' `x-kubernetes-patch-*` extensions for strategic merge patches.
 */
import type { KindInfo } from "../../api/kinds.ts";
import { KUBE_MAJOR, KUBE_MINOR } from "../discovery.ts";
import { kindPaths } from "./paths.ts";
import { componentSchemas, REF_PREFIX, type Schema } from "./schemas.ts";

type Json = Record<string, unknown>;

/** Where a v2 `$ref` points. */
export const V2_REF_PREFIX = "#/definitions/";

/** The HTTP methods a v2 path item may carry, in upstream's order. */
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch"] as const;

/** What every object operation produces, as upstream's v2 spec lists it. */
const PRODUCES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A v3 schema (or any value inside one) rewritten for a v2 document. */
export function v2Schema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(v2Schema);
  if (!isRecord(value)) return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === "$ref" && typeof v === "string" && v.startsWith(REF_PREFIX)) {
      out.$ref = V2_REF_PREFIX + v.slice(REF_PREFIX.length);
    } else if (key === "allOf" && Array.isArray(v) && v.length === 1 && isRecord(v[0]) && "$ref" in v[0]) {
      Object.assign(out, v2Schema(v[0]));
    } else if (key === "oneOf") {
      // v2 has no oneOf: upstream writes IntOrString and Quantity as a formatted string.
      out.type = "string";
    } else if (key === "properties" && isRecord(v)) {
      out.properties = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, v2Schema(s)]));
    } else {
      out[key] = v2Schema(v);
    }
  }
  return out;
}

/** A v3 parameter (`schema: {type}`) as a v2 one (`type` on the parameter). */
function v2Parameter(p: unknown): Json {
  if (!isRecord(p)) return {};
  const { schema, ...rest } = p;
  return isRecord(schema) ? { ...rest, ...schema } : rest;
}

/** The v2 `schema` of the first content type of a v3 `content` map, if it has one. */
function contentSchema(content: unknown): { types: string[]; schema: unknown } {
  if (!isRecord(content)) return { types: [], schema: undefined };
  const types = Object.keys(content);
  const first = types.length > 0 ? content[types[0]!] : undefined;
  return { types, schema: isRecord(first) ? v2Schema(first.schema) : undefined };
}

/** A v3 operation as a v2 one. */
function v2Operation(op: Json): Json {
  const out: Json = {};
  const parameters: Json[] = [];
  let consumes: string[] = [];
  let produces: string[] = [];
  if (isRecord(op.requestBody)) {
    const body = contentSchema(op.requestBody.content);
    consumes = body.types;
    const param: Json = { name: "body", in: "body" };
    if (op.requestBody.required === true) param.required = true;
    param.schema = body.schema ?? { type: "object" };
    parameters.push(param);
  }
  if (Array.isArray(op.parameters)) parameters.push(...op.parameters.map(v2Parameter));
  const responses: Json = {};
  if (isRecord(op.responses)) {
    for (const [code, r] of Object.entries(op.responses)) {
      if (!isRecord(r)) continue;
      const resp: Json = { description: r.description };
      const c = contentSchema(r.content);
      if (c.schema !== undefined) {
        resp.schema = c.schema;
        if (produces.length === 0) produces = isRecord(c.schema) && c.schema.$ref ? PRODUCES : ["*/*"];
      }
      responses[code] = resp;
    }
  }
  if (op.description !== undefined) out.description = op.description;
  if (consumes.length > 0) out.consumes = consumes;
  out.produces = produces.length > 0 ? produces : ["*/*"];
  out.schemes = ["https"];
  if (op.tags !== undefined) out.tags = op.tags;
  if (op.operationId !== undefined) out.operationId = op.operationId;
  if (parameters.length > 0) out.parameters = parameters;
  out.responses = responses;
  for (const [key, v] of Object.entries(op)) if (key.startsWith("x-")) out[key] = v;
  return out;
}

/** A v3 path item as a v2 one. */
function v2PathItem(item: Json): Json {
  const out: Json = {};
  for (const m of METHODS) if (isRecord(item[m])) out[m] = v2Operation(item[m]);
  if (Array.isArray(item.parameters)) out.parameters = item.parameters.map(v2Parameter);
  return out;
}

/**
 * The whole v2 document: every kind's paths, sorted as upstream sorts them, and every
 * component schema we have as a definition (sorted by name).
 */
export function swaggerDocument(kinds: readonly KindInfo[]): Json {
  const v3Paths: Record<string, Json> = {};
  for (const k of kinds) Object.assign(v3Paths, kindPaths(k));
  const paths: Json = {};
  for (const p of Object.keys(v3Paths).sort()) paths[p] = v2PathItem(v3Paths[p]!);
  const all: ReadonlyMap<string, Schema> = componentSchemas();
  const definitions: Json = {};
  for (const name of [...all.keys()].sort()) definitions[name] = v2Schema(all.get(name));
  return {
    swagger: "2.0",
    info: { title: "Kubernetes", version: `v${KUBE_MAJOR}.${KUBE_MINOR}.0` },
    paths,
    definitions,
  };
}
