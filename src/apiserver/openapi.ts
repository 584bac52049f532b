/**
 * @module The API server's OpenAPI endpoints. `/openapi/v3` lists one document per
 * group-version (`api/v1`, `apis/apps/v1`, …) with a content hash in its URL; each document
 * holds the group-version's paths and operations and the component schemas they reach,
 * generated from our type registry (`openapi/schemas.json`). kubectl reads these for
 * `explain`, for strategic-merge-patch metadata, and to learn that the server validates
 * fields itself. `/openapi/v2` serves the same registry as one Swagger 2.0 document
 * (`openapi/v2.ts`), as gnostic protobuf (`openapi/protobuf-v2.ts`) or JSON by the Accept
 * header, with an ETag: kubectl 1.27/1.28 read it for the same purposes. Every document is
 * built on its first request and kept serialized.
 */
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { allKinds, type KindInfo } from "../api/kinds.ts";
import { KUBE_MAJOR, KUBE_MINOR } from "./discovery.ts";
import { kindPaths } from "./openapi/paths.ts";
import { encodeDocument } from "./openapi/protobuf-v2.ts";
import { componentSchemas, REF_PREFIX, schemaNameFor, type Schema } from "./openapi/schemas.ts";
import { swaggerDocument } from "./openapi/v2.ts";

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

/** The answer to a GET of an OpenAPI path: status, headers and body. */
export interface OpenApiReply {
  readonly status: number;
  readonly headers: Record<string, string | number>;
  readonly body: string | Buffer;
}

/** The protobuf media type kubectl asks `/openapi/v2` for (`@` form) and its RFC-legal spelling. */
const PROTO_V2 = "com.github.proto-openapi.spec.v2@v1.0+protobuf";
const PROTO_V2_DOTTED = "com.github.proto-openapi.spec.v2.v1.0+protobuf";
/**
 * The `/openapi/v2` encodings by Accept subtype (type `application`), with the Content-Type
 * each answers with. As upstream, both protobuf spellings answer with the dotted one: Go's
 * mime parser (used by clients) rejects `@` in a media type.
 */
const V2_FORMATS = [
  { subtype: "json", contentType: "application/json", proto: false },
  { subtype: PROTO_V2, contentType: `application/${PROTO_V2_DOTTED}`, proto: true },
  { subtype: PROTO_V2_DOTTED, contentType: `application/${PROTO_V2_DOTTED}`, proto: true },
] as const;

/** One media range of an Accept header. */
interface AcceptClause {
  type: string;
  subtype: string;
  q: number;
}

/** An Accept header's media ranges, most preferred first (by q, then by specificity). */
export function parseAccept(header: string | undefined): AcceptClause[] {
  const clauses: AcceptClause[] = [];
  for (const part of (header === undefined || header.trim() === "" ? "*/*" : header).split(",")) {
    const [range = "", ...params] = part.split(";").map((p) => p.trim());
    if (range === "") continue;
    const [type = "", subtype = "*"] = range === "*" ? ["*", "*"] : range.split("/", 2);
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split("=", 2).map((x) => x.trim());
      if (k === "q" && v !== undefined && !Number.isNaN(Number(v))) q = Number(v);
    }
    clauses.push({ type, subtype, q });
  }
  const specificity = (c: AcceptClause): number => (c.type === "*" ? 0 : c.subtype === "*" ? 1 : 2);
  return clauses.sort((a, b) => b.q - a.q || specificity(b) - specificity(a));
}

/** True when an If-None-Match header lists `etag` (weak comparison) or is `*`. */
function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const strip = (t: string): string => (t.startsWith("W/") ? t.slice(2) : t);
  return header.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || strip(tag) === strip(etag);
  });
}

/** A serialized `/openapi/v2` encoding with its validators. */
interface V2Body {
  readonly body: string | Buffer;
  readonly etag: string;
  readonly lastModified: Date;
}

/**
 * Serves `/openapi/v3` and its group-version documents. Each document is built once, on first
 * request, and kept as its serialized string; the index is built with all of them (it carries
 * their hashes).
 */
export class OpenApi {
  readonly #groupVersions: Map<string, KindInfo[]>;
  readonly #kinds: readonly KindInfo[];
  readonly #documents = new Map<string, string>();
  #index: string | undefined;
  #v2Json: V2Body | undefined;
  #v2Proto: V2Body | undefined;

  constructor(kinds: readonly KindInfo[] = allKinds()) {
    this.#kinds = kinds;
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

  /**
   * The full answer to a GET of `path` with the request's `headers`, for every OpenAPI path
   * (`/openapi/v2` negotiated by Accept and answering If-None-Match / If-Modified-Since with
   * 304, as upstream's handler does), or `undefined` for a path we do not serve (404).
   */
  respond(path: string, headers: IncomingHttpHeaders): OpenApiReply | undefined {
    const clean = path.split("?", 1)[0] ?? path;
    const trimmed = clean.endsWith("/") ? clean.slice(0, -1) : clean;
    if (trimmed !== "/openapi/v2") {
      const body = this.serve(path);
      if (body === undefined) return undefined;
      return {
        status: 200,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
        body,
      };
    }
    for (const c of parseAccept(headers.accept)) {
      if (c.type !== "application" && c.type !== "*") continue;
      const format = V2_FORMATS.find((f) => c.subtype === "*" || c.subtype === f.subtype);
      if (!format) continue;
      const v2 = format.proto ? this.#v2ProtoBody() : this.#v2JsonBody();
      const common = { Vary: "Accept", ETag: v2.etag };
      const ims = headers["if-modified-since"];
      const notModified =
        headers["if-none-match"] !== undefined
          ? noneMatchHits(headers["if-none-match"], v2.etag)
          : ims !== undefined && Date.parse(ims) >= Math.floor(v2.lastModified.getTime() / 1000) * 1000;
      if (notModified) return { status: 304, headers: common, body: "" };
      return {
        status: 200,
        headers: {
          ...common,
          "Content-Type": format.contentType,
          "Content-Length": Buffer.byteLength(v2.body),
          "Last-Modified": v2.lastModified.toUTCString(),
        },
        body: v2.body,
      };
    }
    return { status: 406, headers: { Vary: "Accept", "Content-Length": 0 }, body: "" };
  }

  #v2JsonBody(): V2Body {
    this.#v2Json ??= withValidators(JSON.stringify(swaggerDocument(this.#kinds)));
    return this.#v2Json;
  }

  #v2ProtoBody(): V2Body {
    this.#v2Proto ??= withValidators(encodeDocument(swaggerDocument(this.#kinds)));
    return this.#v2Proto;
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

/** A body with upstream's validators: a quoted upper-case SHA-512 ETag and the build time. */
function withValidators(body: string | Buffer): V2Body {
  const etag = `"${createHash("sha512").update(body).digest("hex").toUpperCase()}"`;
  return { body, etag, lastModified: new Date() };
}
