/**
 * @module SPDY/3 header blocks: the name/value block layout (a 32-bit count, then 32-bit
 * length-prefixed names and values; several values of one name joined by NUL) and its
 * compression — one zlib stream per direction per session, primed with the SPDY dictionary,
 * each block ending on a sync flush. Compression state carries over from block to block, so
 * a session must run every block through its own codec in wire order.
 */
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from "node:zlib";
import { SPDY_DICTIONARY } from "./dictionary.ts";
import { SpdyProtocolError } from "./frames.ts";

/** Header names (lower-case) to values. */
export type SpdyHeaders = Map<string, string[]>;

/** Serialises headers into an uncompressed name/value block. */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.allocUnsafe(4);
  count.writeUInt32BE(headers.size);
  parts.push(count);
  for (const [name, values] of headers) {
    for (const s of [name.toLowerCase(), values.join("\0")]) {
      const b = Buffer.from(s, "utf8");
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed name/value block. */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const out: SpdyHeaders = new Map();
  if (block.length < 4) throw new SpdyProtocolError("header block too short");
  const n = block.readUInt32BE(0);
  let off = 4;
  const str = (): string => {
    if (off + 4 > block.length) throw new SpdyProtocolError("truncated header block");
    const len = block.readUInt32BE(off);
    off += 4;
    if (off + len > block.length) throw new SpdyProtocolError("truncated header block");
    const s = block.toString("utf8", off, off + len);
    off += len;
    return s;
  };
  for (let i = 0; i < n; i++) {
    const name = str().toLowerCase();
    const values = str().split("\0");
    const prev = out.get(name);
    if (prev) prev.push(...values);
    else out.set(name, values);
  }
  return out;
}

/**
 * Runs one block through a zlib stream with a sync flush and collects exactly the output of
 * that block. Calls are chained, so blocks leave in the order they were given.
 */
class BlockZlib {
  private chain: Promise<unknown> = Promise.resolve();
  private chunks: Buffer[] = [];

  constructor(private readonly z: Deflate | Inflate) {
    z.on("data", (d: Buffer) => this.chunks.push(d));
    z.on("error", () => undefined);
  }

  run(block: Buffer): Promise<Buffer> {
    const next = this.chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const onError = (e: Error): void => reject(e);
          this.z.once("error", onError);
          this.z.write(block);
          this.z.flush(constants.Z_SYNC_FLUSH, () => {
            this.z.off("error", onError);
            const out = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
            this.chunks = [];
            resolve(out);
          });
        }),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.z.close();
  }
}

/** Compresses header blocks for one direction of one session. */
export class HeaderCompressor {
  private readonly z = new BlockZlib(createDeflate({ dictionary: SPDY_DICTIONARY }));

  compress(headers: SpdyHeaders): Promise<Buffer> {
    return this.z.run(encodeHeaderBlock(headers));
  }

  close(): void {
    this.z.close();
  }
}

/** Decompresses header blocks for one direction of one session. */
export class HeaderDecompressor {
  private readonly z = new BlockZlib(createInflate({ dictionary: SPDY_DICTIONARY }));

  async decompress(block: Buffer): Promise<SpdyHeaders> {
    let raw: Buffer;
    try {
      raw = await this.z.run(block);
    } catch (e) {
      throw new SpdyProtocolError(
        `header block decompression failed: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    return decodeHeaderBlock(raw);
  }

  close(): void {
    this.z.close();
  }
}
/** Builds a header map from plain pairs. */
export function headersOf(pairs: Record<string, string>): SpdyHeaders {
  return new Map(Object.entries(pairs).map(([k, v]) => [k.toLowerCase(), [v]]));
}

/** The first value of a header, or "". */
export function headerValue(h: SpdyHeaders, name: string): string {
  return h.get(name)?.[0] ?? "";
}
