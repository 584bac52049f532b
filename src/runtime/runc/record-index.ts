/**
 * @module The runtime's container records (`<dir>/<id>/meta.json`) held in memory: read from
 * disk once, on first use (so a new agent adopts what an earlier one started), then kept in
 * maps by id and by pod and written through on every change. Listing a pod's containers is
 * then a map lookup, not a read of every bundle on the node — the per-sync cost stays flat as
 * the node fills up. Writes of one record are serialized, each atomic (temp file + rename).
 */
import { readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** What every record carries. */
export interface IndexedRecord {
  id: string;
  podUid: string;
}

/** Records by id and by pod, backed by one JSON file per record. */
export class RecordIndex<R extends IndexedRecord> {
  private readonly byId = new Map<string, R>();
  private readonly byPod = new Map<string, Set<string>>();
  private readonly writes = new Map<string, Promise<void>>();
  private loaded: Promise<void> | undefined;
  private fromDisk: R[] = [];

  /** `dir` holds one directory per record id, each with `file` in it. */
  constructor(
    private readonly dir: string,
    private readonly file = "meta.json",
  ) {}

  private path(id: string): string {
    return join(this.dir, id, this.file);
  }

  /** Reads every record on disk, once; later calls share the first read. */
  load(): Promise<void> {
    this.loaded ??= (async () => {
      const ids = await readdir(this.dir).catch(() => [] as string[]);
      const recs: (R | undefined)[] = await Promise.all(
        ids.map(async (id): Promise<R | undefined> => {
          try {
            return JSON.parse(await readFile(this.path(id), "utf8")) as R;
          } catch {
            return undefined; // a bundle whose record was never written (a create that died)
          }
        }),
      );
      for (const r of recs) if (r && !this.byId.has(r.id)) this.index(r);
      this.fromDisk = recs.filter((r): r is R => r !== undefined);
    })();
    return this.loaded;
  }

  /** The records an earlier process left (read by `load`), as they were read. */
  async adopted(): Promise<readonly R[]> {
    await this.load();
    return this.fromDisk;
  }

  private index(r: R): void {
    this.byId.set(r.id, r);
    let ids = this.byPod.get(r.podUid);
    if (!ids) this.byPod.set(r.podUid, (ids = new Set()));
    ids.add(r.id);
  }

  /** The record of `id` (the live object: changes to it are saved by `save`). */
  async get(id: string): Promise<R | undefined> {
    await this.load();
    return this.byId.get(id);
  }

  /** The records of one pod, or of the whole node. */
  async list(podUid?: string): Promise<R[]> {
    await this.load();
    if (podUid === undefined) return [...this.byId.values()];
    const ids = this.byPod.get(podUid);
    const out: R[] = [];
    if (ids) for (const id of ids) out.push(this.byId.get(id)!);
    return out;
  }

  /** Adds or updates a record and writes it to disk (after any earlier write of it). */
  async save(r: R): Promise<void> {
    await this.load();
    this.index(r);
    const prev = this.writes.get(r.id) ?? Promise.resolve();
    const next = prev
      .catch(() => undefined)
      .then(async () => {
        const path = this.path(r.id);
        await writeFile(`${path}.tmp`, JSON.stringify(r));
        await rename(`${path}.tmp`, path);
      });
    this.writes.set(r.id, next);
    try {
      await next;
    } finally {
      if (this.writes.get(r.id) === next) this.writes.delete(r.id);
    }
  }

  /** Forgets a record whose directory is being removed. */
  async remove(id: string): Promise<void> {
    await this.load();
    await this.writes.get(id)?.catch(() => undefined);
    const r = this.byId.get(id);
    if (!r) return;
    this.byId.delete(id);
    const ids = this.byPod.get(r.podUid);
    ids?.delete(id);
    if (ids?.size === 0) this.byPod.delete(r.podUid);
  }
}
