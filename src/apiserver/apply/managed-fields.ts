/**
 * @module `metadata.managedFields` as upstream's field manager keeps it
 * (k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager): decoding entries into per-manager
 * field sets, encoding them back in upstream's order, moving ownership after a write
 * (structured-merge-diff's `Updater.update`), capping the number of Update entries, the
 * 409 conflict error, and the default manager name derived from a User-Agent.
 */
import type { ManagedFieldsEntry } from "kubernetes-types/meta/v1.js";
import { StatusError } from "../../api/status-error.ts";
import { FieldSet, pathToString, type FieldPath } from "./field-set.ts";

/** The operation recorded in a managedFields entry. */
export type ManagedFieldsOperation = "Apply" | "Update";

/** One manager's ownership: what a `ManagedFieldsEntry` holds, with its fields decoded. */
export interface ManagerEntry {
  manager: string;
  operation: ManagedFieldsOperation;
  /** `group/version` (or `v1`) the fields were written in. */
  apiVersion: string;
  /** `status`, `scale`, … for writes to a subresource; absent for the main resource. */
  subresource?: string;
  /** RFC 3339 time of the manager's last change, when known. */
  time?: string;
  set: FieldSet;
}

/** Managers by identifier ({@link managerKey}). */
export type Managers = Map<string, ManagerEntry>;

/** Upstream's `DefaultMaxUpdateManagers`: more Update entries than this are merged. */
export const MAX_UPDATE_MANAGERS = 10;
/** The manager the oldest Update entries are merged into past the cap. */
export const ANCIENT_CHANGES_MANAGER = "ancient-changes";
/** The manager that owns an object's fields when it is first applied to without managedFields. */
export const BEFORE_FIRST_APPLY_MANAGER = "before-first-apply";
/** Longest field manager name upstream accepts (`FieldManagerMaxLength`). */
export const FIELD_MANAGER_MAX_LENGTH = 128;

/**
 * The identifier upstream keys managers by: the JSON of the entry without fields and time,
 * and without apiVersion for appliers (so an applier keeps one entry across versions).
 */
export function managerKey(
  e: Pick<ManagerEntry, "manager" | "operation" | "apiVersion" | "subresource">,
): string {
  const id: Record<string, string> = { manager: e.manager, operation: e.operation };
  if (e.operation === "Update" && e.apiVersion) id.apiVersion = e.apiVersion;
  if (e.subresource) id.subresource = e.subresource;
  return JSON.stringify(id);
}

/**
 * The FieldsV1 a decoded set was read from, written back as it was while the set is unchanged
 * (sets are never changed in place once decoded: the set operations return new ones).
 */
const encodedFrom = new WeakMap<FieldSet, unknown>();

/** Decodes `metadata.managedFields`; throws an Error when an entry is malformed. */
export function decodeManagedFields(entries: readonly ManagedFieldsEntry[] | undefined): Managers {
  const out: Managers = new Map();
  for (const e of entries ?? []) {
    if (e.fieldsType !== "FieldsV1")
      throw new Error(`invalid fieldsType ${JSON.stringify(e.fieldsType ?? "")}`);
    if (e.operation !== "Apply" && e.operation !== "Update")
      throw new Error(`invalid operation ${JSON.stringify(e.operation ?? "")}`);
    const entry: ManagerEntry = {
      manager: e.manager ?? "",
      operation: e.operation,
      apiVersion: e.apiVersion ?? "",
      set: FieldSet.fromFieldsV1(e.fieldsV1 ?? {}),
    };
    if (e.fieldsV1) encodedFrom.set(entry.set, e.fieldsV1);
    if (e.subresource) entry.subresource = e.subresource;
    if (e.time) entry.time = e.time;
    const key = managerKey(entry);
    if (out.has(key)) throw new Error(`duplicate manager ${key}`);
    out.set(key, entry);
  }
  return out;
}

/** Seconds since the epoch of an RFC 3339 time, 0 when absent (as upstream sorts). */
function seconds(time: string | undefined): number {
  if (!time) return 0;
  const t = Date.parse(time);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Encodes managers as `metadata.managedFields`, sorted as upstream: Apply before Update, then
 * by time, manager, apiVersion and subresource. Managers with no fields are left out.
 */
export function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  const entries = [...managers.values()].filter((m) => !m.set.isEmpty());
  entries.sort(
    (p, q) =>
      cmp(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      cmp(p.manager, q.manager) ||
      cmp(p.apiVersion, q.apiVersion) ||
      cmp(p.subresource ?? "", q.subresource ?? ""),
  );
  return entries.map((m) => {
    const e: ManagedFieldsEntry = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion };
    if (m.time) e.time = m.time;
    e.fieldsType = "FieldsV1";
    e.fieldsV1 = (encodedFrom.get(m.set) as ManagedFieldsEntry["fieldsV1"]) ?? m.set.toFieldsV1();
    if (m.subresource) e.subresource = m.subresource;
    return e;
  });
}

/** How upstream names a manager in conflict messages: `"kubectl" using apps/v1`. */
export function printManager(
  m: Pick<ManagerEntry, "manager" | "operation" | "apiVersion" | "subresource">,
): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === "Update") s += ` using ${m.apiVersion}`;
  return s;
}

