/**
 * @module Encodes a Swagger 2.0 document (as JSON) into the protobuf message
 * `openapi.v2.Document` of gnostic's OpenAPIv2.proto, the form kubectl asks `/openapi/v2` for.
 * Field numbers follow that file; proto3 rules apply (empty strings, zeros and false are left
 * out, except inside a oneof). Vendor extensions (`x-…` keys) become `NamedAny` entries whose
 * `Any.yaml` holds the value as text (JSON, which is YAML), as gnostic's compiler does.
 */

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Appends protobuf fields to a message under construction. */
export class ProtoWriter {
  readonly #parts: Buffer[] = [];

  #varint(n: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(n));
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.#parts.push(Buffer.from(bytes));
  }

  #key(field: number, wire: number): void {
    this.#varint(field * 8 + wire);
  }

  /** A length-delimited field holding `bytes` (written even when empty). */
  bytes(field: number, bytes: Buffer): this {
    this.#key(field, 2);
    this.#varint(bytes.length);
    this.#parts.push(bytes);
    return this;
  }

  /** A `string` field; skipped when `value` is not a non-empty string. */
  string(field: number, value: unknown): this {
    if (typeof value === "string" && value !== "") this.bytes(field, Buffer.from(value, "utf8"));
    return this;
  }

  /** A `repeated string` field; skipped when `value` is not an array. */
  strings(field: number, value: unknown): this {
    if (Array.isArray(value)) for (const v of value) this.bytes(field, Buffer.from(String(v), "utf8"));
    return this;
  }

  /** A `bool` field; written only when true unless `always` (a oneof member). */
  bool(field: number, value: unknown, always = false): this {
    if (typeof value !== "boolean" || (!value && !always)) return this;
    this.#key(field, 0);
    this.#varint(value ? 1 : 0);
    return this;
  }

  /** An `int64` field; skipped unless a non-zero integer. */
  int64(field: number, value: unknown): this {
    if (typeof value !== "number" || !Number.isInteger(value) || value === 0) return this;
    this.#key(field, 0);
    this.#varint(value);
    return this;
  }

  /** A `double` field; skipped unless a non-zero number. */
  double(field: number, value: unknown): this {
    if (typeof value !== "number" || value === 0) return this;
    this.#key(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    this.#parts.push(b);
    return this;
  }

  /** An embedded message field, when `value` is defined. */
  message<T>(field: number, value: T | undefined, encode: (v: T) => Buffer): this {
    if (value !== undefined) this.bytes(field, encode(value));
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

/** `Any`: the value as YAML text (field 2). */
function any(value: unknown): Buffer {
  return new ProtoWriter().string(2, `${JSON.stringify(value)}\n`).finish();
}

/** Writes each `x-…` key of `obj` as a `NamedAny` in `field`. */
function vendorExtensions(w: ProtoWriter, field: number, obj: Json): void {
  for (const [name, value] of Object.entries(obj)) {
    if (!name.startsWith("x-")) continue;
    w.message(field, value, (v) => new ProtoWriter().string(1, name).message(2, v, any).finish());
  }
}

function anys(w: ProtoWriter, field: number, value: unknown): void {
  if (Array.isArray(value)) for (const v of value) w.message(field, v, any);
}

/** `Schema`. */
export function schema(s: Json): Buffer {
  const w = new ProtoWriter()
    .string(1, s.$ref)
    .string(2, s.format)
    .string(3, s.title)
    .string(4, s.description)
    .message(5, s.default, any)
    .double(6, s.multipleOf)
    .double(7, s.maximum)
    .bool(8, s.exclusiveMaximum)
    .double(9, s.minimum)
    .bool(10, s.exclusiveMinimum)
    .int64(11, s.maxLength)
    .int64(12, s.minLength)
    .string(13, s.pattern)
    .int64(14, s.maxItems)
    .int64(15, s.minItems)
    .bool(16, s.uniqueItems)
    .int64(17, s.maxProperties)
    .int64(18, s.minProperties)
    .strings(19, s.required);
  anys(w, 20, s.enum);
  const ap = s.additionalProperties;
  if (isRecord(ap)) w.bytes(21, new ProtoWriter().bytes(1, schema(ap)).finish());
  else if (typeof ap === "boolean") w.bytes(21, new ProtoWriter().bool(2, ap, true).finish());
  if (s.type !== undefined) {
    w.bytes(22, new ProtoWriter().strings(1, Array.isArray(s.type) ? s.type : [s.type]).finish());
  }
  if (s.items !== undefined) {
    const items = (Array.isArray(s.items) ? s.items : [s.items]).filter(isRecord);
    const iw = new ProtoWriter();
    for (const i of items) iw.bytes(1, schema(i));
    w.bytes(23, iw.finish());
  }
  if (Array.isArray(s.allOf)) for (const a of s.allOf.filter(isRecord)) w.bytes(24, schema(a));
  if (isRecord(s.properties)) w.bytes(25, namedSchemas(s.properties));
  w.string(26, s.discriminator).bool(27, s.readOnly).message(30, s.example, any);
  vendorExtensions(w, 31, s);
  return w.finish();
}

/** `Properties` / `Definitions`: repeated `NamedSchema` in field 1. */
function namedSchemas(obj: Json): Buffer {
  const w = new ProtoWriter();
  for (const [name, s] of Object.entries(obj)) {
    if (!isRecord(s)) continue;
    w.bytes(1, new ProtoWriter().string(1, name).bytes(2, schema(s)).finish());
  }
  return w.finish();
}

/**
 * The fields after `name` in the four non-body parameter messages and `PrimitivesItems` share
 * one layout, starting at `base`: type, format, items, collectionFormat, default, maximum,
 * exclusiveMaximum, minimum, exclusiveMinimum, maxLength, minLength, pattern, maxItems,
 * minItems, uniqueItems, enum, multipleOf, vendor extensions.
 */
function primitiveFields(w: ProtoWriter, base: number, p: Json): void {
  w.string(base, p.type)
    .string(base + 1, p.format)
    .message(base + 2, isRecord(p.items) ? p.items : undefined, primitivesItems)
    .string(base + 3, p.collectionFormat)
    .message(base + 4, p.default, any)
    .double(base + 5, p.maximum)
    .bool(base + 6, p.exclusiveMaximum)
    .double(base + 7, p.minimum)
    .bool(base + 8, p.exclusiveMinimum)
    .int64(base + 9, p.maxLength)
    .int64(base + 10, p.minLength)
    .string(base + 11, p.pattern)
    .int64(base + 12, p.maxItems)
    .int64(base + 13, p.minItems)
    .bool(base + 14, p.uniqueItems);
  anys(w, base + 15, p.enum);
  w.double(base + 16, p.multipleOf);
  vendorExtensions(w, base + 17, p);
}

function primitivesItems(p: Json): Buffer {
  const w = new ProtoWriter();
  primitiveFields(w, 1, p);
  return w.finish();
}

/** `NonBodyParameter`'s oneof member for each `in`, and whether it has `allowEmptyValue`. */
const NON_BODY: Record<string, { field: number; allowEmpty: boolean }> = {
  header: { field: 1, allowEmpty: false },
  formData: { field: 2, allowEmpty: true },
  query: { field: 3, allowEmpty: true },
  path: { field: 4, allowEmpty: false },
};

/** `ParametersItem`: a `Parameter` (body or non-body) or a `JsonReference`. */
function parametersItem(p: Json): Buffer {
  if (typeof p.$ref === "string") {
    const ref = new ProtoWriter().string(1, p.$ref).string(2, p.description).finish();
    return new ProtoWriter().bytes(2, ref).finish();
  }
  let parameter: Buffer;
  if (p.in === "body") {
    const w = new ProtoWriter()
      .string(1, p.description)
      .string(2, p.name)
      .string(3, p.in)
      .bool(4, p.required)
      .message(5, isRecord(p.schema) ? p.schema : undefined, schema);
    vendorExtensions(w, 6, p);
    parameter = new ProtoWriter().bytes(1, w.finish()).finish();
  } else {
    const kind = NON_BODY[String(p.in)] ?? NON_BODY.query!;
    const w = new ProtoWriter()
      .bool(1, p.required)
      .string(2, p.in)
      .string(3, p.description)
      .string(4, p.name);
    if (kind.allowEmpty) w.bool(5, p.allowEmptyValue);
    primitiveFields(w, kind.allowEmpty ? 6 : 5, p);
    const nonBody = new ProtoWriter().bytes(kind.field, w.finish()).finish();
    parameter = new ProtoWriter().bytes(2, nonBody).finish();
  }
  return new ProtoWriter().bytes(1, parameter).finish();
}

function parameters(w: ProtoWriter, field: number, value: unknown): void {
  if (Array.isArray(value)) for (const p of value.filter(isRecord)) w.bytes(field, parametersItem(p));
}

/** `Responses`: `NamedResponseValue`s (field 1) and vendor extensions (field 2). */
function responses(r: Json): Buffer {
  const w = new ProtoWriter();
  for (const [code, value] of Object.entries(r)) {
    if (code.startsWith("x-") || !isRecord(value)) continue;
    let rv: Buffer;
    if (typeof value.$ref === "string") {
      rv = new ProtoWriter().bytes(2, new ProtoWriter().string(1, value.$ref).finish()).finish();
    } else {
      const resp = new ProtoWriter().string(1, value.description);
      if (isRecord(value.schema)) resp.bytes(2, new ProtoWriter().bytes(1, schema(value.schema)).finish());
      vendorExtensions(resp, 5, value);
      rv = new ProtoWriter().bytes(1, resp.finish()).finish();
    }
    w.bytes(1, new ProtoWriter().string(1, code).bytes(2, rv).finish());
  }
  vendorExtensions(w, 2, r);
  return w.finish();
}

/** `Operation`. */
function operation(o: Json): Buffer {
  const w = new ProtoWriter()
    .strings(1, o.tags)
    .string(2, o.summary)
    .string(3, o.description)
    .string(5, o.operationId)
    .strings(6, o.produces)
    .strings(7, o.consumes);
  parameters(w, 8, o.parameters);
  w.message(9, isRecord(o.responses) ? o.responses : undefined, responses)
    .strings(10, o.schemes)
    .bool(11, o.deprecated);
  vendorExtensions(w, 13, o);
  return w.finish();
}

const PATH_METHODS = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 } as const;

