/**
 * @module Decodes Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`)
 * into the plain JSON object a JSON body with the same content would give: the `k8s\0`
 * magic, the `runtime.Unknown` envelope (apiVersion/kind), then the kind's message walked
 * with our schemas. Zero values Go's encoder writes for non-pointer fields are dropped
 * where the JSON tag says `omitempty`; Time, Duration, IntOrString, Quantity, RawExtension
 * and `[]byte` become their JSON forms. Unknown field numbers are skipped.
 */
import { badRequest } from "../../api/status-error.ts";
import { messageForKind, messages } from "./schema-kinds.ts";
import { isLeaf, type FieldSpec, type Message } from "./schema-types.ts";
import { WireError, WireReader, WireType } from "./wire.ts";

/** The four bytes every Kubernetes protobuf body starts with. */
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Nesting deeper than this is refused rather than risking the stack. */
const MAX_DEPTH = 64;

type JsonObject = Record<string, unknown>;

/**
 * Decodes a protobuf request body into a JSON object carrying `apiVersion` and `kind` from
 * the envelope. Throws a 400 `StatusError` on a malformed body or an unregistered kind.
 */
export function decodeProtobufObject(buf: Buffer): Record<string, unknown> {
  if (buf.length < PROTOBUF_MAGIC.length || !buf.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC)) {
    throw badRequest(
      `provided data does not appear to be a protobuf message, expected prefix [${[...PROTOBUF_MAGIC].join(" ")}]`,
    );
  }
  try {
    const env = readEnvelope(new WireReader(buf, PROTOBUF_MAGIC.length));
    if (!env.kind) throw badRequest("Object 'Kind' is missing in protobuf request body");
    if (env.contentEncoding) {
      throw badRequest(`unsupported protobuf content encoding ${JSON.stringify(env.contentEncoding)}`);
    }
    const msgName = messageForKind(env.apiVersion, env.kind);
    if (!msgName) {
      throw badRequest(
        `no kind "${env.kind}" is registered for version "${env.apiVersion}" in scheme "pkg/api/legacyscheme/scheme.go:30"`,
      );
    }
    const obj = decodeMessage(new WireReader(env.raw), msgName, 0);
    return { kind: env.kind, apiVersion: env.apiVersion, ...obj };
  } catch (e) {
    if (e instanceof WireError)
      throw badRequest(`error decoding request body: invalid protobuf: ${e.message}`);
    throw e;
  }
}

interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Buffer;
  contentEncoding: string;
}

/** Reads `runtime.Unknown` {1: typeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType}. */
function readEnvelope(r: WireReader): Envelope {
  const env: Envelope = { apiVersion: "", kind: "", raw: Buffer.alloc(0), contentEncoding: "" };
  while (!r.eof()) {
    const t = r.tag();
    if (t.field === 1 && t.wire === WireType.Bytes) {
      const tm = r.sub();
      while (!tm.eof()) {
        const tt = tm.tag();
        if (tt.field === 1 && tt.wire === WireType.Bytes) env.apiVersion = tm.string();
        else if (tt.field === 2 && tt.wire === WireType.Bytes) env.kind = tm.string();
        else tm.skip(tt.wire, tt.field);
      }
    } else if (t.field === 2 && t.wire === WireType.Bytes) env.raw = r.bytes();
    else if (t.field === 3 && t.wire === WireType.Bytes) env.contentEncoding = r.string();
    else r.skip(t.wire, t.field);
  }
  return env;
}

function schema(name: string): Message {
  const m = messages.get(name);
  if (!m) throw new Error(`protobuf schema for ${name} is missing`);
  return m;
}

/** Decodes one message into a JSON object (merging into `into` when given). */
function decodeMessage(r: WireReader, name: string, depth: number, into: JsonObject = {}): JsonObject {
  if (depth > MAX_DEPTH) throw new WireError(`message nesting deeper than ${MAX_DEPTH}`);
  const msg = schema(name);
  while (!r.eof()) {
    const t = r.tag();
    const f = msg.get(t.field);
    if (!f) {
      r.skip(t.wire, t.field);
      continue;
    }
    readField(r, f, t.wire, depth, into);
  }
  finishMessage(msg, into);
  return into;
}

