/**
 * @module A set of field paths, as server-side apply tracks ownership (structured-merge-diff's
 * `fieldpath.Set`), and its `FieldsV1` JSON form as stored in `metadata.managedFields`.
 *
 * A path is a list of path elements, each kept in its serialized form: `f:<name>` (a field),
 * `k:{"name":"web"}` (an item of an associative list, by its key fields in name order),
 * `v:"x"` (an item of a set of primitives) or `i:3` (an index; only read, never produced).
 * The set is a trie: at each level some elements are members (the path ending there is in
 * the set) and some have children. FieldsV1 writes a member with children as `".": {}` inside
 * the child object, and orders keys as upstream does (fields, then keys, then values, then
 * indices, each sorted), so the bytes match what a real apiserver stores.
 */

/** One serialized path element: `f:name`, `k:{...}`, `v:value` or `i:index`. */
export type PathElement = string;
/** A path from the object's root. */
export type FieldPath = readonly PathElement[];

/** The element selecting field `name` of an object. */
export function fieldElement(name: string): PathElement {
  return `f:${name}`;
}

/** The element selecting the list item whose key fields have these values. */
export function keyElement(key: Readonly<Record<string, unknown>>): PathElement {
  const names = Object.keys(key).sort(compareStrings);
  return `k:{${names.map((n) => `${canonicalJson(n)}:${canonicalJson(key[n])}`).join(",")}}`;
}

/** The element selecting the item of a set of primitives equal to `value`. */
export function valueElement(value: unknown): PathElement {
  return `v:${canonicalJson(value)}`;
}

/** The element selecting index `i` of an atomic list. */
export function indexElement(i: number): PathElement {
  return `i:${i}`;
}

