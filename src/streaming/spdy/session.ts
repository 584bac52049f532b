/**
 * @module A SPDY/3.1 session over a byte stream (the upgraded socket, or the WebSocket tunnel
 * kubectl ≥ 1.31 uses for port-forward), server side, as kubectl's SPDY client needs it: the
 * peer opens streams with SYN_STREAM (headers like `streamtype: stdout`), we accept each with
 * SYN_REPLY and hand it out as a `SpdyStream`; DATA flows both ways with FIN half-closes;
 * PING is echoed, RST_STREAM and GOAWAY end streams, SETTINGS are read. Received data is
 * acknowledged with per-stream WINDOW_UPDATE as it is consumed. Go's spdystream (kubectl's
 * SPDY library) neither sends WINDOW_UPDATE nor honours it, so our sending is not throttled by
 * the peer's window — only by the socket's own backpressure.
 */
import { EventEmitter } from "node:events";
import { Duplex, Readable, Writable } from "node:stream";
import {
  DEFAULT_WINDOW,
  encodeFrame,
  FLAG_FIN,
  FLAG_UNIDIRECTIONAL,
  FrameParser,
  RstStatus,
  SpdyProtocolError,
  type Frame,
} from "./frames.ts";
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from "./header-codec.ts";

/** Largest DATA payload we send in one frame. */
const MAX_DATA = 32 * 1024;

/** One stream of a session: `incoming` is what the peer sends, `outgoing` what we send. */
export class SpdyStream extends EventEmitter {
  /** Data from the peer; ends at its FIN (or a reset). */
  readonly incoming: Readable;
  /** Data to the peer; `end()` sends FIN. */
  readonly outgoing: Writable;
  private unacked = 0;
  localClosed = false;
  remoteClosed = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: SpdyHeaders,
  ) {
    super();
    this.incoming = new Readable({ read: () => this.ack() });
    this.outgoing = new Writable({
      highWaterMark: 64 * 1024,
      write: (chunk: Buffer, _enc, cb) => session.sendData(this, chunk, cb),
      final: (cb) => {
        session.finish(this);
        cb();
      },
      destroy: (err, cb) => {
        if (err && !this.localClosed) session.reset(this, RstStatus.cancel);
        cb(err);
      },
    });
    this.outgoing.on("error", () => undefined);
    this.incoming.on("error", () => undefined);
  }

  /** The first value of a request header (lower-case name), or "". */
  header(name: string): string {
    return this.headers.get(name)?.[0] ?? "";
  }

  /** Writes `data` (ignores backpressure; use `outgoing` for piping). */
  write(data: Buffer | string): void {
    if (!this.outgoing.writableEnded)
      this.outgoing.write(typeof data === "string" ? Buffer.from(data) : data);
  }

  /** Half-closes our side (FIN) once what was written has gone out. */
  end(): void {
    if (!this.outgoing.writableEnded) this.outgoing.end();
  }

  /** Aborts the stream with RST_STREAM. */
  reset(status: number = RstStatus.cancel): void {
    this.session.reset(this, status);
  }

  /** Called by the session with received data. */
  receive(data: Buffer): void {
    if (data.length) {
      this.unacked += data.length;
      this.incoming.push(data);
    }
  }

  /** Window updates for consumed data, in batches of half a window. */
  private ack(): void {
    if (this.unacked >= DEFAULT_WINDOW / 2 && !this.remoteClosed) {
      this.session.send({ type: "windowUpdate", streamId: this.id, delta: this.unacked });
      this.unacked = 0;
    }
  }
}

export interface SpdySessionEvents {
  stream: [SpdyStream];
  close: [];
}

/** The server side of one SPDY connection. */
export class SpdySession extends EventEmitter<SpdySessionEvents> {
  private readonly parser = new FrameParser();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  /** Frames waiting for an earlier compressed header block to be ready. */
  private readonly outQueue: (Buffer | Promise<Buffer>)[] = [];
  private pumping = false;
  /** Incoming frames are handled one at a time (header blocks decompress asynchronously). */
  private inChain: Promise<void> = Promise.resolve();
  private lastPeerStream = 0;
  private closed = false;
  private goingAway = false;

