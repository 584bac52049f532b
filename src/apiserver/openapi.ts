/**
 * @module The API server's OpenAPI v3 endpoints. `/openapi/v3` lists one document per
 * group-version (`api/v1`, `apis/apps/v1`, …) with a content hash in its URL; each document
 * holds the group-version's paths and operations and the component schemas they reach,
 * generated from our type registry (`openapi/schemas.json`). kubectl reads these for
 * `explain`, for strategic-merge-patch metadata, and to learn that the server validates
 * fields itself. OpenAPI v2 is not served: kubectl asks for it only as protobuf, and 404 is
 * what it expects from a server without it.
 */
import { createHash } from "node:crypto";
import { allKinds, type KindInfo } from "../api/kinds.ts";
import { KUBE_MAJOR, KUBE_MINOR } from "./discovery.ts";
import { kindPaths } from "./openapi/paths.ts";
import { componentSchemas, REF_PREFIX, schemaNameFor, type Schema } from "./openapi/schemas.ts";

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";
/** Schemas every group-version document carries, as upstream's do. */
const SHARED_SCHEMAS = [`${META}.Status`, `${META}.DeleteOptions`, `${META}.WatchEvent`, `${META}.Patch`];

/** The `/openapi/v3/<key>` key of a kind's group-version: `api/v1` or `apis/<group>/<version>`. */
function gvKey(k: KindInfo): string {
  return k.group === "" ? `api/${k.version}` : `apis/${k.group}/${k.version}`;
}

/** Adds to `out` every component schema reachable from `value` through `$ref`s. */
function collectRefs(value: unknown, schemas: ReadonlyMap<string, Schema>, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, schemas, out);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  for (const [key, v] of Object.entries(value)) {
    if (key === "$ref" && typeof v === "string" && v.startsWith(REF_PREFIX)) {
      const name = v.slice(REF_PREFIX.length);
      if (out.has(name)) continue;
      const target = schemas.get(name);
      if (!target) continue;
      out.add(name);
      collectRefs(target, schemas, out);
    } else {
      collectRefs(v, schemas, out);
    }
  }
}

/** One group-version's OpenAPI v3 document. */
export function groupVersionDocument(kinds: readonly KindInfo[]): Record<string, unknown> {
  const all = componentSchemas();
  const paths: Record<string, unknown> = {};
  for (const k of kinds) Object.assign(paths, kindPaths(k));
  const sortedPaths = Object.fromEntries(
    Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  const names = new Set<string>();
  const roots: unknown[] = [sortedPaths, ...SHARED_SCHEMAS.map((n) => ({ $ref: REF_PREFIX + n }))];
  for (const k of kinds) {
    for (const kind of [k.kind, k.listKind]) {
      const name = schemaNameFor(k.group, k.version, kind);
      if (name) roots.push({ $ref: REF_PREFIX + name });
    }
  }
  collectRefs(roots, all, names);
  const schemas: Record<string, Schema> = {};
  for (const name of [...names].sort()) {
    const s = all.get(name);
    if (s) schemas[name] = s;
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: `v${KUBE_MAJOR}.${KUBE_MINOR}.0` },
    paths: sortedPaths,
    components: { schemas },
  };
}

/**
 * Serves `/openapi/v3` and its group-version documents. Each document is built once, on first
 * request, and kept as its serialized string; the index is built with all of them (it carries
 * their hashes).
 */
export class OpenApi {
  readonly #groupVersions: Map<string, KindInfo[]>;
  readonly #documents = new Map<string, string>();
  #index: string | undefined;

  constructor(kinds: readonly KindInfo[] = allKinds()) {
    this.#groupVersions = new Map();
    for (const k of kinds) {
      const key = gvKey(k);
      const list = this.#groupVersions.get(key) ?? [];
      list.push(k);
      this.#groupVersions.set(key, list);
    }
  }

  /**
   * The body for a GET of `path` (a query string, such as `?hash=…`, is ignored), or
   * `undefined` when there is no such document (the caller answers 404).
   */
  serve(path: string): string | undefined {
    const clean = path.split("?", 1)[0] ?? path;
    const trimmed = clean.endsWith("/") ? clean.slice(0, -1) : clean;
    if (trimmed === "/openapi/v3") return this.#indexDocument();
    if (!trimmed.startsWith("/openapi/v3/")) return undefined;
    return this.#document(trimmed.slice("/openapi/v3/".length));
  }

  #document(key: string): string | undefined {
    const cached = this.#documents.get(key);
    if (cached !== undefined) return cached;
    const kinds = this.#groupVersions.get(key);
    if (!kinds) return undefined;
    const doc = JSON.stringify(groupVersionDocument(kinds));
    this.#documents.set(key, doc);
    return doc;
  }

  #indexDocument(): string {
    if (this.#index !== undefined) return this.#index;
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const key of this.#groupVersions.keys()) {
      const doc = this.#document(key) ?? "";
      const hash = createHash("sha512").update(doc).digest("hex").toUpperCase();
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
    }
    this.#index = JSON.stringify({ paths });
    return this.#index;
  }
}
