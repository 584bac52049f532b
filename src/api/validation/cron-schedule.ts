/**
 * @module Cron schedules as the CronJob API accepts them: the standard five-field syntax
 * (minute, hour, day of month, month, day of week) with `*`, `?`, ranges, steps, lists and
 * month/weekday names, the descriptors `@yearly` `@annually` `@monthly` `@weekly` `@daily`
 * `@midnight` `@hourly` and `@every <duration>`, and an optional `TZ=`/`CRON_TZ=` prefix.
 * Parsing follows github.com/robfig/cron/v3's ParseStandard, which upstream uses, and reports
 * its errors in its wording; `nextAfter` computes the next fire time in a time zone as that
 * library's `Schedule.Next` does (DST quirks included). The CronJob validation and the
 * CronJob controller both use this file.
 */

/** A field's allowed values, indexed by value (minute 0..59, month 1..12, …). */
type Bits = readonly boolean[];

/** A parsed five-field (or descriptor) schedule; seconds are always 0 here. */
export interface SpecSchedule {
  kind: "spec";
  second: Bits;
  minute: Bits;
  hour: Bits;
  dom: Bits;
  month: Bits;
  dow: Bits;
  /** Whether day-of-month / day-of-week were `*` or `?`: decides AND versus OR of the two. */
  domStar: boolean;
  dowStar: boolean;
  /** IANA zone from a `TZ=` / `CRON_TZ=` prefix, if any. */
  location?: string;
}

/** An `@every <duration>` schedule: fires every `delayMs` (whole seconds, at least 1 s). */
export interface EverySchedule {
  kind: "every";
  delayMs: number;
  location?: string;
}

/** A parsed cron schedule. */
export type CronSchedule = SpecSchedule | EverySchedule;

/** The outcome of `parseCronSchedule`: the schedule, or the parser's error text. */
export type CronParseResult = { ok: true; schedule: CronSchedule } | { ok: false; error: string };

interface Bounds {
  min: number;
  max: number;
  names?: Readonly<Record<string, number>>;
}

const SECONDS: Bounds = { min: 0, max: 59 };
const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = {
  min: 1,
  max: 12,
  names: {
    jan: 1,
    feb: 2,
    mar: 3,
    apr: 4,
    may: 5,
    jun: 6,
    jul: 7,
    aug: 8,
    sep: 9,
    oct: 10,
    nov: 11,
    dec: 12,
  },
};
const DOW: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

class ParseError extends Error {}

/** Go's `%q` of a string is close enough to JSON's quoting for the texts we print. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** strconv.Atoi then the parser's own checks, with their messages. */
function mustParseInt(expr: string): number {
  if (!/^[+-]?[0-9]+$/.test(expr)) {
    throw new ParseError(
      `failed to parse int from ${expr}: strconv.Atoi: parsing ${goQuote(expr)}: invalid syntax`,
    );
  }
  const num = Number(expr);
  const big = BigInt(expr);
  if (big > 9223372036854775807n || big < -9223372036854775808n) {
    throw new ParseError(
      `failed to parse int from ${expr}: strconv.Atoi: parsing ${goQuote(expr)}: value out of range`,
    );
  }
  if (num < 0) throw new ParseError(`negative number (${num}) not allowed: ${expr}`);
  return num;
}

function parseIntOrName(expr: string, names: Bounds["names"]): number {
  const named = names?.[expr.toLowerCase()];
  if (named !== undefined) return named;
  return mustParseInt(expr);
}