/** Compares strings by UTF-16 code units (byte order for the ASCII names used here). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** JSON as Go's encoder writes it: sorted object keys, HTML-sensitive characters escaped. */
export function canonicalJson(v: unknown): string {
  if (typeof v === "string") {
    return JSON.stringify(v).replace(
      /[<>&\u2028\u2029]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort(compareStrings);
    return `{${keys.map((k) => `${canonicalJson(k)}:${canonicalJson(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

type Parsed =
  | { t: 0; name: string }
  | { t: 1; fields: [string, unknown][] }
  | { t: 2; value: unknown }
  | { t: 3; index: number };

const parsedCache = new Map<string, Parsed>();

/** Parses a serialized element; throws on a malformed one. */
function parse(pe: PathElement): Parsed {
  const hit = parsedCache.get(pe);
  if (hit) return hit;
  if (pe.length < 2 || pe[1] !== ":") throw new Error(`invalid path element ${JSON.stringify(pe)}`);
  const body = pe.slice(2);
  let out: Parsed;
  switch (pe[0]) {
    case "f":
      out = { t: 0, name: body };
      break;
    case "k": {
      const v: unknown = JSON.parse(body);
      if (v === null || typeof v !== "object" || Array.isArray(v))
        throw new Error(`invalid key path element ${JSON.stringify(pe)}`);
      const fields = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => compareStrings(a, b));
      out = { t: 1, fields };
      break;
    }
    case "v":
      out = { t: 2, value: JSON.parse(body) as unknown };
      break;
    case "i": {
      const n = Number(body);
      if (!Number.isInteger(n)) throw new Error(`invalid index path element ${JSON.stringify(pe)}`);
      out = { t: 3, index: n };
      break;
    }
    default:
      throw new Error(`unknown path element type ${JSON.stringify(pe)}`);
  }
  if (parsedCache.size > 10000) parsedCache.clear();
  parsedCache.set(pe, out);
  return out;
}

/** Re-serializes an element read from FieldsV1 into its canonical form (sorted key fields). */
function canonical(pe: PathElement): PathElement {
  const p = parse(pe);
  if (p.t === 1) return keyElement(Object.fromEntries(p.fields));
  if (p.t === 2) return valueElement(p.value);
  return pe;
}

function typeRank(v: unknown): number {
  if (typeof v === "number") return 0;
  if (typeof v === "string") return 1;
  if (typeof v === "boolean") return 2;
  if (Array.isArray(v)) return 3;
  if (v !== null && typeof v === "object") return 4;
  return 5;
}

/** Total order on values as structured-merge-diff's `value.Compare`. */
function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (ra === 4) return compareFieldLists(sortedEntries(a), sortedEntries(b));
  return 0;
}

function sortedEntries(v: unknown): [string, unknown][] {
  return Object.entries(v as Record<string, unknown>).sort(([x], [y]) => compareStrings(x, y));
}

function compareFieldLists(a: [string, unknown][], b: [string, unknown][]): number {
  for (let i = 0; ; i++) {
    const x = a[i];
    const y = b[i];
    if (!x) return y ? -1 : 0;
    if (!y) return 1;
    const c = compareStrings(x[0], y[0]) || compareValues(x[1], y[1]);
    if (c !== 0) return c;
  }
}

/** Upstream's order on path elements: fields, keys, values, indices; each sorted within. */
export function compareElements(a: PathElement, b: PathElement): number {
  if (a === b) return 0;
  const x = parse(a);
  const y = parse(b);
  if (x.t !== y.t) return x.t - y.t;
  if (x.t === 0 && y.t === 0) return compareStrings(x.name, y.name);
  if (x.t === 1 && y.t === 1) return compareFieldLists(x.fields, y.fields);
  if (x.t === 2 && y.t === 2) return compareValues(x.value, y.value);
  if (x.t === 3 && y.t === 3) return x.index - y.index;
  return 0;
}

/** Go's `%v` of a key or set value in a path string: strings quoted, numbers bare. */
function valueToString(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(valueToString).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${sortedEntries(v)
      .map(([k, x]) => `${k}=${valueToString(x)}`)
      .join(",")}}`;
  return String(v);
}

/** A path as upstream prints it in conflicts: `.spec.containers[name="web"].image`, `[="x"]`. */
export function pathToString(path: FieldPath): string {
  return path
    .map((pe) => {
      const p = parse(pe);
      switch (p.t) {
        case 0:
          return `.${p.name}`;
        case 1:
          return `[${p.fields.map(([n, v]) => `${n}=${valueToString(v)}`).join(",")}]`;
        case 2:
          return `[=${valueToString(p.value)}]`;
        case 3:
          return `[${p.index}]`;
      }
    })
    .join("");
}

/** A set of field paths. Mutable through `insert`; the set operations return new sets. */
export class FieldSet {
  private readonly members = new Set<PathElement>();
  private readonly children = new Map<PathElement, FieldSet>();

  /** Adds `path`; the empty path (the root) is never a member. */
  insert(path: FieldPath): this {
    const n = path.length;
    if (n === 0) return this;
    let node: FieldSet | undefined;
    for (let i = 0; i < n - 1; i++) node = (node ?? this).descend(path[i] as PathElement);
    (node ?? this).members.add(path[n - 1] as PathElement);
    return this;
  }

  private descend(pe: PathElement): FieldSet {
    let c = this.children.get(pe);
    if (!c) {
      c = new FieldSet();
      this.children.set(pe, c);
    }
    return c;
  }

  /** True when `path` itself is in the set. */
  has(path: FieldPath): boolean {
    const n = path.length;
    if (n === 0) return false;
    let node: FieldSet | undefined;
    for (let i = 0; i < n - 1; i++) {
      node = (node ?? this).children.get(path[i] as PathElement);
      if (!node) return false;
    }
    return (node ?? this).members.has(path[n - 1] as PathElement);
  }

  /** True when `pe` is a member at this level. */
  hasMember(pe: PathElement): boolean {
    return this.members.has(pe);
  }

  /** The subset below `pe` at this level, if any. */
  child(pe: PathElement): FieldSet | undefined {
    return this.children.get(pe);
  }

  isEmpty(): boolean {
    if (this.members.size > 0) return false;
    for (const c of this.children.values()) if (!c.isEmpty()) return false;
    return true;
  }

  /** Every path in the set, in upstream's order (a member before the paths below it). */
  paths(): FieldPath[] {
    const out: FieldPath[] = [];
    const walk = (node: FieldSet, prefix: PathElement[]): void => {
      const keys = [...new Set([...node.members, ...node.children.keys()])].sort(compareElements);
      for (const pe of keys) {
        const p = [...prefix, pe];
        if (node.members.has(pe)) out.push(p);
        const c = node.children.get(pe);
        if (c) walk(c, p);
      }
    };
    walk(this, []);
    return out;
  }

  /** The number of paths in the set. */
  get size(): number {
    let n = this.members.size;
    for (const c of this.children.values()) n += c.size;
    return n;
  }

  // The set operations below work level by level on the tries; none of them leaves an empty
  // child behind.

  /** Adds `child` below `pe` unless it is empty. */
  private adopt(pe: PathElement, child: FieldSet): void {
    if (!child.isEmpty()) this.children.set(pe, child);
  }

  /** Paths in this set or in `other`. */
  union(other: FieldSet): FieldSet {
    const out = this.clone();
    out.addAll(other);
    return out;
  }

  private addAll(other: FieldSet): void {
    for (const m of other.members) this.members.add(m);
    for (const [pe, c] of other.children) if (!c.isEmpty()) this.descend(pe).addAll(c);
  }

  /** Paths in both sets. */
  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      if (o) out.adopt(pe, c.intersection(o));
    }
    return out;
  }

  /** Paths in this set and not in `other` (exact paths only). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      out.adopt(pe, o ? c.difference(o) : c.clone());
    }
    return out;
  }

  /** Paths in this set that are neither in `other` nor below a path of `other`. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) out.members.add(m);
    for (const [pe, c] of this.children) {
      if (other.members.has(pe)) continue;
      const o = other.children.get(pe);
      out.adopt(pe, o ? c.recursiveDifference(o) : c.clone());
    }
    return out;
  }

  /** This set plus every proper prefix of its paths (so parents of owned fields count). */
  withAncestors(): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) out.members.add(m);
    for (const [pe, c] of this.children) {
      if (c.isEmpty()) continue;
      out.members.add(pe);
      out.children.set(pe, c.withAncestors());
    }
    return out;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    for (const m of this.members) out.members.add(m);
    for (const [pe, c] of this.children) out.adopt(pe, c.clone());
    return out;
  }

  equals(other: FieldSet): boolean {
    if (this.members.size !== other.members.size) return false;
    for (const m of this.members) if (!other.members.has(m)) return false;
    let n = 0;
    for (const [pe, c] of this.children) {
      if (c.isEmpty()) continue;
      n++;
      const o = other.children.get(pe);
      if (!o || !c.equals(o)) return false;
    }
    for (const c of other.children.values()) if (!c.isEmpty()) n--;
    return n === 0;
  }

  /** The `FieldsV1` object, keys in upstream's order. */
  toFieldsV1(): Record<string, unknown> {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const keys = [...new Set([...this.members, ...this.children.keys()])].sort(compareElements);
    const live = keys.filter((pe) => this.members.has(pe) || !(this.children.get(pe)?.isEmpty() ?? true));
    if (includeSelf && live.length > 0) out["."] = {};
    for (const pe of live) {
      const c = this.children.get(pe);
      if (c && !c.isEmpty()) out[pe] = c.emit(this.members.has(pe));
      else out[pe] = {};
    }
    return out;
  }

  /** The `FieldsV1` JSON text exactly as upstream serializes it. */
  toJSON(): string {
    return JSON.stringify(this.toFieldsV1());
  }

  /** Reads a `FieldsV1` object (as found in `managedFields[].fieldsV1`); throws if malformed. */
  static fromFieldsV1(v: unknown): FieldSet {
    const out = new FieldSet();
    const read = (node: unknown, into: FieldSet): boolean => {
      if (node === null || typeof node !== "object" || Array.isArray(node))
        throw new Error("FieldsV1 entries must be objects");
      let isMember = false;
      let hasChildren = false;
      for (const [key, sub] of Object.entries(node as Record<string, unknown>)) {
        if (key === ".") {
          isMember = true;
          continue;
        }
        let pe: PathElement;
        try {
          pe = canonical(key);
        } catch (err) {
          // Upstream drops element types it does not know and rejects malformed ones.
          if (err instanceof Error && err.message.startsWith("unknown path element type")) continue;
          throw err;
        }
        const child = new FieldSet();
        if (read(sub, child)) into.members.add(pe);
        if (!child.isEmpty()) into.children.set(pe, child);
        hasChildren = true;
      }
      return isMember || !hasChildren;
    };
    read(v, out);
    return out;
  }

  /** Builds a set from paths. */
  static of(...paths: FieldPath[]): FieldSet {
    const out = new FieldSet();
    for (const p of paths) out.insert(p);
    return out;
  }
}
