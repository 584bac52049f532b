import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatRFC3339, humanDuration, parseTimestamp, shortHumanDuration, timestampSince } from "./age.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const Y = 365 * D;

describe("humanDuration", () => {
  const cases: [number, string][] = [
    [-2 * S, "<invalid>"],
    [-2 * S + 1, "0s"],
    [0, "0s"],
    [S - 1, "0s"],
    [S, "1s"],
    [5 * S, "5s"],
    [70 * S, "70s"],
    [2 * M - 1, "119s"],
    [2 * M, "2m"],
    [2 * M + S, "2m1s"],
    [190 * S, "3m10s"],
    [200 * S, "3m20s"],
    [10 * M - 1, "9m59s"],
    [10 * M, "10m"],
    [10 * M + S, "10m"],
    [70 * M, "70m"],
    [3 * H - 1, "179m"],
    [3 * H, "3h"],
    [3 * H + M, "3h1m"],
    [8 * H - 1, "7h59m"],
    [8 * H, "8h"],
    [8 * H + 59 * M, "8h"],
    [47 * H, "47h"],
    [2 * D - 1, "47h"],
    [2 * D, "2d"],
    [49 * H, "2d1h"],
    [8 * D - 1, "7d23h"],
    [8 * D, "8d"],
    [8 * D + 23 * H, "8d"],
    [367 * D, "367d"],
    [2 * Y - 1, "729d"],
    [2 * Y, "2y"],
    [2 * Y + 24 * H - 1, "2y"],
    [2 * Y + 24 * H, "2y1d"],
    [2 * Y + 10 * D, "2y10d"],
    [8 * Y - 1, "7y364d"],
    [8 * Y, "8y"],
    [8 * Y + 364 * D, "8y"],
    [9 * Y, "9y"],
  ];
  for (const [ms, want] of cases) {
    it(`${ms}ms → ${want}`, () => assert.equal(humanDuration(ms), want));
  }
});

describe("shortHumanDuration", () => {
  const cases: [number, string][] = [
    [-2 * S, "<invalid>"],
    [-2 * S + 1, "0s"],
    [0, "0s"],
    [S, "1s"],
    [M - 1, "59s"],
    [M, "1m"],
    [2 * M - 1, "1m"],
    [H - 1, "59m"],
    [H, "1h"],
    [D - 1, "23h"],
    [D, "1d"],
    [Y - 1, "364d"],
    [Y, "1y"],
    [2 * Y, "2y"],
  ];
  for (const [ms, want] of cases) {
    it(`${ms}ms → ${want}`, () => assert.equal(shortHumanDuration(ms), want));
  }
});

describe("timestamps", () => {
  const now = Date.parse("2024-05-01T12:00:00Z");

  it("prints time since a timestamp, <unknown> when unset or zero", () => {
    assert.equal(timestampSince("2024-05-01T11:56:40Z", now), "3m20s");
    assert.equal(timestampSince("2024-05-01T11:59:59.500000Z", now), "0s");
    assert.equal(timestampSince(undefined, now), "<unknown>");
    assert.equal(timestampSince("", now), "<unknown>");
    assert.equal(timestampSince("0001-01-01T00:00:00Z", now), "<unknown>");
    assert.equal(timestampSince("not a time", now), "<unknown>");
  });

  it("prints a future timestamp beyond the skew tolerance as <invalid>", () => {
    assert.equal(timestampSince("2024-05-01T12:00:05Z", now), "<invalid>");
  });

  it("parses RFC 3339 with and without fractions", () => {
    assert.equal(parseTimestamp("2024-05-01T12:00:00Z"), now);
    assert.equal(parseTimestamp("2024-05-01T12:00:00.250000Z"), now + 250);
    assert.equal(parseTimestamp(null), undefined);
  });

  it("formats Created At as RFC 3339 UTC with whole seconds", () => {
    assert.equal(formatRFC3339("2024-05-01T12:00:00Z"), "2024-05-01T12:00:00Z");
    assert.equal(formatRFC3339("2024-05-01T14:00:00.9+02:00"), "2024-05-01T12:00:00Z");
    assert.equal(formatRFC3339(undefined), "0001-01-01T00:00:00Z");
  });
});
