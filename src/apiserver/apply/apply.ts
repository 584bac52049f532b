/**
 * @module Server-side apply and field ownership for every write, after upstream's field manager
 * over structured-merge-diff. `applyObject` merges an applied configuration into the live
 * object, prunes what the applier stopped applying, and refuses (409) to change fields other
 * managers own unless forced; `recordUpdate` gives the fields a create, update or patch changed
 * to its manager. Both keep `metadata.managedFields`.
 *
 * Without OpenAPI schemas, the shape of a value comes from the strategic-merge-patch metadata
 * (`patchSchemaFor`): a list merged by key is an associative list (items `k:{...}`), a merged
 * list of primitives is a set (`v:...`), any other list is atomic; objects are walked field by
 * field except a few structs upstream marks atomic (label selectors, key references).
 */
import type { PatchFieldMeta, PatchSchema } from "../patch/strategies.ts";
import { patchSchemaFor } from "../patch/strategies.ts";
import { kindByGVK } from "../../api/kinds.ts";
import { deepEqual, formatTimestamp } from "../../api/meta.ts";
import type { KubeObject } from "../../api/object.ts";
import { badRequest, internalError } from "../../api/status-error.ts";
import {
  canonicalJson,
  FieldSet,
  fieldElement,
  keyElement,
  valueElement,
  type PathElement,
} from "./field-set.ts";
import {
  BEFORE_FIRST_APPLY_MANAGER,
  capUpdateManagers,
  conflictError,
  decodeManagedFields,
  encodeManagedFields,
  managerKey,
  transferOwnership,
  type Changes,
  type ManagerEntry,
  type Managers,
} from "./managed-fields.ts";

/** kubectl's client-side apply annotation, kept in step by server-side applies from `kubectl`. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/** What both entry points need to know about the write. */
export interface WriteTarget {
  group: string;
  version: string;
  kind: string;
  /** The subresource written (`status`, `scale`); absent for the main resource. */
  subresource?: string;
  /** Whether the kind has a status subresource; looked up in the kinds table when absent. */
  hasStatusSubresource?: boolean;
}

/** Options of {@link applyObject}. */
export interface ApplyOptions extends WriteTarget {
  manager: string;
  force: boolean;
  now: Date;
}

/** Options of {@link recordUpdate}. */
export interface UpdateOptions extends WriteTarget {
  manager: string;
  now: Date;
  operation: "Update";
}

type Obj = Record<string, unknown>;

