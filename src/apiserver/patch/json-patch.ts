/**
 * @module JSON patch (RFC 6902, `application/json-patch+json`): a list of `add`, `remove`,
 * `replace`, `move`, `copy` and `test` operations addressed by JSON pointers (RFC 6901,
 * `~1` for `/`, `~0` for `~`, `-` for the end of an array), applied in order, all or nothing.
 *
 * Errors follow upstream's apiserver: a body that does not decode as a list of operations is a
 * 400 BadRequest, more than 10000 operations a 413, and an operation that does not apply
 * (a failed `test`, a missing path) a 422 Invalid. Upstream replaces the 422's text with a
 * generic sentence; we keep the specific reason (`testing value /a failed: test failed`).
 */
import { StatusError, badRequest, tooLarge } from "../../api/status-error.ts";
import { isJsonObject, type JsonObject } from "./merge-patch.ts";

/** Upstream's limit on the number of operations in one JSON patch. */
export const maxJSONPatchOperations = 10000;

/** 422 Invalid: the patch decoded but cannot be applied to this document. */
function cannotApply(message: string): StatusError {
  return new StatusError(422, "Invalid", message);
}

function jsonTypeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  if (typeof v === "boolean") return "bool";
  return typeof v;
}

/** Structural equality of two JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** Splits a JSON pointer into unescaped tokens; `undefined` when it is not a pointer. */
function parsePointer(pointer: string): string[] | undefined {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) return undefined;
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

type Container = JsonObject | unknown[];

/** The parent container of the pointer's target and the last token, or undefined if absent. */
function findParent(doc: unknown, tokens: readonly string[]): { parent: Container; key: string } | undefined {
  if (tokens.length === 0) return undefined;
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const i = arrayIndex(t, cur.length - 1);
      if (i === undefined) return undefined;
      cur = cur[i];
    } else if (isJsonObject(cur) && Object.hasOwn(cur, t)) {
      cur = cur[t];
    } else {
      return undefined;
    }
  }
  if (!Array.isArray(cur) && !isJsonObject(cur)) return undefined;
  return { parent: cur, key: tokens[tokens.length - 1] ?? "" };
}

/** A decimal array index no greater than `max` (RFC 6901: no sign, no leading zeros). */
function arrayIndex(token: string, max: number): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const i = Number(token);
  return i <= max ? i : undefined;
}

function invalidIndex(token: string): StatusError {
  return cannotApply(`Unable to access invalid index: ${token}: invalid index referenced`);
}

function getChild(parent: Container, key: string): { found: boolean; value?: unknown } {
  if (Array.isArray(parent)) {
    const i = arrayIndex(key, parent.length - 1);
    return i === undefined ? { found: false } : { found: true, value: parent[i] };
  }
  return Object.hasOwn(parent, key) ? { found: true, value: parent[key] } : { found: false };
}

function addChild(parent: Container, key: string, value: unknown, path: string): void {
  if (!Array.isArray(parent)) {
    parent[key] = value;
    return;
  }
  const i = key === "-" ? parent.length : arrayIndex(key, parent.length);
  if (i === undefined) throw cannotApply(`error in add for path: '${path}': ${invalidIndex(key).message}`);
  parent.splice(i, 0, value);
}

function removeChild(parent: Container, key: string, op: string, path: string): unknown {
  if (Array.isArray(parent)) {
    const i = arrayIndex(key, parent.length - 1);
    if (i === undefined)
      throw cannotApply(`error in ${op} for path: '${path}': ${invalidIndex(key).message}`);
    return parent.splice(i, 1)[0];
  }
  if (!Object.hasOwn(parent, key)) {
    throw cannotApply(
      `error in ${op} for path: '${path}': Unable to remove nonexistent key: ${key}: missing value`,
    );
  }
  const v = parent[key];
  delete parent[key];
  return v;
}

/** One decoded operation: the raw object, checked lazily as upstream does. */
type Operation = JsonObject;

function pointerField(
  op: Operation,
  field: "path" | "from",
  kind: string,
): { raw: string; tokens: string[] } {
  const raw = op[field];
  const tokens = typeof raw === "string" ? parsePointer(raw) : undefined;
  if (typeof raw !== "string" || tokens === undefined) {
    throw cannotApply(`${kind} operation failed to decode ${field}: missing value`);
  }
  return { raw, tokens };
}

function valueField(op: Operation, kind: string): unknown {
  if (!Object.hasOwn(op, "value"))
    throw cannotApply(`${kind} operation is missing value field: missing value`);
  return structuredClone(op.value);
}

