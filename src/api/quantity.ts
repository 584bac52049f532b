/**
 * @module Kubernetes resource quantities (`500m`, `1Gi`, `1e3`, `0.5`), with the semantics of
 * upstream's `k8s.io/apimachinery/pkg/api/resource.Quantity`: exact fixed-point values (bigint
 * mantissa × 10^exponent, never floats), the three serialization formats (BinarySI, DecimalSI,
 * DecimalExponent) remembered from the input, parse-time rounding away from zero to nano
 * precision, the BinarySI cap at 2^63-1, and upstream's canonical printing — including its
 * habit of handing back the input text unchanged when that text already looks canonical.
 *
 * Quantities are immutable. Parsing is cached by input string, and each quantity caches its
 * canonical string and milli value, so the scheduler can parse the same requests repeatedly.
 */

/** How a quantity is printed: `12e6`, `12Mi` (12 × 2^20) or `12M` (12 × 10^6). */
export type QuantityFormat = "DecimalExponent" | "BinarySI" | "DecimalSI";

/** The pattern upstream quotes in its format error. */
export const QUANTITY_REGEX_TEXT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/** Which of upstream's three parse errors a {@link QuantityParseError} is. */
export type QuantityParseErrorCode = "FormatWrong" | "Numeric" | "Suffix";

const ERROR_MESSAGES: Record<QuantityParseErrorCode, string> = {
  FormatWrong: `quantities must match the regular expression '${QUANTITY_REGEX_TEXT}'`,
  Numeric: "unable to parse numeric part of quantity",
  Suffix: "unable to parse quantity's suffix",
};

/** Thrown by {@link parseQuantity}; `message` is upstream's text for the same failure. */
export class QuantityParseError extends Error {
  override readonly name = "QuantityParseError";
  constructor(
    readonly code: QuantityParseErrorCode,
    /** The text that failed to parse. */
    readonly input: string,
  ) {
    super(ERROR_MESSAGES[code]);
  }
}

/** Largest int64, the cap upstream applies to BinarySI quantities when parsing. */
const MAX_INT64 = (1n << 63n) - 1n;
/** Upstream's parse precision: values finer than 10^-9 round away from zero. */
const NANO = -9;
/** Beyond this, a power of ten would be an absurd bigint: refuse instead of hanging. */
const MAX_POW10 = 1_000_000;

const POW10_CACHE: bigint[] = [];
for (let i = 0, p = 1n; i <= 40; i++, p *= 10n) POW10_CACHE.push(p);

function pow10(n: number): bigint {
  const cached = POW10_CACHE[n];
  if (cached !== undefined) return cached;
  if (n > MAX_POW10) throw new RangeError(`quantity arithmetic needs 10^${n}, which is out of range`);
  return 10n ** BigInt(n);
}

function abs(m: bigint): bigint {
  return m < 0n ? -m : m;
}

/** Number of decimal digits of a non-zero magnitude. */
function digitCount(m: bigint): number {
  return abs(m).toString().length;
}

/**
 * Scales `m × 10^e` to `result × 10^target` for a target above `e`, rounding a non-exact
 * result away from zero, as upstream's RoundUp does.
 */
function roundAwayTo(m: bigint, e: number, target: number): bigint {
  if (e >= target || m === 0n) return m * pow10(Math.max(0, e - target));
  const shift = target - e;
  const sign = m < 0n ? -1n : 1n;
  const mag = abs(m);
  if (shift > digitCount(mag)) return sign; // |value| < 10^target, non-zero
  const p = pow10(shift);
  const q = mag / p;
  return sign * (q * p === mag ? q : q + 1n);
}

/** Compares `m1 × 10^e1` with `m2 × 10^e2` without building huge powers of ten. */
function cmpScaled(m1: bigint, e1: number, m2: bigint, e2: number): -1 | 0 | 1 {
  const s1 = m1 === 0n ? 0 : m1 < 0n ? -1 : 1;
  const s2 = m2 === 0n ? 0 : m2 < 0n ? -1 : 1;
  if (s1 !== s2) return s1 < s2 ? -1 : 1;
  if (s1 === 0) return 0;
  const mag1 = digitCount(m1) + e1;
  const mag2 = digitCount(m2) + e2;
  let c: number;
  if (mag1 !== mag2) {
    c = mag1 < mag2 ? -1 : 1;
  } else {
    const a = abs(m1) * pow10(Math.max(0, e1 - e2));
    const b = abs(m2) * pow10(Math.max(0, e2 - e1));
    if (a === b) return 0;
    c = a < b ? -1 : 1;
  }
  return (s1 < 0 ? -c : c) as -1 | 1;
}