/** The shape of a value: the patch schema of its type and the metadata of its field. */
interface Shape {
  schema?: PatchSchema | undefined;
  meta?: PatchFieldMeta | undefined;
  name?: string | undefined;
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

function childShape(s: Shape, name: string): Shape {
  const meta = s.schema?.fields[name];
  return { schema: meta?.schema, meta, name };
}

const itemShape = (s: Shape): Shape => ({ schema: s.meta?.schema });

/** Fields whose (struct) values upstream treats as atomic: label selectors and key references. */
const SELECTOR_FIELDS = new Set(["selector", "labelSelector", "namespaceSelector", "podSelector"]);
const ATOMIC_STRUCT_FIELDS = new Set(["configMapKeyRef", "secretKeyRef", "fieldRef", "resourceFieldRef"]);

type NodeKind = "leaf" | "map" | "assoc" | "set";

function kindOf(v: unknown, s: Shape): NodeKind {
  if (Array.isArray(v)) {
    if (s.meta?.strategy !== "merge") return "leaf";
    return s.meta.mergeKey ? "assoc" : "set";
  }
  if (!isObj(v)) return "leaf";
  if (s.name && ATOMIC_STRUCT_FIELDS.has(s.name)) return "leaf";
  if (
    s.name &&
    SELECTOR_FIELDS.has(s.name) &&
    Object.keys(v).every((k) => k === "matchLabels" || k === "matchExpressions")
  )
    return "leaf";
  return "map";
}

/** Key fields beyond the merge key that upstream's list-map keys include, with their defaults. */
const EXTRA_KEYS: Readonly<Record<string, readonly { name: string; default?: string }[]>> = {
  containerPort: [{ name: "protocol", default: "TCP" }],
  port: [{ name: "protocol", default: "TCP" }],
  topologyKey: [{ name: "whenUnsatisfiable" }],
};

/** The path element of a list item; throws 400 when an associative item lacks its key. */
function itemElement(
  item: unknown,
  s: Shape,
  kind: "assoc" | "set",
  path: readonly PathElement[],
  i: number,
): PathElement {
  if (kind === "set") return valueElement(item);
  const mergeKey = s.meta?.mergeKey ?? "";
  if (!isObj(item) || item[mergeKey] === undefined || item[mergeKey] === null)
    throw badRequest(
      `${describe(path)}: element ${i}: associative list with keys has an element that omits key field ${JSON.stringify(mergeKey)} (and doesn't have default value)`,
    );
  const key: Obj = { [mergeKey]: item[mergeKey] };
  for (const extra of EXTRA_KEYS[mergeKey] ?? []) {
    const v = item[extra.name] ?? extra.default;
    if (v !== undefined) key[extra.name] = v;
  }
  return keyElement(key);
}

interface IndexedList {
  order: PathElement[];
  items: Map<PathElement, unknown>;
}

/**
 * Indexes the items of the list at `path` by path element; duplicates are refused (`strict`)
 * or the first kept. The path is only spelled out for an error message.
 */
function indexList(
  list: unknown,
  s: Shape,
  kind: "assoc" | "set",
  path: readonly PathElement[],
  strict: boolean,
): IndexedList {
  const out: IndexedList = { order: [], items: new Map() };
  if (!Array.isArray(list)) return out;
  list.forEach((item: unknown, i) => {
    const pe = itemElement(item, s, kind, path, i);
    if (out.items.has(pe)) {
      if (strict) throw badRequest(`${describe(path)}: duplicate entries for key ${pe.slice(2)}`);
      return;
    }
    out.items.set(pe, item);
    out.order.push(pe);
  });
  return out;
}

const describe = (path: readonly PathElement[]): string => path.map((pe) => `.${pe.slice(2)}`).join("");

/**
 * The fields a value sets, as upstream's `ToFieldSet`: leaves, atomic values and list items.
 * `path` is a stack the walk pushes to and pops from (as in `compare`).
 */
function toFieldSet(v: unknown, s: Shape, path: PathElement[], out: FieldSet): void {
  const kind = kindOf(v, s);
  if (kind === "leaf") {
    out.insert(path);
    return;
  }
  if (kind === "map") {
    const o = v as Obj;
    for (const k in o) {
      path.push(fieldElement(k));
      toFieldSet(o[k], childShape(s, k), path, out);
      path.pop();
    }
    return;
  }
  const { order, items } = indexList(v, s, kind, path, true);
  for (const pe of order) {
    path.push(pe);
    out.insert(path);
    if (kind === "assoc") toFieldSet(items.get(pe), itemShape(s), path, out);
    path.pop();
  }
}

const EMPTY: Obj = Object.freeze({});

/**
 * Compares two values as upstream's `TypedValue.Compare`, adding paths to `c` (`path` is a
 * stack). Subtrees `ignored` names (relative to this value) are not walked at all.
 */
function compare(
  l: unknown,
  r: unknown,
  s: Shape,
  path: PathElement[],
  c: Changes,
  ignored: FieldSet | undefined,
): void {
  if (l === undefined && r === undefined) return;
  const kind = kindOf(r !== undefined ? r : l, s);
  const leaf = (): void => {
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
    else if (!deepEqual(l, r)) c.modified.insert(path);
  };
  if (kind === "leaf" || (l !== undefined && r !== undefined && kindOf(l, s) !== kind)) return leaf();
  if (kind === "map") {
    const lm = (l ?? EMPTY) as Obj;
    const rm = (r ?? EMPTY) as Obj;
    let any = false;
    for (const k in lm) {
      any = true;
      compareField(k, lm[k], rm[k], s, path, c, ignored);
    }
    for (const k in rm) {
      any = true;
      if (!Object.hasOwn(lm, k)) compareField(k, undefined, rm[k], s, path, c, ignored);
    }
    if (!any) return leaf();
  } else {
    const li = indexList(l, s, kind, path, false);
    const ri = indexList(r, s, kind, path, false);
    if (li.order.length === 0 && ri.order.length === 0) return leaf();
    for (const pe of li.order) compareItem(pe, li, ri, kind, s, path, c, ignored);
    for (const pe of ri.order) if (!li.items.has(pe)) compareItem(pe, li, ri, kind, s, path, c, ignored);
  }
  if (l === undefined) c.added.insert(path);
  else if (r === undefined) c.removed.insert(path);
}

/** `compare` of field `k` of two maps. */
function compareField(
  k: string,
  l: unknown,
  r: unknown,
  s: Shape,
  path: PathElement[],
  c: Changes,
  ignored: FieldSet | undefined,
): void {
  const pe = fieldElement(k);
  if (ignored?.hasMember(pe)) return;
  path.push(pe);
  compare(l, r, childShape(s, k), path, c, ignored?.child(pe));
  path.pop();
}

/** `compare` of the item `pe` of two keyed lists. */
function compareItem(
  pe: PathElement,
  li: IndexedList,
  ri: IndexedList,
  kind: "assoc" | "set",
  s: Shape,
  path: PathElement[],
  c: Changes,
  ignored: FieldSet | undefined,
): void {
  if (ignored?.hasMember(pe)) return;
  path.push(pe);
  if (kind === "assoc")
    compare(li.items.get(pe), ri.items.get(pe), itemShape(s), path, c, ignored?.child(pe));
  else if (!li.items.has(pe)) c.added.insert(path);
  else if (!ri.items.has(pe)) c.removed.insert(path);
  path.pop();
}

/** Drops `null` object fields (an applied `null` means "absent"). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = withoutNulls(x);
  return out;
}

/** Merges an applied value into a live one (upstream's `Merge` with the applied side winning). */
function merge(l: unknown, r: unknown, s: Shape, path: PathElement[]): unknown {
  if (r === undefined) return l;
  if (r === null) return undefined;
  const kind = kindOf(r, s);
  if (l === undefined || l === null || kind === "leaf" || kindOf(l, s) !== kind) return withoutNulls(r);
  if (kind === "map") {
    const out: Obj = { ...(l as Obj) };
    for (const [k, x] of Object.entries(r as Obj)) {
      const v = merge(out[k], x, childShape(s, k), [...path, fieldElement(k)]);
      if (v === undefined) delete out[k];
      else out[k] = v;
    }
    return out;
  }
  return mergeList(l, r, s, kind, path);
}

/** Merges two keyed lists in upstream's order: shared items in applied order, others kept in place. */
function mergeList(l: unknown, r: unknown, s: Shape, kind: "assoc" | "set", path: PathElement[]): unknown[] {
  const li = indexList(l, s, kind, path, false);
  const ri = indexList(r, s, kind, path, true);
  const shared = ri.order.filter((pe) => li.items.has(pe));
  let next = shared.shift();
  const out: unknown[] = [];
  const mergeItem = (pe: PathElement): void => {
    const v =
      kind === "assoc"
        ? merge(li.items.get(pe), ri.items.get(pe), itemShape(s), [...path, pe])
        : ri.items.get(pe);
    if (v !== undefined) out.push(v);
  };
  let lI = 0;
  let rI = 0;
  while (lI < li.order.length || rI < ri.order.length) {
    const lpe = li.order[lI];
    const rpe = ri.order[rI];
    if (lpe !== undefined && rpe !== undefined) {
      if (lpe === rpe) {
        mergeItem(lpe);
        lI++;
        rI++;
        next = shared.shift();
        continue;
      }
      if (ri.items.has(lpe) && next !== undefined && next !== lpe) {
        lI++;
        continue;
      }
    }
    if (lpe !== undefined && !ri.items.has(lpe)) {
      out.push(li.items.get(lpe));
      lI++;
      continue;
    }
    if (rpe === undefined) {
      lI++; // a shared live item already merged in applied order
      continue;
    }
    mergeItem(rpe);
    rI++;
    if (next === rpe) next = shared.shift();
  }
  return out;
}

/** Removes the members of `set` (and everything below them) from a value. */
function removeItems(v: unknown, set: FieldSet, s: Shape): unknown {
  const kind = kindOf(v, s);
  if (kind === "leaf") return v;
  if (kind === "map") {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v as Obj)) {
      const pe = fieldElement(k);
      if (set.hasMember(pe)) continue;
      const sub = set.child(pe);
      out[k] = sub ? removeItems(x, sub, childShape(s, k)) : x;
    }
    return out;
  }
  const out: unknown[] = [];
  for (const [i, item] of (v as unknown[]).entries()) {
    // Already indexed when merged, so this never throws; the empty path is only for the type.
    const pe = itemElement(item, s, kind, [], i);
    if (set.hasMember(pe)) continue;
    const sub = set.child(pe);
    if (!sub || kind === "set" || !isObj(item)) {
      out.push(item);
      continue;
    }
    // Keep the key fields of an item that stays, so it can still be identified.
    const pruned = removeItems(item, sub, itemShape(s)) as Obj;
    const mergeKey = s.meta?.mergeKey ?? "";
    const keys = [mergeKey, ...(EXTRA_KEYS[mergeKey] ?? []).map((k) => k.name)];
    for (const k of keys) if (item[k] !== undefined && pruned[k] === undefined) pruned[k] = item[k];
    out.push(pruned);
  }
  return out;
}

