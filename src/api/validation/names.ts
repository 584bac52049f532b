/**
 * @module Name and value syntax checks, as upstream's k8s.io/apimachinery `util/validation`
 * and `api/validation` packages define them: DNS labels and subdomains, qualified names
 * (label and annotation keys), label values, C identifiers, env var names, port names and
 * numbers, IPs and CIDRs, config map keys, path-segment names. Each `is…` check returns the
 * list of problems in upstream's wording (empty = valid); `validateLabels` and
 * `validateAnnotations` turn them into field errors.
 */
import { isIPv6 } from "node:net";
import { type FieldError, type FieldPath, invalidValue, required, tooLong } from "../field-errors.ts";

/** Byte length as Go's `len(string)` measures it. */
function byteLen(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** `must be no more than N characters`, upstream's MaxLenError. */
export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/** `must be non-empty`, upstream's EmptyError. */
export function emptyError(): string {
  return "must be non-empty";
}

/** `must be between LO and HI, inclusive`, upstream's InclusiveRangeError. */
export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

/**
 * Upstream's RegexError: the message, then the examples and the regex in parentheses, with
 * upstream's exact spacing (`(e.g. 'a',  or 'b', regex used for validation is '…')`).
 */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  let s = `${msg} (e.g. `;
  examples.forEach((ex, i) => {
    if (i > 0) s += " or ";
    s += `'${ex}', `;
  });
  return `${s}regex used for validation is '${fmt}')`;
}

function anchored(fmt: string): RegExp {
  return new RegExp(`^(?:${fmt})$`);
}

const QNAME_CHAR_FMT = "[A-Za-z0-9]";
const QNAME_EXT_CHAR_FMT = "[-A-Za-z0-9_.]";
const QUALIFIED_NAME_FMT = `(${QNAME_CHAR_FMT}${QNAME_EXT_CHAR_FMT}*)?${QNAME_CHAR_FMT}`;
const QUALIFIED_NAME_ERR_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_RE = anchored(QUALIFIED_NAME_FMT);
/** Longest name part of a qualified name. */
export const QUALIFIED_NAME_MAX_LENGTH = 63;

/**
 * Checks a qualified name: an optional DNS subdomain prefix and `/`, then a name of at most
 * 63 alphanumerics, `-`, `_`, `.` starting and ending alphanumeric. Label keys, annotation
 * keys (lowercased first) and finalizers use it.
 */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split("/");
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else for (const m of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${m}`);
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_ERR_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")}` +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (byteLen(name) > QUALIFIED_NAME_MAX_LENGTH)
    errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX_LENGTH)}`);
  if (!QUALIFIED_NAME_RE.test(name)) {
    errs.push(
      `name part ${regexError(QUALIFIED_NAME_ERR_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")}`,
    );
  }
  return errs;
}

const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_ERR_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_RE = anchored(LABEL_VALUE_FMT);
/** Longest label value. */
export const LABEL_VALUE_MAX_LENGTH = 63;

/** Checks a label value: empty, or at most 63 qualified-name characters. */
export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLen(value) > LABEL_VALUE_MAX_LENGTH) errs.push(maxLenError(LABEL_VALUE_MAX_LENGTH));
  if (!LABEL_VALUE_RE.test(value))
    errs.push(regexError(LABEL_VALUE_ERR_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
  return errs;
}

const DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_LABEL_RE = anchored(DNS1123_LABEL_FMT);
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_ERR_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_RE = anchored(DNS1123_SUBDOMAIN_FMT);
/** Longest RFC 1123 label. */
export const DNS1123_LABEL_MAX_LENGTH = 63;

/** Checks an RFC 1123 label (namespace names, most `name` fields): `my-name`, at most 63. */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLen(value) > DNS1123_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!DNS1123_LABEL_RE.test(value)) {
    // A valid subdomain that is not a label (length already checked) must have dots.
    if (DNS1123_SUBDOMAIN_RE.test(value)) errs.push("must not contain dots");
    else errs.push(regexError(DNS1123_LABEL_ERR_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"));
  }
  return errs;
}

/** Longest RFC 1123 subdomain. */
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;

/** Checks an RFC 1123 subdomain (most object names): `example.com`, at most 253. */
export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLen(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!DNS1123_SUBDOMAIN_RE.test(value)) {
    errs.push(regexError(DNS1123_SUBDOMAIN_ERR_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"));
  }
  return errs;
}

const DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const DNS1035_LABEL_RE = anchored(DNS1035_LABEL_FMT);
/** Longest DNS-1035 label. */
export const DNS1035_LABEL_MAX_LENGTH = 63;

/** Checks a DNS-1035 label (Service names): starts with a letter, at most 63. */
export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLen(value) > DNS1035_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1035_LABEL_MAX_LENGTH));
  if (!DNS1035_LABEL_RE.test(value))
    errs.push(regexError(DNS1035_LABEL_ERR_MSG, DNS1035_LABEL_FMT, "my-name", "abc-123"));
  return errs;
}

