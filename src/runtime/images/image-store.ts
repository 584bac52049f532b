/**
 * @module The node's local image store: an OCI image layout on disk (`oci-layout`,
 * `index.json`, `blobs/sha256/…`) whose index entries carry each image's full normalised
 * name in `org.opencontainers.image.ref.name`, plus the unpacked layers
 * (`layers/<diffID hex>`) overlayfs snapshots are made from.
 *
 * Writers (import, remove, add) hold a lock file, so the `kites image` command and a running
 * agent can share one store; readers see `index.json`, replaced atomically. Manifests and
 * configs are immutable (content-addressed) and cached once parsed.
 */
import { lstat, mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ImageInfo } from "../types.ts";
import { sha256, tempSuffix, withFileLock, writeFileAtomic } from "./fs-util.ts";
import { stageTarball, type StagedImage } from "./import-tarball.ts";
import { unpackLayer } from "./layer-unpack.ts";
import {
  MEDIA_TYPE,
  REF_NAME_ANNOTATION,
  isDigest,
  parseConfig,
  parseIndex,
  parseManifest,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
} from "./oci-types.ts";
import { formatImageRef, parseImageRef } from "./reference.ts";

export { ensureBusyboxImage } from "./busybox-image.ts";

/** A manifest and config as read from the store (immutable). */
export interface LoadedImage {
  manifest: ImageManifest;
  config: ImageConfig;
  /** Manifest, config and layer blobs. */
  size: number;
}

/** In-process queue per store root, in front of the cross-process lock file. */
const writeQueues = new Map<string, Promise<unknown>>();

/** The local OCI image store; see the module comment. */
export class ImageStore {
  readonly root: string;
  /** Where unpacked layers live, one directory per diffID. */
  readonly layersRoot: string;
  #ready?: Promise<void>;
  #indexCache?: { key: string; index: ImageIndex };
  #images = new Map<string, LoadedImage>();
  #unpacking = new Map<string, Promise<string>>();

  /** `root` is e.g. `<dataDir>/images`; created on first use. */
  constructor(root: string) {
    this.root = root;
    this.layersRoot = join(root, "layers");
  }

  /** Path of a blob. */
  blobPath(digest: string): string {
    if (!isDigest(digest)) throw new Error(`malformed digest "${digest}"`);
    return join(this.root, "blobs", "sha256", digest.slice(7));
  }

  /** The image `ref` names (a reference, `repo@digest`, or an image id `sha256:…`/prefix). */
  async get(ref: string): Promise<ImageInfo | undefined> {
    const hit = await this.#resolve(ref);
    return hit && this.#info(hit.name, hit.desc, await this.#load(hit.desc.digest));
  }

