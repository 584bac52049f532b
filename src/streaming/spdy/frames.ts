/**
 * @module SPDY/3.1 frame layouts (SPDY draft 3.1, section 2): encoding of every frame we send
 * and an incremental parser for the byte stream we receive. Control frames start with the
 * control bit, version 3 and a type; data frames with a 31-bit stream id; both carry 8 bits
 * of flags and a 24-bit length. Header blocks stay compressed here (see `header-codec.ts`).
 */

export const SPDY_VERSION = 3;

/** Control frame types. */
export const FrameType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goaway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

/** FLAG_FIN on SYN_STREAM, SYN_REPLY, HEADERS and DATA. */
export const FLAG_FIN = 0x01;
/** FLAG_UNIDIRECTIONAL on SYN_STREAM. */
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  protocolError: 1,
  invalidStream: 2,
  refusedStream: 3,
  unsupportedVersion: 4,
  cancel: 5,
  internalError: 6,
  flowControlError: 7,
  streamInUse: 8,
  streamAlreadyClosed: 9,
  frameTooLarge: 11,
} as const;

/** SETTINGS id of the initial per-stream window. */
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;
/** The default per-stream and session windows. */
export const DEFAULT_WINDOW = 64 * 1024;
/** Largest payload a frame can carry (24-bit length). */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export type Frame =
  | { type: "data"; streamId: number; flags: number; data: Buffer }
  | {
      type: "synStream";
      streamId: number;
      associatedId: number;
      priority: number;
      slot: number;
      flags: number;
      headerBlock: Buffer;
    }
  | { type: "synReply"; streamId: number; flags: number; headerBlock: Buffer }
  | { type: "rstStream"; streamId: number; status: number }
  | { type: "settings"; flags: number; entries: { flags: number; id: number; value: number }[] }
  | { type: "ping"; id: number }
  | { type: "goaway"; lastGoodStreamId: number; status: number }
  | { type: "headers"; streamId: number; flags: number; headerBlock: Buffer }
  | { type: "windowUpdate"; streamId: number; delta: number }
  | { type: "unknown"; frameType: number; flags: number; payload: Buffer };

const ID_MASK = 0x7fffffff;

function control(type: number, flags: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  out.writeUInt16BE(type, 2);
  out.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  payload.copy(out, 8);
  return out;
}

/** Encodes one frame as bytes on the wire. */
export function encodeFrame(f: Frame): Buffer {
  switch (f.type) {
    case "data": {
      const out = Buffer.allocUnsafe(8 + f.data.length);
      out.writeUInt32BE(f.streamId & ID_MASK, 0);
      out.writeUInt32BE(((f.flags & 0xff) << 24) | f.data.length, 4);
      f.data.copy(out, 8);
      return out;
    }
    case "synStream": {
      const p = Buffer.allocUnsafe(10 + f.headerBlock.length);
      p.writeUInt32BE(f.streamId & ID_MASK, 0);
      p.writeUInt32BE(f.associatedId & ID_MASK, 4);
      p[8] = (f.priority & 0x7) << 5;
      p[9] = f.slot & 0xff;
      f.headerBlock.copy(p, 10);
      return control(FrameType.synStream, f.flags, p);
    }
    case "synReply":
    case "headers": {
      const p = Buffer.allocUnsafe(4 + f.headerBlock.length);
      p.writeUInt32BE(f.streamId & ID_MASK, 0);
      f.headerBlock.copy(p, 4);
      return control(f.type === "synReply" ? FrameType.synReply : FrameType.headers, f.flags, p);
    }
    case "rstStream": {
      const p = Buffer.allocUnsafe(8);
      p.writeUInt32BE(f.streamId & ID_MASK, 0);
      p.writeUInt32BE(f.status >>> 0, 4);
      return control(FrameType.rstStream, 0, p);
    }
    case "settings": {
      const p = Buffer.allocUnsafe(4 + 8 * f.entries.length);
      p.writeUInt32BE(f.entries.length, 0);
      f.entries.forEach((e, i) => {
        p.writeUInt32BE((((e.flags & 0xff) << 24) | (e.id & 0xffffff)) >>> 0, 4 + 8 * i);
        p.writeUInt32BE(e.value >>> 0, 8 + 8 * i);
      });
      return control(FrameType.settings, f.flags, p);
    }
    case "ping": {
      const p = Buffer.allocUnsafe(4);
      p.writeUInt32BE(f.id >>> 0, 0);
      return control(FrameType.ping, 0, p);
    }
    case "goaway": {
      const p = Buffer.allocUnsafe(8);
      p.writeUInt32BE(f.lastGoodStreamId & ID_MASK, 0);
      p.writeUInt32BE(f.status >>> 0, 4);
      return control(FrameType.goaway, 0, p);
    }
    case "windowUpdate": {
      const p = Buffer.allocUnsafe(8);
      p.writeUInt32BE(f.streamId & ID_MASK, 0);
      p.writeUInt32BE(f.delta & ID_MASK, 4);
      return control(FrameType.windowUpdate, 0, p);
    }
    case "unknown":
      return control(f.frameType, f.flags, f.payload);
  }
}

