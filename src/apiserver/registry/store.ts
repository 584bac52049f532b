/**
 * @module The generic REST store: create, get, update (PUT and read-modify-write for patch
 * and subresources), and delete of one kind over the datastore, applying the API machinery
 * in upstream's order — defaulting, metadata preparation, kind strategy, validation — and
 * translating the datastore's sentinel errors into Kubernetes `Status` errors in one place.
 * Lists and watches are served by the kind's watch cache (see watch-cache.ts).
 */
import type { KindInfo } from "../../api/kinds.ts";
import { storageKey } from "../../api/kinds.ts";
import { beforeDelete, deepEqual, prepareForCreate, prepareForUpdate } from "../../api/meta.ts";
import type { KindRules, KubeObject } from "../../api/object.ts";
import {
  alreadyExists,
  badRequest,
  conflict,
  expired,
  invalid,
  notFound,
  StatusError,
  timeout,
  type GroupResource,
} from "../../api/status-error.ts";
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  type Backend,
} from "../../storage/backend.ts";
import type { WatchCache } from "../watch-cache.ts";
import { cachedObject, codecFor, type CachedObject, type Codec } from "./codec.ts";
import { recordUpdate } from "../apply/apply.ts";
import { strategyFor, type KindStrategy } from "./strategies.ts";

export interface WriteOptions {
  dryRun?: boolean;
  /** `status` for the status subresource; other subresources are handled by their handlers. */
  subresource?: "status" | "binding" | "finalize" | "scale";
  now?: Date;
  /** Who makes the write: its changed fields are recorded in managedFields as theirs. */
  fieldManager?: string;
  /** The object already went through server-side apply, which recorded its ownership. */
  applied?: boolean;
}

export interface DeleteRequest {
  dryRun?: boolean;
  gracePeriodSeconds?: number;
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  /** The object: as deleted, or as now marked for deletion when `deleted` is false. */
  obj: KubeObject;
  deleted: boolean;
}

/** Translates a datastore sentinel error into the Status error users see. */
export function storageError(err: unknown, gr: GroupResource, name: string): unknown {
  if (err instanceof KeyExistsError) return alreadyExists(gr, name);
  if (err instanceof KeyNotFoundError) return notFound(gr, name);
  if (err instanceof ConflictError) return conflict(gr, name);
  if (err instanceof CompactedError) {
    return expired(`The resourceVersion for the provided list is too old.`);
  }
  if (err instanceof FutureRevisionError)
    return timeout(`Too large resource version: ${err.requested}, current: ${err.current}`, 1);
  return err;
}

/** How many times a read-modify-write retries after losing a race. */
const MAX_RETRIES = 8;

/** The store of one kind. */
export class ResourceStore {
  readonly gr: GroupResource;
  readonly codec: Codec;
  private readonly strategy: KindStrategy;

  constructor(
    readonly info: KindInfo,
    private readonly backend: Backend,
    readonly cache: WatchCache,
    private readonly rules: KindRules | undefined,
    /** Refuses a create in a namespace that is missing or terminating. */
    private readonly admitNamespace: (namespace: string, info: KindInfo) => Promise<void>,
    /** The kind's strategy when it needs server state (Services' allocator); else the static one. */
    strategy?: KindStrategy,
  ) {
    this.gr = { group: info.group, resource: info.resource };
    this.strategy = strategy ?? strategyFor(info);
    this.codec = codecFor(info);
  }

  key(namespace: string, name: string): string {
    return storageKey(this.info, namespace, name);
  }

  private invalid(name: string, errs: ReturnType<KindRules["validate"]>): StatusError {
    return invalid(this.info.kind, this.info.group, name, errs);
  }

  /** `next` with the writer's changed fields recorded in managedFields (applies did that already). */
  private trackOwnership(old: KubeObject | undefined, next: KubeObject, opts: WriteOptions): KubeObject {
    if (!opts.fieldManager || opts.applied) return next;
    return recordUpdate(old, next, {
      group: this.info.group,
      version: this.info.version,
      kind: this.info.kind,
      manager: opts.fieldManager,
      now: opts.now ?? new Date(),
      operation: "Update",
      hasStatusSubresource: this.info.hasStatusSubresource,
      ...(opts.subresource ? { subresource: opts.subresource } : {}),
    });
  }

