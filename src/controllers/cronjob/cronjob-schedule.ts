/**
 * @module CronJob schedule arithmetic, as upstream's cronjob utils: the most recent missed
 * start time (since lastScheduleTime or creation, bounded by startingDeadlineSeconds), with
 * upstream's estimate of how many were missed (more than 100 is "many"), the time until the
 * next start, the deterministic Job name `<cronjob>-<scheduled minutes since epoch>`, and the
 * RFC 3339 scheduled-timestamp annotation in the CronJob's zone. Schedules are parsed and
 * stepped by `src/api/validation/cron-schedule.ts`.
 */
import type { CronJob } from "../../api/types/batch-v1.ts";
import { nextAfter, parseCronSchedule, type CronSchedule } from "../../api/validation/cron-schedule.ts";

/** Upstream's nextScheduleDelta: wake up this long after the scheduled time. */
export const NEXT_SCHEDULE_DELTA_MS = 100;

/** How many start times were missed. */
export type Missed = "none" | "few" | "many";

/** The outcome of {@link mostRecentScheduleTime}. */
export interface MostRecent {
  earliestMs: number;
  /** The latest start time at or before now not yet acted on, if any. */
  mostRecentMs?: number;
  missed: Missed;
}

/** The zone a CronJob's schedule is evaluated in: spec.timeZone, else the process's own. */
function zoneOf(cj: CronJob): string | undefined {
  return cj.spec?.timeZone ?? undefined;
}

/** The parsed schedule, with `spec.timeZone` applied as upstream prefixes `TZ=`. */
export function scheduleOf(cj: CronJob): { ok: true; schedule: CronSchedule } | { ok: false; error: string } {
  return parseCronSchedule(cj.spec?.schedule ?? "");
}

function next(s: CronSchedule, fromMs: number, zone: string | undefined): number | undefined {
  const d = nextAfter(s, new Date(fromMs), zone);
  return d ? d.getTime() : undefined;
}

/**
 * Upstream's mostRecentScheduleTime. Throws when two consecutive start times are less than
 * a second apart (upstream refuses to estimate those).
 */
export function mostRecentScheduleTime(
  cj: CronJob,
  nowMs: number,
  schedule: CronSchedule,
  includeStartingDeadline: boolean,
): MostRecent {
  const last = cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp;
  let earliestMs = last ? Date.parse(last) : nowMs;
  const sds = cj.spec?.startingDeadlineSeconds;
  if (includeStartingDeadline && sds !== undefined && sds !== null) {
    const deadline = nowMs - sds * 1000;
    if (deadline > earliestMs) earliestMs = deadline;
  }
  const zone = zoneOf(cj);
  const t1 = next(schedule, earliestMs, zone);
  if (t1 === undefined || t1 > nowMs) return { earliestMs, missed: "none" };
  const t2 = next(schedule, t1, zone);
  if (t2 === undefined || t2 > nowMs) return { earliestMs, mostRecentMs: t1, missed: "few" };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) throw new Error("time difference between two schedules is less than 1 second");
  const elapsed = Math.floor((nowMs - t1) / 1000);
  const count = Math.floor(elapsed / between) + 1;
  const potentialEarliest = t1 + (count - 2) * between * 1000;
  let mostRecentMs: number | undefined;
  for (
    let t = next(schedule, potentialEarliest, zone);
    t !== undefined && t <= nowMs;
    t = next(schedule, t, zone)
  ) {
    mostRecentMs = t;
  }
  const missed: Missed = count > 100 ? "many" : count > 0 ? "few" : "none";
  return mostRecentMs === undefined ? { earliestMs, missed } : { earliestMs, mostRecentMs, missed };
}

/** Milliseconds until the next start after the most recent one (plus upstream's 100 ms), or undefined if none. */
export function nextScheduleDelayMs(cj: CronJob, nowMs: number, schedule: CronSchedule): number | undefined {
  const r = mostRecentScheduleTime(cj, nowMs, schedule, false);
  const from = r.mostRecentMs ?? r.earliestMs;
  const t = next(schedule, from, zoneOf(cj));
  if (t === undefined) return undefined;
  return Math.max(NEXT_SCHEDULE_DELTA_MS, t + NEXT_SCHEDULE_DELTA_MS - nowMs);
}

/** `<cronjob>-<minutes since the epoch of the scheduled time>`. */
export function jobNameFor(cj: CronJob, scheduledMs: number): string {
  return `${cj.metadata.name}-${Math.floor(scheduledMs / 60_000)}`;
}

/** RFC 3339 of `ms` in `zone` (UTC, `Z`, when no zone), as Go's `Format(time.RFC3339)`. */
export function rfc3339In(ms: number, zone: string | undefined): string {
  const z =
    !zone || zone === "UTC"
      ? "UTC"
      : zone === "Local"
        ? Intl.DateTimeFormat().resolvedOptions().timeZone
        : zone;
  const utc = new Date(Math.floor(ms / 1000) * 1000);
  if (z === "UTC") return utc.toISOString().replace(/\.\d{3}Z$/, "Z");
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: z,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(utc);
  const get = (t: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === t)?.value ?? "00";
  const wall = Date.UTC(
    Number(get("year")),
    Number(get("month")) - 1,
    Number(get("day")),
    Number(get("hour")) % 24,
    Number(get("minute")),
    Number(get("second")),
  );
  const offsetMin = Math.round((wall - utc.getTime()) / 60_000);
  if (offsetMin === 0)
    return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}:${get("second")}Z`;
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}:${get("second")}${off}`;
}

/** Go's `Format(time.RFC1123Z)` in UTC: `Mon, 02 Jan 2006 15:04:05 +0000`. */
export function rfc1123z(ms: number): string {
  const d = new Date(ms);
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
