/**
 * @module The etcd driver of the storage contract (`../backend.ts`), over the `etcd3` gRPC
 * client. Revisions are etcd's own: create is a transaction "if createRevision == 0 then
 * put", update and delete are "if modRevision == expected then put/delete else get", list is
 * a range read at one revision, watch is an etcd watch with previous values, and compaction
 * is etcd's (physical) compaction. Keys may live under an extra `prefix` so several stores
 * can share one etcd. The client never re-sends a call by itself: reads are retried here, and
 * a write whose answer was lost is settled from etcd's history (`etcd-faults.ts`).
 */

import {
  CompareResult,
  CompareTarget,
  Etcd3,
  type IDuplexStream,
  type IEvent,
  type IKeyValue,
  type IWatchRequest,
  type IWatchResponse,
} from "etcd3";
import {
  clientFaultHandling,
  endStream,
  firstChangeAfter,
  retryRead,
  watchOnce,
  WriteOutcomeUnknownError,
  writeOutcomeUnknown,
} from "./etcd-faults.ts";
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  prefixEnd,
  type Backend,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type WatchEvent,
  type WatchHandler,
  type WatchOptions,
} from "../backend.ts";

/** How long `openEtcd` waits for the first answer before reporting etcd unreachable. */
const CONNECT_TIMEOUT_MS = 3_000;
/** Deadline of every unary call, so that a stuck etcd surfaces as an error instead of a hang. */
const REQUEST_TIMEOUT_MS = 30_000;
/** A key nobody writes: cheap ranges on it report the header revision or probe compaction. */
const PROBE_KEY = Buffer.from([0]);
/** A watch whose stream keeps failing for this long reports the failure and ends. */
const WATCH_GIVE_UP_MS = 30_000;
/** How long each step of settling a write whose answer was lost may wait for etcd. */
const SETTLE_TIMEOUT_MS = 5_000;

/** Options of {@link openEtcd}. */
export interface EtcdOptions {
  /** Put every key under this prefix (e.g. `/kites`), so several stores can share an etcd. */
  prefix?: string;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** etcd's "mvcc: required revision has been compacted". */
function isCompactedErr(err: unknown): boolean {
  return err instanceof Error && err.message.includes("required revision has been compacted");
}

/** etcd's "mvcc: required revision is a future revision". */
function isFutureErr(err: unknown): boolean {
  return err instanceof Error && err.message.includes("required revision is a future revision");
}

type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

/**
 * One `Backend.watch`: its own etcd watch stream with previous values. Each etcd response
 * becomes one `onEvents` batch. A broken stream is re-opened from the last delivered
 * revision (so nothing is lost or repeated) until {@link WATCH_GIVE_UP_MS} of failures.
 */
class EtcdWatch {
  /** The newest revision delivered (or the revision the watch starts after). */
  private lastRev: number;
  private stream: WatchStream | undefined;
  private done = false;
  private attempt = 0;
  private failingSince = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly signal: AbortSignal;
  private readonly onAbort = (): void => this.finish();

