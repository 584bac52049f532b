/**
 * @module Access to the generated OpenAPI v3 component schemas (`schemas.json`, written by
 * `npm run gen:openapi`): loaded once on first use, indexed by the group/version/kind each
 * top-level schema declares in `x-kubernetes-group-version-kind`.
 */
import { readFileSync } from "node:fs";

/** An OpenAPI v3 schema object as JSON. */
export type Schema = Readonly<Record<string, unknown>>;

/** The prefix of every `$ref` into the component schemas. */
export const REF_PREFIX = "#/components/schemas/";

interface Loaded {
  readonly byName: ReadonlyMap<string, Schema>;
  readonly byGVK: ReadonlyMap<string, string>;
}

let loaded: Loaded | undefined;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function load(): Loaded {
  if (loaded) return loaded;
  const raw: unknown = JSON.parse(readFileSync(new URL("./schemas.json", import.meta.url), "utf8"));
  if (!isRecord(raw)) throw new Error("openapi/schemas.json: expected an object of schemas");
  const byName = new Map<string, Schema>();
  const byGVK = new Map<string, string>();
  for (const [name, schema] of Object.entries(raw)) {
    if (!isRecord(schema)) continue;
    byName.set(name, schema);
    const gvks = schema["x-kubernetes-group-version-kind"];
    if (!Array.isArray(gvks)) continue;
    for (const g of gvks) {
      if (isRecord(g)) byGVK.set(`${String(g.group)}/${String(g.version)}/${String(g.kind)}`, name);
    }
  }
  loaded = { byName, byGVK };
  return loaded;
}

/** Every component schema by upstream name (`io.k8s.api.core.v1.Pod`, …). */
export function componentSchemas(): ReadonlyMap<string, Schema> {
  return load().byName;
}

/** The name of the schema describing a kind (group "" for core), if we have one. */
export function schemaNameFor(group: string, version: string, kind: string): string | undefined {
  return load().byGVK.get(`${group}/${version}/${kind}`);
}

/** The schema a `$ref` points at, or undefined when it is not a component reference. */
export function resolveRef(ref: unknown): Schema | undefined {
  if (typeof ref !== "string" || !ref.startsWith(REF_PREFIX)) return undefined;
  return load().byName.get(ref.slice(REF_PREFIX.length));
}
