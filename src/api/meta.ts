/**
 * @module The ObjectMeta lifecycle the apiserver's registry applies around every write, as
 * upstream's `rest.BeforeCreate` / `BeforeUpdate` / `BeforeDelete` and the common parts of
 * the per-kind strategies' PrepareForCreate / PrepareForUpdate: system fields (uid,
 * creationTimestamp), name generation, generation tracking, status-subresource resets and
 * deletion marking. Pure functions over plain objects: they return new objects and never
 * touch their inputs or do I/O.
 */
import { randomInt, randomUUID } from "node:crypto";
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import type { KubeObject } from "./object.ts";
import { badRequest } from "./status-error.ts";

/**
 * Structural equality of JSON values. An object property holding `undefined` counts as
 * missing, so `{a: 1, b: undefined}` equals `{a: 1}`; `null` is a value of its own.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const aIsArray = Array.isArray(a);
  if (aIsArray !== Array.isArray(b)) return false;
  if (aIsArray) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!deepEqual(x[i], y[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let xCount = 0;
  for (const k in x) {
    if (!Object.hasOwn(x, k) || x[k] === undefined) continue;
    xCount++;
    if (!Object.hasOwn(y, k) || !deepEqual(x[k], y[k])) return false;
  }
  let yCount = 0;
  for (const k in y) if (Object.hasOwn(y, k) && y[k] !== undefined) yCount++;
  return xCount === yCount;
}

/** ObjectMeta with its system fields writable (kubernetes-types marks them readonly). */
type MutableMeta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

/** The metadata of `o`, created empty when absent, writable. */
function metaOf(o: KubeObject): MutableMeta {
  o.metadata ??= {};
  return o.metadata as MutableMeta;
}

