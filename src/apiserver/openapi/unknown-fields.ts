/**
 * @module The unknown-field check behind `fieldValidation`: walks an object against its kind's
 * OpenAPI schema and lists the fields the schema does not declare, named as upstream's strict
 * decoder names them (`spec.containers[0].imagee`). The apiserver turns the list into a 400
 * BadRequest (`Strict`: `strict decoding error: unknown field "spec.foo", unknown field …`),
 * into `Warning` headers (`Warn`), or ignores it (`Ignore`). Free-form values (maps such as
 * labels, annotations and data; RawExtension; FieldsV1) are not looked into for unknown keys.
 */
import { resolveRef, schemaNameFor, componentSchemas, type Schema } from "./schemas.ts";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Follows `$ref` and single-entry `allOf` wrappers down to the schema that describes a value. */
function resolve(schema: Schema | undefined): Schema | undefined {
  let s = schema;
  for (let depth = 0; s && depth < 8; depth++) {
    const target = resolveRef(s.$ref);
    if (target) {
      s = target;
      continue;
    }
    if (Array.isArray(s.allOf) && s.allOf.length === 1 && isRecord(s.allOf[0])) {
      s = s.allOf[0];
      continue;
    }
    return s;
  }
  return s;
}

function join(path: string, field: string): string {
  return path === "" ? field : `${path}.${field}`;
}

function walk(schema: Schema | undefined, value: unknown, path: string, out: string[], prune = false): void {
  const s = resolve(schema);
  if (!s) return;
  if (Array.isArray(value)) {
    const items = isRecord(s.items) ? s.items : undefined;
    if (!items) return;
    value.forEach((item, i) => walk(items, item, `${path}[${i}]`, out, prune));
    return;
  }
  if (!isRecord(value)) return;
  const properties = isRecord(s.properties) ? s.properties : undefined;
  if (properties) {
    for (const [key, v] of Object.entries(value)) {
      const prop = properties[key];
      if (isRecord(prop)) walk(prop, v, join(path, key), out, prune);
      else {
        out.push(join(path, key));
        if (prune) delete value[key];
      }
    }
    return;
  }
  // A map: look inside its values when they are typed objects (a map of strings is free-form).
  if (isRecord(s.additionalProperties)) {
    const valueSchema = s.additionalProperties;
    for (const [key, v] of Object.entries(value)) walk(valueSchema, v, join(path, key), out, prune);
  }
}

/**
 * The paths of fields in `obj` that the schema of `group/version/kind` does not declare, in
 * document order, worded as upstream reports them (`spec.containers[0].imagee`). Empty when
 * every field is known, or when we have no schema for the kind (nothing can be checked).
 */
export function unknownFields(group: string, version: string, kind: string, obj: unknown): string[] {
  const name = schemaNameFor(group, version, kind);
  if (name === undefined) return [];
  const out: string[] = [];
  walk(componentSchemas().get(name), obj, "", out);
  return out;
}

/**
 * Removes from `obj` (in place) every field its kind's schema does not declare, as upstream's
 * decoder drops them before storing, and returns their paths as {@link unknownFields} does.
 */
export function pruneUnknownFields(group: string, version: string, kind: string, obj: unknown): string[] {
  const name = schemaNameFor(group, version, kind);
  if (name === undefined) return [];
  const out: string[] = [];
  walk(componentSchemas().get(name), obj, "", out, true);
  return out;
}
