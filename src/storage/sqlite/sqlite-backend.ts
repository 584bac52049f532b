/**
 * @module The SQLite datastore (the default), through better-sqlite3. One MVCC table holds
 * every version of every key; the row id is the revision. Writes from concurrent callers are
 * queued and committed together in one transaction (group commit). Durability does not block
 * the event loop: the commit itself does not sync (`synchronous = NORMAL`, which in WAL mode
 * still syncs around checkpoints, so the file never corrupts), and the WAL is then synced by
 * an `fdatasync` on libuv's thread pool while the next batch is already being committed. Each
 * caller is answered, and its events reach watchers, only after the sync that covers its
 * commit, so nothing acknowledged or watched is lost even on power loss. Watches are fanned out
 * in-process (this process owns the database file: it is opened with an exclusive lock).
 * Compaction deletes superseded versions and tombstones older than a revision
 * (`../compactor.ts` schedules it).
 *
 * `memory://` is this same driver on an in-memory SQLite database.
 */
import Database from "better-sqlite3";
import { closeSync, existsSync, fdatasync, openSync } from "node:fs";
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
import { WatchHub } from "../watch-hub.ts";

/** A database file that cannot be opened as a kites datastore. Its message names the file. */
export class DatastoreOpenError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(
      `cannot open the SQLite datastore ${path}: ${detail}. The file was left untouched; ` +
        `move it aside or restore it from a backup, then start again.`,
    );
    this.name = "DatastoreOpenError";
  }
}

export interface SqliteOptions {
  /**
   * FULL (default): every acknowledged write is durable on power loss too (the WAL is synced
   * before answering). NORMAL: acknowledged writes survive a crash of the process, and may be
   * lost with the machine's power.
   */
  synchronous?: "FULL" | "NORMAL";
}

interface Row {
  rev: number;
  key: string;
  created: number;
  deleted: number;
  create_rev: number;
  prev_rev: number;
  value: string;
}

type Op =
  | { t: "create"; key: string; value: string; resolve: (kv: KeyValue) => void; reject: (e: unknown) => void }
  | {
      t: "update";
      key: string;
      value: string;
      expected: number;
      resolve: (kv: KeyValue) => void;
      reject: (e: unknown) => void;
    }
  | {
      t: "delete";
      key: string;
      expected: number | undefined;
      resolve: (kv: KeyValue) => void;
      reject: (e: unknown) => void;
    };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  rev        INTEGER PRIMARY KEY AUTOINCREMENT,
  key        TEXT    NOT NULL,
  created    INTEGER NOT NULL,
  deleted    INTEGER NOT NULL,
  create_rev INTEGER NOT NULL,
  prev_rev   INTEGER NOT NULL,
  value      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_key_rev ON kv (key, rev);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

function toKv(r: Row): KeyValue {
  return { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.rev };
}

/** Opens (creating if needed) the datastore at `path`, or `:memory:`. */
export function openSqlite(path: string, opts: SqliteOptions = {}): SqliteBackend {
  const existed = path !== ":memory:" && existsSync(path);
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (e) {
    throw new DatastoreOpenError(path, (e as Error).message);
  }
  try {
    // Reading the header first: a file that is not a database fails here, before any write.
    db.pragma("schema_version");
    if (path !== ":memory:") {
      db.pragma("locking_mode = EXCLUSIVE");
      db.pragma("journal_mode = WAL");
    }
    // FULL is reached by syncing the WAL ourselves off the event loop (see the module note).
    db.pragma("synchronous = NORMAL");
    if (existed) {
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('kv', 'meta')")
        .all() as { name: string }[];
      const hasAny = (db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number }).n > 0;
      if (hasAny && tables.length !== 2) {
        throw new Error("it is a SQLite database, but not one kites wrote (no kv/meta tables)");
      }
      const check = db.pragma("quick_check", { simple: true }) as string;
      if (check !== "ok") throw new Error(`integrity check failed: ${check}`);
    }
    db.exec(SCHEMA);
  } catch (e) {
    db.close();
    const err = e as Error & { code?: string };
    if (err.code === "SQLITE_BUSY") {
      throw new DatastoreOpenError(
        path,
        "it is in use by another process (is another kites server running?)",
      );
    }
    throw new DatastoreOpenError(path, err.message);
  }
  const syncWal = path !== ":memory:" && (opts.synchronous ?? "FULL") === "FULL";
  return new SqliteBackend(db, syncWal ? `${path}-wal` : undefined);
}