/** Paths upstream never records as owned (its stripMeta manager), removed from the writer's set. */
const STRIPPED = FieldSet.of(
  ["f:apiVersion"],
  ["f:kind"],
  ["f:metadata"],
  ...[
    "name",
    "namespace",
    "creationTimestamp",
    "selfLink",
    "uid",
    "clusterName",
    "generation",
    "managedFields",
    "resourceVersion",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
  ].map((f) => ["f:metadata", `f:${f}`]),
);

/**
 * Fields a write cannot change, so ownership ignores them (upstream's per-strategy reset
 * fields): `status` on the main resource of a kind with a status subresource; everything but
 * `metadata` and `status` on the status subresource.
 */
function ignoredFields(obj: Obj, t: WriteTarget): FieldSet {
  const hasStatus =
    t.hasStatusSubresource ?? kindByGVK(t.group, t.version, t.kind)?.hasStatusSubresource ?? false;
  if (t.subresource === "status") {
    const out = new FieldSet();
    for (const k of Object.keys(obj))
      if (!["apiVersion", "kind", "metadata", "status"].includes(k)) out.insert([`f:${k}`]);
    out.insert(["f:spec"]);
    return out;
  }
  return hasStatus && !t.subresource ? FieldSet.of(["f:status"]) : new FieldSet();
}