  /** Checks that a body is of this kind and version; a body that names neither gets the endpoint's, as upstream. */
  checkKind(obj: KubeObject): void {
    obj.apiVersion ??= this.info.apiVersion;
    obj.kind ??= this.info.kind;
    if (obj.apiVersion !== this.info.apiVersion) {
      throw badRequest(
        `the API version in the data (${obj.apiVersion ?? ""}) does not match the expected API version (${this.info.apiVersion})`,
      );
    }
    if (obj.kind !== this.info.kind) {
      throw badRequest(
        `the kind in the data (${obj.kind ?? ""}) does not match the expected kind (${this.info.kind})`,
      );
    }
  }

  /** The current object, read from the datastore (a consistent read). */
  async get(namespace: string, name: string): Promise<CachedObject> {
    const kv = await this.backend.get(this.key(namespace, name));
    if (!kv) throw notFound(this.gr, name);
    return this.codec.decode(kv);
  }

  /** POST: `body` becomes the store's (it is changed in place). */
  async create(namespace: string, body: KubeObject, opts: WriteOptions = {}): Promise<CachedObject> {
    this.checkKind(body);
    if (body.metadata?.resourceVersion) {
      throw badRequest("resourceVersion should not be set on objects to be created");
    }
    this.rules?.defaults?.(body);
    const obj = prepareForCreate(body, {
      now: opts.now ?? new Date(),
      namespaced: this.info.namespaced,
      requestNamespace: namespace,
      hasStatusSubresource: this.info.hasStatusSubresource && !this.strategy.keepsStatusOnCreate,
      tracksGeneration: this.info.generation !== "none",
      inPlace: true,
    });
    this.strategy.prepareForCreate?.(obj);
    await this.strategy.admit?.(obj);
    dropEmptyMetadata(obj.metadata);
    obj.metadata.managedFields = this.trackOwnership(undefined, obj, opts).metadata.managedFields;
    const name = obj.metadata.name ?? "";
    const allocation = await this.strategy.allocate?.(obj, undefined);
    let stored = false;
    try {
      const errs = this.rules?.validate(obj) ?? [];
      if (errs.length) throw this.invalid(name, errs);
      if (this.info.namespaced) await this.admitNamespace(obj.metadata.namespace ?? "", this.info);
      const key = this.key(obj.metadata.namespace ?? "", name);
      if (opts.dryRun) {
        if (await this.backend.get(key)) throw alreadyExists(this.gr, name);
        return cachedObject(key, obj, 0);
      }
      try {
        const kv = await this.backend.create(key, this.codec.encode(obj));
        stored = true;
        obj.metadata.resourceVersion = String(kv.modRevision);
        return cachedObject(key, obj, kv.modRevision);
      } catch (e) {
        throw storageError(e, this.gr, name);
      }
    } finally {
      if (stored) allocation?.commit();
      else allocation?.rollback();
    }
  }

