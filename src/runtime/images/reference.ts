/**
 * @module Image references as Docker and the kubelet spell them: parsing and normalising
 * `nginx` to `docker.io/library/nginx:latest`, following the grammar of the
 * distribution/reference package (domain, lowercase path components, tag, digest).
 */

/** The parts of a normalised reference. */
export interface ParsedImageRef {
  /** e.g. `docker.io`, `localhost:5000`. */
  domain: string;
  /** e.g. `library/nginx`. */
  path: string;
  /** `docker.io/library/nginx`: domain and path. */
  repository: string;
  /** Tag; `latest` when neither tag nor digest was given. */
  tag?: string;
  /** `sha256:<hex>`. */
  digest?: string;
}

const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const OFFICIAL_PREFIX = "library/";
const MAX_NAME_LENGTH = 255;

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function invalid(ref: string, why?: string): Error {
  return new Error(`invalid image reference "${ref}"${why ? `: ${why}` : ": invalid reference format"}`);
}

/**
 * Parses and normalises an image reference with Docker's rules; throws an Error naming the
 * reference and the reason when it is not valid.
 */
export function parseImageRef(ref: string): ParsedImageRef {
  if (ref === "") throw invalid(ref, "reference is empty");
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw invalid(ref, "invalid digest format");
    const [alg, hex] = digest.split(":") as [string, string];
    if (alg !== "sha256") throw invalid(ref, `unsupported digest algorithm "${alg}"`);
    if (!/^[a-f0-9]{64}$/.test(hex))
      throw invalid(ref, "invalid sha256 digest (want 64 lowercase hex digits)");
  }
  // A tag follows the last ':' that comes after the last '/' (a ':' before is a port).
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(ref, `invalid tag "${tag}"`);
  }
  if (rest === "") throw invalid(ref);
  // Docker's domain rule: the first component is a domain when it has a '.' or ':', is
  // "localhost", or has uppercase letters (which a path component never has).
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === "localhost" || first.toLowerCase() !== first) {
      domain = first;
      path = rest.slice(slash + 1);
      if (!DOMAIN_RE.test(domain)) throw invalid(ref, `invalid registry host "${domain}"`);
    }
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes("/")) path = OFFICIAL_PREFIX + path;
  for (const comp of path.split("/")) {
    if (PATH_COMPONENT_RE.test(comp)) continue;
    if (PATH_COMPONENT_RE.test(comp.toLowerCase())) throw invalid(ref, "repository name must be lowercase");
    throw invalid(ref);
  }
  const repository = `${domain}/${path}`;
  if (repository.length > MAX_NAME_LENGTH) {
    throw invalid(ref, `repository name must not be more than ${MAX_NAME_LENGTH} characters`);
  }
  if (tag === undefined && digest === undefined) tag = "latest";
  return { domain, path, repository, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The string form of a parsed reference: `repo[:tag][@digest]`. */
export function formatImageRef(p: ParsedImageRef): string {
  return `${p.repository}${p.tag !== undefined ? `:${p.tag}` : ""}${p.digest ? `@${p.digest}` : ""}`;
}

/**
 * Normalises a reference with Docker's rules: `nginx` → `docker.io/library/nginx:latest`,
 * `foo/bar:1` → `docker.io/foo/bar:1`, `localhost:5000/x` → `localhost:5000/x:latest`;
 * digests are kept (`x@sha256:…` → `docker.io/library/x@sha256:…`). Throws on invalid input.
 */
export function normalizeImageRef(ref: string): string {
  return formatImageRef(parseImageRef(ref));
}
