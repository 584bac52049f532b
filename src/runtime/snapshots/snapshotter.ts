/**
 * @module Container root filesystems as overlayfs snapshots of images: `<root>/<id>/` holds
 * `upper` (the container's writes), `work` (overlayfs's scratch) and `rootfs`, the overlay
 * mount of the image's unpacked layers (top layer first in `lowerdir`) under `upper`.
 *
 * The mount is made with mount(8). Overlay options must fit in one page (4096 bytes); when
 * absolute layer paths do not, mount runs in the layers' directory and names them relatively.
 */
import { run } from "../runc/command.ts";
import { lstat, mkdir, readdir, realpath, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { ImageStore } from "../images/image-store.ts";
import { mountCount } from "./mountinfo.ts";

/** Overlay's mount data must fit in one page, NUL included. */
const MAX_MOUNT_DATA = 4095;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function errText(e: unknown): string {
  const x = e as { stderr?: string; message?: string };
  return (x.stderr?.trim() || x.message || String(e)).replace(/\s+/g, " ");
}

/** Overlay option values cannot contain these without escaping; our paths never should. */
function checkPath(p: string): string {
  if (/[,:\\\n]/.test(p))
    throw new Error(`path "${p}" contains a character overlayfs options cannot carry (, : \\)`);
  return p;
}

/** Makes, finds and removes overlayfs snapshots; see the module comment. */
export class Snapshotter {
  readonly root: string;
  readonly images: ImageStore;
  #queues = new Map<string, Promise<unknown>>();
  #realRoot?: string;

  /** `root` is e.g. `<dataDir>/snapshots`. */
  constructor(root: string, images: ImageStore) {
    this.root = resolve(root);
    this.images = images;
  }

  /**
   * Makes snapshot `id` of `imageRef` and returns its mounted rootfs path. Idempotent: a
   * snapshot already mounted is returned as it is.
   */
  async prepare(id: string, imageRef: string): Promise<string> {
    return this.#serial(id, async () => {
      const dir = await this.#dir(id);
      const rootfs = join(dir, "rootfs");
      if ((await mountCount(rootfs)) > 0) return rootfs;
      const layers = await this.images.layerDirs(imageRef);
      const fresh = !(await lstat(dir).catch(() => undefined));
      const upper = join(dir, "upper");
      const work = join(dir, "work");
      await mkdir(upper, { recursive: true, mode: 0o755 });
      await mkdir(work, { recursive: true, mode: 0o700 });
      await mkdir(rootfs, { recursive: true, mode: 0o755 });
      const lowers = layers.length > 0 ? [...layers].reverse() : [await this.#emptyLayer()];
      const tail = `,upperdir=${checkPath(upper)},workdir=${checkPath(work)}`;
      let data = `lowerdir=${lowers.map(checkPath).join(":")}${tail}`;
      let cwd: string | undefined;
      if (data.length > MAX_MOUNT_DATA) {
        // All layers live in one directory: name them relative to it.
        cwd = dirname(lowers[0]!);
        if (lowers.some((l) => dirname(l) !== cwd))
          throw new Error(`image "${imageRef}": layers are not in one directory`);
        data = `lowerdir=${lowers.map((l) => basename(l)).join(":")}${tail}`;
        if (data.length > MAX_MOUNT_DATA) {
          throw new Error(`image "${imageRef}" has too many layers (${lowers.length}) for one overlay mount`);
        }
      }
      try {
        await run("mount", ["-t", "overlay", "overlay", "-o", data, rootfs], cwd ? { cwd } : {});
      } catch (e) {
        // A snapshot made by this call goes again; an existing one (writes in upper) stays.
        if (fresh && (await mountCount(rootfs)) === 0) await rm(dir, { recursive: true, force: true });
        throw new Error(`mounting snapshot ${id} of ${imageRef}: ${errText(e)}`);
      }
      return rootfs;
    });
  }

  /** Unmounts snapshot `id` (lazily if busy) and deletes it; a snapshot already gone is fine. */
  async remove(id: string): Promise<void> {
    return this.#serial(id, async () => {
      const dir = await this.#dir(id);
      const rootfs = join(dir, "rootfs");
      for (let i = 0; (await mountCount(rootfs)) > 0; i++) {
        if (i >= 16) throw new Error(`snapshot ${id}: ${rootfs} is still mounted`);
        try {
          await run("umount", [rootfs]);
        } catch (e) {
          try {
            await run("umount", ["-l", rootfs]);
          } catch {
            throw new Error(`unmounting snapshot ${id}: ${errText(e)}`);
          }
        }
      }
      await rm(dir, { recursive: true, force: true });
    });
  }

  /** Ids of the snapshots present. */
  async list(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return [];
      throw e;
    });
    return entries
      .filter((e) => e.isDirectory() && ID_RE.test(e.name))
      .map((e) => e.name)
      .sort();
  }

  /** The snapshot's directory, on the real path (as mountinfo reports mount points). */
  async #dir(id: string): Promise<string> {
    if (!ID_RE.test(id)) throw new Error(`invalid snapshot id "${id}"`);
    if (!this.#realRoot) {
      await mkdir(this.root, { recursive: true, mode: 0o711 });
      this.#realRoot = await realpath(this.root);
    }
    return join(this.#realRoot, id);
  }

  async #emptyLayer(): Promise<string> {
    const p = join(this.#realRoot ?? this.root, ".empty-layer");
    await mkdir(p, { recursive: true, mode: 0o755 });
    return p;
  }

  /** Runs operations on one id one after another. */
  async #serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#queues.get(id) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(fn);
    this.#queues.set(id, run);
    try {
      return await run;
    } finally {
      if (this.#queues.get(id) === run) this.#queues.delete(id);
    }
  }
}