/** A committed batch waiting for the WAL sync that makes it durable. */
interface Committed {
  ops: Op[];
  results: (KeyValue | Error)[];
  events: WatchEvent[];
  rev: number;
}

/** The SQLite implementation of `Backend`. Create through `openSqlite`. */
export class SqliteBackend implements Backend {
  readonly name: string;
  private readonly hub = new WatchHub();
  private pending: Op[] = [];
  private flushScheduled = false;
  private closed = false;
  /** The newest committed revision (what writes check against). */
  private rev: number;
  /** The newest revision answered and sent to watchers (what reads and watches start from). */
  private published: number;
  /** Batches committed since the last WAL sync started, and whether one is running. */
  private unsynced: Committed[] = [];
  private syncing: Promise<void> | undefined;
  private walFd: number | undefined;
  private compactRev: number;

  private readonly stLatest: Database.Statement;
  private readonly stInsert: Database.Statement;
  private readonly stList: Database.Statement;
  private readonly stCount: Database.Statement;
  private readonly stHistory: Database.Statement;
  private readonly stSetMeta: Database.Statement;
  private readonly runBatch: (ops: Op[]) => { results: (KeyValue | Error)[]; events: WatchEvent[] };

  constructor(
    private readonly db: Database.Database,
    /** The WAL file to sync before answering; none for a memory database or NORMAL. */
    private readonly walPath?: string,
  ) {
    this.name = db.memory ? "memory" : "sqlite";
    this.stLatest = db.prepare("SELECT * FROM kv WHERE key = ? ORDER BY rev DESC LIMIT 1");
    this.stInsert = db.prepare(
      "INSERT INTO kv (rev, key, created, deleted, create_rev, prev_rev, value) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    // The newest version of each key at or below a revision, live keys only, in key order.
    // Walking the (key, rev) index in key order needs no sort; only the columns a KeyValue needs.
    this.stList = db.prepare(
      `SELECT k.key, k.value, k.create_rev, k.rev FROM kv k
       WHERE k.key >= ? AND k.key < ? AND k.deleted = 0
         AND k.rev = (SELECT MAX(k2.rev) FROM kv k2 WHERE k2.key = k.key AND k2.rev <= ?)
       ORDER BY k.key LIMIT ?`,
    );
    this.stList.raw(true);
    this.stCount = db.prepare(
      `SELECT count(*) AS n FROM (SELECT MAX(rev) AS mr FROM kv WHERE key >= ? AND key < ? GROUP BY key) m
       JOIN kv ON kv.rev = m.mr WHERE kv.deleted = 0`,
    );
    this.stHistory = db.prepare(
      `SELECT kv.*, p.value AS prev_value, p.rev AS p_rev, p.create_rev AS p_create_rev
       FROM kv LEFT JOIN kv p ON p.rev = kv.prev_rev
       WHERE kv.rev > ? AND kv.rev <= ? AND kv.key >= ? AND kv.key < ? ORDER BY kv.rev`,
    );
    this.stSetMeta = db.prepare(
      "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    );
    const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'kv'").get() as
      { seq: number } | undefined;
    this.rev = seq?.seq ?? 0;
    this.published = this.rev;
    const cr = db.prepare("SELECT value FROM meta WHERE name = 'compact_rev'").get() as
      { value: number } | undefined;
    this.compactRev = cr?.value ?? 0;
    this.runBatch = db.transaction((ops: Op[]) => {
      const results: (KeyValue | Error)[] = [];
      const events: WatchEvent[] = [];
      for (const op of ops) {
        try {
          const r = this.apply(op);
          results.push(r.kv);
          events.push(r.event);
        } catch (e) {
          results.push(e as Error);
        }
      }
      return { results, events };
    });
  }

  /** Applies one write inside the batch transaction; throws a sentinel error to refuse it. */
  private apply(op: Op): { kv: KeyValue; event: WatchEvent } {
    const cur = this.stLatest.get(op.key) as Row | undefined;
    const live = cur && cur.deleted === 0 ? cur : undefined;
    if (op.t === "create") {
      if (live) throw new KeyExistsError(op.key);
      const rev = ++this.rev;
      this.stInsert.run(rev, op.key, 1, 0, rev, cur ? cur.rev : 0, op.value);
      const kv = { key: op.key, value: op.value, createRevision: rev, modRevision: rev };
      return { kv, event: { type: "create", kv } };
    }
    if (!live) throw new KeyNotFoundError(op.key);
    const prev = toKv(live);
    if (op.expected !== undefined && op.expected !== live.rev) throw new ConflictError(op.key, prev);
    if (op.t === "update") {
      const rev = ++this.rev;
      this.stInsert.run(rev, op.key, 0, 0, live.create_rev, live.rev, op.value);
      const kv = { key: op.key, value: op.value, createRevision: live.create_rev, modRevision: rev };
      return { kv, event: { type: "update", kv, prev } };
    }
    const rev = ++this.rev;
    this.stInsert.run(rev, op.key, 0, 1, live.create_rev, live.rev, live.value);
    const kv = { key: op.key, value: live.value, createRevision: live.create_rev, modRevision: rev };
    return { kv, event: { type: "delete", kv, prev } };
  }

  private enqueue(op: Op): void {
    if (this.closed) {
      op.reject(new Error("datastore is closed"));
      return;
    }
    this.pending.push(op);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    // Writes queued while a WAL sync runs could not be answered before the next one anyway:
    // the running sync commits them, all together, when it ends.
    if (this.syncing) return;
    this.commit();
  };

  /** Commits every queued write in one transaction; answers them now or after the WAL sync. */
  private commit(): void {
    const ops = this.pending;
    if (ops.length === 0) return;
    this.pending = [];
    const revBefore = this.rev;
    let out: { results: (KeyValue | Error)[]; events: WatchEvent[] };
    try {
      out = this.runBatch(ops);
    } catch (e) {
      // The transaction failed as a whole (disk full, I/O error): nothing was committed.
      this.rev = revBefore;
      for (const op of ops) op.reject(e);
      return;
    }
    const batch: Committed = { ops, ...out, rev: this.rev };
    if (!this.walPath) return this.publish(batch);
    this.unsynced.push(batch);
    this.syncing ??= this.syncWal();
  }

  /** Answers a durable batch's callers and sends its events to watchers. */
  private publish(b: Committed): void {
    this.published = b.rev;
    this.hub.publish(b.events);
    for (let i = 0; i < b.ops.length; i++) {
      const r = b.results[i]!;
      if (r instanceof Error) b.ops[i]!.reject(r);
      else b.ops[i]!.resolve(r);
    }
  }

  /** Syncs the WAL until every committed batch is durable, publishing them in order. */
  private async syncWal(): Promise<void> {
    while (this.unsynced.length > 0) {
      const batches = this.unsynced;
      this.unsynced = [];
      let err: unknown;
      try {
        this.walFd ??= openSync(this.walPath!, "r");
        const fd = this.walFd;
        await new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
      } catch (e) {
        err = e;
      }
      if (err !== undefined) {
        // Committed but maybe not durable, and the disk can no longer be trusted (as
        // PostgreSQL after a failed fsync): nobody is told these writes succeeded, and the
        // datastore stops — no more writes, every watch ends — until the process restarts
        // and reads back what the disk really holds.
        console.error(`sqlite: syncing the WAL failed, the datastore stops: ${String(err)}`);
        this.closed = true;
        for (const b of batches) for (const op of b.ops) op.reject(err);
        for (const op of this.pending.splice(0)) op.reject(err);
        this.hub.closeAll(err instanceof Error ? err : new Error(String(err)));
        break;
      }
      for (const b of batches) this.publish(b);
      this.commit();
    }
    this.syncing = undefined;
  }

  async currentRevision(): Promise<number> {
    return this.published;
  }

  async get(key: string): Promise<KeyValue | null> {
    const r = this.stLatest.get(key) as Row | undefined;
    return r && r.deleted === 0 ? toKv(r) : null;
  }

  create(key: string, value: string): Promise<KeyValue> {
    return new Promise((resolve, reject) => this.enqueue({ t: "create", key, value, resolve, reject }));
  }

  update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return new Promise((resolve, reject) =>
      this.enqueue({ t: "update", key, value, expected: expectedRevision, resolve, reject }),
    );
  }

  delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return new Promise((resolve, reject) =>
      this.enqueue({ t: "delete", key, expected: expectedRevision, resolve, reject }),
    );
  }