  constructor(
    private readonly backend: EtcdBackend,
    private readonly key: Buffer,
    private readonly rangeEnd: Buffer,
    private readonly strip: number,
    opts: WatchOptions,
    private readonly handler: WatchHandler,
  ) {
    this.lastRev = opts.afterRevision;
    this.signal = opts.signal;
    this.signal.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Opens (or re-opens) the etcd watch stream. */
  async connect(): Promise<void> {
    let stream: WatchStream;
    try {
      // "From now on" is pinned to a revision so that a re-opened stream resumes exactly.
      if (this.lastRev === 0) this.lastRev = await this.backend.currentRevision();
      stream = await this.backend.client.watchClient.watch();
    } catch (err) {
      this.retry(err);
      return;
    }
    if (this.done) {
      endStream(stream);
      return;
    }
    this.stream = stream;
    stream.on("data", (res: IWatchResponse) => this.onResponse(stream, res));
    stream.on("error", (err: Error) => this.onBroken(stream, err));
    stream.on("end", () => this.onBroken(stream, new Error("etcd ended the watch stream")));
    stream.write({
      create_request: {
        key: this.key,
        range_end: this.rangeEnd,
        start_revision: this.lastRev + 1,
        prev_kv: true,
      },
    });
  }

  private onResponse(stream: WatchStream, res: IWatchResponse): void {
    if (this.done || stream !== this.stream) return;
    const compacted = Number(res.compact_revision);
    if (compacted > 0) {
      this.backend.noteCompacted(compacted);
      this.fail(new CompactedError(this.lastRev, compacted));
    } else if (res.canceled) {
      this.fail(new Error(`etcd cancelled the watch: ${res.cancel_reason}`));
    } else if (res.created) {
      this.attempt = 0;
      this.failingSince = 0;
    } else if (res.events.length > 0) {
      const batch = this.convert(res);
      if (batch.length === 0) return;
      this.lastRev = batch[batch.length - 1]!.kv.modRevision;
      this.handler.onEvents(batch);
    } else {
      // A progress notification: nothing under the prefix up to the header's revision.
      const rev = Number(res.header?.revision ?? 0);
      if (rev > this.lastRev) {
        this.lastRev = rev;
        this.handler.onProgress?.(rev);
      }
    }
  }

  /** Asks etcd for a progress notification on this watch's stream. */
  requestProgress(): void {
    if (!this.done && this.stream) this.stream.write({ progress_request: {} });
  }

  /** Turns one etcd response into contract events, skipping any already delivered. */
  private convert(res: IWatchResponse): WatchEvent[] {
    const out: WatchEvent[] = [];
    for (const ev of res.events) {
      const kv = ev.kv;
      const rev = Number(kv.mod_revision);
      if (rev <= this.lastRev) continue;
      const key = kv.key.toString("utf8", this.strip);
      const p = ev.prev_kv;
      const prev: KeyValue | undefined = p
        ? {
            key,
            value: p.value.toString("utf8"),
            createRevision: Number(p.create_revision),
            modRevision: Number(p.mod_revision),
          }
        : undefined;
      if (ev.type === "Delete") {
        const last = {
          key,
          value: prev?.value ?? "",
          createRevision: prev?.createRevision ?? 0,
          modRevision: rev,
        };
        out.push(prev ? { type: "delete", kv: last, prev } : { type: "delete", kv: last });
      } else {
        const createRevision = Number(kv.create_revision);
        const cur = { key, value: kv.value.toString("utf8"), createRevision, modRevision: rev };
        const type = createRevision === rev ? "create" : "update";
        out.push(prev && type === "update" ? { type, kv: cur, prev } : { type, kv: cur });
      }
    }
    return out;
  }

  private onBroken(stream: WatchStream, err: Error): void {
    if (this.done || stream !== this.stream) return;
    this.stream = undefined;
    if (this.backend.isClosed) this.fail(new Error("etcd backend closed"));
    else this.retry(err);
  }

  /** Schedules a reconnect with backoff, or gives up after failing for too long. */
  private retry(err: unknown): void {
    if (this.done) return;
    const now = Date.now();
    if (this.failingSince === 0) this.failingSince = now;
    if (this.backend.isClosed || now - this.failingSince > WATCH_GIVE_UP_MS) {
      this.fail(new Error(`etcd watch failed: ${errorMessage(err)}`, { cause: err }));
      return;
    }
    const delay = Math.min(100 * 2 ** this.attempt++, 2_000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, delay);
  }

  /** Ends the watch and reports `err` (unless the caller aborted). */
  fail(err: Error): void {
    if (this.done) return;
    this.finish();
    if (!this.signal.aborted) this.handler.onError(err);
  }

  /** Ends the watch silently. */
  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.signal.removeEventListener("abort", this.onAbort);
    if (this.timer) clearTimeout(this.timer);
    if (this.stream) endStream(this.stream);
    this.stream = undefined;
    this.backend.forget(this);
  }
}

/** The etcd implementation of {@link Backend}; obtain one with {@link openEtcd}. */
class EtcdBackend implements Backend {
  readonly name = "etcd";
  /** The highest compacted revision this client has seen etcd report or has compacted to. */
  private compacted = 0;
  /** True once `close` has begun. */
  isClosed = false;
  private readonly watches = new Set<EtcdWatch>();
  /** Byte length of the key prefix, stripped from every key read back. */
  private readonly strip: number;

  constructor(
    readonly client: Etcd3,
    private readonly prefix: string,
  ) {
    this.strip = Buffer.byteLength(prefix);
  }

  private k(key: string): Buffer {
    return Buffer.from(this.prefix + key);
  }