/** A copy of an object without its managedFields. */
function withoutManagedFields(obj: KubeObject): KubeObject {
  const out = structuredClone(obj);
  out.metadata ??= {};
  delete out.metadata.managedFields;
  return out;
}

/** `obj` without its managedFields, sharing everything but its metadata with `obj`. */
function shallowWithoutManagedFields(obj: KubeObject): KubeObject {
  const metadata = { ...obj.metadata };
  delete metadata.managedFields;
  return { ...obj, metadata };
}

/** Struct fields a Go-typed empty object already has (so creating them is not "adding" them). */
const EMPTY_OBJECT_STRUCTS = [
  "metadata",
  "spec",
  "status",
  "spec.template",
  "spec.template.metadata",
  "spec.template.spec",
  "spec.strategy",
  "spec.updateStrategy",
  "spec.jobTemplate",
  "spec.jobTemplate.spec",
  "spec.jobTemplate.spec.template",
  "spec.jobTemplate.spec.template.metadata",
  "spec.jobTemplate.spec.template.spec",
].map((p) => p.split("."));

/** The empty object of `obj`'s kind as upstream's typed `New()` would serialize it. */
function emptyObjectLike(obj: KubeObject): KubeObject {
  const out: Obj = { apiVersion: obj.apiVersion, kind: obj.kind };
  for (const path of EMPTY_OBJECT_STRUCTS) {
    let src: unknown = obj;
    let dst: Obj | undefined = out;
    for (const [i, seg] of path.entries()) {
      src = isObj(src) ? src[seg] : undefined;
      if (!isObj(src) || !dst) break;
      if (i === path.length - 1) dst[seg] ??= {};
      dst = isObj(dst[seg]) ? (dst[seg] as Obj) : undefined;
    }
  }
  return out as KubeObject;
}