/** Applies the JSON zero-value rules once all of a message's fields are read. */
function finishMessage(msg: Message, out: JsonObject): void {
  for (const f of msg.values()) {
    if (f.inline || f.kind !== "single" || !isScalar(f.type)) continue;
    const v = out[f.name];
    if (f.presence === "omitempty" && v !== undefined && isZero(v)) delete out[f.name];
    else if (f.presence === "always" && v === undefined) out[f.name] = zeroOf(f.type);
  }
}

function isScalar(type: string): boolean {
  return (
    type === "s" || type === "i32" || type === "i64" || type === "b" || type === "f64" || type === "bytes"
  );
}

function isZero(v: unknown): boolean {
  return v === "" || v === 0 || v === false;
}

function zeroOf(type: string): unknown {
  if (type === "b") return false;
  if (type === "s" || type === "bytes") return "";
  return 0;
}

function readField(r: WireReader, f: FieldSpec, wire: number, depth: number, out: JsonObject): void {
  if (f.inline) {
    expectWire(wire, WireType.Bytes, f);
    decodeMessage(r.sub(), f.type, depth + 1, out);
    return;
  }
  if (f.kind === "map") {
    expectWire(wire, WireType.Bytes, f);
    const [k, v] = readMapEntry(r.sub(), f, depth);
    const m = (out[f.name] ??= {}) as JsonObject;
    // defineProperty, not assignment: a "__proto__" key must stay a plain own key, as in JSON.parse.
    Object.defineProperty(m, k, { value: v, enumerable: true, writable: true, configurable: true });
    return;
  }
  if (f.kind === "repeated") {
    const list = (out[f.name] ??= []) as unknown[];
    if (wire === WireType.Bytes && isPackable(f.type)) {
      const p = r.sub();
      while (!p.eof()) list.push(readValue(p, f, packedWire(f.type), depth));
    } else list.push(readValue(r, f, wire, depth));
    return;
  }
  if (!isLeaf(f.type)) {
    expectWire(wire, WireType.Bytes, f);
    const existing = out[f.name];
    const into = existing !== null && typeof existing === "object" ? (existing as JsonObject) : {};
    out[f.name] = decodeMessage(r.sub(), f.type, depth + 1, into);
    return;
  }
  out[f.name] = readValue(r, f, wire, depth);
}

function isPackable(type: string): boolean {
  return type === "i32" || type === "i64" || type === "b" || type === "f64";
}

function packedWire(type: string): number {
  return type === "f64" ? WireType.Fixed64 : WireType.Varint;
}

function expectWire(got: number, want: number, f: FieldSpec): void {
  if (got !== want) throw new WireError(`field ${f.name} has wire type ${got}, expected ${want}`);
}

/** Reads one value of a single or repeated field. */
function readValue(r: WireReader, f: FieldSpec, wire: number, depth: number): unknown {
  switch (f.type) {
    case "i32":
      expectWire(wire, WireType.Varint, f);
      return r.int32();
    case "i64":
      expectWire(wire, WireType.Varint, f);
      return r.int64();
    case "b":
      expectWire(wire, WireType.Varint, f);
      return r.bool();
    case "f64":
      expectWire(wire, WireType.Fixed64, f);
      return r.double();
  }
  expectWire(wire, WireType.Bytes, f);
  return readBytesValue(r, f.type, depth);
}

/** Reads a length-delimited value: string, bytes, a wrapper type, or a message. */
function readBytesValue(r: WireReader, type: string, depth: number): unknown {
  switch (type) {
    case "s":
      return r.string();
    case "bytes":
      return r.bytes().toString("base64");
    case "time":
    case "mtime": {
      const { seconds, nanos } = readTimestamp(r.sub());
      return formatTime(seconds, nanos, type === "mtime");
    }
    case "dur":
      return formatDuration(readDuration(r.sub()));
    case "ios":
      return readIntOrString(r.sub());
    case "q":
      return readSingleString(r.sub()) || "0";
    case "raw":
      return parseRaw(readSingleBytes(r.sub()));
    case "strs":
      return readStringList(r.sub());
    default:
      return decodeMessage(r.sub(), type, depth + 1);
  }
}

/** A map entry {1: key, 2: value}; missing parts take their zero values. */
function readMapEntry(r: WireReader, f: FieldSpec, depth: number): [string, unknown] {
  let key = "";
  let value: unknown;
  while (!r.eof()) {
    const t = r.tag();
    if (t.field === 1) {
      expectWire(t.wire, WireType.Bytes, f);
      key = r.string();
    } else if (t.field === 2) value = readValue(r, f, t.wire, depth);
    else r.skip(t.wire, t.field);
  }
  if (value === undefined) value = mapZero(f.type);
  return [key, value];
}