const WILDCARD_DNS1123_SUBDOMAIN_FMT = `\\*\\.${DNS1123_SUBDOMAIN_FMT}`;
const WILDCARD_DNS1123_SUBDOMAIN_ERR_MSG =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const WILDCARD_DNS1123_SUBDOMAIN_RE = anchored(WILDCARD_DNS1123_SUBDOMAIN_FMT);

/** Checks a wildcard subdomain such as `*.example.com` (Ingress hosts). */
export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLen(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!WILDCARD_DNS1123_SUBDOMAIN_RE.test(value)) {
    errs.push(
      regexError(WILDCARD_DNS1123_SUBDOMAIN_ERR_MSG, WILDCARD_DNS1123_SUBDOMAIN_FMT, "*.example.com"),
    );
  }
  return errs;
}

const C_IDENTIFIER_FMT = "[A-Za-z_][A-Za-z0-9_]*";
const C_IDENTIFIER_ERR_MSG =
  "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'";
const C_IDENTIFIER_RE = anchored(C_IDENTIFIER_FMT);

/** Checks a C identifier: `my_name`, `MY_NAME`. */
export function isCIdentifier(value: string): string[] {
  if (C_IDENTIFIER_RE.test(value)) return [];
  return [regexError(C_IDENTIFIER_ERR_MSG, C_IDENTIFIER_FMT, "my_name", "MY_NAME", "MyName")];
}

/** Upstream's hasChDirPrefix: `.`, `..` and names starting with `..` are refused. */
function hasChDirPrefix(value: string): string[] {
  if (value === ".") return ["must not be '.'"];
  if (value === "..") return ["must not be '..'"];
  if (value.startsWith("..")) return ["must not start with '..'"];
  return [];
}

const ENV_VAR_NAME_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*";
const ENV_VAR_NAME_ERR_MSG =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const ENV_VAR_NAME_RE = anchored(ENV_VAR_NAME_FMT);

/** Checks an environment variable name (`env[].name`, `envFrom` prefixes). */
export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!ENV_VAR_NAME_RE.test(value)) {
    errs.push(regexError(ENV_VAR_NAME_ERR_MSG, ENV_VAR_NAME_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1"));
  }
  errs.push(...hasChDirPrefix(value));
  return errs;
}

const RELAXED_ENV_VAR_NAME_ERR_MSG =
  "a valid environment variable name must consist only of printable ASCII characters other than '='";

/**
 * Checks an environment variable name as upstream does with `RelaxedEnvironmentVariableValidation`
 * (beta and on by default since 1.32, so what a 1.33 API server applies): any printable ASCII
 * character, the space included, except `=`.
 */
export function isRelaxedEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (value.length === 0) errs.push(`environment variable name ${emptyError()}`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x3d) {
      errs.push(RELAXED_ENV_VAR_NAME_ERR_MSG);
      break;
    }
  }
  return errs;
}

const CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_ERR_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const CONFIG_MAP_KEY_RE = anchored(CONFIG_MAP_KEY_FMT);

/** Checks a ConfigMap or Secret data key: at most 253, no `.`/`..` or `..` prefix. */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (byteLen(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!CONFIG_MAP_KEY_RE.test(value)) {
    errs.push(regexError(CONFIG_MAP_KEY_ERR_MSG, CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"));
  }
  errs.push(...hasChDirPrefix(value));
  return errs;
}

/**
 * Checks an IANA service name as used for port names: at most 15 characters, lowercase
 * alphanumerics and `-`, at least one letter, no `--`, no leading or trailing `-`.
 */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (byteLen(port) > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port))
    errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!/[a-z]/.test(port)) errs.push("must contain at least one letter (a-z)");
  if (port.includes("--")) errs.push("must not contain consecutive hyphens");
  if (port.length > 0 && (port.startsWith("-") || port.endsWith("-")))
    errs.push("must not begin or end with a hyphen");
  return errs;
}

/** Checks a port number: an integer from 1 to 65535. */
export function isValidPortNum(port: number): string[] {
  if (Number.isInteger(port) && port >= 1 && port <= 65535) return [];
  return [inclusiveRangeError(1, 65535)];
}

/** Checks `lo <= value <= hi`. */
export function isInRange(value: number, lo: number, hi: number): string[] {
  if (value >= lo && value <= hi) return [];
  return [inclusiveRangeError(lo, hi)];
}

/**
 * Parses IPv4 dotted-quad as upstream's ParseIPSloppy does: four decimal fields of at most
 * 255; leading zeros are read as decimal, not octal.
 */
