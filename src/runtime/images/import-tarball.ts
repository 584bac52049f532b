/**
 * @module Reads an image tarball into a staging directory and checks it, without touching
 * the store: OCI image layouts (`oci-layout`, `index.json`, `blobs/sha256/…`, possibly a
 * multi-platform index) and `docker save` archives (`manifest.json` with `RepoTags`, a config
 * JSON and layer tars, plain or gzip; Docker 25+ writes both forms in one archive). Every
 * blob's sha256 and size is verified, and for `docker save` each layer against the config's
 * diffIDs. The result is a list of {@link StagedImage}s the store commits in one step.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, open, readFile, realpath, writeFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { Writable } from "node:stream";
import { createGunzip } from "node:zlib";
import * as tar from "tar";
import { sha256, sha256File } from "./fs-util.ts";
import {
  CONTAINERD_NAME_ANNOTATION,
  MEDIA_TYPE,
  REF_NAME_ANNOTATION,
  checkDescriptor,
  hostArchitecture,
  isIndexMediaType,
  isManifestMediaType,
  parseConfig,
  parseIndex,
  parseJson,
  parseManifest,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
} from "./oci-types.ts";
import { normalizeImageRef } from "./reference.ts";

/** One image ready to be committed: its names, manifest and verified blob files. */
export interface StagedImage {
  /** Normalised references. */
  names: string[];
  /** Descriptor of the (single-platform) manifest. */
  manifest: Descriptor;
  /** digest → path of a verified file holding it (manifest, config and layers). */
  blobs: Map<string, string>;
}

/** A path named inside the archive, resolved (through symlinks) and kept inside `dir`. */
async function inside(dir: string, name: string, what: string): Promise<string> {
  const bad = (): Error => new Error(`${what} "${name}" points outside the archive`);
  if (isAbsolute(name)) throw bad();
  const p = resolve(dir, name);
  if (relative(dir, p).startsWith("..")) throw bad();
  let real: string;
  try {
    real = await realpath(p);
  } catch {
    throw new Error(`${what} "${name}" is missing from the archive`);
  }
  if (relative(dir, real).startsWith("..") || isAbsolute(relative(dir, real))) throw bad();
  if (!(await lstat(real)).isFile()) throw new Error(`${what} "${name}" is not a regular file`);
  return real;
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/** sha256 of a file's uncompressed content (gunzipped if gzip). */
async function uncompressedDigest(path: string, gzip: boolean): Promise<string> {
  const h = createHash("sha256");
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      h.update(chunk);
      cb();
    },
  });
  if (gzip) await pipeline(createReadStream(path), createGunzip(), sink);
  else await pipeline(createReadStream(path), sink);
  return `sha256:${h.digest("hex")}`;
}