/** One comma-separated element: `*`, `?`, `N`, `N-M`, each optionally `/step`. */
function parseRange(expr: string, r: Bounds, bits: boolean[]): { star: boolean } {
  const rangeAndStep = expr.split("/");
  const lowAndHigh = rangeAndStep[0]!.split("-");
  const singleDigit = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === "*" || lowAndHigh[0] === "?") {
    start = r.min;
    end = r.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0]!, r.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1]!, r.names);
    else throw new ParseError(`too many hyphens: ${expr}`);
  }
  let step: number;
  if (rangeAndStep.length === 1) {
    step = 1;
  } else if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1]!);
    // "N/step" means "N-max/step".
    if (singleDigit) end = r.max;
    if (step > 1) star = false;
  } else {
    throw new ParseError(`too many slashes: ${expr}`);
  }
  if (start < r.min) throw new ParseError(`beginning of range (${start}) below minimum (${r.min}): ${expr}`);
  if (end > r.max) throw new ParseError(`end of range (${end}) above maximum (${r.max}): ${expr}`);
  if (start > end)
    throw new ParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new ParseError(`step of range should be a positive number: ${expr}`);
  for (let v = start; v <= end; v += step) bits[v] = true;
  return { star };
}

/** A whole field: comma-separated ranges (empty elements are skipped, as upstream's parser does). */
function parseField(field: string, r: Bounds): { bits: boolean[]; star: boolean } {
  const bits: boolean[] = new Array<boolean>(r.max + 1).fill(false);
  let star = false;
  for (const expr of field.split(",")) {
    if (expr === "") continue;
    if (parseRange(expr, r, bits).star) star = true;
  }
  return { bits, star };
}

function all(r: Bounds): boolean[] {
  const bits = new Array<boolean>(r.max + 1).fill(false);
  for (let v = r.min; v <= r.max; v++) bits[v] = true;
  return bits;
}

function only(r: Bounds, v: number): boolean[] {
  const bits = new Array<boolean>(r.max + 1).fill(false);
  bits[v] = true;
  return bits;
}

function descriptor(spec: string, location: string | undefined): CronSchedule {
  const loc = location === undefined ? {} : { location };
  const base = { kind: "spec" as const, second: only(SECONDS, 0), minute: only(MINUTES, 0), ...loc };
  switch (spec) {
    case "@yearly":
    case "@annually":
      return {
        ...base,
        hour: only(HOURS, 0),
        dom: only(DOM, 1),
        month: only(MONTHS, 1),
        dow: all(DOW),
        domStar: false,
        dowStar: true,
      };
    case "@monthly":
      return {
        ...base,
        hour: only(HOURS, 0),
        dom: only(DOM, 1),
        month: all(MONTHS),
        dow: all(DOW),
        domStar: false,
        dowStar: true,
      };
    case "@weekly":
      return {
        ...base,
        hour: only(HOURS, 0),
        dom: all(DOM),
        month: all(MONTHS),
        dow: only(DOW, 0),
        domStar: true,
        dowStar: false,
      };
    case "@daily":
    case "@midnight":
      return {
        ...base,
        hour: only(HOURS, 0),
        dom: all(DOM),
        month: all(MONTHS),
        dow: all(DOW),
        domStar: true,
        dowStar: true,
      };
    case "@hourly":
      return {
        ...base,
        hour: all(HOURS),
        dom: all(DOM),
        month: all(MONTHS),
        dow: all(DOW),
        domStar: true,
        dowStar: true,
      };
  }
  const every = "@every ";
  if (spec.startsWith(every)) {
    let ms: number;
    try {
      ms = parseGoDuration(spec.slice(every.length));
    } catch (e) {
      throw new ParseError(`failed to parse duration ${spec}: ${(e as Error).message}`);
    }
    // Every(d): at least one second, sub-second part dropped.
    const delayMs = ms < 1000 ? 1000 : ms - (ms % 1000);
    return { kind: "every", delayMs, ...loc };
  }
  throw new ParseError(`unrecognized descriptor: ${spec}`);
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "\u00b5s": 1e-3,
  "\u03bcs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration (`1h30m`, `90s`, `1.5h`), in milliseconds, with Go's error texts. */
export function parseGoDuration(orig: string): number {
  let s = orig;
  let neg = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw new Error(`time: invalid duration ${goQuote(orig)}`);
  let total = 0;
  while (s !== "") {
    const num = /^([0-9]*)(\.[0-9]*)?/.exec(s)!;
    const intPart = num[1] ?? "";
    const fracPart = num[2] ?? "";
    if (intPart === "" && fracPart.length <= 1) throw new Error(`time: invalid duration ${goQuote(orig)}`);
    s = s.slice(num[0].length);
    const unitMatch = /^[^0-9.]*/.exec(s)!;
    const unit = unitMatch[0];
    if (unit === "") throw new Error(`time: missing unit in duration ${goQuote(orig)}`);
    const scale = DURATION_UNITS[unit];
    if (scale === undefined)
      throw new Error(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(orig)}`);
    s = s.slice(unit.length);
    total += Number(`${intPart || "0"}${fracPart === "." ? "" : fracPart}`) * scale;
  }
  return neg ? -total : total;
}

/**
 * Parses a schedule as upstream's `cron.ParseStandard` does. Errors carry the library's text
 * (`expected exactly 5 fields, found 1: [x]`), which the CronJob validation prints verbatim.
 */
export function parseCronSchedule(input: string): CronParseResult {
  try {
    return { ok: true, schedule: parseOrThrow(input) };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, error: e.message };
    throw e;
  }
}

function parseOrThrow(input: string): CronSchedule {
  let spec = input;
  if (spec.length === 0) throw new ParseError("empty spec string");
  let location: string | undefined;
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    const space = spec.indexOf(" ");
    const eq = spec.indexOf("=");
    const name = space < 0 ? spec.slice(eq + 1) : spec.slice(eq + 1, space);
    const err = timeZoneError(name);
    if (err) throw new ParseError(`provided bad location ${name}: ${err}`);
    location = name;
    spec = space < 0 ? "" : spec.slice(space).trim();
  }
  if (spec.startsWith("@")) return descriptor(spec, location);
  const fields = spec.split(/\s+/).filter((f) => f !== "");
  if (fields.length !== 5) {
    throw new ParseError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(" ")}]`);
  }
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const m = parseField(minute, MINUTES);
  const h = parseField(hour, HOURS);
  const d = parseField(dom, DOM);
  const mo = parseField(month, MONTHS);
  const w = parseField(dow, DOW);
  return {
    kind: "spec",
    second: only(SECONDS, 0),
    minute: m.bits,
    hour: h.bits,
    dom: d.bits,
    month: mo.bits,
    dow: w.bits,
    domStar: d.star,
    dowStar: w.star,
    ...(location === undefined ? {} : { location }),
  };
}

