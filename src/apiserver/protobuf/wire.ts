/**
 * @module Protocol-buffers wire reader: tags, varints, fixed-width numbers and
 * length-delimited slices over a Buffer, with bounds checks that turn a truncated or
 * corrupt body into a `WireError` instead of reading past the end. Knows nothing about
 * Kubernetes; `decode.ts` drives it with the message schemas.
 */

/** The wire types of a protobuf tag. */
export const WireType = {
  Varint: 0,
  Fixed64: 1,
  Bytes: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;

/** A malformed protobuf stream (truncated, overlong varint, bad wire type). */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WireError";
  }
}

/** One field key: its number and wire type. */
export interface Tag {
  field: number;
  wire: number;
}

/** A cursor over `buf[start, end)` that reads protobuf primitives. */
export class WireReader {
  private pos: number;
  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  /** True once every byte of the range has been consumed. */
  eof(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a raw varint as an unsigned 64-bit value. */
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError("unexpected end of data inside a varint");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new WireError("varint longer than 10 bytes");
  }

  /** A field key. Field number 0 is invalid in protobuf. */
  tag(): Tag {
    const key = this.varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0 || field > 0x1fffffff) throw new WireError(`invalid field number ${field}`);
    return { field, wire };
  }

  /** An `int64` (plain varint, two's complement when negative). */
  int64(): number {
    return Number(BigInt.asIntN(64, this.varint()));
  }

  /** An `int32` (negative values arrive as 10-byte sign-extended varints). */
  int32(): number {
    return Number(BigInt.asIntN(32, this.varint()));
  }

  /** A `bool`: any non-zero varint is true. */
  bool(): boolean {
    return this.varint() !== 0n;
  }

  /** A `double` (fixed 64-bit little-endian). */
  double(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** The bounds of the next length-delimited value; the cursor moves past it. */
  span(): { start: number; end: number } {
    const len = this.varint();
    if (len > BigInt(this.end - this.pos))
      throw new WireError("length-delimited field runs past the end of its message");
    const start = this.pos;
    this.pos += Number(len);
    return { start, end: this.pos };
  }

  /** The next length-delimited value as bytes (a view, not a copy). */
  bytes(): Buffer {
    const { start, end } = this.span();
    return this.buf.subarray(start, end);
  }

  /** The next length-delimited value as UTF-8 text. */
  string(): string {
    const { start, end } = this.span();
    return this.buf.toString("utf8", start, end);
  }

  /** A reader over the next length-delimited value (an embedded message). */
  sub(): WireReader {
    const { start, end } = this.span();
    return new WireReader(this.buf, start, end);
  }

  /** Skips a value of the given wire type, including whole groups. */
  skip(wire: number, field = 0): void {
    switch (wire) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.Bytes:
        this.span();
        return;
      case WireType.Fixed32:
        this.need(4);
        this.pos += 4;
        return;
      case WireType.StartGroup:
        for (;;) {
          if (this.eof()) throw new WireError(`unterminated group for field ${field}`);
          const t = this.tag();
          if (t.wire === WireType.EndGroup) {
            if (t.field !== field) throw new WireError(`mismatched end of group for field ${field}`);
            return;
          }
          this.skip(t.wire, t.field);
        }
      default:
        throw new WireError(`unexpected wire type ${wire} for field ${field}`);
    }
  }

  private need(n: number): void {
    if (this.end - this.pos < n) throw new WireError("unexpected end of data");
  }
}
