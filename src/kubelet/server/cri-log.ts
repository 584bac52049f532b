/**
 * @module The CRI container log format as conmon writes it — one record per line:
 * `<RFC3339Nano time> <stdout|stderr> <tags> <text>`, where tag `P` marks a partial line
 * (continued by the next record) and `F` a full one — and the rendering `kubectl logs`
 * expects: records joined back into lines, optionally prefixed with the time in Go's fixed
 * nanosecond RFC 3339 form (`2024-05-01T10:00:00.123456789Z`), filtered by time and cut at
 * a byte limit, as upstream's kubelet does.
 */

/** One parsed record of a CRI log file. */
export interface CriRecord {
  /** The time text as written. */
  time: string;
  /** Milliseconds since the epoch (for `sinceTime` filtering). */
  ms: number;
  /** Nanoseconds within the millisecond, for exact comparisons. */
  subMsNanos: number;
  stream: "stdout" | "stderr";
  partial: boolean;
  text: Buffer;
}

const SP = 0x20;

/** Parses one line of a CRI log file (without its newline); undefined when malformed. */
export function parseCriLine(line: Buffer): CriRecord | undefined {
  const a = line.indexOf(SP);
  if (a <= 0) return undefined;
  const b = line.indexOf(SP, a + 1);
  if (b < 0) return undefined;
  const stream = line.toString("latin1", a + 1, b);
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  const c = line.indexOf(SP, b + 1);
  // `<time> <stream> <tags>` with no text is a valid (empty) record.
  const tags = line.toString("latin1", b + 1, c < 0 ? line.length : c);
  const time = line.toString("latin1", 0, a);
  const parsed = parseTime(time);
  if (!parsed) return undefined;
  return {
    time,
    ms: parsed.ms,
    subMsNanos: parsed.subMsNanos,
    stream,
    partial: tags.split(":").includes("P"),
    text: c < 0 ? Buffer.alloc(0) : line.subarray(c + 1),
  };
}

const TIME_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

function parseTime(t: string): { ms: number; subMsNanos: number } | undefined {
  const m = TIME_RE.exec(t);
  if (!m) return undefined;
  const frac = (m[2] ?? "").padEnd(9, "0");
  const base = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(base)) return undefined;
  return { ms: base + Number(frac.slice(0, 3)), subMsNanos: Number(frac.slice(3)) };
}

/** Go's `RFC3339NanoFixed` rendering of a record's time (offset kept; zero offset is `Z`). */
export function formatTimestamp(t: string): string {
  const m = TIME_RE.exec(t);
  if (!m) return t;
  const offset = m[3] === "+00:00" || m[3] === "-00:00" ? "Z" : m[3]!;
  return `${m[1]}.${(m[2] ?? "").padEnd(9, "0")}${offset}`;
}

/** What `kubectl logs` asks for, as the node agent receives it. */
export interface LogOptions {
  timestamps: boolean;
  /** Only records at or after this time (ms since epoch). */
  sinceMs?: number;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
  /** Only the last N records of the file (upstream counts file lines). */
  tailLines?: number;
}

/**
 * Turns records into output bytes; keeps the state a follow needs between reads (whether the
 * next record starts a new line, how many bytes may still be written).
 */
export class LogRenderer {
  private atLineStart = true;
  private remaining: number;

  constructor(private readonly opts: LogOptions) {
    this.remaining = opts.limitBytes ?? Number.POSITIVE_INFINITY;
  }

  /** True once `limitBytes` has been reached. */
  get exhausted(): boolean {
    return this.remaining <= 0;
  }

  /** The output for one record (possibly empty), cut to the byte limit. */
  render(r: CriRecord): Buffer {
    if (this.remaining <= 0) return Buffer.alloc(0);
    if (this.opts.sinceMs !== undefined && r.ms < this.opts.sinceMs) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    if (this.opts.timestamps && this.atLineStart) parts.push(Buffer.from(`${formatTimestamp(r.time)} `));
    parts.push(r.text);
    if (!r.partial) parts.push(NEWLINE);
    this.atLineStart = !r.partial;
    let out = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (out.length > this.remaining) out = out.subarray(0, this.remaining);
    this.remaining -= out.length;
    return out;
  }
}

const NEWLINE = Buffer.from("\n");

/**
 * Splits a chunk of a log file into complete lines; the trailing incomplete line (a record
 * conmon has not finished writing) is returned as `rest` to be prefixed to the next read.
 */
export function splitLines(buf: Buffer): { lines: Buffer[]; rest: Buffer } {
  const lines: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) break;
    lines.push(buf.subarray(start, nl));
    start = nl + 1;
  }
  return { lines, rest: buf.subarray(start) };
}

/** The byte offset where the last `n` lines of `buf` start (0 when it has fewer). */
export function tailOffset(buf: Buffer, n: number): number {
  if (n <= 0) return buf.length;
  let end = buf.length;
  // A final newline ends the last line rather than starting an empty one.
  if (end > 0 && buf[end - 1] === 0x0a) end--;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (buf[i] === 0x0a && ++count === n) return i + 1;
  }
  return 0;
}
