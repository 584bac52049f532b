/**
 * @module Validation of `metadata` every object shares, as upstream's apimachinery
 * `api/validation/objectmeta.go`: on create (name or generateName, namespace scope, labels,
 * annotations, owner references, finalizers, generation, managed fields) and on update
 * (immutable identity and timestamps, no new finalizers while deleting, resourceVersion
 * required, generation never decremented). Kinds call these from their `validate` rules.
 */
import type { ManagedFieldsEntry, ObjectMeta, OwnerReference } from "kubernetes-types/meta/v1.js";
import { deepEqual } from "../meta.ts";
import {
  type FieldError,
  type FieldPath,
  forbidden,
  invalidValue,
  required,
  tooLong,
} from "../field-errors.ts";
import {
  type NameFn,
  isQualifiedName,
  nameIsDNSLabel,
  validateAnnotations,
  validateLabels,
} from "./names.ts";

/** Detail of every immutable-field error. */
export const FIELD_IMMUTABLE_ERROR_MSG = "field is immutable";

/** Detail upstream gives negative counts. */
export const IS_NEGATIVE_ERROR_MSG = "must be greater than or equal to 0";

/** Finalizer that makes the garbage collector orphan dependents. */
export const FINALIZER_ORPHAN_DEPENDENTS = "orphan";
/** Finalizer that makes the garbage collector delete dependents first (foreground deletion). */
export const FINALIZER_DELETE_DEPENDENTS = "foregroundDeletion";
/** Finalizer the namespace controller owns (`spec.finalizers` of a Namespace). */
export const FINALIZER_KUBERNETES = "kubernetes";

/** Longest field manager name in managedFields. */
export const FIELD_MANAGER_MAX_LENGTH = 128;
/** Longest subresource name in managedFields. */
export const MAX_SUBRESOURCE_NAME_LENGTH = 256;

/** Options for {@link validateObjectMeta}. */
export interface ObjectMetaOptions {
  /** True for namespaced kinds (namespace required), false for cluster-scoped (forbidden). */
  namespaced: boolean;
  /** The kind's name rule; `prefix` is true when checking a generateName. */
  nameFn: NameFn;
}

/** Splits `apps/v1` into group and version as upstream's ParseGroupVersion; undefined if malformed. */
function parseGroupVersion(apiVersion: string): { group: string; version: string } | undefined {
  const parts = apiVersion.split("/");
  if (parts.length === 1) return { group: "", version: parts[0]! };
  if (parts.length === 2) return { group: parts[0]!, version: parts[1]! };
  return undefined;
}

/** Kinds upstream refuses as owners: core v1 Event. */
const BANNED_OWNERS = new Set(["/v1, Kind=Event"]);

function validateOwnerReference(ref: OwnerReference, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const gv = parseGroupVersion(ref.apiVersion ?? "") ?? { group: "", version: "" };
  const kind = ref.kind ?? "";
  if (gv.version.length === 0)
    errs.push(invalidValue(path.child("apiVersion"), ref.apiVersion ?? "", "version must not be empty"));
  if (kind.length === 0) errs.push(invalidValue(path.child("kind"), kind, "must not be empty"));
  if (!ref.name) errs.push(invalidValue(path.child("name"), ref.name ?? "", "must not be empty"));
  if (!ref.uid) errs.push(invalidValue(path.child("uid"), ref.uid ?? "", "must not be empty"));
  const gvk = `${gv.group}/${gv.version}, Kind=${kind}`;
  if (BANNED_OWNERS.has(gvk)) errs.push(invalidValue(path, ref, `${gvk} is disallowed from being an owner`));
  return errs;
}

/**
 * Validates owner references: apiVersion (with a version), kind, name and uid present, no
 * Event owners, and at most one reference with `controller: true`. Errors name the list's
 * path without an index, as upstream does.
 */