function mapZero(type: string): unknown {
  switch (type) {
    case "q":
      return "0";
    case "strs":
      return [];
    case "time":
    case "mtime":
    case "raw":
      return null;
    case "ios":
      return 0;
  }
  return isLeaf(type) ? zeroOf(type) : {};
}

function readTimestamp(r: WireReader): { seconds: number; nanos: number } {
  let seconds = 0;
  let nanos = 0;
  while (!r.eof()) {
    const t = r.tag();
    if (t.field === 1 && t.wire === WireType.Varint) seconds = r.int64();
    else if (t.field === 2 && t.wire === WireType.Varint) nanos = r.int32();
    else r.skip(t.wire, t.field);
  }
  return { seconds, nanos };
}

/** Go's zero time marshals as `null`; others as RFC 3339 in UTC. */
export function formatTime(seconds: number, nanos: number, micro: boolean): string | null {
  if (seconds === 0 && nanos === 0) return null;
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) throw new WireError(`timestamp ${seconds} out of range`);
  const base = d.toISOString().slice(0, 19);
  if (!micro) return `${base}Z`;
  const us = Math.floor(Math.max(0, nanos) / 1000);
  return `${base}.${String(us).padStart(6, "0")}Z`;
}

function readDuration(r: WireReader): bigint {
  let ns = 0n;
  while (!r.eof()) {
    const t = r.tag();
    if (t.field === 1 && t.wire === WireType.Varint) ns = BigInt.asIntN(64, r.varint());
    else r.skip(t.wire, t.field);
  }
  return ns;
}

/** Formats nanoseconds the way Go's `time.Duration.String` does (`1h2m3.5s`, `150ms`, `0s`). */
export function formatDuration(ns: bigint): string {
  if (ns === 0n) return "0s";
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u < 1_000n) out = `${u}ns`;
    else if (u < 1_000_000n) out = `${withFraction(u, 3)}µs`;
    else out = `${withFraction(u, 6)}ms`;
  } else {
    const secs = withFraction(u, 9);
    u /= 1_000_000_000n;
    out = `${secs.replace(/^\d+/, String(u % 60n))}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** `v / 10^prec` with the remainder as a trimmed decimal fraction. */
function withFraction(v: bigint, prec: number): string {
  const scale = 10n ** BigInt(prec);
  const frac = String(v % scale)
    .padStart(prec, "0")
    .replace(/0+$/, "");
  return frac ? `${v / scale}.${frac}` : `${v / scale}`;
}

/** IntOrString {1: type (0 int, 1 string), 2: intVal, 3: strVal} → number or string. */
function readIntOrString(r: WireReader): number | string {
  let type = 0;
  let intVal = 0;
  let strVal = "";
  while (!r.eof()) {
    const t = r.tag();
    if (t.field === 1 && t.wire === WireType.Varint) type = r.int64();
    else if (t.field === 2 && t.wire === WireType.Varint) intVal = r.int32();
    else if (t.field === 3 && t.wire === WireType.Bytes) strVal = r.string();
    else r.skip(t.wire, t.field);
  }
  return type === 1 ? strVal : intVal;
}

function readSingleString(r: WireReader): string {
  let s = "";
  while (!r.eof()) {
    const t = r.tag();
    if (t.field === 1 && t.wire === WireType.Bytes) s = r.string();
    else r.skip(t.wire, t.field);
  }
  return s;
}

function readSingleBytes(r: WireReader): Buffer {
  let b: Buffer = Buffer.alloc(0);
  while (!r.eof()) {
    const t = r.tag();
    if (t.field === 1 && t.wire === WireType.Bytes) b = r.bytes();
    else r.skip(t.wire, t.field);
  }
  return b;
}

function readStringList(r: WireReader): string[] {
  const items: string[] = [];
  while (!r.eof()) {
    const t = r.tag();
    if (t.field === 1 && t.wire === WireType.Bytes) items.push(r.string());
    else r.skip(t.wire, t.field);
  }
  return items;
}

/** RawExtension / FieldsV1 bytes hold JSON; empty means null. */
function parseRaw(b: Buffer): unknown {
  if (b.length === 0) return null;
  try {
    return JSON.parse(b.toString("utf8")) as unknown;
  } catch (e) {
    throw new WireError(`embedded raw object is not valid JSON: ${(e as Error).message}`);
  }
}