// ---- time zones ----------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      era: "short",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone the process runs in: what upstream's controller uses when a CronJob names none. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * Why Go's `time.LoadLocation(name)` would refuse `name` (`unknown time zone X`), or
 * undefined when it is a known zone. "UTC", "Local" and IANA names are known; lookups are
 * case-sensitive as on Linux.
 */
export function timeZoneError(name: string): string | undefined {
  if (name === "" || name === "UTC" || name === "Local") return undefined;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return `unknown time zone ${name}`;
  }
  // Intl matches names case-insensitively; the zoneinfo lookup Go does is exact.
  if (resolved !== name && resolved.toLowerCase() === name.toLowerCase()) return `unknown time zone ${name}`;
  return undefined;
}

function zoneFor(name: string): string {
  if (name === "" || name === "UTC") return "UTC";
  if (name === "Local") return localTimeZone();
  return name;
}

/** Wall-clock fields of an instant in a zone. */
interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

/** Offset of `zone` from UTC at instant `ms`, in milliseconds. */
function offsetAt(zone: string, ms: number): number {
  if (zone === "UTC") return 0;
  const parts = formatter(zone).formatToParts(new Date(ms));
  const get = (t: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === t)?.value ?? 0);
  let year = get("year");
  if (parts.find((p) => p.type === "era")?.value === "BC") year = 1 - year;
  const wall = Date.UTC(year, get("month") - 1, get("day"), get("hour") % 24, get("minute"), get("second"));
  return wall - Math.floor(ms / 1000) * 1000;
}