  /** The exclusive end of the range holding every key under `prefix`. */
  private end(prefix: string): Buffer {
    const full = this.prefix + prefix;
    // etcd reads range_end "\0" as "every key >= key".
    return full === "" ? Buffer.from([0]) : Buffer.from(prefixEnd(full));
  }

  /** Converts one etcd pair; `key` may be passed when already decoded. */
  private kv(kv: IKeyValue, key?: string): KeyValue {
    return {
      key: key ?? kv.key.toString("utf8", this.strip),
      value: kv.value.toString("utf8"),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  /** Records a compacted revision etcd reported. */
  noteCompacted(rev: number): void {
    if (rev > this.compacted) this.compacted = rev;
  }

  /** Unregisters a finished watch. */
  forget(w: EtcdWatch): void {
    this.watches.delete(w);
  }

  async currentRevision(): Promise<number> {
    const res = await this.read(() => this.client.kv.range({ key: PROBE_KEY, count_only: true }));
    return Number(res.header.revision);
  }

  async get(key: string): Promise<KeyValue | null> {
    const res = await this.read(() => this.client.kv.range({ key: this.k(key) }));
    const kv = res.kvs[0];
    return kv ? this.kv(kv, key) : null;
  }

  /** Runs an idempotent call with retries, unless the backend is closing. */
  private read<T>(call: () => Promise<T>): Promise<T> {
    return retryRead(call, () => this.isClosed);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const k = this.k(key);
    let res;
    try {
      res = await this.client.kv.txn({
        compare: [{ key: k, target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 }],
        success: [{ request_put: { key: k, value: Buffer.from(value) } }],
      });
    } catch (err) {
      if (!writeOutcomeUnknown(err)) throw err;
      return this.settle(key, err, () => this.settleCreate(key, k, value));
    }
    if (!res.succeeded) throw new KeyExistsError(key);
    const rev = Number(res.header.revision);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  /** The error for a guarded write whose guard failed: the current value, or not found. */
  private guardFailure(key: string, current: IKeyValue | undefined): Error {
    return current ? new ConflictError(key, this.kv(current, key)) : new KeyNotFoundError(key);
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    const k = this.k(key);
    if (!(expectedRevision > 0)) {
      // modRevision == 0 would match an absent key and create it: never a valid guard.
      const cur = await this.read(() => this.client.kv.range({ key: k }));
      throw this.guardFailure(key, cur.kvs[0]);
    }
    let res;
    try {
      res = await this.client.kv.txn({
        compare: [
          { key: k, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: expectedRevision },
        ],
        success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      });
    } catch (err) {
      if (!writeOutcomeUnknown(err)) throw err;
      const data = Buffer.from(value);
      return this.settle(key, err, () =>
        this.settleGuarded(key, k, expectedRevision, (ev) =>
          ev.type === "Put" && ev.kv.value.equals(data)
            ? {
                key,
                value,
                createRevision: Number(ev.kv.create_revision),
                modRevision: Number(ev.kv.mod_revision),
              }
            : undefined,
        ),
      );
    }
    if (!res.succeeded) throw this.guardFailure(key, res.responses[0]?.response_range.kvs[0]);
    const prev = res.responses[0]?.response_put.prev_kv;
    const rev = Number(res.header.revision);
    return { key, value, createRevision: prev ? Number(prev.create_revision) : rev, modRevision: rev };
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    // As in kine, an expected revision of 0 (or none) means an unguarded delete. It is done as
    // upstream's store deletes: read, then delete guarded by what was read (again on a race),
    // so that a delete whose answer was lost can be settled like any guarded write.
    if (expectedRevision) return this.guardedDelete(key, expectedRevision);
    for (;;) {
      const cur = await this.get(key);
      if (!cur) throw new KeyNotFoundError(key);
      try {
        return await this.guardedDelete(key, cur.modRevision);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
  }

  private async guardedDelete(key: string, expectedRevision: number): Promise<KeyValue> {
    const k = this.k(key);
    let res;
    try {
      res = await this.client.kv.txn({
        compare: [
          { key: k, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: expectedRevision },
        ],
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      });
    } catch (err) {
      if (!writeOutcomeUnknown(err)) throw err;
      return this.settle(key, err, () =>
        this.settleGuarded(key, k, expectedRevision, (ev) =>
          ev.type === "Delete" ? this.deleted(key, ev.prev_kv, Number(ev.kv.mod_revision)) : undefined,
        ),
      );
    }
    if (!res.succeeded) throw this.guardFailure(key, res.responses[0]?.response_range.kvs[0]);
    const prev = res.responses[0]?.response_delete_range.prev_kvs[0];
    if (!prev) throw new KeyNotFoundError(key);
    return this.deleted(key, prev, Number(res.header.revision));
  }

  /** The answer of a delete: the last value, with the delete's revision. */
  private deleted(key: string, prev: IKeyValue, rev: number): KeyValue {
    return {
      key,
      value: prev.value.toString("utf8"),
      createRevision: Number(prev.create_revision),
      modRevision: rev,
    };
  }

  /**
   * Answers a write whose request may have reached etcd but whose answer was lost (the client
   * no longer re-sends it: a re-sent compare would fail on our own landed write). `decide`
   * reads etcd and returns what the write did (its result, or the error it met); when etcd
   * cannot tell (the write may still be in flight, history is compacted, etcd is unreachable)
   * the answer is {@link WriteOutcomeUnknownError}, as upstream answers an etcd error (500).
   */
  private async settle(
    key: string,
    cause: unknown,
    decide: () => Promise<KeyValue | Error | undefined>,
  ): Promise<KeyValue> {
    let outcome: KeyValue | Error | undefined;
    try {
      outcome = await decide();
    } catch {
      outcome = undefined;
    }
    if (outcome === undefined) throw new WriteOutcomeUnknownError(key, cause);
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }

  /** Reads a key (now, or at `revision`) for settling, each attempt bounded in time. */
  private async settleRead(k: Buffer, revision = 0): Promise<IKeyValue | undefined> {
    const res = await this.read(() =>
      this.client.kv.range({ key: k, revision }, { deadline: Date.now() + SETTLE_TIMEOUT_MS }),
    );
    return res.kvs[0];
  }

  /**
   * A create landed if the key's current incarnation was created with our value (objects carry
   * a fresh uid, so two creates do not write the same bytes). Otherwise it may yet land (once
   * the key is deleted) or have landed and been deleted since: unknown.
   */
  private async settleCreate(key: string, k: Buffer, value: string): Promise<KeyValue | undefined> {
    const cur = await this.settleRead(k);
    if (!cur) return undefined;
    const created = Number(cur.create_revision);
    const first = Number(cur.mod_revision) === created ? cur : await this.settleRead(k, created);
    if (!first?.value.equals(Buffer.from(value))) return undefined;
    return { key, value, createRevision: created, modRevision: created };
  }

  /**
   * A write guarded by modRevision == `expected` can only ever be the first change to the key
   * after `expected`. So: while the key is still at `expected`, the write may be in flight
   * (unknown); if the key was not at `expected` then, the guard failed; otherwise the first
   * change after it is either ours (`ours` recognises it and gives the result) or another
   * writer's, which made our guard fail for good. (Another writer guarded by the same revision
   * and writing the very same bytes cannot be told from us; the key then holds what we wrote.)
   */
  private async settleGuarded(
    key: string,
    k: Buffer,
    expected: number,
    ours: (ev: IEvent) => KeyValue | undefined,
  ): Promise<KeyValue | Error | undefined> {
    const cur = await this.settleRead(k);
    if (cur && Number(cur.mod_revision) === expected) return undefined;
    const then = await this.settleRead(k, expected);
    if (!then || Number(then.mod_revision) !== expected) return this.guardFailure(key, cur);
    const ev = await firstChangeAfter(this.client, k, expected, SETTLE_TIMEOUT_MS);
    const landed = Number(ev.prev_kv?.mod_revision) === expected ? ours(ev) : undefined;
    return landed ?? this.guardFailure(key, cur);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const revision = opts.revision ?? 0;
    const limit = opts.limit ?? 0;
    const start = opts.startKey !== undefined && opts.startKey > prefix ? opts.startKey : prefix;
    try {
      const res = await this.read(() =>
        this.client.kv.range({
          key: this.k(start),
          range_end: this.end(prefix),
          revision: revision > 0 ? revision : 0,
          limit: limit > 0 ? limit : 0,
        }),
      );
      const kvs = new Array<KeyValue>(res.kvs.length);
      for (let i = 0; i < res.kvs.length; i++) kvs[i] = this.kv(res.kvs[i]!);
      return { kvs, revision: revision > 0 ? revision : Number(res.header.revision), more: res.more };
    } catch (err) {
      throw await this.mapRevisionError(err, revision);
    }
  }

  async count(prefix: string): Promise<number> {
    const res = await this.read(() =>
      this.client.kv.range({ key: this.k(prefix), range_end: this.end(prefix), count_only: true }),
    );
    return Number(res.count);
  }

  watch(prefix: string, opts: WatchOptions, handler: WatchHandler): void {
    if (opts.signal.aborted) return;
    let early: Error | undefined;
    if (this.isClosed) early = new Error("etcd backend is closed");
    else if (opts.afterRevision > 0 && opts.afterRevision < this.compacted) {
      early = new CompactedError(opts.afterRevision, this.compacted);
    }
    if (early) {
      const err = early;
      queueMicrotask(() => {
        if (!opts.signal.aborted) handler.onError(err);
      });
      return;
    }
    const w = new EtcdWatch(this, this.k(prefix), this.end(prefix), this.strip, opts, handler);
    this.watches.add(w);
    void w.connect();
  }

  requestProgress(): void {
    for (const w of this.watches) w.requestProgress();
  }

  async compact(revision: number): Promise<void> {
    try {
      // Idempotent: a repeat of a compaction that landed is "already compacted", handled below.
      await this.read(() => this.client.kv.compact({ revision, physical: true }));
      this.noteCompacted(revision);
    } catch (err) {
      // Compacting to a revision at or below the compacted one has nothing left to drop.
      if (isCompactedErr(err)) {
        await this.compactedRevision();
        return;
      }
      throw await this.mapRevisionError(err, revision);
    }
  }

  async compactedRevision(): Promise<number> {
    // A read at the highest compacted revision we know of succeeds unless etcd has since been
    // compacted further (by this client or another one); then ask etcd where it stands.
    const known = this.compacted;
    try {
      const probe = { key: PROBE_KEY, count_only: true, revision: Math.max(known, 1) };
      await this.read(() => this.client.kv.range(probe));
      return known;
    } catch (err) {
      if (!isCompactedErr(err)) throw err;
      return this.probeCompacted(Math.max(known, 1));
    }
  }

  /**
   * Asks etcd for its compacted revision: a watch from a revision known to be compacted is
   * cancelled at once with the compacted revision in the response.
   */
  private async probeCompacted(compactedRev: number): Promise<number> {
    const rev = await watchOnce(
      this.client,
      { key: PROBE_KEY, start_revision: compactedRev },
      (res) => (Number(res.compact_revision) > 0 ? Number(res.compact_revision) : undefined),
      5_000,
    );
    this.noteCompacted(rev);
    return this.compacted;
  }

  /** Maps etcd's revision errors of a read or compaction at `revision` to the sentinels. */
  private async mapRevisionError(err: unknown, revision: number): Promise<unknown> {
    if (isCompactedErr(err)) {
      const compacted = await this.compactedRevision().catch(() => this.compacted);
      return new CompactedError(revision, compacted);
    }
    if (isFutureErr(err)) {
      const current = await this.currentRevision().catch(() => 0);
      return new FutureRevisionError(revision, current);
    }
    return err;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    const closing = new Error("etcd backend closed");
    for (const w of [...this.watches]) w.fail(closing);
    this.watches.clear();
    this.client.close();
  }
}

/**
 * Connects to etcd at `endpoints` (URLs such as `http://127.0.0.1:2379`) and returns the
 * storage backend. Fails within a few seconds, naming the endpoints, when etcd does not answer.
 */
export async function openEtcd(endpoints: string[], opts: EtcdOptions = {}): Promise<Backend> {
  if (endpoints.length === 0) throw new Error("openEtcd: no etcd endpoints given");
  const client = new Etcd3({
    hosts: endpoints,
    faultHandling: clientFaultHandling,
    grpcOptions: { "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1 },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + REQUEST_TIMEOUT_MS }),
  });
  try {
    const deadline = Date.now() + CONNECT_TIMEOUT_MS;
    await retryRead(() => client.kv.range({ key: PROBE_KEY, count_only: true }, { deadline }));
  } catch (err) {
    client.close();
    throw new Error(`cannot reach etcd at ${endpoints.join(", ")}: ${errorMessage(err)}`, { cause: err });
  }
  return new EtcdBackend(client, opts.prefix ?? "");
}