/** `PathItem`. */
function pathItem(item: Json): Buffer {
  const w = new ProtoWriter().string(1, item.$ref);
  for (const [method, field] of Object.entries(PATH_METHODS)) {
    const op = item[method];
    if (isRecord(op)) w.bytes(field, operation(op));
  }
  parameters(w, 9, item.parameters);
  vendorExtensions(w, 10, item);
  return w.finish();
}

/** `Paths`: vendor extensions (field 1) and `NamedPathItem`s (field 2). */
function paths(p: Json): Buffer {
  const w = new ProtoWriter();
  vendorExtensions(w, 1, p);
  for (const [name, item] of Object.entries(p)) {
    if (name.startsWith("x-") || !isRecord(item)) continue;
    w.bytes(2, new ProtoWriter().string(1, name).bytes(2, pathItem(item)).finish());
  }
  return w.finish();
}

function info(i: Json): Buffer {
  const w = new ProtoWriter().string(1, i.title).string(2, i.version).string(3, i.description);
  vendorExtensions(w, 7, i);
  return w.finish();
}

/** The whole `openapi.v2.Document`. */
export function encodeDocument(doc: Json): Buffer {
  const w = new ProtoWriter()
    .string(1, doc.swagger)
    .message(2, isRecord(doc.info) ? doc.info : undefined, info)
    .string(3, doc.host)
    .string(4, doc.basePath)
    .strings(5, doc.schemes)
    .strings(6, doc.consumes)
    .strings(7, doc.produces)
    .message(8, isRecord(doc.paths) ? doc.paths : undefined, paths)
    .message(9, isRecord(doc.definitions) ? doc.definitions : undefined, namedSchemas);
  vendorExtensions(w, 16, doc);
  return w.finish();
}