async function isGzip(path: string): Promise<boolean> {
  const b = Buffer.alloc(2);
  const fh = await open(path, "r");
  try {
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

class Stager {
  constructor(readonly dir: string) {}

  /** Verifies an OCI-layout blob against its descriptor; returns its path. */
  async blob(d: Descriptor, what: string): Promise<string> {
    const hex = d.digest.slice("sha256:".length);
    const p = await inside(this.dir, `blobs/sha256/${hex}`, `${what} blob ${d.digest}`);
    const got = await sha256File(p);
    if (got.size !== d.size)
      throw new Error(`${what} blob ${d.digest}: size ${got.size} does not match the descriptor's ${d.size}`);
    if (got.digest !== d.digest)
      throw new Error(`${what} blob ${d.digest}: content digest is ${got.digest} (corrupt blob)`);
    return p;
  }

  /** Picks this machine's platform from an index, following nested indexes. */
  async platformManifest(d: Descriptor, depth = 0): Promise<Descriptor> {
    if (isManifestMediaType(d.mediaType)) return d;
    if (!isIndexMediaType(d.mediaType) || depth > 4)
      throw new Error(`unsupported manifest media type ${d.mediaType} (${d.digest})`);
    const index = parseIndex(await readFile(await this.blob(d, "index")), `index ${d.digest}`);
    const arch = hostArchitecture();
    const pick =
      index.manifests.find((m) => m.platform?.os === "linux" && m.platform.architecture === arch) ??
      (index.manifests.length === 1 && !index.manifests[0]!.platform ? index.manifests[0] : undefined);
    if (!pick) throw new Error(`index ${d.digest} has no manifest for linux/${arch}`);
    return this.platformManifest(pick, depth + 1);
  }

  /** Verifies one manifest with its config and layers; returns the staged blobs. */
  async image(
    d: Descriptor,
  ): Promise<{ blobs: Map<string, string>; manifest: ImageManifest; config: ImageConfig }> {
    const blobs = new Map<string, string>();
    const mPath = await this.blob(d, "manifest");
    blobs.set(d.digest, mPath);
    const manifest = parseManifest(await readFile(mPath), `manifest ${d.digest}`);
    const cPath = await this.blob(manifest.config, "config");
    blobs.set(manifest.config.digest, cPath);
    const config = parseConfig(await readFile(cPath), `config ${manifest.config.digest}`);
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw new Error(
        `manifest ${d.digest} has ${manifest.layers.length} layers but its config lists ${config.rootfs.diff_ids.length} diffIDs`,
      );
    }
    for (const l of manifest.layers) {
      if (l.mediaType === MEDIA_TYPE.ociLayerZstd)
        throw new Error(`layer ${l.digest}: zstd-compressed layers are not supported`);
      blobs.set(l.digest, await this.blob(l, "layer"));
    }
    return { blobs, manifest, config };
  }
}

interface DockerSaveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

function parseDockerManifest(bytes: Buffer): DockerSaveEntry[] {
  const v = parseJson(bytes, "manifest.json");
  const ok =
    Array.isArray(v) &&
    v.every(
      (e: unknown) =>
        typeof e === "object" &&
        e !== null &&
        typeof (e as DockerSaveEntry).Config === "string" &&
        Array.isArray((e as DockerSaveEntry).Layers) &&
        (e as DockerSaveEntry).Layers.every((l) => typeof l === "string"),
    );
  if (!ok)
    throw new Error("manifest.json is not a docker save manifest (a list of {Config, RepoTags, Layers})");
  return v as DockerSaveEntry[];
}

function normalizeNames(names: string[], where: string): string[] {
  return names.map((n) => {
    try {
      return normalizeImageRef(n);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
  });
}

/** The hex a docker-save file name promises (`<hex>.json`, `blobs/sha256/<hex>`), if any. */
function promisedDigest(name: string): string | undefined {
  const m = /(?:^|\/)(?:sha256[:/])?([a-f0-9]{64})(?:\.json)?$/.exec(name);
  return m ? `sha256:${m[1]}` : undefined;
}

async function stageOci(s: Stager, dockerTags: Map<string, string[]>): Promise<StagedImage[]> {
  const layoutFile = join(s.dir, "oci-layout");
  if (await exists(layoutFile)) {
    const layout = parseJson(
      await readFile(await inside(s.dir, "oci-layout", "oci-layout")),
      "oci-layout",
    ) as { imageLayoutVersion?: unknown };
    if (typeof layout.imageLayoutVersion !== "string" || !layout.imageLayoutVersion.startsWith("1.")) {
      throw new Error(
        `oci-layout: unsupported imageLayoutVersion ${JSON.stringify(layout.imageLayoutVersion)}`,
      );
    }
  }
  const index = parseIndex(await readFile(await inside(s.dir, "index.json", "index.json")), "index.json");
  const byDigest = new Map<string, StagedImage>();
  for (const [i, entry] of index.manifests.entries()) {
    checkDescriptor(entry, `index.json manifests[${i}]`);
    const d = await s.platformManifest(entry);
    let img = byDigest.get(d.digest);
    if (!img) {
      const { blobs, manifest } = await s.image(d);
      img = { names: [], manifest: { mediaType: d.mediaType, digest: d.digest, size: d.size }, blobs };
      for (const t of dockerTags.get(manifest.config.digest) ?? []) img.names.push(t);
      byDigest.set(d.digest, img);
    }
    const name = entry.annotations?.[CONTAINERD_NAME_ANNOTATION] ?? entry.annotations?.[REF_NAME_ANNOTATION];
    // A bare ref.name ("latest") is only a tag: it names an image only with a repository elsewhere.
    if (name && /[/:@]/.test(name)) img.names.push(...normalizeNames([name], `index.json manifests[${i}]`));
  }
  const images = [...byDigest.values()];
  for (const img of images) {
    img.names = [...new Set(img.names)];
    if (img.names.length === 0) {
      throw new Error(
        `image ${img.manifest.digest} has no name: set the ${CONTAINERD_NAME_ANNOTATION} or ${REF_NAME_ANNOTATION} annotation to a full reference (e.g. docker.io/library/app:1)`,
      );
    }
  }
  return images;
}

async function stageDockerSave(s: Stager, entries: DockerSaveEntry[]): Promise<StagedImage[]> {
  const out: StagedImage[] = [];
  for (const [i, e] of entries.entries()) {
    const where = `manifest.json[${i}]`;
    const names = normalizeNames(e.RepoTags ?? [], where);
    const cPath = await inside(s.dir, e.Config, `${where} config`);
    const cBytes = await readFile(cPath);
    const cDigest = sha256(cBytes);
    const promised = promisedDigest(e.Config);
    if (promised && promised !== cDigest)
      throw new Error(`${where} config ${e.Config}: content digest is ${cDigest} (corrupt config)`);
    const config = parseConfig(cBytes, `${where} config ${e.Config}`);
    if (config.rootfs.diff_ids.length !== e.Layers.length) {
      throw new Error(
        `${where} has ${e.Layers.length} layers but its config lists ${config.rootfs.diff_ids.length} diffIDs`,
      );
    }
    const blobs = new Map<string, string>([[cDigest, cPath]]);
    const layers: Descriptor[] = [];
    for (const [j, name] of e.Layers.entries()) {
      const p = await inside(s.dir, name, `${where} layer`);
      const { digest, size } = await sha256File(p);
      const gz = await isGzip(p);
      const diffId = gz ? await uncompressedDigest(p, true) : digest;
      if (diffId !== config.rootfs.diff_ids[j]) {
        throw new Error(
          `${where} layer ${name}: content digest ${diffId} does not match diffID ${config.rootfs.diff_ids[j]} (corrupt layer)`,
        );
      }
      const promisedLayer = promisedDigest(name.replace(/\/layer\.tar$/, ""));
      if (name.startsWith("blobs/") && promisedLayer && promisedLayer !== digest) {
        throw new Error(`${where} layer ${name}: content digest is ${digest} (corrupt blob)`);
      }
      blobs.set(digest, p);
      layers.push({ mediaType: gz ? MEDIA_TYPE.ociLayerGzip : MEDIA_TYPE.ociLayer, digest, size });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociManifest,
      config: { mediaType: MEDIA_TYPE.ociConfig, digest: cDigest, size: cBytes.length },
      layers,
    };
    const mBytes = Buffer.from(JSON.stringify(manifest));
    const mDigest = sha256(mBytes);
    const mPath = join(s.dir, `.kites-manifest-${i}.json`);
    await writeFile(mPath, mBytes);
    blobs.set(mDigest, mPath);
    if (names.length === 0) throw new Error(`${where} has no RepoTags: tag the image before saving it`);
    out.push({
      names,
      manifest: { mediaType: MEDIA_TYPE.ociManifest, digest: mDigest, size: mBytes.length },
      blobs,
    });
  }
  return out;
}

/**
 * Extracts `tarPath` into the empty directory `staging` and returns the verified images in
 * it; throws an Error naming the archive and the problem for anything unreadable, corrupt or
 * unnamed.
 */
export async function stageTarball(tarPath: string, staging: string): Promise<StagedImage[]> {
  try {
    if (!(await lstat(tarPath).catch(() => undefined))?.isFile()) throw new Error("no such file");
    try {
      await tar.x({ file: tarPath, cwd: staging, strict: true, preserveOwner: false });
    } catch (e) {
      throw new Error(`not a readable tar archive: ${(e as Error).message}`);
    }
    const s = new Stager(staging);
    const dockerEntries = (await exists(join(staging, "manifest.json")))
      ? parseDockerManifest(await readFile(await inside(staging, "manifest.json", "manifest.json")))
      : undefined;
    if (await exists(join(staging, "index.json"))) {
      const tags = new Map<string, string[]>();
      for (const e of dockerEntries ?? []) {
        const d = promisedDigest(e.Config);
        if (d && e.RepoTags)
          tags.set(
            d,
            e.RepoTags.map((t) => normalizeImageRef(t)),
          );
      }
      return await stageOci(s, tags);
    }
    if (dockerEntries) return await stageDockerSave(s, dockerEntries);
    throw new Error("neither an OCI image layout (index.json) nor a docker save archive (manifest.json)");
  } catch (e) {
    throw new Error(`cannot import ${tarPath}: ${(e as Error).message}`);
  }
}