  /**
   * Writes `next` over `cur` (already read) as an update: metadata rules, strategy, validation
   * against the old object, an unchanged object left unwritten, guarded by cur's revision.
   * `next` becomes the store's (it is changed in place); `cur` is never changed.
   */
  private async writeUpdate(cur: CachedObject, next: KubeObject, opts: WriteOptions): Promise<CachedObject> {
    this.checkKind(next);
    const name = cur.obj.metadata.name ?? "";
    if (next.metadata?.name !== undefined && next.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const rv = next.metadata?.resourceVersion;
    if (rv && rv !== String(cur.rev)) throw conflict(this.gr, name);
    if (!opts.subresource) this.rules?.defaults?.(next);
    const obj = prepareForUpdate(next, cur.obj, {
      hasStatusSubresource: this.info.hasStatusSubresource,
      namespaced: this.info.namespaced,
      requestNamespace: cur.obj.metadata.namespace ?? "",
      tracksGeneration: this.info.generation !== "none" && this.info.generation !== "create-only",
      generationCountsAnnotations: this.info.generation === "spec-or-annotations",
      inPlace: true,
      ...(opts.subresource === "status" ? { subresource: "status" as const } : {}),
    });
    obj.metadata.resourceVersion = String(cur.rev);
    this.strategy.prepareForUpdate?.(obj, cur.obj, opts.subresource);
    dropEmptyMetadata(obj.metadata);
    obj.metadata.managedFields = this.trackOwnership(cur.obj, obj, opts).metadata.managedFields;
    const allocation = opts.subresource ? undefined : await this.strategy.allocate?.(obj, cur.obj);
    let kv;
    try {
      // A binding sets spec.nodeName, which a pod update may not: it is its own write, as upstream.
      const errs =
        opts.subresource === "binding"
          ? []
          : this.rules?.validateUpdate
            ? this.rules.validateUpdate(obj, cur.obj)
            : (this.rules?.validate(obj) ?? []);
      if (errs.length) throw this.invalid(name, errs);
      if (deepEqual(obj, cur.obj)) return cur;
      if (opts.dryRun) return cachedObject(cur.key, obj, cur.rev);
      kv = await this.backend.update(cur.key, this.codec.encode(obj), cur.rev);
    } finally {
      if (kv) allocation?.commit();
      else allocation?.rollback();
    }
    obj.metadata.resourceVersion = String(kv.modRevision);
    // An object being deleted with no grace left is removed once its last finalizer goes.
    const meta = obj.metadata;
    if (
      meta.deletionTimestamp &&
      !(meta.finalizers ?? []).length &&
      !meta.deletionGracePeriodSeconds &&
      (this.strategy.mayRemove?.(obj) ?? true)
    ) {
      const gone = await this.backend.delete(cur.key, kv.modRevision).catch((e: unknown) => {
        if (!(e instanceof ConflictError || e instanceof KeyNotFoundError)) throw e;
      });
      if (gone) this.strategy.removed?.(obj);
    }
    return cachedObject(cur.key, obj, kv.modRevision);
  }

  /** PUT: replaces the object; a stale resourceVersion is a 409. `body` becomes the store's. */
  async update(
    namespace: string,
    name: string,
    body: KubeObject,
    opts: WriteOptions = {},
  ): Promise<CachedObject> {
    // A body without a resourceVersion is an unconditional update: retried as guaranteedUpdate is.
    const rv = body.metadata?.resourceVersion;
    if (!rv) return this.guaranteedUpdate(namespace, name, () => structuredClone(body), opts);
    // The version the client wrote against, from the watch cache when it holds exactly that one
    // (if the datastore has moved on, the guarded write fails as a conflict, as it should).
    const cached = this.cache.get(this.key(namespace, name));
    const cur = cached && String(cached.rev) === rv ? cached : await this.get(namespace, name);
    try {
      return await this.writeUpdate(cur, body, opts);
    } catch (e) {
      throw storageError(e, this.gr, name);
    }
  }

  /**
   * Read-modify-write (patch, scale, status changes): `mutate` gets a private copy of the
   * current object and returns the desired one; retried from a fresh read when another
   * writer got in between, unless the result pins a resourceVersion.
   */
  async guaranteedUpdate(
    namespace: string,
    name: string,
    mutate: (cur: KubeObject) => KubeObject | Promise<KubeObject>,
    opts: WriteOptions = {},
  ): Promise<CachedObject> {
    // The first try starts from the watch cache's copy, as upstream's does; any failure then
    // (it may be stale) is retried from a datastore read.
    let cached = this.cache.get(this.key(namespace, name));
    for (let attempt = 0; ; attempt++) {
      const cur = cached ?? (await this.get(namespace, name));
      const next = await mutate(structuredClone(cur.obj));
      const pinned = next.metadata?.resourceVersion && next.metadata.resourceVersion !== String(cur.rev);
      try {
        return await this.writeUpdate(cur, next, opts);
      } catch (e) {
        if (cached) {
          cached = undefined;
          continue;
        }
        if (e instanceof ConflictError && !pinned && attempt < MAX_RETRIES) continue;
        throw storageError(e, this.gr, name);
      }
    }
  }

  /** DELETE with upstream's graceful deletion, finalizers and propagation finalizers. */
  async delete(namespace: string, name: string, req: DeleteRequest = {}): Promise<DeleteResult> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.get(namespace, name);
      const pre = req.preconditions;
      if (pre?.uid && pre.uid !== cur.obj.metadata.uid) {
        throw conflict(
          this.gr,
          name,
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.obj.metadata.uid ?? ""}`,
        );
      }
      if (pre?.resourceVersion && pre.resourceVersion !== String(cur.rev)) {
        throw conflict(
          this.gr,
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.rev}`,
        );
      }
      let obj = structuredClone(cur.obj);
      const held = this.strategy.holdDelete?.(obj, new Date());
      if (held) {
        if (held === obj || req.dryRun) return { obj: held, deleted: false };
        try {
          const kv = await this.backend.update(cur.key, this.codec.encode(held), cur.rev);
          held.metadata.resourceVersion = String(kv.modRevision);
          return { obj: held, deleted: false };
        } catch (e) {
          if (e instanceof ConflictError && !pre?.resourceVersion && attempt < MAX_RETRIES) continue;
          throw storageError(e, this.gr, name);
        }
      }
      const finalizer = propagationFinalizer(req);
      if (finalizer && !obj.metadata.deletionTimestamp) {
        const fins = (obj.metadata.finalizers ?? []).filter(
          (f) => f !== "orphan" && f !== "foregroundDeletion",
        );
        obj.metadata.finalizers = [...fins, finalizer];
      }
      const grace = this.strategy.gracePeriod?.(obj, req.gracePeriodSeconds) ?? req.gracePeriodSeconds;
      const plan = beforeDelete(obj, {
        now: new Date(),
        graceful: this.strategy.graceful === true,
        ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
      });
      obj = plan.obj;
      try {
        if (plan.action === "pending") return { obj: cur.obj, deleted: false };
        if (req.dryRun) return { obj, deleted: plan.action === "delete" };
        if (plan.action === "update") {
          const kv = await this.backend.update(cur.key, this.codec.encode(obj), cur.rev);
          obj.metadata.resourceVersion = String(kv.modRevision);
          return { obj, deleted: false };
        }
        const kv = await this.backend.delete(cur.key, cur.rev);
        const gone = this.codec.decode(kv);
        this.strategy.removed?.(gone.obj);
        return { obj: gone.obj, deleted: true };
      } catch (e) {
        if (e instanceof ConflictError && !pre?.resourceVersion && attempt < MAX_RETRIES) continue;
        throw storageError(e, this.gr, name);
      }
    }
  }
}

/**
 * Empty label and annotation maps and empty finalizer and owner lists are absent, as in
 * upstream's encoding (Go's omitempty): a patch that removes the last owner leaves no `[]`.
 */
function dropEmptyMetadata(meta: KubeObject["metadata"]): void {
  if (meta.labels && Object.keys(meta.labels).length === 0) delete meta.labels;
  if (meta.annotations && Object.keys(meta.annotations).length === 0) delete meta.annotations;
  if (meta.finalizers?.length === 0) delete meta.finalizers;
  if (meta.ownerReferences?.length === 0) delete meta.ownerReferences;
}

/** The finalizer a propagation policy asks for (Foreground and Orphan), as upstream's registry adds it. */
function propagationFinalizer(req: DeleteRequest): string | undefined {
  if (req.propagationPolicy === "Foreground") return "foregroundDeletion";
  if (req.propagationPolicy === "Orphan" || (req.propagationPolicy === undefined && req.orphanDependents))
    return "orphan";
  return undefined;
}
