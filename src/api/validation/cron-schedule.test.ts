import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { nextAfter, parseCronSchedule, parseGoDuration, timeZoneError } from "./cron-schedule.ts";

describe("parseCronSchedule", () => {
  const valid = [
    "* * * * *",
    "*/15 * * * *",
    "0 0 * * *",
    "0 9 * * mon-fri",
    "0 0 1 jan,JUL *",
    "5,10-20/5 1-23/2 ? * SUN",
    "0 0 * * 0-6",
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
    "@every 1h30m",
    "TZ=UTC 0 * * * *",
    "CRON_TZ=Europe/Berlin 0 * * * *",
    "  0   0 * * *  ",
  ];
  for (const spec of valid) {
    it(`accepts ${JSON.stringify(spec)}`, () => {
      assert.equal(parseCronSchedule(spec).ok, true);
    });
  }

  const invalid: [string, string][] = [
    ["x", "expected exactly 5 fields, found 1: [x]"],
    ["* * * *", "expected exactly 5 fields, found 4: [* * * *]"],
    ["* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"],
    ["60 * * * *", "end of range (60) above maximum (59): 60"],
    ["* 24 * * *", "end of range (24) above maximum (23): 24"],
    ["* * 0 * *", "beginning of range (0) below minimum (1): 0"],
    ["* * * 13 *", "end of range (13) above maximum (12): 13"],
    ["* * * * 7", "end of range (7) above maximum (6): 7"],
    ["5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"],
    ["*/0 * * * *", "step of range should be a positive number: */0"],
    ["a * * * *", 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax'],
    ["* * * foo *", 'failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax'],
    ["1-2-3 * * * *", "too many hyphens: 1-2-3"],
    ["1/2/3 * * * *", "too many slashes: 1/2/3"],
    ["@fortnightly", "unrecognized descriptor: @fortnightly"],
    ["@every 5d", 'failed to parse duration @every 5d: time: unknown unit "d" in duration "5d"'],
    ["@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'],
    ["TZ=Nowhere/City * * * * *", "provided bad location Nowhere/City: unknown time zone Nowhere/City"],
    ["", "empty spec string"],
  ];
  for (const [spec, error] of invalid) {
    it(`rejects ${JSON.stringify(spec)}`, () => {
      assert.deepEqual(parseCronSchedule(spec), { ok: false, error });
    });
  }

  it("records a TZ= prefix as the schedule's location", () => {
    const r = parseCronSchedule("TZ=Asia/Tokyo 0 9 * * *");
    assert.ok(r.ok);
    assert.equal(r.schedule.location, "Asia/Tokyo");
  });
});

describe("parseGoDuration", () => {
  const cases: [string, number][] = [
    ["1h30m", 5_400_000],
    ["90s", 90_000],
    ["1.5h", 5_400_000],
    ["250ms", 250],
    ["0", 0],
    ["-2m", -120_000],
  ];
  for (const [input, ms] of cases) {
    it(`parses ${input}`, () => assert.equal(parseGoDuration(input), ms));
  }
  it("rejects junk with Go's message", () => {
    assert.throws(() => parseGoDuration("x"), { message: 'time: invalid duration "x"' });
  });
});

describe("timeZoneError", () => {
  it("accepts IANA names, UTC and Local", () => {
    for (const z of ["UTC", "Local", "America/New_York", "Europe/Berlin", "Asia/Kolkata"]) {
      assert.equal(timeZoneError(z), undefined, z);
    }
  });
  it("rejects unknown names and wrong case", () => {
    assert.equal(timeZoneError("Mars/Olympus"), "unknown time zone Mars/Olympus");
    assert.equal(timeZoneError("america/new_york"), "unknown time zone america/new_york");
  });
});

describe("nextAfter", () => {
  const utc: [string, string, string | null][] = [
    ["*/15 * * * *", "2024-06-03T10:07:30Z", "2024-06-03T10:15:00.000Z"],
    ["0 * * * *", "2024-06-03T10:00:00Z", "2024-06-03T11:00:00.000Z"],
    ["0 0 * * *", "2024-01-31T23:59:59Z", "2024-02-01T00:00:00.000Z"],
    ["0 9 * * mon-fri", "2024-06-08T12:00:00Z", "2024-06-10T09:00:00.000Z"],
    // Day of month and day of week both restricted: either matches (Friday the 7th).
    ["0 0 13 * 5", "2024-06-01T00:00:00Z", "2024-06-07T00:00:00.000Z"],
    ["0 0 13 * *", "2024-06-01T00:00:00Z", "2024-06-13T00:00:00.000Z"],
    ["0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00.000Z"],
    ["@yearly", "2024-06-01T00:00:00Z", "2025-01-01T00:00:00.000Z"],
    ["@weekly", "2024-06-05T00:00:00Z", "2024-06-09T00:00:00.000Z"],
    ["@monthly", "2024-12-15T00:00:00Z", "2025-01-01T00:00:00.000Z"],
    ["@every 90s", "2024-06-03T10:00:00.500Z", "2024-06-03T10:01:30.000Z"],
    ["59 23 31 12 *", "2024-12-31T23:59:00Z", "2025-12-31T23:59:00.000Z"],
    ["0 0 30 2 *", "2024-01-01T00:00:00Z", null],
  ];
  for (const [spec, from, want] of utc) {
    it(`${spec} after ${from} (UTC)`, () => {
      const got = nextAfter(spec, new Date(from), "UTC");
      assert.equal(got === null ? null : got.toISOString(), want);
    });
  }

  it("evaluates in the given time zone, following DST", () => {
    assert.equal(
      nextAfter("0 9 * * *", new Date("2024-06-01T00:00:00Z"), "America/New_York")?.toISOString(),
      "2024-06-01T13:00:00.000Z",
    );
    assert.equal(
      nextAfter("0 9 * * *", new Date("2024-01-01T00:00:00Z"), "America/New_York")?.toISOString(),
      "2024-01-01T14:00:00.000Z",
    );
  });

  it("skips a wall time that does not exist on the spring-forward day", () => {
    const got = nextAfter("30 2 * * *", new Date("2024-03-10T05:00:00Z"), "America/New_York");
    assert.equal(got?.toISOString(), "2024-03-11T06:30:00.000Z");
  });

  it("prefers the schedule's own TZ= prefix over the timeZone argument", () => {
    const got = nextAfter("TZ=Asia/Tokyo 0 9 * * *", new Date("2024-06-01T00:00:00Z"), "America/New_York");
    assert.equal(got?.toISOString(), "2024-06-02T00:00:00.000Z");
  });

  it("throws an Error for a schedule that does not parse", () => {
    assert.throws(() => nextAfter("bogus", new Date(0), "UTC"), /expected exactly 5 fields/);
  });
});