function isSloppyIPv4(s: string): boolean {
  const parts = s.split(".");
  if (parts.length !== 4) return false;
  return parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

/** IPv6 as Go parses it: no zone, an embedded IPv4 tail may have leading zeros. */
function isGoIPv6(s: string): boolean {
  if (s.includes("%")) return false;
  if (isIPv6(s)) return true;
  const lastColon = s.lastIndexOf(":");
  const tail = s.slice(lastColon + 1);
  if (!tail.includes(".") || !isSloppyIPv4(tail)) return false;
  const normalized = tail
    .split(".")
    .map((p) => String(Number(p)))
    .join(".");
  return isIPv6(s.slice(0, lastColon + 1) + normalized);
}

/** Whether `s` parses as an IPv4 or IPv6 address (no zone), as upstream's ParseIPSloppy. */
export function parseableIP(s: string): boolean {
  return isSloppyIPv4(s) || isGoIPv6(s);
}

/** Checks an IPv4 or IPv6 address. */
export function isValidIP(value: string): string[] {
  if (parseableIP(value)) return [];
  return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"];
}

/** Checks a CIDR (`10.9.8.0/24`, `2001:db8::/64`); host bits may be set, as upstream allows. */
export function isValidCIDR(value: string): string[] {
  const err = ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"];
  const slash = value.indexOf("/");
  if (slash < 0) return err;
  const ip = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits)) return err;
  const n = Number(bits);
  if (isSloppyIPv4(ip)) return n <= 32 ? [] : err;
  if (isGoIPv6(ip)) return n <= 128 ? [] : err;
  return err;
}

/**
 * Checks a fully qualified domain name (a trailing dot is allowed): a DNS subdomain of at
 * least two labels. Returns field errors at `path`, as upstream's IsFullyQualifiedDomainName.
 */
export function isFullyQualifiedDomainName(path: FieldPath, name: string): FieldError[] {
  if (name.length === 0) return [required(path, "")];
  const n = name.endsWith(".") ? name.slice(0, -1) : name;
  const sub = isDNS1123Subdomain(n);
  if (sub.length > 0) return [invalidValue(path, n, sub.join(","))];
  const labels = n.split(".");
  if (labels.length < 2)
    return [invalidValue(path, n, "should be a domain with at least two segments separated by dots")];
  for (const label of labels) {
    const errs = isDNS1123Label(label);
    if (errs.length > 0) return [invalidValue(path, label, errs.join(","))];
  }
  return [];
}

/** Names that can never be a path segment. */
export const NAME_MAY_NOT_BE: readonly string[] = [".", ".."];
/** Substrings no path-segment name may contain. */
export const NAME_MAY_NOT_CONTAIN: readonly string[] = ["/", "%"];

/**
 * Checks that a name (or, with `prefix`, a generateName) can be one segment of a URL path:
 * not `.` or `..`, no `/` or `%`. Kinds with free-form names (RBAC roles, for example) use
 * this as their name function.
 */
export function validatePathSegmentName(name: string, prefix: boolean): string[] {
  if (!prefix) {
    for (const bad of NAME_MAY_NOT_BE) if (name === bad) return [`may not be '${bad}'`];
  }
  const errs: string[] = [];
  for (const bad of NAME_MAY_NOT_CONTAIN) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/**
 * Upstream's maskTrailingDash: a generateName may end in `-` (the random suffix follows), so
 * before a syntax check the last two characters are replaced by `a`.
 */
function maskTrailingDash(name: string): string {
  if (name.length > 1 && name.endsWith("-")) return `${name.slice(0, -2)}a`;
  return name;
}

/** A name validation function: `prefix` is true when checking a generateName. */
export type NameFn = (name: string, prefix: boolean) => string[];

/** Name function for kinds whose names are DNS subdomains (most kinds). */
export const nameIsDNSSubdomain: NameFn = (name, prefix) =>
  isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);

/** Name function for kinds whose names are RFC 1123 labels (Namespace). */
export const nameIsDNSLabel: NameFn = (name, prefix) =>
  isDNS1123Label(prefix ? maskTrailingDash(name) : name);

/** Name function for kinds whose names are DNS-1035 labels (Service). */
export const nameIsDNS1035Label: NameFn = (name, prefix) =>
  isDNS1035Label(prefix ? maskTrailingDash(name) : name);

/** Label and annotation maps as ObjectMeta carries them. */
export type StringMap = Readonly<Record<string, string>>;

/**
 * Validates a label map: keys are qualified names, values label values. Errors sit at
 * `path` itself (`metadata.labels: Invalid value: "a b": …`), as upstream reports them.
 */
export function validateLabels(labels: StringMap | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(invalidValue(path, k, m));
    for (const m of isValidLabelValue(v)) errs.push(invalidValue(path, v, m));
  }
  return errs;
}

/** Most bytes all annotation keys and values of one object may take together. */
export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;

/**
 * Validates an annotation map: keys are qualified names compared case-insensitively (checked
 * lowercased), and keys plus values may take at most 256 KiB in all.
 */
export function validateAnnotations(annotations: StringMap | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(invalidValue(path, k, m));
    total += byteLen(k) + byteLen(v);
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES)
    errs.push(tooLong(path, "", TOTAL_ANNOTATION_SIZE_LIMIT_BYTES));
  return errs;
}
