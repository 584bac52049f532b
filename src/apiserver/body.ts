/**
 * @module Request bodies: read with upstream's 3 MiB limit (413 beyond it), then decoded from
 * JSON or YAML into an object, with the parse position in the 400 a malformed body gets.
 */
import type { IncomingMessage } from "node:http";
import { parseDocument } from "yaml";
import { badRequest, tooLarge, unsupportedMediaType } from "../api/status-error.ts";
import { decodeProtobufObject } from "./protobuf/decode.ts";

/** Upstream's limit on a request body. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Reads the whole body; a body over the limit is refused without reading it all. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) {
    req.resume();
    throw tooLarge(`Request entity too large: limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge(`Request entity too large: limit is ${limit}`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}

/** Where a JSON parse error points, as line and column. */
function jsonPosition(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return "";
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const col = pos - before.lastIndexOf("\n");
  return ` at line ${line}, column ${col}`;
}

/** Parses JSON text into a value; a syntax error is a 400 naming where it is. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const err = e as Error;
    throw badRequest(`error decoding request body: invalid JSON${jsonPosition(text, err)}: ${err.message}`);
  }
}

/** Parses YAML text (a single document); errors carry line and column. */
export function parseYaml(text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : "";
    throw badRequest(`error decoding request body: invalid YAML${where}: ${e.message.split("\n")[0]}`);
  }
  return doc.toJS();
}

/** Decodes a body by its Content-Type into an object (JSON, YAML or Kubernetes protobuf). */
export function decodeObject(buf: Buffer, contentType: string | undefined): Record<string, unknown> {
  const type = mediaType(contentType);
  if (type === "application/vnd.kubernetes.protobuf") return decodeProtobufObject(buf);
  const text = buf.toString("utf8");
  let v: unknown;
  if (type === "application/json" || type === "" || type.endsWith("+json")) v = parseJson(text);
  else if (type === "application/yaml" || type.endsWith("+yaml")) v = parseYaml(text);
  else throw unsupportedMediaType(type);
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw badRequest("error decoding request body: the body must be a JSON or YAML object");
  }
  return v as Record<string, unknown>;
}