/** A deep copy of a JSON value. */
function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Formats a time as Kubernetes does (RFC 3339, whole seconds, UTC): `2026-01-02T03:04:05Z`. */
export function formatTimestamp(t: Date): string {
  return t.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The characters upstream's random name suffixes are drawn from (no vowels, no 0/1/3). */
export const NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
/** Length of the random suffix appended to a generateName. */
export const NAME_SUFFIX_LENGTH = 5;
/** Longest generateName base kept before the suffix (63 − 5), as upstream truncates. */
export const MAX_GENERATED_NAME_BASE_LENGTH = 63 - NAME_SUFFIX_LENGTH;

/** Five random characters from {@link NAME_SUFFIX_ALPHABET}. */
export function randomNameSuffix(): string {
  let s = "";
  for (let i = 0; i < NAME_SUFFIX_LENGTH; i++)
    s += NAME_SUFFIX_ALPHABET[randomInt(NAME_SUFFIX_ALPHABET.length)];
  return s;
}

/** Upstream's SimpleNameGenerator: the base cut to 58 characters, then the random suffix. */
export function generateName(base: string, suffix: () => string = randomNameSuffix): string {
  return base.slice(0, MAX_GENERATED_NAME_BASE_LENGTH) + suffix();
}

/** API groups compiled into upstream's apiserver; any other group is a custom resource. */
const BUILTIN_GROUPS = new Set([
  "",
  "admissionregistration.k8s.io",
  "apiextensions.k8s.io",
  "apiregistration.k8s.io",
  "apps",
  "authentication.k8s.io",
  "authorization.k8s.io",
  "autoscaling",
  "batch",
  "certificates.k8s.io",
  "coordination.k8s.io",
  "discovery.k8s.io",
  "events.k8s.io",
  "flowcontrol.apiserver.k8s.io",
  "internal.apiserver.k8s.io",
  "networking.k8s.io",
  "node.k8s.io",
  "policy",
  "rbac.authorization.k8s.io",
  "resource.k8s.io",
  "scheduling.k8s.io",
  "storage.k8s.io",
  "storagemigration.k8s.io",
]);

/**
 * Built-in kinds whose strategies set `generation: 1` on create and bump it on spec
 * changes (`group/Kind`, core group as `/Kind`). Upstream's other built-ins (ConfigMap,
 * Secret, Service, Namespace, Node, Pod before PodObservedGenerationTracking, RBAC, …) leave
 * generation alone. Custom resources always track it.
 */
const GENERATION_KINDS = new Set([
  "/ReplicationController",
  "apps/Deployment",
  "apps/ReplicaSet",
  "apps/StatefulSet",
  "apps/DaemonSet",
  "batch/Job",
  "batch/CronJob",
  "policy/PodDisruptionBudget",
  "networking.k8s.io/Ingress",
  "networking.k8s.io/IngressClass",
  "networking.k8s.io/NetworkPolicy",
  "apiextensions.k8s.io/CustomResourceDefinition",
  "admissionregistration.k8s.io/MutatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingAdmissionPolicy",
  "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding",
  "admissionregistration.k8s.io/MutatingAdmissionPolicy",
  "admissionregistration.k8s.io/MutatingAdmissionPolicyBinding",
  "flowcontrol.apiserver.k8s.io/FlowSchema",
  "flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration",
]);

/** The group of an apiVersion: `apps/v1` → `apps`, `v1` → "". */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/** Whether an apiVersion belongs to a built-in group rather than a custom resource. */
export function isBuiltinGroup(apiVersion: string): boolean {
  return BUILTIN_GROUPS.has(groupOf(apiVersion));
}

/** Whether upstream tracks `metadata.generation` for this kind (see {@link GENERATION_KINDS}). */
export function kindTracksGeneration(apiVersion: string, kind: string): boolean {
  const group = groupOf(apiVersion);
  if (!BUILTIN_GROUPS.has(group)) return true;
  return GENERATION_KINDS.has(`${group}/${kind}`);
}

/**
 * Puts the request's namespace on an object as upstream's
 * EnsureObjectNamespaceMatchesRequestNamespace: cluster-scoped kinds lose any namespace,
 * namespaced ones take the request's when they have none, and a different one is a 400.
 */
function applyRequestNamespace(
  meta: MutableMeta,
  namespaced: boolean,
  requestNamespace: string | undefined,
): void {
  if (!namespaced) {
    delete meta.namespace;
    return;
  }
  if (requestNamespace === undefined) return;
  const ns = meta.namespace ?? "";
  if (ns === "") meta.namespace = requestNamespace;
  else if (ns !== requestNamespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
}

/** Options for {@link prepareForCreate}. */
export interface CreateOptions {
  /** The request time: creationTimestamp. */
  now: Date;
  /** Whether the kind is namespaced; cluster-scoped objects lose any namespace. */
  namespaced: boolean;
  /** Namespace from the request path; fills an empty namespace, a different one is a 400. */
  requestNamespace?: string;
  /** Random suffix for generateName (default: 5 characters from upstream's alphabet). */
  generateSuffix?: () => string;
  /** New uid (default `crypto.randomUUID`). */
  newUID?: () => string;
  /** Whether status is a subresource: then a create cannot set it and it is dropped. */
  hasStatusSubresource?: boolean;
  /** Whether the kind tracks generation (default {@link kindTracksGeneration}). */
  tracksGeneration?: boolean;
  /** `obj` is the caller's own copy: change it in place instead of copying it first. */
  inPlace?: boolean;
}

/**
 * Returns the object as the registry stores it on create (before validation): namespace
 * settled, deletionTimestamp and deletionGracePeriodSeconds cleared, resourceVersion and
 * selfLink cleared (upstream's storage instead refuses a set resourceVersion with
 * "resourceVersion should not be set on objects to be created"; a handler wanting that
 * must check before calling), status dropped when it is a subresource, a fresh uid and
 * creationTimestamp, a name generated from generateName when name is empty, and
 * `generation: 1` for kinds that track it (a client-sent generation is otherwise kept, as
 * upstream keeps it). Kind-specific resets (a Pod's initial phase, …) are the kind's job.
 * Throws a 400 StatusError when the object's namespace differs from `requestNamespace`.
 */
export function prepareForCreate<T extends KubeObject>(obj: T, opts: CreateOptions): T {
  const out = opts.inPlace ? obj : clone(obj);
  const meta = metaOf(out);
  applyRequestNamespace(meta, opts.namespaced, opts.requestNamespace);
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.resourceVersion;
  delete meta.selfLink;
  if (opts.hasStatusSubresource) delete (out as KubeObject).status;
  meta.uid = (opts.newUID ?? randomUUID)();
  meta.creationTimestamp = formatTimestamp(opts.now);
  if (meta.generateName && !meta.name) meta.name = generateName(meta.generateName, opts.generateSuffix);
  if (opts.tracksGeneration ?? kindTracksGeneration(out.apiVersion, out.kind)) meta.generation = 1;
  return out;
}

/** Options for {@link prepareForUpdate}. */
export interface UpdateOptions {
  /** Whether status is a subresource of this kind. */
  hasStatusSubresource: boolean;
  /** `"status"` for a write to the status subresource; absent for the main resource. */
  subresource?: "status";
  /** Whether the kind is namespaced; cluster-scoped objects lose any namespace (default true). */
  namespaced?: boolean;
  /** Namespace from the request path; fills an empty namespace, a different one is a 400. */
  requestNamespace?: string;
  /** Whether the kind tracks generation (default {@link kindTracksGeneration}). */
  tracksGeneration?: boolean;
  /** Also bump generation when annotations change (upstream's Deployment does). */
  generationCountsAnnotations?: boolean;
  /**
   * For status writes: whether metadata is reset to the stored one too. Upstream's custom
   * resources do this (only status and managedFields survive); built-in kinds keep the
   * request's metadata and reset only the rest. Default: true for custom resources.
   */
  statusResetsMetadata?: boolean;
  /** `obj` is the caller's own copy: change it in place instead of copying it first. */
  inPlace?: boolean;
}

/** Top-level fields that are not part of the "spec" for generation purposes. */
const NON_SPEC_FIELDS = new Set(["apiVersion", "kind", "metadata"]);

/** Whether anything but metadata (and status, when it is a subresource) differs. */
function specChanged(a: KubeObject, b: KubeObject, statusIsSubresource: boolean): boolean {
  const skip = (k: string) => NON_SPEC_FIELDS.has(k) || (statusIsSubresource && k === "status");
  const strip = (o: KubeObject) => Object.fromEntries(Object.entries(o).filter(([k]) => !skip(k)));
  return !deepEqual(strip(a), strip(b));
}

/** Sets `o[key]` to a copy of `from[key]`, or deletes it when `from` has none. */
function copyField(o: Record<string, unknown>, from: Record<string, unknown>, key: string): void {
  if (from[key] === undefined) delete o[key];
  else o[key] = clone(from[key]);
}

/**
 * Returns the object as the registry stores it on update (before validation), given the
 * stored `old`:
 * - generation is never taken from the request: it stays old's, and for kinds that track
 *   it goes up by one when anything but metadata (and status, when status is a
 *   subresource) changed on a main-resource write;
 * - a main-resource write to a kind with a status subresource keeps old's status;
 * - a status write keeps old's everything-but-status; with `statusResetsMetadata` old's
 *   metadata too (only managedFields and resourceVersion come from the request);
 * - uid is old's when the request has none; creationTimestamp and deletionTimestamp are
 *   old's whenever old has them; deletionGracePeriodSeconds is old's when the request
 *   drops it; selfLink is cleared.
 * Changes that remain (a different uid, a shortened grace period, …) are then caught by
 * `validateObjectMetaUpdate`.
 */
export function prepareForUpdate<T extends KubeObject>(obj: T, old: T, opts: UpdateOptions): T {
  let out = opts.inPlace ? obj : clone(obj);
  applyRequestNamespace(metaOf(out), opts.namespaced ?? true, opts.requestNamespace);
  const oldMeta = old.metadata ?? {};
  const o = out as Record<string, unknown>;
  const prev = old as Record<string, unknown>;

  if (opts.subresource === "status") {
    const resetMeta = opts.statusResetsMetadata ?? !isBuiltinGroup(old.apiVersion);
    const reset: Record<string, unknown> = clone(prev);
    copyField(reset, o, "status");
    if (resetMeta) {
      const meta: ObjectMeta = clone(oldMeta);
      copyField(meta as Record<string, unknown>, out.metadata as Record<string, unknown>, "managedFields");
      copyField(meta as Record<string, unknown>, out.metadata as Record<string, unknown>, "resourceVersion");
      reset.metadata = meta;
    } else {
      reset.metadata = out.metadata;
    }
    out = reset as T;
  } else if (opts.hasStatusSubresource) {
    copyField(o, prev, "status");
  }

  const meta = metaOf(out);
  if (oldMeta.generation === undefined) delete meta.generation;
  else meta.generation = oldMeta.generation;
  const tracks = opts.tracksGeneration ?? kindTracksGeneration(old.apiVersion, old.kind);
  if (tracks && opts.subresource !== "status") {
    const annotationsChanged =
      opts.generationCountsAnnotations && !deepEqual(meta.annotations ?? {}, oldMeta.annotations ?? {});
    if (specChanged(out, old, opts.hasStatusSubresource) || annotationsChanged) {
      meta.generation = (oldMeta.generation ?? 0) + 1;
    }
  }

  if (!meta.uid && oldMeta.uid) meta.uid = oldMeta.uid;
  if (oldMeta.creationTimestamp) meta.creationTimestamp = oldMeta.creationTimestamp;
  if (oldMeta.deletionTimestamp) meta.deletionTimestamp = oldMeta.deletionTimestamp;
  if (oldMeta.deletionGracePeriodSeconds !== undefined && meta.deletionGracePeriodSeconds === undefined) {
    meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
  }
  delete meta.selfLink;
  return out;
}

/** Options for {@link markDeleting}. */
export interface MarkDeletingOptions {
  /** The request time. */
  now: Date;
  /** Grace period: deletionTimestamp becomes now plus this many seconds. */
  gracePeriodSeconds: number;
}

/**
 * Returns the object marked as being deleted, as upstream does when a delete does not
 * remove it at once: deletionTimestamp = now + grace period (whole seconds),
 * deletionGracePeriodSeconds = the grace period, and generation + 1 the first time for an
 * object that has a generation. For kinds without graceful deletion that still have
 * finalizers upstream uses a grace period of 0 (its markAsDeleting).
 */
export function markDeleting<T extends KubeObject>(obj: T, opts: MarkDeletingOptions): T {
  const out = clone(obj);
  const meta = metaOf(out);
  if (!meta.deletionTimestamp && (meta.generation ?? 0) > 0) meta.generation = (meta.generation ?? 0) + 1;
  meta.deletionTimestamp = formatTimestamp(new Date(opts.now.getTime() + opts.gracePeriodSeconds * 1000));
  meta.deletionGracePeriodSeconds = opts.gracePeriodSeconds;
  return out;
}

/** Options for {@link beforeDelete}. */
export interface DeleteOptions {
  /** The request time. */
  now: Date;
  /**
   * Whether the kind deletes gracefully. Upstream: only Pods (grace period from the request,
   * else `spec.terminationGracePeriodSeconds`, 0 when unscheduled or finished — the pod
   * strategy works that out and passes it here). Every other kind is removed at once, or,
   * when it has finalizers, marked with a grace period of 0 and removed when they are gone.
   */
  graceful: boolean;
  /** The grace period for this delete (request's, or the kind's default); negative means 1. */
  gracePeriodSeconds?: number;
}

/** What a delete should do with the stored object. */
export interface DeletePlan<T> {
  /** The object to write back when `action` is "update"; the input otherwise. */
  obj: T;
  /**
   * `"delete"`: remove it from storage now. `"update"`: store `obj` (now marked as being
   * deleted) and leave removal to the kubelet or the finalizers' owners. `"pending"`: it is
   * already being deleted with an equal or shorter grace period; nothing to write.
   */
  action: "delete" | "update" | "pending";
}

/**
 * Decides a delete as upstream's BeforeDelete plus the generic store's finalizer handling:
 * a graceful kind not yet deleting gets deletionTimestamp = now + grace (removed at once when
 * the grace period is 0 and there are no finalizers); an object already deleting may only
 * have its grace period shortened (its deletionTimestamp moves earlier by the difference);
 * a non-graceful object with finalizers is marked with grace 0; anything else is deleted.
 */
export function beforeDelete<T extends KubeObject>(obj: T, opts: DeleteOptions): DeletePlan<T> {
  const meta = obj.metadata ?? {};
  const hasFinalizers = (meta.finalizers ?? []).length > 0;
  let grace = opts.gracePeriodSeconds;
  if (grace !== undefined && grace < 0) grace = 1;

  if (meta.deletionTimestamp) {
    const current = meta.deletionGracePeriodSeconds;
    if (!opts.graceful || current === undefined || current === 0) {
      return { obj, action: hasFinalizers ? "pending" : "delete" };
    }
    if (grace === undefined || grace >= current) return { obj, action: "pending" };
    const out = clone(obj);
    const moved = Date.parse(meta.deletionTimestamp) + (grace - current) * 1000;
    const outMeta = metaOf(out);
    outMeta.deletionTimestamp = formatTimestamp(new Date(moved));
    outMeta.deletionGracePeriodSeconds = grace;
    if (grace === 0 && !hasFinalizers) return { obj, action: "delete" };
    return { obj: out, action: "update" };
  }

  if (opts.graceful && grace !== undefined && (grace > 0 || hasFinalizers)) {
    return { obj: markDeleting(obj, { now: opts.now, gracePeriodSeconds: grace }), action: "update" };
  }
  if (hasFinalizers)
    return { obj: markDeleting(obj, { now: opts.now, gracePeriodSeconds: 0 }), action: "update" };
  return { obj, action: "delete" };
}
