/**
 * @module Kubernetes strategic merge patch (`application/strategic-merge-patch+json`), applied
 * as upstream's k8s.io/apimachinery `util/strategicpatch` applies it on the server: a JSON
 * merge patch in which lists tagged `patchStrategy:"merge"` (see strategies.ts) are merged by
 * their merge key — or unioned, for lists of primitives — and in which these directives apply:
 *
 * - `$patch: replace` / `$patch: delete` in a map: replace the map by the rest of the patch,
 *   or empty it; in a merged list's item: `delete` removes the item with that key, `replace`
 *   replaces the whole list by the patch's other items;
 * - `$setElementOrder/<list>`: the order of the merged list's items named in the patch;
 * - `$retainKeys: [...]`: keys of the original map not listed are cleared (volumes, strategy);
 * - `$deleteFromPrimitiveList/<list>: [...]`: values removed from a merged primitive list;
 * - `<field>: null`: the field is deleted.
 *
 * Fields without metadata (or a whole kind without a schema) behave as in a JSON merge patch.
 * Malformed patches are 400 BadRequest (a list of lists is 422, as upstream); upstream answers
 * some of these (a missing merge key, an unknown `$patch` value) with a 500, we with a 400.
 */
import { StatusError, badRequest } from "../../api/status-error.ts";
import { isJsonObject, type JsonObject } from "./merge-patch.ts";
import type { PatchFieldMeta, PatchSchema } from "./strategies.ts";

const directiveMarker = "$patch";
const retainKeysDirective = "$retainKeys";
const deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
const setElementOrderPrefix = "$setElementOrder";

const errBadRetainKeys = "invalid patch format of retainKeys";
const errBadPrimitiveList = "invalid patch format of primitive list";
const errBadSetElementOrder = "invalid patch format of setElementOrder list";

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

function noMergeKey(m: unknown, mergeKey: string): StatusError {
  return badRequest(`map: ${show(m)} does not contain declared merge key: ${mergeKey}`);
}

function badPatchType(directive: unknown, m: unknown): StatusError {
  return badRequest(`unknown patch type: ${show(directive)} in map: ${show(m)}`);
}

/** The JSON type class Go's reflect.TypeOf distinguishes for decoded JSON. */
function kindOf(v: unknown): "map" | "slice" | "string" | "number" | "bool" | "null" {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return "slice";
  if (typeof v === "object") return "map";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  return "number";
}

/** The element kind shared by all items of the lists; errors for lists of lists or mixed kinds. */
function sliceElementKind(...lists: unknown[][]): string | undefined {
  let kind: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = kindOf(v);
      if (k === "slice") throw new StatusError(422, "Invalid", "lists of lists are not supported");
      if (kind !== undefined && kind !== k) {
        throw badRequest(`list element types are not identical: ${show(lists)}`);
      }
      kind = k;
    }
  }
  return kind;
}

function extractKey(key: string, prefix: string, error: string): string {
  const slash = key.indexOf("/");
  if (slash < 0 || key.slice(0, slash) !== prefix) throw badRequest(error);
  return key.slice(slash + 1);
}

/** Removes nulls and processes directives in a value the patch introduces where none was. */
function materialize(v: unknown, meta: PatchFieldMeta | undefined): unknown {
  if (isJsonObject(v)) return mergeMap({}, v, meta?.schema);
  if (Array.isArray(v)) return mergeSliceHandler([], v, meta);
  return v;
}

/** Merges `patch` into `original` (a private copy, changed in place) and returns the result. */
function mergeMap(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined): JsonObject {
  if (Object.hasOwn(patch, directiveMarker)) {
    const directive = patch[directiveMarker];
    if (directive === "delete") return {};
    if (directive !== "replace") throw badPatchType(directive, patch);
    const rest = { ...patch };
    delete rest[directiveMarker];
    return mergeMap({}, rest, schema);
  }
  applyRetainKeys(original, patch);
  const handled = applySetElementOrder(original, patch, schema);

  for (const [key, patchV] of Object.entries(patch)) {
    if (key === retainKeysDirective || handled.has(key) || key.startsWith(setElementOrderPrefix)) continue;
    if (key.startsWith(deleteFromPrimitiveListPrefix)) {
      const field = extractKey(key, deleteFromPrimitiveListPrefix, errBadPrimitiveList);
      if (!Array.isArray(patchV)) throw badRequest(errBadPrimitiveList);
      const current = original[field];
      if (Array.isArray(current)) original[field] = current.filter((v) => !patchV.includes(v));
      continue;
    }
    if (patchV === null) {
      delete original[key];
      continue;
    }
    const meta = schema?.fields[key];
    const current = original[key];
    if (!Object.hasOwn(original, key) || kindOf(current) !== kindOf(patchV)) {
      original[key] = materialize(patchV, meta);
    } else if (isJsonObject(current) && isJsonObject(patchV)) {
      original[key] = mergeMap(current, patchV, meta?.schema);
    } else if (Array.isArray(current) && Array.isArray(patchV)) {
      original[key] = mergeSliceHandler(current, patchV, meta);
    } else {
      original[key] = patchV;
    }
  }
  return original;
}

