/**
 * @module Images kites builds itself from files on this machine (the busybox base image, the
 * benchmarks' nginx): one uncompressed layer, its OCI config and manifest, and adding the
 * result to the store once under its reference.
 */
import type { ImageInfo } from "../types.ts";
import type { ImageStore } from "./image-store.ts";
import { sha256 } from "./fs-util.ts";
import { MEDIA_TYPE, hostArchitecture, type ImageConfig, type ImageManifest } from "./oci-types.ts";
import { writeTar, type TarEntry } from "./tar-writer.ts";

/** The blobs of a built image. */
export interface BuiltImage {
  layer: Buffer;
  config: Buffer;
  manifest: Buffer;
}

/**
 * An image of one layer made of `entries`, created at `mtime` (seconds; the same inputs give
 * the same digest), running with `config`, its history saying `createdBy`.
 */
export function singleLayerImage(
  entries: TarEntry[],
  mtime: number,
  config: NonNullable<ImageConfig["config"]>,
  createdBy: string,
): BuiltImage {
  const layer = writeTar(entries);
  const created = new Date(mtime * 1000).toISOString();
  const cfg: ImageConfig = {
    architecture: hostArchitecture(),
    os: "linux",
    created,
    config,
    rootfs: { type: "layers", diff_ids: [sha256(layer)] },
    history: [{ created, created_by: createdBy }],
  };
  const configBlob = Buffer.from(JSON.stringify(cfg));
  const m: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: { mediaType: MEDIA_TYPE.ociConfig, digest: sha256(configBlob), size: configBlob.length },
    layers: [{ mediaType: MEDIA_TYPE.ociLayer, digest: sha256(layer), size: layer.length }],
  };
  return { layer, config: configBlob, manifest: Buffer.from(JSON.stringify(m)) };
}

/** Returns image `ref` from `store`, building and adding it first when the store lacks it. */
export async function ensureBuiltImage(
  store: ImageStore,
  ref: string,
  build: () => Promise<BuiltImage>,
): Promise<ImageInfo> {
  const have = await store.get(ref);
  if (have) return have;
  const { layer, config, manifest } = await build();
  const [info] = await store.addImage([ref], manifest, [config, layer]);
  if (!info) throw new Error(`image ${ref} was not added`);
  return info;
}