function wallOf(zone: string, ms: number): Wall {
  const d = new Date(ms + offsetAt(zone, ms));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

/**
 * Go's `time.Date(y, mo, d, h, mi, s, 0, loc)`: out-of-range fields are normalized, and a
 * wall time in a DST gap or overlap is resolved the way Go resolves it.
 */
function dateIn(zone: string, y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  let offset = offsetAt(zone, wall);
  const utc = wall - offset;
  const second = offsetAt(zone, utc);
  if (second !== offset) offset = second;
  return wall - offset;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

function dayMatches(s: SpecSchedule, w: Wall): boolean {
  const domMatch = s.dom[w.day] === true;
  const dowMatch = s.dow[w.weekday] === true;
  if (s.domStar || s.dowStar) return domMatch && dowMatch;
  return domMatch || dowMatch;
}

/** robfig/cron's SpecSchedule.Next over instants in `zone`; null when nothing in five years. */
function nextSpec(s: SpecSchedule, from: number, zone: string): number | null {
  // The earliest possible time is the upcoming second.
  let t = Math.floor(from / SECOND) * SECOND + SECOND;
  let w = wallOf(zone, t);
  let added = false;
  const yearLimit = w.year + 5;
  const set = (ms: number): void => {
    t = ms;
    w = wallOf(zone, t);
  };

  wrap: for (;;) {
    if (w.year > yearLimit) return null;

    while (!s.month[w.month]) {
      if (!added) {
        added = true;
        set(dateIn(zone, w.year, w.month, 1, 0, 0, 0));
      }
      set(dateIn(zone, w.year, w.month + 1, w.day, w.hour, w.minute, w.second));
      if (w.month === 1) continue wrap;
    }

    while (!dayMatches(s, w)) {
      if (!added) {
        added = true;
        set(dateIn(zone, w.year, w.month, w.day, 0, 0, 0));
      }
      set(dateIn(zone, w.year, w.month, w.day + 1, w.hour, w.minute, w.second));
      // Midnight may not exist on a DST day: step back or forward to it.
      if (w.hour !== 0) set(w.hour > 12 ? t + (24 - w.hour) * HOUR : t - w.hour * HOUR);
      if (w.day === 1) continue wrap;
    }

    while (!s.hour[w.hour]) {
      if (!added) {
        added = true;
        set(dateIn(zone, w.year, w.month, w.day, w.hour, 0, 0));
      }
      set(t + HOUR);
      if (w.hour === 0) continue wrap;
    }

    while (!s.minute[w.minute]) {
      if (!added) {
        added = true;
        set(t - (((t % MINUTE) + MINUTE) % MINUTE));
      }
      set(t + MINUTE);
      if (w.minute === 0) continue wrap;
    }

    while (!s.second[w.second]) {
      if (!added) {
        added = true;
        set(t - (((t % SECOND) + SECOND) % SECOND));
      }
      set(t + SECOND);
      if (w.second === 0) continue wrap;
    }
    return t;
  }
}

/**
 * The first time strictly after `date` at which `schedule` fires, or null when it never
 * does within five years (as `0 0 30 2 *`). Evaluated in the schedule's own `TZ=` zone if
 * it has one, else in `timeZone` (an IANA name, as a CronJob's `spec.timeZone`), else in
 * the process's local zone as upstream's controller does. Throws an Error for a schedule
 * that does not parse.
 */
export function nextAfter(schedule: string | CronSchedule, date: Date, timeZone?: string): Date | null {
  let parsed: CronSchedule;
  if (typeof schedule === "string") {
    const r = parseCronSchedule(schedule);
    if (!r.ok) throw new Error(`invalid cron schedule ${goQuote(schedule)}: ${r.error}`);
    parsed = r.schedule;
  } else {
    parsed = schedule;
  }
  const from = date.getTime();
  if (parsed.kind === "every") {
    return new Date(Math.floor(from / SECOND) * SECOND + parsed.delayMs);
  }
  const zone = zoneFor(parsed.location ?? timeZone ?? "Local");
  const next = nextSpec(parsed, from, zone);
  return next === null ? null : new Date(next);
}