  /** The image config of `ref` (what `kites image inspect` shows). */
  async config(ref: string): Promise<ImageConfig | undefined> {
    const hit = await this.#resolve(ref);
    return hit && (await this.#load(hit.desc.digest)).config;
  }

  /** Every image, one entry per name, sorted by name. */
  async list(): Promise<ImageInfo[]> {
    const index = await this.#readIndex();
    const out: ImageInfo[] = [];
    for (const d of index.manifests) {
      const name = d.annotations?.[REF_NAME_ANNOTATION];
      if (name) out.push(this.#info(name, d, await this.#load(d.digest)));
    }
    return out.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  }

  /**
   * Imports an OCI-layout or `docker save` tarball. Every blob is verified before anything is
   * added; on any error the store is left as it was. Returns one ImageInfo per name imported.
   */
  async import(tarPath: string): Promise<ImageInfo[]> {
    await this.#init();
    const staging = join(this.root, "tmp", `import-${tempSuffix()}`);
    await mkdir(staging, { recursive: true });
    try {
      const staged = await stageTarball(tarPath, staging);
      return await this.#commit(staged);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /**
   * Adds an image built in memory (the busybox image, the image builder): `manifest` is the
   * manifest JSON, `blobs` its config and layers. Names are normalised.
   */
  async addImage(names: string[], manifest: Buffer, blobs: Buffer[]): Promise<ImageInfo[]> {
    await this.#init();
    const staging = join(this.root, "tmp", `add-${tempSuffix()}`);
    await mkdir(staging, { recursive: true });
    try {
      const m = parseManifest(manifest, "manifest");
      const files = new Map<string, string>();
      for (const b of [manifest, ...blobs]) {
        const d = sha256(b);
        const p = join(staging, d.slice(7));
        await writeFile(p, b);
        files.set(d, p);
      }
      for (const d of [m.config, ...m.layers]) {
        if (!files.has(d.digest))
          throw new Error(`addImage: blob ${d.digest} named by the manifest was not given`);
      }
      const mt = m.mediaType ?? MEDIA_TYPE.ociManifest;
      const staged: StagedImage = {
        names: names.map((n) => formatImageRef(parseImageRef(n))),
        manifest: { mediaType: mt, digest: sha256(manifest), size: manifest.length },
        blobs: files,
      };
      return await this.#commit([staged]);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /**
   * Untags `ref` (by name: that name; by image id: all its names) and deletes the blobs no
   * image uses any more. Returns false when nothing matched.
   */
  async remove(ref: string): Promise<boolean> {
    const hit = await this.#resolve(ref);
    if (!hit) return false;
    return this.#locked(async () => {
      const index = await this.#readIndex(true);
      const before = index.manifests.length;
      index.manifests = index.manifests.filter((d) => !hit.drops(d));
      if (index.manifests.length === before) return false;
      await this.#writeIndex(index);
      await this.#gc(index);
      return true;
    });
  }

  /**
   * The unpacked layer directories of `ref`, lowest first, unpacking any not yet unpacked
   * (each diffID once, also when callers race: unpacked into a temp dir, then renamed).
   */
  async layerDirs(ref: string): Promise<string[]> {
    const hit = await this.#resolve(ref);
    if (!hit) throw new Error(`image "${ref}" not found`);
    const img = await this.#load(hit.desc.digest);
    await mkdir(this.layersRoot, { recursive: true });
    return Promise.all(
      img.config.rootfs.diff_ids.map((diffId, i) => this.#layer(diffId, img.manifest.layers[i]!)),
    );
  }

  /**
   * Deletes unpacked layers no image uses any more, except those an overlay mount of this
   * mount namespace still names in its options (snapshots of removed images). Returns how
   * many were deleted.
   */
  async pruneLayers(): Promise<number> {
    return this.#locked(async () => {
      const keep = new Set<string>();
      for (const d of (await this.#readIndex(true)).manifests) {
        for (const id of (await this.#load(d.digest)).config.rootfs.diff_ids) keep.add(id.slice(7));
      }
      const mounts = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
      const inUse = new Set(mounts.match(/[0-9a-f]{64}/g) ?? []);
      let n = 0;
      for (const name of await readdir(this.layersRoot).catch(() => [] as string[])) {
        const hex = /^[0-9a-f]{64}/.exec(name)?.[0];
        if (!hex || keep.has(hex) || inUse.has(hex) || this.#unpacking.has(`sha256:${hex}`)) continue;
        await rm(join(this.layersRoot, name), { recursive: true, force: true });
        if (name.length === 64) n++;
      }
      return n;
    });
  }

  /** Directory of an unpacked layer (it may not exist yet). */
  layerDir(diffId: string): string {
    if (!isDigest(diffId)) throw new Error(`malformed diffID "${diffId}"`);
    return join(this.layersRoot, diffId.slice(7));
  }

  async #layer(diffId: string, blob: Descriptor): Promise<string> {
    const dir = this.layerDir(diffId);
    let p = this.#unpacking.get(diffId);
    if (!p) {
      p = (async () => {
        const present = await lstat(dir).then(
          (s) => s.isDirectory(),
          () => false,
        );
        if (!present) await unpackLayer(this.blobPath(blob.digest), diffId, dir);
        return dir;
      })().finally(() => this.#unpacking.delete(diffId));
      this.#unpacking.set(diffId, p);
    }
    return p;
  }

  async #init(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(join(this.root, "blobs", "sha256"), { recursive: true });
      const layout = join(this.root, "oci-layout");
      if (!(await lstat(layout).catch(() => undefined))) {
        await writeFileAtomic(layout, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
      }
      const index = join(this.root, "index.json");
      if (!(await lstat(index).catch(() => undefined))) {
        await writeFile(index, JSON.stringify(emptyIndex()), { flag: "wx" }).catch(
          (e: NodeJS.ErrnoException) => {
            if (e.code !== "EEXIST") throw e;
          },
        );
      }
    })();
    try {
      await this.#ready;
    } catch (e) {
      this.#ready = undefined;
      throw e;
    }
  }

  /** Reads index.json (cached while its mtime and size are unchanged). */
  async #readIndex(fresh = false): Promise<ImageIndex> {
    const path = join(this.root, "index.json");
    const st = await stat(path).catch(() => undefined);
    if (!st) return emptyIndex();
    const key = `${st.mtimeMs}:${st.size}:${st.ino}`;
    if (!fresh && this.#indexCache?.key === key) return this.#indexCache.index;
    const index = parseIndex(await readFile(path), path);
    this.#indexCache = { key, index };
    return fresh ? structuredClone(index) : index;
  }

  async #writeIndex(index: ImageIndex): Promise<void> {
    index.manifests.sort((a, b) => {
      const x = a.annotations?.[REF_NAME_ANNOTATION] ?? "";
      const y = b.annotations?.[REF_NAME_ANNOTATION] ?? "";
      return x < y ? -1 : x > y ? 1 : 0;
    });
    await writeFileAtomic(join(this.root, "index.json"), JSON.stringify(index, null, 2));
    this.#indexCache = undefined;
  }

  async #load(digest: string): Promise<LoadedImage> {
    const cached = this.#images.get(digest);
    if (cached) return cached;
    const manifest = parseManifest(await readFile(this.blobPath(digest)), `manifest ${digest}`);
    const config = parseConfig(
      await readFile(this.blobPath(manifest.config.digest)),
      `config ${manifest.config.digest}`,
    );
    const mSize = (await stat(this.blobPath(digest))).size;
    const size = manifest.layers.reduce((n, l) => n + l.size, mSize + manifest.config.size);
    const img = { manifest, config, size };
    this.#images.set(digest, img);
    return img;
  }

  #info(ref: string, desc: Descriptor, img: LoadedImage): ImageInfo {
    const c = img.config.config ?? {};
    return {
      ref,
      digest: desc.digest,
      id: img.manifest.config.digest,
      size: img.size,
      entrypoint: c.Entrypoint ?? [],
      cmd: c.Cmd ?? [],
      env: c.Env ?? [],
      workingDir: c.WorkingDir ?? "",
      user: c.User ?? "",
    };
  }

  /**
   * Finds the index entry `ref` names. `drops` tells which index entries removing `ref`
   * takes away: the name; for `repo@digest`, that repository's names of the image; for an
   * image id, all its names.
   */
  async #resolve(
    ref: string,
  ): Promise<{ name: string; desc: Descriptor; drops: (d: Descriptor) => boolean } | undefined> {
    const index = await this.#readIndex();
    const named = (d: Descriptor): string => d.annotations?.[REF_NAME_ANNOTATION] ?? "";
    const idMatch = /^(sha256:)?([a-f0-9]{12,64})$/.exec(ref);
    if (!(idMatch?.[1] && idMatch[2]?.length === 64)) {
      let p: ReturnType<typeof parseImageRef> | undefined;
      try {
        p = parseImageRef(ref);
      } catch (e) {
        if (!idMatch) throw e;
      }
      if (p) {
        const full = formatImageRef(p);
        for (const d of index.manifests) {
          const n = named(d);
          if (p.digest) {
            if (d.digest === p.digest && n.startsWith(`${p.repository}:`))
              return {
                name: full,
                desc: d,
                drops: (x) => x.digest === d.digest && named(x).startsWith(`${p.repository}:`),
              };
          } else if (n === full) return { name: n, desc: d, drops: (x) => named(x) === n };
        }
      }
    }
    if (!idMatch) return undefined;
    const hex = idMatch[2]!;
    let found: Descriptor | undefined;
    for (const d of index.manifests) {
      const id = (await this.#load(d.digest)).manifest.config.digest;
      if (id.slice(7).startsWith(hex) || d.digest.slice(7) === hex) {
        if (found && found.digest !== d.digest) throw new Error(`image id prefix "${ref}" is ambiguous`);
        found ??= d;
      }
    }
    const digest = found?.digest;
    return found && { name: named(found), desc: found, drops: (x) => x.digest === digest };
  }

  /** Runs `fn` holding this store's write lock (in-process queue + lock file). */
  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    await this.#init();
    const prev = writeQueues.get(this.root) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => withFileLock(join(this.root, ".lock"), fn));
    writeQueues.set(this.root, run);
    try {
      return await run;
    } finally {
      if (writeQueues.get(this.root) === run) writeQueues.delete(this.root);
    }
  }

