/**
 * @module Test helpers (not used in production): build image tarballs in temp dirs with
 * node-tar — `docker save` archives and OCI image layouts — from layers described as small
 * file trees, including whiteouts (`.wh.NAME`) and opaque markers (`.wh..wh..opq`).
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import * as tar from "tar";
import { sha256 } from "./fs-util.ts";
import {
  MEDIA_TYPE,
  hostArchitecture,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
} from "./oci-types.ts";

/** A layer: path → file content, or `{ symlink }`, or `{ dir: true }`. */
export type LayerSpec = Record<string, string | { symlink: string } | { dir: true }>;

export interface BuiltImage {
  layers: Buffer[];
  diffIds: string[];
  config: Buffer;
  manifest: Buffer;
}

/** A temp directory removed by the returned cleanup. */
export async function tempDir(prefix = "kites-img-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Builds one layer tar (plain) from a spec, with node-tar. */
export async function buildLayer(spec: LayerSpec): Promise<Buffer> {
  const { dir, cleanup } = await tempDir("kites-layer-");
  try {
    const root = join(dir, "root");
    await mkdir(root);
    for (const [p, v] of Object.entries(spec)) {
      const abs = join(root, p);
      await mkdir(dirname(abs), { recursive: true });
      if (typeof v === "string") await writeFile(abs, v);
      else if ("symlink" in v) await symlink(v.symlink, abs);
      else await mkdir(abs, { recursive: true });
    }
    const out = join(dir, "layer.tar");
    const top = [...new Set(Object.keys(spec).map((p) => p.split("/")[0]!))].sort();
    await tar.c({ cwd: root, file: out, portable: true, mtime: new Date(0) }, top);
    return await readFile(out);
  } finally {
    await cleanup();
  }
}

/** Builds an image (config + manifest) from layer specs; `gzip[i]` compresses layer i. */
export async function buildImage(
  specs: LayerSpec[],
  opts: { gzip?: boolean[]; cmd?: string[] } = {},
): Promise<BuiltImage> {
  const plain = await Promise.all(specs.map((s) => buildLayer(s)));
  const layers = plain.map((l, i) => (opts.gzip?.[i] ? gzipSync(l) : l));
  const diffIds = plain.map((l) => sha256(l));
  const cfg: ImageConfig = {
    architecture: hostArchitecture(),
    os: "linux",
    config: { Env: ["PATH=/bin"], Cmd: opts.cmd ?? ["/bin/true"], WorkingDir: "/w", User: "1000" },
    rootfs: { type: "layers", diff_ids: diffIds },
  };
  const config = Buffer.from(JSON.stringify(cfg));
  const m: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: { mediaType: MEDIA_TYPE.ociConfig, digest: sha256(config), size: config.length },
    layers: layers.map((l, i) => ({
      mediaType: opts.gzip?.[i] ? MEDIA_TYPE.ociLayerGzip : MEDIA_TYPE.ociLayer,
      digest: sha256(l),
      size: l.length,
    })),
  };
  return { layers, diffIds, config, manifest: Buffer.from(JSON.stringify(m)) };
}

async function put(root: string, rel: string, data: Buffer | string): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), data);
}

/** Writes a `docker save`-style tarball of `img` named `tags` to `out`. */
export async function writeDockerSave(img: BuiltImage, tags: string[], out: string): Promise<void> {
  const { dir, cleanup } = await tempDir("kites-save-");
  try {
    const cfgName = `${sha256(img.config).slice(7)}.json`;
    await put(dir, cfgName, img.config);
    const layerNames: string[] = [];
    for (const l of img.layers) {
      const name = `${sha256(l).slice(7)}/layer.tar`;
      await put(dir, name, l);
      layerNames.push(name);
    }
    await put(
      dir,
      "manifest.json",
      JSON.stringify([{ Config: cfgName, RepoTags: tags, Layers: layerNames }]),
    );
    await tar.c({ cwd: dir, file: out, portable: true }, [
      "manifest.json",
      cfgName,
      ...new Set(layerNames.map((n) => n.split("/")[0]!)),
    ]);
  } finally {
    await cleanup();
  }
}

/**
 * Writes an OCI-layout tarball of `img` to `out`, naming it `ref` in the ref.name annotation;
 * with `multiPlatform`, index.json points to an image index with this machine's platform and
 * another one whose blobs are absent. `replace` stores other bytes under a blob's digest.
 */
export async function writeOciLayout(
  img: BuiltImage,
  ref: string,
  out: string,
  multiPlatform = false,
  replace: Record<string, Buffer> = {},
): Promise<void> {
  const { dir, cleanup } = await tempDir("kites-oci-");
  try {
    await put(dir, "oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    for (const b of [img.config, img.manifest, ...img.layers]) {
      const d = sha256(b);
      await put(dir, `blobs/sha256/${d.slice(7)}`, replace[d] ?? b);
    }
    let top: Descriptor = {
      mediaType: MEDIA_TYPE.ociManifest,
      digest: sha256(img.manifest),
      size: img.manifest.length,
    };
    if (multiPlatform) {
      const other = hostArchitecture() === "arm64" ? "amd64" : "arm64";
      const idx = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPE.ociIndex,
          manifests: [
            {
              mediaType: MEDIA_TYPE.ociManifest,
              digest: `sha256:${"1".repeat(64)}`,
              size: 10,
              platform: { os: "linux", architecture: other },
            },
            { ...top, platform: { os: "linux", architecture: hostArchitecture() } },
          ],
        }),
      );
      await put(dir, `blobs/sha256/${sha256(idx).slice(7)}`, idx);
      top = { mediaType: MEDIA_TYPE.ociIndex, digest: sha256(idx), size: idx.length };
    }
    const index = {
      schemaVersion: 2,
      manifests: [{ ...top, annotations: { "org.opencontainers.image.ref.name": ref } }],
    };
    await put(dir, "index.json", JSON.stringify(index));
    await tar.c({ cwd: dir, file: out, portable: true }, ["oci-layout", "index.json", "blobs"]);
  } finally {
    await cleanup();
  }
}

/** The two-layer image most tests use: layer 2 whites out `etc/a` and makes `opq` opaque. */
export function whiteoutImageSpecs(): LayerSpec[] {
  return [
    {
      "etc/a": "a1",
      "etc/b": "b1",
      "opq/old": "old",
      "opq/sub/deep": "deep",
      "bin/tool": "#!/bin/sh\n",
      lnk: { symlink: "/etc/b" },
    },
    {
      "etc/.wh.a": "",
      "opq/.wh..wh..opq": "",
      "opq/new": "new",
      added: "2",
    },
  ];
}