const apiVersionOf = (t: WriteTarget): string => (t.group ? `${t.group}/${t.version}` : t.version);

/** What changed between two objects, outside the ignored fields. */
function changesBetween(l: KubeObject, r: KubeObject, shape: Shape, ignored: FieldSet): Changes {
  const c: Changes = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compare(l, r, shape, [], c, ignored);
  return c;
}

/** Records an Update by `manager` from `old` to `next` into `managers` (upstream's managedFieldsUpdater). */
function trackUpdate(
  old: KubeObject,
  next: KubeObject,
  managers: Managers,
  entry: Omit<ManagerEntry, "set" | "time">,
  shape: Shape,
  ignored: FieldSet,
  now: Date,
): void {
  const changes = changesBetween(old, next, shape, ignored);
  transferOwnership(managers, "\u0000current-operation", changes, true);
  const set = changes.modified.union(changes.added).difference(STRIPPED);
  if (set.isEmpty()) return;
  const key = managerKey(entry);
  const previous = managers.get(key);
  // A manager writing fields it already owns keeps its set (and so its encoding).
  const owned = !previous
    ? set
    : set.difference(previous.set).isEmpty()
      ? previous.set
      : set.union(previous.set);
  managers.set(key, { ...entry, time: formatTimestamp(now), set: owned });
}

/** Sets (or removes, when there are none) the encoded managedFields on `obj`. */
function setManagedFields(obj: KubeObject, managers: Managers): KubeObject {
  const entries = encodeManagedFields(managers);
  if (entries.length > 0) obj.metadata.managedFields = entries;
  else delete obj.metadata.managedFields;
  return obj;
}

/** Decodes managedFields, treating undecodable ones as none (as upstream does on update). */
function decodeOrEmpty(obj: KubeObject | undefined): Managers {
  try {
    return decodeManagedFields(obj?.metadata?.managedFields);
  } catch {
    return new Map();
  }
}

/**
 * Records the manager of a non-apply write (create, PUT, JSON/merge/strategic patch): fields
 * the write added or changed (all of them on create) become owned by `manager` with
 * operation Update and are taken from other managers; fields it removed leave every set.
 * managedFields sent in `next` replace the stored ones (a single empty entry clears them)
 * except on subresources. As upstream, objects with no managedFields start tracking only on
 * create or on their first apply. Returns a new object, which shares all but its metadata with
 * `next`; the inputs are not touched.
 */
export function recordUpdate(old: KubeObject | undefined, next: KubeObject, opts: UpdateOptions): KubeObject {
  const sent = next.metadata?.managedFields;
  let managers: Managers;
  if (opts.subresource) managers = decodeOrEmpty(old);
  else if (sent?.length === 1 && Object.keys(sent[0] ?? {}).length === 0) managers = new Map();
  else {
    managers = decodeOrEmpty(next);
    if (managers.size === 0) managers = decodeOrEmpty(old);
  }
  const result = shallowWithoutManagedFields(next);
  if (old && managers.size === 0) return result;
  const shape: Shape = { schema: patchSchemaFor(opts.group, opts.version, opts.kind) };
  const before = old ? shallowWithoutManagedFields(old) : emptyObjectLike(result);
  const entry: Omit<ManagerEntry, "set" | "time"> = {
    manager: opts.manager,
    operation: opts.operation,
    apiVersion: apiVersionOf(opts),
  };
  if (opts.subresource) entry.subresource = opts.subresource;
  trackUpdate(before, result, managers, entry, shape, ignoredFields(result, opts), opts.now);
  capUpdateManagers(managers);
  return setManagedFields(result, managers);
}

/** The fields of the last client-side apply, which `kubectl` may take over without forcing. */
function lastAppliedFields(live: KubeObject, shape: Shape, apiVersion: string): FieldSet {
  const text = live.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  if (!text) return new FieldSet();
  try {
    const last: unknown = JSON.parse(text);
    if (!isObj(last) || last.apiVersion !== apiVersion) return new FieldSet();
    const out = new FieldSet();
    toFieldSet(last, shape, [], out);
    return out;
  } catch {
    return new FieldSet();
  }
}