  /** Moves staged blobs in and names the images, all or nothing. */
  async #commit(staged: StagedImage[]): Promise<ImageInfo[]> {
    return this.#locked(async () => {
      const added: string[] = [];
      try {
        for (const img of staged) {
          for (const [digest, path] of img.blobs) {
            const final = this.blobPath(digest);
            if (
              await lstat(final).then(
                () => true,
                () => false,
              )
            )
              continue;
            await rename(path, final);
            added.push(final);
          }
        }
        const index = await this.#readIndex(true);
        const names = new Set(staged.flatMap((s) => s.names));
        index.manifests = index.manifests.filter(
          (d) => !names.has(d.annotations?.[REF_NAME_ANNOTATION] ?? ""),
        );
        for (const img of staged) {
          for (const name of img.names) {
            index.manifests.push({ ...img.manifest, annotations: { [REF_NAME_ANNOTATION]: name } });
          }
        }
        await this.#writeIndex(index);
        const infos: ImageInfo[] = [];
        for (const img of staged) {
          const loaded = await this.#load(img.manifest.digest);
          for (const name of img.names) infos.push(this.#info(name, img.manifest, loaded));
        }
        // Images that lost their last name to this import are gone now.
        await this.#gc(index);
        return infos;
      } catch (e) {
        await Promise.all(added.map((p) => rm(p, { force: true })));
        throw e;
      }
    });
  }

  /** Deletes blobs no image in `index` references. */
  async #gc(index: ImageIndex): Promise<void> {
    const keep = new Set<string>();
    for (const d of index.manifests) {
      const img = await this.#load(d.digest);
      keep.add(d.digest.slice(7)).add(img.manifest.config.digest.slice(7));
      for (const l of img.manifest.layers) keep.add(l.digest.slice(7));
    }
    const dir = join(this.root, "blobs", "sha256");
    for (const name of await readdir(dir)) {
      if (!keep.has(name)) {
        await rm(join(dir, name), { force: true });
        this.#images.delete(`sha256:${name}`);
      }
    }
  }
}

function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [] };
}