const DECIMAL_SUFFIXES = new Map<string, number>([
  ["n", -9],
  ["u", -6],
  ["m", -3],
  ["", 0],
  ["k", 3],
  ["M", 6],
  ["G", 9],
  ["T", 12],
  ["P", 15],
  ["E", 18],
]);
const DECIMAL_SUFFIX_BY_EXPONENT = new Map<number, string>([...DECIMAL_SUFFIXES].map(([s, e]) => [e, s]));
const BINARY_SUFFIXES = new Map<string, number>([
  ["Ki", 10],
  ["Mi", 20],
  ["Gi", 30],
  ["Ti", 40],
  ["Pi", 50],
  ["Ei", 60],
]);
const BINARY_SUFFIX_BY_POWER = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

const INT64_TEXT = /^[+-]?[0-9]+$/;
const MIN_INT64 = -(1n << 63n);

interface Suffix {
  base: 2 | 10;
  exponent: number;
  format: QuantityFormat;
}

/** Upstream's suffix interpretation: SI tables first, then `e`/`E` with an int64 exponent. */
function interpretSuffix(s: string): Suffix | undefined {
  const dec = DECIMAL_SUFFIXES.get(s);
  if (dec !== undefined) return { base: 10, exponent: dec, format: "DecimalSI" };
  const bin = BINARY_SUFFIXES.get(s);
  if (bin !== undefined) return { base: 2, exponent: bin, format: "BinarySI" };
  const c = s.charCodeAt(0);
  if (s.length > 1 && (c === 0x65 || c === 0x45)) {
    const text = s.slice(1);
    if (!INT64_TEXT.test(text)) return undefined;
    const n = BigInt(text);
    if (n > MAX_INT64 || n < MIN_INT64) return undefined;
    // Upstream narrows the parsed int64 to int32.
    return { base: 10, exponent: Number(BigInt.asIntN(32, n)), format: "DecimalExponent" };
  }
  return undefined;
}

const CH_0 = 0x30;
const CH_9 = 0x39;
const CH_DOT = 0x2e;
const CH_PLUS = 0x2b;
const CH_MINUS = 0x2d;
const SUFFIX_LETTERS = new Set([..."eEinumkKMGTP"].map((c) => c.charCodeAt(0)));

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

/**
 * A fixed-point quantity: `mantissa × 10^exponent`, printed in `format`. Immutable; build one
 * with {@link parseQuantity}, {@link newQuantity}, {@link newMilliQuantity} or
 * {@link newScaledQuantity}.
 */
export class Quantity {
  #str: string | undefined;
  #milli: bigint | undefined;

  /** @internal Use the factory functions. */
  constructor(
    /** Unscaled value; the quantity is `mantissa × 10^exponent`. */
    readonly mantissa: bigint,
    /** Power of ten applied to the mantissa. */
    readonly exponent: number,
    /** How the quantity prints. */
    readonly format: QuantityFormat,
    cached?: string,
  ) {
    this.#str = cached;
  }

  /** -1, 0 or 1. */
  sign(): -1 | 0 | 1 {
    return this.mantissa === 0n ? 0 : this.mantissa < 0n ? -1 : 1;
  }

  isZero(): boolean {
    return this.mantissa === 0n;
  }

  /** -1, 0 or 1 as this quantity is less than, equal to or greater than `other`. */
  cmp(other: Quantity): -1 | 0 | 1 {
    return cmpScaled(this.mantissa, this.exponent, other.mantissa, other.exponent);
  }

  /** Same value (formats may differ), like upstream's `Equal`. */
  equal(other: Quantity): boolean {
    return this.cmp(other) === 0;
  }

  /** The sum; a zero receiver takes `other`'s format, as upstream's `Add`. */
  add(other: Quantity): Quantity {
    return combine(this, other, 1n);
  }

  /** The difference; a zero receiver takes `other`'s format, as upstream's `Sub`. */
  sub(other: Quantity): Quantity {
    return combine(this, other, -1n);
  }

  /** The negated quantity, same format. */
  neg(): Quantity {
    return new Quantity(-this.mantissa, this.exponent, this.format);
  }

  /**
   * `ceil(q / 10^scale)` with rounding away from zero, as upstream's `ScaledValue`, but exact:
   * the result is a bigint and never overflows.
   */
  scaledValue(scale: number): bigint {
    return roundAwayTo(this.mantissa, this.exponent, scale);
  }

  /** The value rounded away from zero to an integer (bytes for memory), as upstream's `Value`. */
  value(): bigint {
    return this.scaledValue(0);
  }

