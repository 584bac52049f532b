/**
 * @module The storage contract every datastore driver implements (sqlite, etcd, memory),
 * shaped after kine: a flat, ordered key space where every change gets the next store-wide
 * revision; create fails if the key exists; update and delete are guarded by the revision
 * the caller last saw; list reads a consistent snapshot at one revision, page by page; watch
 * streams every change after a revision, in revision order, exactly once; compaction drops
 * history older than a revision. The apiserver is the only caller; it maps the sentinel
 * errors below to Kubernetes `Status` errors in one place.
 *
 * Values are opaque strings (the apiserver stores JSON). Keys are `/`-separated paths such
 * as `/registry/pods/default/web-0`; prefixes end with `/`.
 */

/** One key at one revision. */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision at which this key was (last) created. */
  createRevision: number;
  /** Revision of the change that produced this value (for a delete event: the delete's revision). */
  modRevision: number;
}

export type WatchEventType = "create" | "update" | "delete";

/**
 * One change. For `create` and `update`, `kv` is the new value; for `delete`, `kv.value` is
 * the last value the key had and `kv.modRevision` the revision of the delete. `prev` is the
 * value before the change (absent for `create`).
 */
export interface WatchEvent {
  type: WatchEventType;
  kv: KeyValue;
  prev?: KeyValue;
}

export interface ListOptions {
  /** Read at this revision; 0 or absent = the current revision. */
  revision?: number;
  /** At most this many items; 0 or absent = all. */
  limit?: number;
  /** Start at this key (inclusive) instead of at the prefix: how pagination continues. */
  startKey?: string;
}

export interface ListResult {
  kvs: KeyValue[];
  /** The revision the list was read at; pass it back with `startKey` for the next page. */
  revision: number;
  /** True when keys under the prefix remain after the last one returned. */
  more: boolean;
}

export interface WatchOptions {
  /** Deliver every change with a revision greater than this (0 = from now on). */
  afterRevision: number;
  /** Stops the watch; no callback is made after it fires. */
  signal: AbortSignal;
}

/**
 * The receiver of a watch. `onEvents` gets batches in revision order; a batch is never
 * empty. `onError` is called at most once (e.g. with `CompactedError`, or when the
 * backend closes) and ends the watch.
 */
export interface WatchHandler {
  onEvents(events: WatchEvent[]): void;
  onError(err: Error): void;
  /**
   * Progress: every change under the prefix up to `revision` has been delivered (there may
   * have been none). Lets a cache of a quiet prefix prove it is current (etcd's progress
   * notification).
   */
  onProgress?(revision: number): void;
}

export interface Backend {
  /** The driver's name for messages and metrics: `sqlite`, `etcd`, `memory`. */
  readonly name: string;
  /** The newest revision of the store. */
  currentRevision(): Promise<number>;
  /** The current value of a key, or null. */
  get(key: string): Promise<KeyValue | null>;
  /** Creates a key; throws `KeyExistsError` if it exists. Resolves once durable. */
  create(key: string, value: string): Promise<KeyValue>;
  /**
   * Replaces a key's value if its modRevision is still `expectedRevision`; otherwise throws
   * `ConflictError` carrying the current value (or `KeyNotFoundError` if the key is gone).
   */
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue>;
  /**
   * Deletes a key, guarded by `expectedRevision` when given (throws `ConflictError` as
   * update does); throws `KeyNotFoundError` if absent. Resolves to the deleted value with
   * `modRevision` set to the delete's revision.
   */
  delete(key: string, expectedRevision?: number): Promise<KeyValue>;
  /** Keys under `prefix`, in key order, as they were at one revision. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** How many keys are under `prefix` now. */
  count(prefix: string): Promise<number>;
  /**
   * Streams changes under `prefix` after `opts.afterRevision`. Throws (or reports through
   * `onError`) `CompactedError` when that revision is older than the compacted revision.
   */
  watch(prefix: string, opts: WatchOptions, handler: WatchHandler): void;
  /** Asks every open watch to report its progress (`onProgress`) soon. */
  requestProgress(): void;
  /** Drops history older than `revision`; later reads and watches before it fail with `CompactedError`. */
  compact(revision: number): Promise<void>;
  /** The revision the store was last compacted at (0 = never). */
  compactedRevision(): Promise<number>;
  /** Stops background work and closes the store; pending watches get `onError`. */
  close(): Promise<void>;
}

/** Sentinel: `create` of a key that exists. */
export class KeyExistsError extends Error {
  constructor(readonly key: string) {
    super(`key exists: ${key}`);
    this.name = "KeyExistsError";
  }
}

/** Sentinel: `update`/`delete` of a key that does not exist. */
export class KeyNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
    this.name = "KeyNotFoundError";
  }
}

/** Sentinel: the guarded revision no longer matches; `current` is what is stored now. */
export class ConflictError extends Error {
  constructor(
    readonly key: string,
    readonly current: KeyValue,
  ) {
    super(`revision conflict on ${key}: now at ${current.modRevision}`);
    this.name = "ConflictError";
  }
}

/** Sentinel: the requested revision has been compacted away. The apiserver answers 410. */
export class CompactedError extends Error {
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`required revision ${requested} has been compacted (compacted revision ${compacted})`);
    this.name = "CompactedError";
  }
}

/** Sentinel: a read at a revision newer than the store has. */
export class FutureRevisionError extends Error {
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super(`required revision ${requested} is a future revision (current ${current})`);
    this.name = "FutureRevisionError";
  }
}

/** The smallest key greater than every key starting with `prefix` (the end of a range scan). */
export function prefixEnd(prefix: string): string {
  // Keys are ASCII paths; incrementing the last code unit gives the exclusive upper bound.
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