/**
 * Server-side apply of `applied` by `opts.manager` onto `live` (or onto nothing, creating it).
 * Fields in the applied configuration are set and owned by the manager (operation Apply);
 * fields it applied before and no longer does are removed unless another manager owns them;
 * changing a field another manager owns throws upstream's 409 conflict, unless `force`, in
 * which case ownership moves to the applier. Returns a new object with managedFields updated.
 */
export function applyObject(
  live: KubeObject | undefined,
  applied: KubeObject,
  opts: ApplyOptions,
): KubeObject {
  const apiVersion = apiVersionOf(opts);
  if (applied.metadata?.managedFields !== undefined && applied.metadata.managedFields !== null)
    throw badRequest("metadata.managedFields must be nil");
  if (applied.apiVersion !== apiVersion)
    throw badRequest(
      `Incorrect version specified in apply patch. Specified patch version: ${String(applied.apiVersion)}, expected: ${apiVersion}`,
    );
  const shape: Shape = { schema: patchSchemaFor(opts.group, opts.version, opts.kind) };
  let managers: Managers;
  try {
    managers = decodeManagedFields(live?.metadata?.managedFields);
  } catch (err) {
    throw internalError(
      `failed to decode managed fields: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const current = live ? withoutManagedFields(live) : undefined;
  const ignored = ignoredFields(applied, opts);
  if (current && managers.size === 0) {
    const entry = { manager: BEFORE_FIRST_APPLY_MANAGER, operation: "Update" as const, apiVersion };
    trackUpdate(emptyObjectLike(current), current, managers, entry, shape, ignored, opts.now);
  }

  const entry: Omit<ManagerEntry, "set"> = { manager: opts.manager, operation: "Apply", apiVersion };
  if (opts.subresource) entry.subresource = opts.subresource;
  const key = managerKey(entry);
  const previous = managers.get(key);
  if (previous?.time) entry.time = previous.time;

  const appliedSet = new FieldSet();
  toFieldSet(applied, shape, [], appliedSet);
  const set = appliedSet.recursiveDifference(ignored);
  const lastSet = previous?.set.recursiveDifference(ignored) ?? new FieldSet();
  managers.set(key, { ...entry, set });

  let merged = merge(current ?? {}, applied, shape, []) as KubeObject;
  if (!lastSet.isEmpty()) {
    let owned = new FieldSet();
    for (const m of managers.values()) owned = owned.union(m.set);
    const prune = lastSet.withAncestors().difference(owned.withAncestors());
    if (!prune.isEmpty()) merged = removeItems(merged, prune, shape) as KubeObject;
  }

  const before = current ?? emptyObjectLike(merged);
  const changes = changesBetween(before, merged, shape, ignored);
  const conflicts = transferOwnership(managers, key, changes, opts.force);
  if (conflicts.length > 0) {
    // As upstream, kubectl may take over fields of its own last client-side apply.
    const allowed =
      opts.manager === "kubectl" && current ? lastAppliedFields(current, shape, apiVersion) : undefined;
    if (!allowed || !conflicts.every((c) => allowed.has(c.path))) throw conflictError(conflicts);
    transferOwnership(managers, key, changes, true);
  }

  const own = set.difference(STRIPPED);
  const objectChanged = !current || !deepEqual(current, merged);
  if (own.isEmpty()) managers.delete(key);
  else {
    const changed = objectChanged || !previous || !previous.set.equals(own);
    managers.set(key, { ...entry, ...(changed ? { time: formatTimestamp(opts.now) } : {}), set: own });
  }
  capUpdateManagers(managers);

  merged.metadata ??= {};
  const annotations = merged.metadata.annotations;
  if (opts.manager === "kubectl" && annotations?.[LAST_APPLIED_ANNOTATION] !== undefined) {
    const copy = structuredClone(applied);
    if (copy.metadata?.annotations) delete copy.metadata.annotations[LAST_APPLIED_ANNOTATION];
    merged.metadata.annotations = { ...annotations, [LAST_APPLIED_ANNOTATION]: `${canonicalJson(copy)}\n` };
  }
  return setManagedFields(merged, managers);
}
