/**
 * @module The client contract every component above storage uses to reach the API (the
 * scheduler, controllers, node agent, simulated nodes, proxy, DNS, ingress). Two
 * implementations: `RestClient` (HTTPS to a real API server, the only one used outside unit
 * tests) and `FakeClient` (in memory, for unit tests). Objects are plain JSON objects typed
 * with the kinds in `src/api/types`; errors are `StatusError`s as the API server sent them.
 */
import type { KindInfo } from "../api/kinds.ts";
import type { KubeObject } from "../api/object.ts";

/** Query of a list (and of the list half of a watch). */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: "Exact" | "NotOlderThan";
}

/** A list response: the items and the revision they were read at. */
export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Watch changes after this revision ("" or absent: start with the current state). */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** One watch event. For ERROR the object is a `Status` (e.g. 410 Expired). */
export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

export interface WriteOptions {
  /** `metadata.managedFields` manager; defaults to the client's own name. */
  fieldManager?: string;
  dryRun?: boolean;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/** Patch content types: JSON merge, strategic merge, JSON patch, server-side apply. */
export type PatchType = "merge" | "strategic" | "json" | "apply";

export interface PatchOptions extends WriteOptions {
  /** `status`, `scale`, … — patch the subresource instead of the main resource. */
  subresource?: string;
  /** Server-side apply only: take ownership of conflicting fields. */
  force?: boolean;
}

/**
 * Access to one resource (e.g. pods). `namespace` is ignored for cluster-scoped kinds; for
 * `list`/`watch`, an undefined namespace means all namespaces.
 */
export interface ResourceClient<T extends KubeObject = KubeObject> {
  readonly info: KindInfo;
  get(namespace: string | undefined, name: string): Promise<T>;
  list(namespace?: string, opts?: ListOptions): Promise<ListResult<T>>;
  /**
   * Streams events until the server ends the watch, `signal` aborts, or the connection
   * drops (the iterator then simply ends; callers re-list or re-watch). A watch from a
   * compacted revision yields one ERROR event with a 410 Status, then ends.
   */
  watch(namespace: string | undefined, opts: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent<T>>;
  create(obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT of the whole object; `metadata.resourceVersion` guards it (409 Conflict when stale). */
  update(obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT to the `status` subresource: only status (and some metadata) changes. */
  updateStatus(obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT to another subresource that takes the whole object (`finalize` of namespaces). */
  updateSubresource(obj: T, subresource: string, opts?: WriteOptions): Promise<T>;
  patch(
    namespace: string | undefined,
    name: string,
    type: PatchType,
    body: unknown,
    opts?: PatchOptions,
  ): Promise<T>;
  /**
   * Returns the object when the server answers with it (graceful kinds: with
   * deletionTimestamp), or undefined when it answers with a Success Status (gone at once).
   */
  delete(namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<T | undefined>;
  /** POST to a subresource such as `binding` or `eviction`; resolves with the answer body. */
  createSubresource(
    namespace: string | undefined,
    name: string,
    subresource: string,
    body: unknown,
  ): Promise<unknown>;
}

/** The whole API, one `ResourceClient` per served resource. */
export interface Client {
  /** The identity writes are recorded under (`fieldManager` default, event source). */
  readonly userAgent: string;
  /**
   * The client of a resource by group ("" for core) and plural name:
   * `client.resource<Pod>("", "pods")`, `client.resource<Deployment>("apps", "deployments")`.
   * Throws for a resource the API does not serve.
   */
  resource<T extends KubeObject = KubeObject>(group: string, resource: string): ResourceClient<T>;
}
