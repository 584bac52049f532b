/**
 * @module The compact notation our protobuf message schemas are written in, and its parser.
 *
 * A message is a map from field number to a spec string `name[:type][flag]`:
 * - `name` is the JSON field name; `...` means an embedded struct whose fields are inlined
 *   into the parent object (Go's `json:",inline"`).
 * - `type` defaults to `s` (string). Scalars: `s`, `i32`, `i64`, `b` (bool), `f64`,
 *   `bytes` (base64 in JSON). Kubernetes wrappers: `time` (metav1.Time, RFC 3339 seconds),
 *   `mtime` (MicroTime, 6 fractional digits), `dur` (metav1.Duration, Go duration string),
 *   `ios` (IntOrString), `q` (resource.Quantity), `raw` (runtime.RawExtension / FieldsV1,
 *   parsed JSON), `strs` (a message wrapping `repeated string` at field 1, e.g. ExtraValue).
 *   Anything capitalised names another message. `[]T` is repeated, `{T}` a map with
 *   string keys.
 * - flag: none = Go `omitempty` (zero scalars are dropped); `?` = pointer (present exactly
 *   when sent, zero included); `!` = no omitempty (zero kept, and filled in when absent).
 */

/** Scalar and well-known leaf types. */
export type LeafType =
  "s" | "i32" | "i64" | "b" | "f64" | "bytes" | "time" | "mtime" | "dur" | "ios" | "q" | "raw" | "strs";

/** How a zero scalar is treated when building JSON. */
export type Presence = "omitempty" | "pointer" | "always";

/** A parsed field spec. */
export interface FieldSpec {
  name: string;
  inline: boolean;
  kind: "single" | "repeated" | "map";
  /** A leaf type or a message name. */
  type: string;
  presence: Presence;
}

/** A message schema as written in the schema files. */
export type MessageSpec = Readonly<Record<number, string>>;

/** A parsed message schema. */
export type Message = ReadonlyMap<number, FieldSpec>;

const LEAVES = new Set<string>([
  "s",
  "i32",
  "i64",
  "b",
  "f64",
  "bytes",
  "time",
  "mtime",
  "dur",
  "ios",
  "q",
  "raw",
  "strs",
]);

/** True when `type` is a leaf type rather than a message name. */
export function isLeaf(type: string): type is LeafType {
  return LEAVES.has(type);
}

/** Parses one spec string; throws on a malformed one (a bug in a schema file). */
export function parseField(spec: string): FieldSpec {
  const m = /^([A-Za-z0-9_.]+)(?::(\[\])?(\{)?([A-Za-z0-9]+)(\})?)?([?!])?$/.exec(spec);
  if (!m || Boolean(m[3]) !== Boolean(m[5]) || (m[2] && m[3]))
    throw new Error(`bad protobuf field spec ${JSON.stringify(spec)}`);
  const name = m[1]!;
  const type = m[4] ?? "s";
  const presence: Presence = m[6] === "?" ? "pointer" : m[6] === "!" ? "always" : "omitempty";
  return {
    name,
    inline: name === "...",
    kind: m[2] ? "repeated" : m[3] ? "map" : "single",
    type,
    presence,
  };
}

/** Parses every message of a schema table, checking that message references resolve. */
export function compileSchemas(
  tables: readonly Readonly<Record<string, MessageSpec>>[],
): Map<string, Message> {
  const out = new Map<string, Message>();
  for (const table of tables) {
    for (const [msgName, spec] of Object.entries(table)) {
      if (out.has(msgName)) throw new Error(`protobuf message ${msgName} defined twice`);
      const fields = new Map<number, FieldSpec>();
      for (const [num, s] of Object.entries(spec)) fields.set(Number(num), parseField(s));
      out.set(msgName, fields);
    }
  }
  for (const [msgName, fields] of out) {
    for (const f of fields.values()) {
      if (!isLeaf(f.type) && !out.has(f.type))
        throw new Error(`protobuf message ${msgName}.${f.name} refers to unknown ${f.type}`);
    }
  }
  return out;
}
