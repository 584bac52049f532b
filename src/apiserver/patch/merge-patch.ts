/**
 * @module JSON merge patch (RFC 7386, `application/merge-patch+json`): objects merge key by
 * key, `null` deletes a key, and anything else — arrays included — replaces the target value.
 * Like upstream's apiserver, the patch document itself must be a JSON object.
 */
import { badRequest } from "../../api/status-error.ts";

/** A JSON object as parsed by `JSON.parse`. */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The value with `null` members removed from every object in it, as RFC 7386 adds new values. */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((item) => structuredClone(item));
  if (!isJsonObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, child] of Object.entries(v)) {
    if (child !== null) out[k] = withoutNulls(child);
  }
  return out;
}

/** RFC 7386 MergePatch(target, patch); `target` is a private copy and may be changed in place. */
function mergeValue(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return structuredClone(patch);
  if (!isJsonObject(target)) return withoutNulls(patch);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else target[k] = mergeValue(target[k], v);
  }
  return target;
}

/**
 * Applies a JSON merge patch to `doc` and returns the result; neither input is changed.
 * A `null` patch changes nothing (upstream decodes it as an empty patch); a patch that is
 * not an object is a 400 `Invalid JSON Patch`, as upstream answers.
 */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (patch === null || patch === undefined) return structuredClone(doc);
  if (!isJsonObject(patch)) throw badRequest("Invalid JSON Patch");
  return mergeValue(structuredClone(doc), patch);
}