  constructor(private readonly socket: Duplex) {
    super();
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => this.destroy());
    socket.on("close", () => this.destroy());
    socket.on("end", () => this.destroy());
  }

  /** Open streams. */
  get size(): number {
    return this.streams.size;
  }

  private onData(chunk: Buffer): void {
    try {
      for (const f of this.parser.push(chunk)) this.inQueue.push(f);
    } catch (e) {
      this.protocolError(e);
      return;
    }
    if (!this.draining) void this.drainIn();
  }

  private readonly inQueue: Frame[] = [];
  private draining = false;

  /** Handles received frames in order; only header blocks make it wait. */
  private async drainIn(): Promise<void> {
    this.draining = true;
    try {
      while (this.inQueue.length && !this.closed) {
        const f = this.inQueue.shift()!;
        if (f.type === "synStream" || f.type === "synReply" || f.type === "headers") {
          const headers = await this.decompressor.decompress(f.headerBlock);
          this.handleHeaders(f, headers);
        } else this.handle(f);
      }
    } catch (e) {
      this.protocolError(e);
    } finally {
      this.draining = false;
    }
  }

  private handleHeaders(
    f: Extract<Frame, { type: "synStream" | "synReply" | "headers" }>,
    headers: SpdyHeaders,
  ): void {
    if (f.type !== "synStream") {
      const s = this.streams.get(f.streamId);
      if (s && f.flags & FLAG_FIN) this.remoteFin(s);
      return;
    }
    if (this.goingAway) return;
    if (f.streamId <= this.lastPeerStream || f.streamId % 2 === 0) {
      this.send({ type: "rstStream", streamId: f.streamId, status: RstStatus.protocolError });
      return;
    }
    this.lastPeerStream = f.streamId;
    const s = new SpdyStream(this, f.streamId, headers);
    this.streams.set(f.streamId, s);
    this.sendAsync(
      this.compressor
        .compress(new Map())
        .then((block) =>
          encodeFrame({ type: "synReply", streamId: f.streamId, flags: 0, headerBlock: block }),
        ),
    );
    if (f.flags & FLAG_UNIDIRECTIONAL) {
      s.localClosed = true;
      s.outgoing.end();
    }
    if (f.flags & FLAG_FIN) this.remoteFin(s);
    this.emit("stream", s);
  }

  private handle(f: Exclude<Frame, { type: "synStream" | "synReply" | "headers" }>): void {
    if (this.closed) return;
    switch (f.type) {
      case "data": {
        const s = this.streams.get(f.streamId);
        if (!s || s.remoteClosed) {
          if (!s) this.send({ type: "rstStream", streamId: f.streamId, status: RstStatus.invalidStream });
          return;
        }
        s.receive(f.data);
        if (f.flags & FLAG_FIN) this.remoteFin(s);
        return;
      }
      case "rstStream": {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        s.localClosed = true;
        s.remoteClosed = true;
        this.streams.delete(f.streamId);
        s.incoming.push(null);
        s.outgoing.destroy();
        s.emit("reset", f.status);
        return;
      }
      case "ping":
        // Pings the peer started have odd ids (the client's); answer them.
        if (f.id % 2 === 1) this.send(f);
        return;
      case "goaway":
        this.goingAway = true;
        if (this.streams.size === 0) this.close();
        return;
      case "settings":
      case "windowUpdate":
      case "unknown":
        return;
    }
  }

  private remoteFin(s: SpdyStream): void {
    if (s.remoteClosed) return;
    s.remoteClosed = true;
    s.incoming.push(null);
    this.maybeForget(s);
  }

  private maybeForget(s: SpdyStream): void {
    if (s.localClosed && s.remoteClosed) {
      this.streams.delete(s.id);
      s.emit("closed");
      if (this.goingAway && this.streams.size === 0) this.close();
    }
  }

  /** Queues a frame in order behind any header block still being compressed. */
  send(f: Frame): void {
    this.sendRaw(encodeFrame(f));
  }

  private sendRaw(b: Buffer, cb?: () => void): void {
    if (this.closed) {
      cb?.();
      return;
    }
    if (this.outQueue.length === 0) {
      if (this.socket.write(b) || !cb) cb?.();
      else this.socket.once("drain", cb);
      return;
    }
    this.outQueue.push(b);
    cb?.();
  }

  private sendAsync(p: Promise<Buffer>): void {
    this.outQueue.push(p);
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.outQueue.length) {
        const item = this.outQueue[0]!;
        const b = item instanceof Buffer ? item : await item;
        this.outQueue.shift();
        if (!this.closed) this.socket.write(b);
      }
    } catch (e) {
      this.protocolError(e);
    } finally {
      this.pumping = false;
    }
  }

  /** DATA frames for `data` on stream `s`; `cb` runs when the socket can take more. */
  sendData(s: SpdyStream, data: Buffer, cb: (err?: Error | null) => void): void {
    if (s.localClosed || this.closed) {
      cb();
      return;
    }
    for (let off = 0; off < data.length; off += MAX_DATA) {
      const part = data.subarray(off, Math.min(off + MAX_DATA, data.length));
      const last = off + MAX_DATA >= data.length;
      this.sendRaw(
        encodeFrame({ type: "data", streamId: s.id, flags: 0, data: part }),
        last ? () => cb() : undefined,
      );
    }
    if (data.length === 0) cb();
  }

  /** Sends FIN on stream `s`. */
  finish(s: SpdyStream): void {
    if (s.localClosed) return;
    s.localClosed = true;
    this.send({ type: "data", streamId: s.id, flags: FLAG_FIN, data: Buffer.alloc(0) });
    this.maybeForget(s);
  }

  /** Sends RST_STREAM and forgets the stream. */
  reset(s: SpdyStream, status: number): void {
    if (!this.streams.has(s.id)) return;
    this.streams.delete(s.id);
    s.localClosed = true;
    s.remoteClosed = true;
    this.send({ type: "rstStream", streamId: s.id, status });
    s.incoming.push(null);
  }

  /** Sends GOAWAY and closes the connection once queued frames are out. */
  close(): void {
    if (this.closed) return;
    this.send({ type: "goaway", lastGoodStreamId: this.lastPeerStream, status: 0 });
    const finish = (): void => {
      this.socket.end();
      this.destroy();
    };
    if (this.outQueue.length === 0) finish();
    else
      void (async () => {
        while (this.outQueue.length || this.pumping) await new Promise((r) => setImmediate(r));
        finish();
      })();
  }

  private protocolError(e: unknown): void {
    if (this.closed) return;
    if (e instanceof SpdyProtocolError) {
      this.send({ type: "goaway", lastGoodStreamId: this.lastPeerStream, status: 1 });
      this.socket.end();
    }
    this.destroy();
  }

  /** Tears everything down at once. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) {
      s.remoteClosed = true;
      s.localClosed = true;
      s.incoming.push(null);
      s.outgoing.destroy();
    }
    this.streams.clear();
    this.compressor.close();
    this.decompressor.close();
    this.emit("close");
  }
}