function parentOrMissing(
  doc: unknown,
  p: { raw: string; tokens: string[] },
  what: string,
): { parent: Container; key: string } {
  const found = findParent(doc, p.tokens);
  if (!found) throw cannotApply(`${what}: ${p.raw}: missing value`);
  return found;
}

function applyOperation(doc: unknown, op: Operation): void {
  const kind = typeof op.op === "string" ? op.op : "unknown";
  switch (kind) {
    case "add": {
      const path = pointerField(op, "path", kind);
      const value = valueField(op, kind);
      const { parent, key } = parentOrMissing(doc, path, "add operation does not apply: doc is missing path");
      addChild(parent, key, value, path.raw);
      return;
    }
    case "remove": {
      const path = pointerField(op, "path", kind);
      const { parent, key } = parentOrMissing(
        doc,
        path,
        "remove operation does not apply: doc is missing path",
      );
      removeChild(parent, key, "remove", path.raw);
      return;
    }
    case "replace": {
      const path = pointerField(op, "path", kind);
      const value = valueField(op, kind);
      const { parent, key } = parentOrMissing(
        doc,
        path,
        "replace operation does not apply: doc is missing path",
      );
      if (!getChild(parent, key).found) {
        throw cannotApply(`replace operation does not apply: doc is missing key: ${path.raw}: missing value`);
      }
      if (Array.isArray(parent)) parent[Number(key)] = value;
      else parent[key] = value;
      return;
    }
    case "move": {
      const from = pointerField(op, "from", kind);
      const path = pointerField(op, "path", kind);
      if (path.raw !== from.raw && path.raw.startsWith(`${from.raw}/`)) {
        throw cannotApply(
          `move operation does not apply: cannot move ${from.raw} into its own child ${path.raw}`,
        );
      }
      const src = parentOrMissing(doc, from, "move operation does not apply: doc is missing from path");
      const value = removeChild(src.parent, src.key, "move", from.raw);
      const dst = parentOrMissing(
        doc,
        path,
        "move operation does not apply: doc is missing destination path",
      );
      addChild(dst.parent, dst.key, value, path.raw);
      return;
    }
    case "copy": {
      const from = pointerField(op, "from", kind);
      const path = pointerField(op, "path", kind);
      const src = parentOrMissing(doc, from, "copy operation does not apply: doc is missing from path");
      const got = getChild(src.parent, src.key);
      if (!got.found) throw cannotApply(`error in copy for from: '${from.raw}': missing value`);
      const dst = parentOrMissing(
        doc,
        path,
        "copy operation does not apply: doc is missing destination path",
      );
      addChild(dst.parent, dst.key, structuredClone(got.value), path.raw);
      return;
    }
    case "test": {
      const path = pointerField(op, "path", kind);
      const expected = valueField(op, kind);
      const { parent, key } = parentOrMissing(doc, path, "test operation does not apply: is missing path");
      const got = getChild(parent, key);
      if (!got.found || !jsonEqual(got.value, expected)) {
        throw cannotApply(`testing value ${path.raw} failed: test failed`);
      }
      return;
    }
    default:
      throw cannotApply(`Unexpected kind: ${kind}`);
  }
}

/** Checks the patch decodes as a list of operation objects (400 otherwise, in Go's words). */
function decodePatch(patch: unknown): Operation[] {
  if (patch === null || patch === undefined) return [];
  if (!Array.isArray(patch)) {
    throw badRequest(`json: cannot unmarshal ${jsonTypeName(patch)} into Go value of type jsonpatch.Patch`);
  }
  return patch.map((op) => {
    if (op !== null && !isJsonObject(op)) {
      throw badRequest(
        `json: cannot unmarshal ${jsonTypeName(op)} into Go value of type jsonpatch.Operation`,
      );
    }
    return op ?? {};
  });
}

/**
 * Applies a JSON patch to `doc` and returns the patched copy; neither input is changed.
 * Throws a `StatusError`: 400 when the patch is not a list of operations, 413 past
 * {@link maxJSONPatchOperations}, 422 when an operation does not apply.
 */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  const ops = decodePatch(patch);
  if (ops.length > maxJSONPatchOperations) {
    throw tooLarge(
      `Request entity too large: The allowed maximum operations in a JSON patch is ${maxJSONPatchOperations}, got ${ops.length}`,
    );
  }
  const out = structuredClone(doc);
  for (const op of ops) applyOperation(out, op);
  return out;
}