/** `$retainKeys`: every key set by the patch must be listed; original keys not listed go. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, retainKeysDirective)) return;
  const list = patch[retainKeysDirective];
  if (!Array.isArray(list)) throw badRequest(errBadRetainKeys);
  const retained = new Set<unknown>(list);
  for (const [k, v] of Object.entries(patch)) {
    if (k === retainKeysDirective || v === null) continue;
    if (k.startsWith(deleteFromPrimitiveListPrefix) || k.startsWith(setElementOrderPrefix)) continue;
    if (!retained.has(k)) throw badRequest(errBadRetainKeys);
  }
  for (const k of Object.keys(original)) {
    if (!retained.has(k)) delete original[k];
  }
}

/**
 * `$setElementOrder/<field>`: merges the field's list now and orders the result — items named
 * in the directive in its order, the server's other items kept in their relative places.
 * Returns the fields it handled, which the caller then skips.
 */
function applySetElementOrder(
  original: JsonObject,
  patch: JsonObject,
  schema: PatchSchema | undefined,
): Set<string> {
  const handled = new Set<string>();
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(setElementOrderPrefix)) continue;
    if (!Array.isArray(order)) throw badRequest(errBadSetElementOrder);
    const field = extractKey(key, setElementOrderPrefix, errBadSetElementOrder);
    if (patch[field] === null) continue; // the field is deleted; nothing to order
    const meta = schema?.fields[field];
    const mergeKey = meta?.mergeKey ?? "";
    const foundOriginal = Object.hasOwn(original, field) && original[field] !== null;
    const foundPatch = Object.hasOwn(patch, field) && patch[field] !== null;
    const originalList = foundOriginal ? original[field] : [];
    const patchList = foundPatch ? patch[field] : [];
    if (!Array.isArray(originalList) || !Array.isArray(patchList)) {
      throw badRequest(`${errBadSetElementOrder}: ${field} is not a list`);
    }
    validateAgainstOrder(patchList, order, mergeKey);
    if (!foundOriginal && !foundPatch) continue;
    const merged = foundOriginal
      ? foundPatch
        ? mergeSliceHandler(originalList, patchList, meta)
        : originalList
      : mergeSliceHandler([], patchList, meta);
    const inOrder = (v: unknown): boolean => indexIn(order, v, mergeKey) >= 0;
    original[field] = normalizeElementOrder(
      merged.filter(inOrder),
      merged.filter((v) => !inOrder(v)),
      order,
      originalList,
      mergeKey,
    );
    handled.add(field);
  }
  return handled;
}

function mergeKeyValue(item: unknown, mergeKey: string): unknown {
  if (!isJsonObject(item)) throw badRequest(`expected a map, but received a ${kindOf(item)}: ${show(item)}`);
  if (!Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
  return item[mergeKey];
}

/** The patch list's items (deletions and directives aside) must appear in the order's order. */
function validateAgainstOrder(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = mergeKey
    ? patchList.filter((v) => !isJsonObject(v) || v[directiveMarker] !== "delete")
    : patchList;
  let p = 0;
  let o = 0;
  while (p < items.length && o < order.length) {
    const item = items[p];
    if (isJsonObject(item) && Object.hasOwn(item, directiveMarker)) {
      p++;
      continue;
    }
    const same = mergeKey
      ? mergeKeyValue(item, mergeKey) === mergeKeyValue(order[o], mergeKey)
      : item === order[o];
    if (same) p++;
    o++;
  }
  if (p < items.length) {
    throw badRequest(
      `The order in patch list:\n${show(patchList)}\n doesn't match ${setElementOrderPrefix} list:\n${show(order)}\n`,
    );
  }
}

/** A list field: merged when its strategy is `merge`, otherwise replaced by the patch's list. */
function mergeSliceHandler(
  original: unknown[],
  patch: unknown[],
  meta: PatchFieldMeta | undefined,
): unknown[] {
  if (meta?.strategy === "merge") return mergeSlice(original, patch, meta);
  return patch.map((item) => (isJsonObject(item) ? mergeMap({}, item, meta?.schema) : item));
}

function mergeSlice(original: unknown[], patch: unknown[], meta: PatchFieldMeta): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch);
  const mergeKey = meta.mergeKey ?? "";
  let merged: unknown[];
  if (kind !== "map") {
    merged = [];
    for (const v of [...original, ...patch]) if (!merged.includes(v)) merged.push(v);
  } else {
    if (!mergeKey) throw badRequest("cannot merge lists without merge key for type map");
    const applied = applyListDirectives(original, patch, mergeKey);
    original = applied.replaced
      ? applied.original.map((v) => mergeMap({}, v as JsonObject, meta.schema))
      : applied.original;
    patch = applied.patch;
    merged = [...original];
    for (const item of patch as JsonObject[]) {
      const key = mergeKeyValue(item, mergeKey);
      const at = merged.findIndex((v) => isJsonObject(v) && v[mergeKey] === key);
      if (at >= 0) merged[at] = mergeMap(merged[at] as JsonObject, item, meta.schema);
      else merged.push(mergeMap({}, item, meta.schema));
    }
  }
  const inPatch = (v: unknown): boolean => indexIn(patch, v, mergeKey) >= 0;
  return normalizeElementOrder(
    merged.filter(inPatch),
    merged.filter((v) => !inPatch(v)),
    patch,
    original,
    mergeKey,
  );
}