  /** The value in thousandths, rounded away from zero (millicores for cpu), as `MilliValue`. */
  milliValue(): bigint {
    return (this.#milli ??= this.scaledValue(-3));
  }

  /** A float approximation, for display and scoring only. */
  asApproximateFloat64(): number {
    return Number(`${this.mantissa}e${this.exponent}`);
  }

  /** Upstream's canonical form: `1536Mi`, `500m`, `1e3`, `0`. Cached. */
  toString(): string {
    return (this.#str ??= canonicalize(this));
  }

  /** Serializes as the canonical string, as upstream's MarshalJSON. */
  toJSON(): string {
    return this.toString();
  }
}

function combine(a: Quantity, b: Quantity, sign: 1n | -1n): Quantity {
  const format = a.isZero() ? b.format : a.format;
  if (b.isZero()) return new Quantity(a.mantissa, a.exponent, format);
  if (a.isZero()) return new Quantity(sign * b.mantissa, b.exponent, format);
  const e = Math.min(a.exponent, b.exponent);
  const m = a.mantissa * pow10(a.exponent - e) + sign * b.mantissa * pow10(b.exponent - e);
  return new Quantity(m, e, format);
}

/** Canonical text of a decimal value: no fractional digits, exponent a multiple of 3. */
function decimalCanonical(m: bigint, e: number, format: QuantityFormat): string {
  const neg = m < 0n;
  let digits = abs(m).toString();
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === CH_0) end--;
  e += digits.length - end;
  digits = digits.slice(0, end);
  const r = ((e % 3) + 3) % 3;
  if (r) {
    digits += r === 1 ? "0" : "00";
    e -= r;
  }
  let suffix: string | undefined;
  if (format === "DecimalSI") suffix = DECIMAL_SUFFIX_BY_EXPONENT.get(e);
  // DecimalSI has nothing past E (10^18) or below n: upstream falls back to an exponent.
  suffix ??= e === 0 ? "" : `e${e}`;
  return (neg ? "-" : "") + digits + suffix;
}

function canonicalize(q: Quantity): string {
  const m = q.mantissa;
  if (m === 0n) return "0";
  if (q.format !== "BinarySI") return decimalCanonical(m, q.exponent, q.format);
  // BinarySI: values in (-1024, 1024) and non-integers print as DecimalSI.
  if (cmpScaled(m, q.exponent, -1024n, 0) > 0 && cmpScaled(m, q.exponent, 1024n, 0) < 0) {
    return decimalCanonical(m, q.exponent, "DecimalSI");
  }
  let n: bigint;
  if (q.exponent >= 0) {
    n = m * pow10(q.exponent);
  } else {
    const p = pow10(-q.exponent);
    n = m / p;
    if (n * p !== m) return decimalCanonical(m, q.exponent, "DecimalSI");
  }
  let power = 0;
  // Upstream has no suffix past Ei; keep the rest of the factors in the number.
  while (power < 6 && (n & 1023n) === 0n) {
    n >>= 10n;
    power++;
  }
  return `${n}${BINARY_SUFFIX_BY_POWER[power]}`;
}

function parseUncached(str: string): Quantity {
  const end = str.length;
  if (end === 0) throw new QuantityParseError("FormatWrong", str);
  if (str === "0") return new Quantity(0n, 0, "DecimalSI", "0");

  let pos = 0;
  let positive = true;
  const first = str.charCodeAt(0);
  if (first === CH_MINUS) {
    positive = false;
    pos++;
  } else if (first === CH_PLUS) {
    pos++;
  }
  const zerosStart = pos;
  while (pos < end && str.charCodeAt(pos) === CH_0) pos++;
  // Whether the numeric text holds any digit at all ("." and "-." do not).
  let hasDigits = pos > zerosStart;
  let num = "0";
  let denom = "";
  let suffix = "";
  if (pos < end) {
    let i = pos;
    while (i < end && isDigit(str.charCodeAt(i))) i++;
    if (i > pos) {
      num = str.slice(pos, i);
      hasDigits = true;
    }
    pos = i;
    if (pos < end && str.charCodeAt(pos) === CH_DOT) {
      pos++;
      i = pos;
      while (i < end && isDigit(str.charCodeAt(i))) i++;
      denom = str.slice(pos, i);
      if (i > pos) hasDigits = true;
      pos = i;
    }
    const suffixStart = pos;
    while (pos < end && SUFFIX_LETTERS.has(str.charCodeAt(pos))) pos++;
    if (pos < end) {
      const c = str.charCodeAt(pos);
      if (c === CH_MINUS || c === CH_PLUS) pos++;
    }
    while (pos < end && isDigit(str.charCodeAt(pos))) pos++;
    if (pos < end) throw new QuantityParseError("FormatWrong", str);
    suffix = str.slice(suffixStart);
  }

  const interpreted = interpretSuffix(suffix);
  if (!interpreted) throw new QuantityParseError("Suffix", str);
  const { base, exponent } = interpreted;
  let format = interpreted.format;

  // Upstream's int64 fast path; it also decides when the input text is kept as the canonical string.
  if (format !== "BinarySI") {
    const scale = (exponent - denom.length) | 0;
    if (18 - (num.length + denom.length) >= 0 && scale >= NANO) {
      const shifted = num + denom;
      const v = BigInt(shifted);
      const canonical = scale % 3 === 0 && !shifted.endsWith("000") && shifted.charCodeAt(0) !== CH_0;
      return new Quantity(positive ? v : -v, scale, format, canonical ? str : undefined);
    }
  } else if (denom.length === 0 && 14 - num.length - Math.trunc((exponent * 3) / 10) >= 0) {
    const v = BigInt(num);
    const r = v << BigInt(exponent);
    if (r <= MAX_INT64) {
      return new Quantity(positive ? r : -r, 0, format, (v & 7n) !== 0n ? str : undefined);
    }
  }

  // Exact path.
  if (!hasDigits) throw new QuantityParseError("Numeric", str);
  let m = BigInt(num + denom);
  let e = -denom.length;
  if (base === 10) e += exponent;
  else m <<= BigInt(exponent);
  if (m !== 0n && e < NANO) {
    m = roundAwayTo(m, e, NANO);
    e = NANO;
  }
  if (format === "BinarySI") {
    if (cmpScaled(m, e, MAX_INT64, 0) > 0) {
      m = MAX_INT64;
      e = 0;
    }
    if (m !== 0n && cmpScaled(m, e, 1n, 0) < 0) format = "DecimalSI";
  }
  return new Quantity(positive ? m : -m, e, format);
}

const PARSE_CACHE_LIMIT = 4096;
const parseCache = new Map<string, Quantity>();

/**
 * Parses a quantity as upstream's `ParseQuantity` does (no surrounding whitespace allowed). A
 * number is taken as its shortest JavaScript decimal text (`1.5`, `1e+21`), as a JSON number
 * would be. Throws {@link QuantityParseError}.
 */
export function parseQuantity(s: string | number): Quantity {
  const str = typeof s === "number" ? numberText(s) : s;
  let q = parseCache.get(str);
  if (q === undefined) {
    q = parseUncached(str);
    if (parseCache.size >= PARSE_CACHE_LIMIT) parseCache.clear();
    parseCache.set(str, q);
  }
  return q;
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new QuantityParseError("FormatWrong", String(n));
  return String(n);
}

/** Whether `s` parses as a quantity. */
export function isQuantity(s: string): boolean {
  try {
    parseQuantity(s);
    return true;
  } catch (e) {
    if (e instanceof QuantityParseError) return false;
    throw e;
  }
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b`. */
export function cmp(a: Quantity, b: Quantity): -1 | 0 | 1 {
  return a.cmp(b);
}

/** `a + b`, in `a`'s format unless `a` is zero. */
export function add(a: Quantity, b: Quantity): Quantity {
  return a.add(b);
}

/** `a - b`, in `a`'s format unless `a` is zero. */
export function sub(a: Quantity, b: Quantity): Quantity {
  return a.sub(b);
}

function toBigInt(value: bigint | number): bigint {
  if (typeof value === "bigint") return value;
  if (!Number.isSafeInteger(value))
    throw new RangeError(`quantity value must be a safe integer, got ${value}`);
  return BigInt(value);
}

/** A quantity of `value` units (upstream's `NewQuantity`). */
export function newQuantity(value: bigint | number, format: QuantityFormat): Quantity {
  return new Quantity(toBigInt(value), 0, format);
}

/** A quantity of `value` thousandths (upstream's `NewMilliQuantity`). */
export function newMilliQuantity(value: bigint | number, format: QuantityFormat): Quantity {
  return new Quantity(toBigInt(value), -3, format);
}

/** `value × 10^scale` in DecimalSI (upstream's `NewScaledQuantity`). */
export function newScaledQuantity(value: bigint | number, scale: number): Quantity {
  if (!Number.isInteger(scale)) throw new RangeError(`quantity scale must be an integer, got ${scale}`);
  return new Quantity(toBigInt(value), scale, "DecimalSI");
}
