/**
 * @module Field-path errors as upstream's apimachinery `field.ErrorList` prints them,
 * e.g. `spec.replicas: Invalid value: -1: must be greater than or equal to 0`.
 * Validation everywhere returns a `FieldError[]`; the apiserver turns a non-empty list into a
 * 422 `Status` with `reason: Invalid` and `details.causes` (see `invalid` in status-error.ts).
 */

/** The kinds of field error upstream distinguishes; the value is the `cause.reason` it sends. */
export type FieldErrorType =
  | "FieldValueRequired"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueDuplicate"
  | "FieldValueForbidden"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "FieldValueTypeInvalid"
  | "FieldValueNotFound"
  | "InternalError";

/** One problem with one field. `field` is the dotted path (`spec.containers[0].image`). */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** The offending value, printed in the message where upstream prints it. */
  value?: unknown;
  /** Human detail, e.g. `must be greater than or equal to 0`. */
  detail: string;
}

/**
 * A path into an object, built by `child` and `index`, printed as `spec.containers[0].name`.
 * Immutable and cheap: the string is built once per step.
 */
export class FieldPath {
  private constructor(private readonly path: string) {}
  static root(name = ""): FieldPath {
    return new FieldPath(name);
  }
  child(...names: string[]): FieldPath {
    let p = this.path;
    for (const n of names) p = p ? `${p}.${n}` : n;
    return new FieldPath(p);
  }
  index(i: number): FieldPath {
    return new FieldPath(`${this.path}[${i}]`);
  }
  key(k: string): FieldPath {
    return new FieldPath(`${this.path}[${k}]`);
  }
  toString(): string {
    return this.path;
  }
}

type Path = FieldPath | string;

export function required(path: Path, detail = ""): FieldError {
  return { type: "FieldValueRequired", field: String(path), detail };
}
export function invalidValue(path: Path, value: unknown, detail: string): FieldError {
  return { type: "FieldValueInvalid", field: String(path), value, detail };
}
export function notSupported(path: Path, value: unknown, valid: readonly string[]): FieldError {
  const detail = valid.length ? `supported values: ${valid.map((v) => JSON.stringify(v)).join(", ")}` : "";
  return { type: "FieldValueNotSupported", field: String(path), value, detail };
}
export function duplicate(path: Path, value: unknown): FieldError {
  return { type: "FieldValueDuplicate", field: String(path), value, detail: "" };
}
export function forbidden(path: Path, detail: string): FieldError {
  return { type: "FieldValueForbidden", field: String(path), detail };
}
export function tooLong(path: Path, value: unknown, max: number): FieldError {
  return {
    type: "FieldValueTooLong",
    field: String(path),
    value,
    detail: `may not be more than ${max} bytes`,
  };
}
export function tooMany(path: Path, actual: number, max: number): FieldError {
  return {
    type: "FieldValueTooMany",
    field: String(path),
    value: actual,
    detail: `must have at most ${max} items`,
  };
}

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueRequired: "Required value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueDuplicate: "Duplicate value",
  FieldValueForbidden: "Forbidden",
  FieldValueTooLong: "Too long",
  FieldValueTooMany: "Too many",
  FieldValueTypeInvalid: "Invalid value",
  FieldValueNotFound: "Not found",
  InternalError: "Internal error",
};

/**
 * A field error's value known to be a Go `map[string]string` (labels, a selector's
 * matchLabels), which upstream prints as `map[string]string{"a":"b", "c":"d"}` (keys sorted)
 * or, when absent, `map[string]string(nil)`.
 */
export class GoStringMap {
  constructor(readonly map: Readonly<Record<string, string>> | undefined) {}

  toString(): string {
    if (!this.map) return "map[string]string(nil)";
    const body = Object.keys(this.map)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${JSON.stringify(this.map![k])}`)
      .join(", ");
    return `map[string]string{${body}}`;
  }
}

/** `labels` as a field error's value (see {@link GoStringMap}). */
export const goStringMap = (labels: Readonly<Record<string, string>> | undefined): GoStringMap =>
  new GoStringMap(labels);

/**
 * Prints a value the way upstream's field errors do (Go's `%q`, `%v` and `%#v`): strings
 * quoted, numbers and bools bare, string lists in Go syntax (`[]string{"a", "b"}`), values
 * marked as string maps ({@link GoStringMap}) as Go maps; other objects, whose Go type we do
 * not know here, as JSON.
 */
function printValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v instanceof GoStringMap) return v.toString();
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
    return `[]string{${v.map((x) => JSON.stringify(x)).join(", ")}}`;
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Types whose message never shows the value, as upstream. */
const VALUELESS = new Set<FieldErrorType>([
  "FieldValueRequired",
  "FieldValueForbidden",
  "FieldValueTooLong",
  "InternalError",
]);

/**
 * The error's text without the field: what goes into `details.causes[].message`
 * (`Invalid value: -1: must be greater than or equal to 0`).
 */
export function errorBody(e: FieldError): string {
  let s = TYPE_TEXT[e.type];
  if (!VALUELESS.has(e.type)) s += `: ${printValue(e.value)}`;
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

/** `spec.replicas: Invalid value: -1: must be greater than or equal to 0`. */
export function formatFieldError(e: FieldError): string {
  return e.field ? `${e.field}: ${errorBody(e)}` : errorBody(e);
}

/** Joins errors as upstream's aggregate does: one alone, several as `[a, b]`. */
export function formatFieldErrors(errs: readonly FieldError[]): string {
  if (errs.length === 1) return formatFieldError(errs[0]!);
  return `[${errs.map(formatFieldError).join(", ")}]`;
}