/** A field the applier would change that another manager owns. */
export interface Conflict {
  /** The identifier of the owning manager ({@link managerKey}). */
  key: string;
  owner: ManagerEntry;
  path: FieldPath;
}

/**
 * The 409 upstream answers an apply with conflicts: `Apply failed with 1 conflict: conflict
 * with "kubectl" using apps/v1: .spec.replicas`, one `FieldManagerConflict` cause per field.
 */
export function conflictError(conflicts: readonly Conflict[]): StatusError {
  const sorted = [...conflicts].sort((a, b) => cmp(a.key, b.key));
  const causes = sorted.map((c) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${printManager(c.owner)}`,
    field: pathToString(c.path),
  }));
  let message: string;
  const first = sorted[0];
  if (sorted.length === 1 && first) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(first.owner)}: ${pathToString(first.path)}`;
  } else {
    const lines: string[] = [];
    let last: string | undefined;
    for (const c of sorted) {
      if (c.key !== last) lines.push(`conflicts with ${printManager(c.owner)}:`);
      last = c.key;
      lines.push(`- ${pathToString(c.path)}`);
    }
    message = `Apply failed with ${sorted.length} conflicts: ${lines.join("\n")}`;
  }
  return new StatusError(409, "Conflict", message, { causes });
}

/** What a write changed, as structured-merge-diff's `Comparison`. */
export interface Changes {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/**
 * Moves ownership after a write by manager `self` (upstream's `Updater.update`): fields the
 * write added or modified are taken from every other manager, and fields it removed are
 * dropped from them. Without `force`, fields taken from another manager are conflicts and
 * nothing changes; they are returned for the caller to report. Managers left empty are removed.
 */
export function transferOwnership(
  managers: Managers,
  self: string,
  changes: Changes,
  force: boolean,
): Conflict[] {
  const changed = changes.modified.union(changes.added);
  const conflicts: Conflict[] = [];
  const taken = new Map<string, FieldSet>();
  for (const [key, owner] of managers) {
    if (key === self) continue;
    const overlap = owner.set.intersection(changed);
    if (overlap.isEmpty()) continue;
    taken.set(key, overlap);
    for (const path of overlap.paths()) conflicts.push({ key, owner, path });
  }
  if (!force && conflicts.length > 0) return conflicts;
  const removed = changes.removed.isEmpty() ? undefined : changes.removed;
  for (const [key, owner] of managers) {
    if (key === self) continue;
    const lost = taken.get(key);
    let set = lost ? owner.set.difference(lost) : owner.set;
    if (removed && !set.intersection(removed).isEmpty()) set = set.difference(removed);
    if (set !== owner.set) managers.set(key, { ...owner, set });
  }
  for (const [key, m] of managers) if (m.set.isEmpty()) managers.delete(key);
  return [];
}

/**
 * Keeps at most `max` Update managers (upstream's capManagers): the oldest ones are merged,
 * per apiVersion, into an `ancient-changes` Update entry.
 */
export function capUpdateManagers(managers: Managers, max = MAX_UPDATE_MANAGERS): void {
  const updaters = [...managers.entries()].filter(([, m]) => m.operation === "Update");
  if (updaters.length <= max) return;
  updaters.sort(([ka, a], [kb, b]) => seconds(a.time) - seconds(b.time) || cmp(ka, kb));
  let count = updaters.length;
  const firstByVersion = new Map<string, string>();
  for (const [key, m] of updaters) {
    if (count <= max) break;
    const first = firstByVersion.get(m.apiVersion);
    if (first === undefined) {
      firstByVersion.set(m.apiVersion, key);
      continue;
    }
    const bucket = {
      manager: ANCIENT_CHANGES_MANAGER,
      operation: "Update" as const,
      apiVersion: m.apiVersion,
    };
    const bucketKey = managerKey(bucket);
    let current = managers.get(bucketKey);
    if (!current) {
      const moved = managers.get(first);
      managers.delete(first);
      current = { ...bucket, set: moved?.set ?? new FieldSet() };
    }
    const merged: ManagerEntry = { ...bucket, set: m.set.union(current.set) };
    if (m.time) merged.time = m.time;
    managers.delete(key);
    managers.set(bucketKey, merged);
    count--;
  }
}

/** Go's `unicode.IsPrint`, near enough: letters, marks, numbers, punctuation, symbols, ASCII space. */
function isPrint(ch: string): boolean {
  return ch === " " || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch);
}

/**
 * The field manager upstream records for a write whose request names none: the User-Agent up
 * to its first `/` (`kubectl/v1.30.0 (linux/amd64) kubernetes/abc` → `kubectl`), without
 * unprintable characters, cut to 128 bytes. kubectl itself names its managers
 * (`kubectl-client-side-apply`, `kubectl-edit`, …) in the `fieldManager` query parameter.
 */
export function defaultManager(userAgent: string | undefined): string {
  const prefix = (userAgent ?? "").split("/")[0] ?? "";
  let out = "";
  let bytes = 0;
  for (const ch of prefix) {
    if (!isPrint(ch)) continue;
    const n = Buffer.byteLength(ch, "utf8");
    if (bytes + n > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
    bytes += n;
  }
  return out;
}