export function validateOwnerReferences(
  refs: readonly OwnerReference[] | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = "";
  for (const ref of refs ?? []) {
    errs.push(...validateOwnerReference(ref, path));
    if (ref.controller === true) {
      const current = `${ref.kind ?? ""}/${ref.name ?? ""}`;
      if (firstController !== "") {
        errs.push(
          invalidValue(
            path,
            refs,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

/** Validates one finalizer name: a qualified name (`example.com/cleanup` or `cleanup`). */
export function validateFinalizerName(name: string, path: FieldPath): FieldError[] {
  return isQualifiedName(name).map((m) => invalidValue(path, name, m));
}

/** Whether `name` is one of the finalizers Kubernetes itself defines. */
export function isStandardFinalizerName(name: string): boolean {
  return (
    name === FINALIZER_KUBERNETES ||
    name === FINALIZER_ORPHAN_DEPENDENTS ||
    name === FINALIZER_DELETE_DEPENDENTS
  );
}

/**
 * Upstream core's stricter finalizer rule (used for Namespace `spec.finalizers`): a name
 * without a `/` prefix must be one of the standard finalizers.
 */
export function validateKubeFinalizerName(name: string, path: FieldPath): FieldError[] {
  const errs = validateFinalizerName(name, path);
  if (!name.includes("/") && !isStandardFinalizerName(name)) {
    errs.push(
      invalidValue(path, name, "name is neither a standard finalizer name nor is it fully qualified"),
    );
  }
  return errs;
}

/**
 * Validates `metadata.finalizers`: each a qualified name, and not both `orphan` and
 * `foregroundDeletion`. Duplicates are accepted, as upstream accepts them.
 */
export function validateFinalizers(finalizers: readonly string[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const list = finalizers ?? [];
  for (const f of list) errs.push(...validateFinalizerName(f, path));
  if (list.includes(FINALIZER_ORPHAN_DEPENDENTS) && list.includes(FINALIZER_DELETE_DEPENDENTS)) {
    errs.push(
      invalidValue(
        path,
        list,
        `finalizer ${FINALIZER_ORPHAN_DEPENDENTS} and ${FINALIZER_DELETE_DEPENDENTS} cannot be both set`,
      ),
    );
  }
  return errs;
}

/**
 * Warnings upstream returns (HTTP `Warning` header) for custom resources whose write adds a
 * finalizer that is not domain-qualified: its qualified-name problems, then
 * `metadata.finalizers: "cleanup": prefer a domain-qualified finalizer name to avoid accidental conflicts with other finalizer writers`
 * (with `including a path (/)` when the name has a dot but no slash). Standard finalizers
 * and names already in `oldFinalizers` are not warned about.
 */
export function finalizerWarnings(
  finalizers: readonly string[] | undefined,
  oldFinalizers: readonly string[] | undefined,
  path: FieldPath,
): string[] {
  const out: string[] = [];
  const old = new Set(oldFinalizers ?? []);
  for (const f of finalizers ?? []) {
    if (old.has(f)) continue;
    const head = `${String(path)}: ${JSON.stringify(f)}: `;
    for (const m of isQualifiedName(f)) out.push(head + m);
    if (!f.includes("/") && !isStandardFinalizerName(f)) {
      const how = f.includes(".")
        ? "a domain-qualified finalizer name including a path (/)"
        : "a domain-qualified finalizer name";
      out.push(`${head}prefer ${how} to avoid accidental conflicts with other finalizer writers`);
    }
  }
  return out;
}

/** Whether every code point is printable (no control characters), as Go's unicode.IsPrint. */
function isPrintable(s: string): boolean {
  return !/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(s);
}

/** Validates `metadata.managedFields` entries as upstream's ValidateManagedFields. */
export function validateManagedFields(
  entries: readonly ManagedFieldsEntry[] | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  (entries ?? []).forEach((e, i) => {
    const p = path.index(i);
    if (e.operation !== "Apply" && e.operation !== "Update") {
      errs.push(invalidValue(p.child("operation"), e.operation ?? "", "must be `Apply` or `Update`"));
    }
    if (e.fieldsType && e.fieldsType !== "FieldsV1") {
      errs.push(invalidValue(p.child("fieldsType"), e.fieldsType, "must be `FieldsV1`"));
    }
    const manager = e.manager ?? "";
    if (Buffer.byteLength(manager, "utf8") > FIELD_MANAGER_MAX_LENGTH) {
      errs.push(tooLong(p.child("manager"), manager, FIELD_MANAGER_MAX_LENGTH));
    }
    if (!isPrintable(manager)) {
      errs.push(
        invalidValue(
          p.child("manager"),
          manager,
          "invalid characters: field manager must contain only printable characters",
        ),
      );
    }
    const sub = e.subresource ?? "";
    if (Buffer.byteLength(sub, "utf8") > MAX_SUBRESOURCE_NAME_LENGTH) {
      errs.push(tooLong(p.child("subresource"), sub, MAX_SUBRESOURCE_NAME_LENGTH));
    }
  });
  return errs;
}

/**
 * Validates an object's metadata on create (after name generation), as upstream's
 * ValidateObjectMetaAccessor: generateName and name through `nameFn`, name required
 * (`metadata.name: Required value: name or generateName is required`), namespace required
 * and a DNS label for namespaced kinds, forbidden for cluster-scoped ones, generation not
 * negative, then labels, annotations, owner references, finalizers and managed fields.
 */
export function validateObjectMeta(meta: ObjectMeta, opts: ObjectMetaOptions, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const generateName = meta.generateName ?? "";
  if (generateName.length > 0) {
    for (const m of opts.nameFn(generateName, true))
      errs.push(invalidValue(path.child("generateName"), generateName, m));
  }
  const name = meta.name ?? "";
  if (name.length === 0) {
    errs.push(required(path.child("name"), "name or generateName is required"));
  } else {
    for (const m of opts.nameFn(name, false)) errs.push(invalidValue(path.child("name"), name, m));
  }
  const namespace = meta.namespace ?? "";
  if (opts.namespaced) {
    if (namespace.length === 0) errs.push(required(path.child("namespace"), ""));
    else
      for (const m of nameIsDNSLabel(namespace, false))
        errs.push(invalidValue(path.child("namespace"), namespace, m));
  } else if (namespace.length > 0) {
    errs.push(forbidden(path.child("namespace"), "not allowed on this type"));
  }
  const generation = meta.generation ?? 0;
  if (generation < 0) errs.push(invalidValue(path.child("generation"), generation, IS_NEGATIVE_ERROR_MSG));
  errs.push(...validateLabels(meta.labels, path.child("labels")));
  errs.push(...validateAnnotations(meta.annotations, path.child("annotations")));
  errs.push(...validateOwnerReferences(meta.ownerReferences, path.child("ownerReferences")));
  errs.push(...validateFinalizers(meta.finalizers, path.child("finalizers")));
  errs.push(...validateManagedFields(meta.managedFields, path.child("managedFields")));
  return errs;
}

/** Upstream's ValidateImmutableField: an `Invalid` with the new value when old and new differ. */
export function validateImmutableField(newVal: unknown, oldVal: unknown, path: FieldPath): FieldError[] {
  return deepEqual(newVal, oldVal) ? [] : [invalidValue(path, newVal, FIELD_IMMUTABLE_ERROR_MSG)];
}

/** Normalises absent strings to "" so that missing and empty compare equal, as Go's zero values do. */
function str(s: string | undefined): string {
  return s ?? "";
}

/**
 * Validates metadata on update against the stored metadata, as upstream's
 * ValidateObjectMetaAccessorUpdate. Run it after the update lifecycle (`prepareForUpdate`
 * in meta.ts) has carried uid, creationTimestamp and deletion fields over from the old
 * object, so only real attempts to change them are reported: no new finalizers while the
 * object is being deleted; resourceVersion required; generation never decremented; name,
 * namespace, uid, creationTimestamp, deletionTimestamp and deletionGracePeriodSeconds
 * immutable (`metadata.name: Invalid value: "x": field is immutable`); then labels,
 * annotations, owner references and managed fields. Name syntax, namespace scope and
 * finalizer names are `validateObjectMeta`'s job; upstream runs both on update.
 */
export function validateObjectMetaUpdate(
  newMeta: ObjectMeta,
  oldMeta: ObjectMeta,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  if (oldMeta.deletionTimestamp) {
    const old = new Set(oldMeta.finalizers ?? []);
    const extra = [...new Set((newMeta.finalizers ?? []).filter((f) => !old.has(f)))].sort();
    if (extra.length > 0) {
      const list = `[]string{${extra.map((f) => JSON.stringify(f)).join(", ")}}`;
      errs.push(
        forbidden(
          path.child("finalizers"),
          `no new finalizers can be added if the object is being deleted, found new finalizers ${list}`,
        ),
      );
    }
  }
  const rv = str(newMeta.resourceVersion);
  if (rv.length === 0)
    errs.push(invalidValue(path.child("resourceVersion"), rv, "must be specified for an update"));
  const newGen = newMeta.generation ?? 0;
  if (newGen < (oldMeta.generation ?? 0)) {
    errs.push(invalidValue(path.child("generation"), newGen, "must not be decremented"));
  }
  errs.push(...validateImmutableField(str(newMeta.name), str(oldMeta.name), path.child("name")));
  errs.push(
    ...validateImmutableField(str(newMeta.namespace), str(oldMeta.namespace), path.child("namespace")),
  );
  errs.push(...validateImmutableField(str(newMeta.uid), str(oldMeta.uid), path.child("uid")));
  errs.push(
    ...validateImmutableField(
      newMeta.creationTimestamp ?? null,
      oldMeta.creationTimestamp ?? null,
      path.child("creationTimestamp"),
    ),
  );
  errs.push(
    ...validateImmutableField(
      newMeta.deletionTimestamp ?? null,
      oldMeta.deletionTimestamp ?? null,
      path.child("deletionTimestamp"),
    ),
  );
  errs.push(
    ...validateImmutableField(
      newMeta.deletionGracePeriodSeconds ?? null,
      oldMeta.deletionGracePeriodSeconds ?? null,
      path.child("deletionGracePeriodSeconds"),
    ),
  );
  errs.push(...validateLabels(newMeta.labels, path.child("labels")));
  errs.push(...validateAnnotations(newMeta.annotations, path.child("annotations")));
  errs.push(...validateOwnerReferences(newMeta.ownerReferences, path.child("ownerReferences")));
  errs.push(...validateManagedFields(newMeta.managedFields, path.child("managedFields")));
  return errs;
}
