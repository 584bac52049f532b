import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTimestamp, LogRenderer, parseCriLine, splitLines, tailOffset } from "./cri-log.ts";

const line = (s: string): Buffer => Buffer.from(s);

test("CRI records parse: time, stream, partial tag, text (spaces kept)", () => {
  const r = parseCriLine(line("2024-05-01T10:00:00.123456789+00:00 stderr P a  b "))!;
  assert.equal(r.stream, "stderr");
  assert.equal(r.partial, true);
  assert.equal(r.text.toString(), "a  b ");
  assert.equal(r.ms, Date.UTC(2024, 4, 1, 10, 0, 0, 123));
  assert.equal(parseCriLine(line("2024-05-01T10:00:00Z stdout F"))!.text.length, 0);
  assert.equal(parseCriLine(line("garbage")), undefined);
  assert.equal(parseCriLine(line("2024-05-01T10:00:00Z stdin F x")), undefined);
});

test("timestamps are printed in Go's fixed nanosecond RFC 3339", () => {
  assert.equal(formatTimestamp("2024-05-01T10:00:00.1+00:00"), "2024-05-01T10:00:00.100000000Z");
  assert.equal(formatTimestamp("2024-05-01T10:00:00Z"), "2024-05-01T10:00:00.000000000Z");
  assert.equal(formatTimestamp("2024-05-01T10:00:00.5+02:00"), "2024-05-01T10:00:00.500000000+02:00");
});

test("partial records join into one line; only the line's first record gets a timestamp", () => {
  const r = new LogRenderer({ timestamps: true });
  const out = [
    "2024-05-01T10:00:00Z stdout P ab",
    "2024-05-01T10:00:01Z stdout F cd",
    "2024-05-01T10:00:02Z stdout F e",
  ]
    .map((l) => r.render(parseCriLine(line(l))!).toString())
    .join("");
  assert.equal(out, "2024-05-01T10:00:00.000000000Z abcd\n2024-05-01T10:00:02.000000000Z e\n");
});

test("sinceMs drops older records; limitBytes cuts the output", () => {
  const r = new LogRenderer({ timestamps: false, sinceMs: Date.UTC(2024, 4, 1, 10, 0, 1), limitBytes: 5 });
  const recs = [
    "2024-05-01T10:00:00Z stdout F old",
    "2024-05-01T10:00:01Z stdout F new",
    "2024-05-01T10:00:02Z stdout F more",
  ];
  const out = recs.map((l) => r.render(parseCriLine(line(l))!).toString()).join("");
  assert.equal(out, "new\nm");
  assert.equal(r.exhausted, true);
});

test("lines split with the unfinished tail kept; tail offsets count lines from the end", () => {
  const { lines, rest } = splitLines(Buffer.from("a\nb\nc"));
  assert.deepEqual(lines.map(String), ["a", "b"]);
  assert.equal(rest.toString(), "c");
  const buf = Buffer.from("1\n2\n3\n");
  assert.equal(buf.subarray(tailOffset(buf, 2)).toString(), "2\n3\n");
  assert.equal(tailOffset(buf, 10), 0);
  assert.equal(tailOffset(buf, 0), buf.length);
});
