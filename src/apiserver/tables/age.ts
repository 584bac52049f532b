/**
 * @module Human-readable durations for server-side tables, with the same rounding as
 * apimachinery's `duration.HumanDuration` (AGE columns: `5s`, `3m20s`, `47h`, `2d1h`, `2y10d`)
 * and `duration.ShortHumanDuration` (`5s`, `3m`, `47h`, `2d`, `2y`), plus the "time since a
 * timestamp" helpers the printers use (`<unknown>` for an unset timestamp).
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * A duration in milliseconds as upstream's `HumanDuration` prints it: about two to three
 * significant figures. Durations below -1s print `<invalid>` (clock skew beyond tolerance);
 * small negative ones print `0s`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

/** A duration in milliseconds as upstream's `ShortHumanDuration` prints it: one unit only. */
export function shortHumanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** Go's zero time (`0001-01-01T00:00:00Z`) in epoch milliseconds: what an unset timestamp means. */
const ZERO_TIME_MS = -62135596800000;

/**
 * A timestamp (RFC 3339 string, as stored) in epoch milliseconds, or `undefined` when it is
 * unset, unparsable, or Go's zero time — the cases upstream's `Time.IsZero()` treats as unset.
 */
export function parseTimestamp(ts: string | null | undefined): number | undefined {
  if (!ts) return undefined;
  const ms = Date.parse(ts);
  if (Number.isNaN(ms) || ms === ZERO_TIME_MS) return undefined;
  return ms;
}

/** Time elapsed from `ts` to `now`, as `HumanDuration` prints it; `<unknown>` when `ts` is unset. */
export function timestampSince(ts: string | null | undefined, now: number): string {
  const ms = parseTimestamp(ts);
  return ms === undefined ? "<unknown>" : humanDuration(now - ms);
}

/**
 * A timestamp as the default table's "Created At" cell prints it: RFC 3339 in UTC with whole
 * seconds (`2024-05-01T10:00:00Z`); an unset timestamp prints as Go's zero time.
 */
export function formatRFC3339(ts: string | null | undefined): string {
  if (ts && ts.length === 20 && ts.charCodeAt(19) === 90 /* Z */) return ts;
  const ms = parseTimestamp(ts);
  if (ms === undefined) return "0001-01-01T00:00:00Z";
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString();
  return iso.slice(0, 19) + "Z";
}
