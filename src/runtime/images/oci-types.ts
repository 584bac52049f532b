/**
 * @module The OCI image-spec documents the image store reads and writes (descriptors,
 * index, manifest, image config), their media types (OCI and Docker v2 spellings), and
 * small checks that turn untrusted JSON into these types with clear errors.
 */

export const MEDIA_TYPE = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
} as const;

/** The annotation that names an image in an OCI layout's index.json. */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
/** containerd's (and Docker 25+'s) full image name annotation. */
export const CONTAINERD_NAME_ANNOTATION = "io.containerd.image.name";

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** The parts of the image config the runtime uses (unknown fields are kept as they are). */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  created?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string>;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    StopSignal?: string;
  };
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
}

export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MEDIA_TYPE.ociIndex || mt === MEDIA_TYPE.dockerManifestList;
}

export function isManifestMediaType(mt: string | undefined): boolean {
  return mt === MEDIA_TYPE.ociManifest || mt === MEDIA_TYPE.dockerManifest;
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** True for a well-formed `sha256:<64 hex>` digest. */
export function isDigest(d: unknown): d is string {
  return typeof d === "string" && DIGEST_RE.test(d);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks a descriptor read from untrusted JSON; `where` names it in the error. */
export function checkDescriptor(v: unknown, where: string): Descriptor {
  if (!isObject(v)) throw new Error(`${where}: descriptor is not an object`);
  if (!isDigest(v.digest)) {
    throw new Error(
      `${where}: unsupported or malformed digest ${JSON.stringify(v.digest)} (only sha256 is supported)`,
    );
  }
  if (typeof v.size !== "number" || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw new Error(`${where}: descriptor ${v.digest} has an invalid size`);
  }
  if (typeof v.mediaType !== "string") throw new Error(`${where}: descriptor ${v.digest} has no mediaType`);
  return v as unknown as Descriptor;
}

/** Parses an image index (OCI or Docker manifest list) from bytes. */
export function parseIndex(bytes: Buffer, where: string): ImageIndex {
  const v = parseJson(bytes, where);
  if (!isObject(v) || v.schemaVersion !== 2 || !Array.isArray(v.manifests)) {
    throw new Error(`${where}: not an OCI image index (schemaVersion 2 with manifests)`);
  }
  v.manifests.forEach((m, i) => checkDescriptor(m, `${where} manifests[${i}]`));
  return v as unknown as ImageIndex;
}

/** Parses an image manifest from bytes. */
export function parseManifest(bytes: Buffer, where: string): ImageManifest {
  const v = parseJson(bytes, where);
  if (!isObject(v) || v.schemaVersion !== 2 || !Array.isArray(v.layers)) {
    throw new Error(`${where}: not an OCI image manifest (schemaVersion 2 with config and layers)`);
  }
  checkDescriptor(v.config, `${where} config`);
  v.layers.forEach((l, i) => checkDescriptor(l, `${where} layers[${i}]`));
  return v as unknown as ImageManifest;
}

/** Parses an image config from bytes and checks its rootfs diffIDs. */
export function parseConfig(bytes: Buffer, where: string): ImageConfig {
  const v = parseJson(bytes, where);
  if (!isObject(v) || !isObject(v.rootfs) || !Array.isArray(v.rootfs.diff_ids)) {
    throw new Error(`${where}: not an image config (no rootfs.diff_ids)`);
  }
  for (const d of v.rootfs.diff_ids) {
    if (!isDigest(d)) throw new Error(`${where}: malformed diffID ${JSON.stringify(d)}`);
  }
  return v as unknown as ImageConfig;
}

export function parseJson(bytes: Buffer, where: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    throw new Error(`${where}: invalid JSON: ${(e as Error).message}`);
  }
}

/** The OCI architecture name of this machine (`amd64`, `arm64`, …). */
export function hostArchitecture(): string {
  switch (process.arch) {
    case "x64":
      return "amd64";
    case "ia32":
      return "386";
    case "ppc64":
      return "ppc64le";
    default:
      return process.arch;
  }
}