/** A malformed frame: the session answers with GOAWAY(PROTOCOL_ERROR). */
export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SpdyProtocolError";
  }
}

function decodeControl(type: number, flags: number, p: Buffer): Frame {
  const need = (n: number): void => {
    if (p.length < n) throw new SpdyProtocolError(`control frame ${type} too short (${p.length} bytes)`);
  };
  switch (type) {
    case FrameType.synStream:
      need(10);
      return {
        type: "synStream",
        streamId: p.readUInt32BE(0) & ID_MASK,
        associatedId: p.readUInt32BE(4) & ID_MASK,
        priority: p[8]! >> 5,
        slot: p[9]!,
        flags,
        headerBlock: p.subarray(10),
      };
    case FrameType.synReply:
    case FrameType.headers:
      need(4);
      return {
        type: type === FrameType.synReply ? "synReply" : "headers",
        streamId: p.readUInt32BE(0) & ID_MASK,
        flags,
        headerBlock: p.subarray(4),
      };
    case FrameType.rstStream:
      need(8);
      return { type: "rstStream", streamId: p.readUInt32BE(0) & ID_MASK, status: p.readUInt32BE(4) };
    case FrameType.settings: {
      need(4);
      const n = p.readUInt32BE(0);
      need(4 + 8 * n);
      const entries = [];
      for (let i = 0; i < n; i++) {
        const head = p.readUInt32BE(4 + 8 * i);
        entries.push({ flags: head >>> 24, id: head & 0xffffff, value: p.readUInt32BE(8 + 8 * i) });
      }
      return { type: "settings", flags, entries };
    }
    case FrameType.ping:
      need(4);
      return { type: "ping", id: p.readUInt32BE(0) };
    case FrameType.goaway:
      need(8);
      return { type: "goaway", lastGoodStreamId: p.readUInt32BE(0) & ID_MASK, status: p.readUInt32BE(4) };
    case FrameType.windowUpdate:
      need(8);
      return {
        type: "windowUpdate",
        streamId: p.readUInt32BE(0) & ID_MASK,
        delta: p.readUInt32BE(4) & ID_MASK,
      };
    default:
      return { type: "unknown", frameType: type, flags, payload: p };
  }
}

/**
 * Cuts a byte stream into frames. Feed it chunks with `push`; it returns the frames that are
 * complete so far and keeps the rest.
 */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    let off = 0;
    while (this.buf.length - off >= 8) {
      const w0 = this.buf.readUInt32BE(off);
      const w1 = this.buf.readUInt32BE(off + 4);
      const len = w1 & 0xffffff;
      if (this.buf.length - off < 8 + len) break;
      const flags = w1 >>> 24;
      // Copy out so frames never pin the whole receive buffer.
      const payload = Buffer.from(this.buf.subarray(off + 8, off + 8 + len));
      off += 8 + len;
      if (w0 & 0x80000000) {
        const version = (w0 >>> 16) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
        frames.push(decodeControl(w0 & 0xffff, flags, payload));
      } else {
        frames.push({ type: "data", streamId: w0 & ID_MASK, flags, data: payload });
      }
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return frames;
  }
}