  private checkRevision(revision: number): void {
    if (revision > this.rev) throw new FutureRevisionError(revision, this.rev);
    if (revision < this.compactRev) throw new CompactedError(revision, this.compactRev);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const revision = opts.revision || this.published;
    this.checkRevision(revision);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : -1;
    const from = opts.startKey && opts.startKey > prefix ? opts.startKey : prefix;
    const rows = this.stList.all(from, prefixEnd(prefix), revision, limit > 0 ? limit + 1 : -1) as [
      string,
      string,
      number,
      number,
    ][];
    const more = limit > 0 && rows.length > limit;
    const n = more ? limit : rows.length;
    const kvs = new Array<KeyValue>(n);
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      kvs[i] = { key: r[0], value: r[1], createRevision: r[2], modRevision: r[3] };
    }
    return { kvs, revision, more };
  }

  async count(prefix: string): Promise<number> {
    return (this.stCount.get(prefix, prefixEnd(prefix)) as { n: number }).n;
  }

  watch(prefix: string, opts: WatchOptions, handler: WatchHandler): void {
    if (opts.signal.aborted) return;
    if (this.closed) {
      queueMicrotask(() => handler.onError(new Error("datastore is closed")));
      return;
    }
    const after = opts.afterRevision > 0 ? opts.afterRevision : this.published;
    if (after < this.compactRev) {
      const err = new CompactedError(after, this.compactRev);
      queueMicrotask(() => handler.onError(err));
      return;
    }
    // History (up to what is published; later commits reach the hub when synced) and
    // registration happen in one synchronous step, so no event falls between.
    const backlog: WatchEvent[] = [];
    if (after < this.published) {
      const rows = this.stHistory.all(after, this.published, prefix, prefixEnd(prefix)) as (Row & {
        prev_value: string | null;
        p_rev: number | null;
        p_create_rev: number | null;
      })[];
      for (const r of rows) {
        const prev: KeyValue | undefined =
          r.prev_value !== null && r.p_rev !== null
            ? { key: r.key, value: r.prev_value, createRevision: r.p_create_rev ?? 0, modRevision: r.p_rev }
            : undefined;
        const type = r.deleted ? "delete" : r.created ? "create" : "update";
        const ev: WatchEvent = { type, kv: toKv(r) };
        if (prev && type !== "create") ev.prev = prev;
        backlog.push(ev);
      }
    }
    this.hub.add(prefix, handler, backlog, opts.signal);
  }
  /** Progress is reported after every commit already; nothing is pending between commits. */
  requestProgress(): void {}

  async compact(revision: number): Promise<void> {
    if (revision <= this.compactRev) return;
    if (revision > this.rev) throw new FutureRevisionError(revision, this.rev);
    this.db.transaction(() => {
      // Versions superseded at or before the revision, then tombstones at or before it.
      this.db
        .prepare(
          `DELETE FROM kv WHERE rev <= ? AND rev < (SELECT MAX(k2.rev) FROM kv k2 WHERE k2.key = kv.key AND k2.rev <= ?)`,
        )
        .run(revision, revision);
      this.db.prepare("DELETE FROM kv WHERE rev <= ? AND deleted = 1").run(revision);
      this.stSetMeta.run("compact_rev", revision);
    })();
    this.compactRev = revision;
  }

  async compactedRevision(): Promise<number> {
    return this.compactRev;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Answer everything already queued before closing.
    this.flush();
    this.closed = true;
    await this.syncing;
    this.hub.closeAll(new Error("datastore is closed"));
    this.db.close();
    if (this.walFd !== undefined) closeSync(this.walFd);
  }
}