/** `$patch: delete` and `$patch: replace` items of a merged list of maps. */
function applyListDirectives(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
): { original: unknown[]; patch: unknown[]; replaced: boolean } {
  const plainItems: unknown[] = [];
  let replace = false;
  for (const item of patch) {
    if (!isJsonObject(item) || !Object.hasOwn(item, directiveMarker)) {
      plainItems.push(item);
      continue;
    }
    const directive = item[directiveMarker];
    if (directive === "delete") {
      const key = mergeKeyValue(item, mergeKey);
      original = original.filter((v) => !(isJsonObject(v) && v[mergeKey] === key));
    } else if (directive === "replace") {
      replace = true;
    } else if (directive === "merge") {
      throw badRequest("merging lists cannot yet be specified in the patch");
    } else {
      throw badPatchType(directive, item);
    }
  }
  if (replace) return { original: plainItems, patch: [], replaced: true };
  return { original, patch: plainItems, replaced: false };
}

/** Index of `v` in `list` by merge key (maps) or by value (primitives), or -1. */
function indexIn(list: readonly unknown[], v: unknown, mergeKey: string): number {
  if (!mergeKey) return list.indexOf(v);
  const key = isJsonObject(v) ? v[mergeKey] : undefined;
  return list.findIndex((item) => isJsonObject(item) && item[mergeKey] === key);
}

/** Stable sort of `items` by their position in `order`; items not in it go last. */
function sortByOrder(items: unknown[], order: readonly unknown[], mergeKey: string): unknown[] {
  const rank = (v: unknown): number => {
    const i = indexIn(order, v, mergeKey);
    return i < 0 ? Number.POSITIVE_INFINITY : i;
  };
  return items
    .map((v, i) => ({ v, i, r: rank(v) }))
    .sort((a, b) => (a.r === b.r ? a.i - b.i : a.r < b.r ? -1 : 1))
    .map((x) => x.v);
}

/**
 * Orders the patch's items by `patchOrder` and the server-only items by `serverOrder`, then
 * interleaves them: a server-only item goes before a patch item when the server had it first.
 */
function normalizeElementOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: readonly unknown[],
  serverOrder: readonly unknown[],
  mergeKey: string,
): unknown[] {
  const right = sortByOrder(patchItems, patchOrder, mergeKey);
  const left = sortByOrder(serverOnly, serverOrder, mergeKey);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey);
      const ri = indexIn(serverOrder, right[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/**
 * Applies a strategic merge patch to `doc` using `schema` (from `patchSchemaFor`; `undefined`
 * merges every list as a JSON merge patch would) and returns the result; the inputs are not
 * changed. Throws a `StatusError` for a malformed patch. A `null` patch changes nothing.
 */
export function applyStrategicMergePatch(
  doc: unknown,
  patch: unknown,
  schema: PatchSchema | undefined,
): unknown {
  if (patch === null || patch === undefined) return structuredClone(doc);
  if (!isJsonObject(patch)) {
    throw badRequest(
      `json: cannot unmarshal ${kindOf(patch) === "slice" ? "array" : kindOf(patch)} into Go value of type map[string]interface {}`,
    );
  }
  const original = isJsonObject(doc) ? structuredClone(doc) : {};
  return mergeMap(original, structuredClone(patch), schema);
}
