/**
 * @module The Ingress proxy's HTTP/1.1 client towards pods: a keep-alive connection pool per
 * pod endpoint and a small response parser, used instead of `http.request` because node's
 * client machinery costs more than twice the rest of a proxied request (measured: about 13k
 * proxied requests per CPU-second through `http.request` against about 30k this way).
 *
 * One exchange at a time per connection (no pipelining). The request head is written as one
 * string; bodies are streamed with backpressure (Content-Length bodies as they come, others
 * re-chunked). The response is parsed incrementally: status line and headers (at most
 * 64 KiB), interim 1xx answers skipped, then the body framed as RFC 9112 says — none for HEAD,
 * 204 and 304, chunked when Transfer-Encoding says so (decoded; the server re-frames it for the
 * client), Content-Length bytes, or until the pod closes. Body bytes go to the client's
 * `ServerResponse` as they arrive, pausing the pod's socket while the client is slow.
 * A connection goes back to its pool only after a complete exchange that allows reuse.
 */
import type { ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";

/** What a finished or failed exchange reports to the proxy. */
export interface ExchangeHandler {
  /** The response head arrived; returns where the body goes (the client's response). */
  onHead(status: number, reason: string, headers: string[]): ServerResponse;
  /** The exchange failed. `responded`: the head was already handed over. */
  onError(err: NodeJS.ErrnoException, responded: boolean, reused: boolean): void;
}

export interface PoolOptions {
  /** Idle connections kept (default 256). */
  maxIdle?: number;
  /** Idle timeout, and read timeout while waiting for the pod (default 60 s). */
  timeoutMs?: number;
  /** Connect timeout (default 5 s, ingress-nginx's proxy-connect-timeout). */
  connectTimeoutMs?: number;
}

const MAX_HEAD = 64 * 1024;
const CRLFCRLF = Buffer.from("\r\n\r\n");

/** Response headers never passed to the client (hop-by-hop, or framing node redoes). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "trailer",
  "upgrade",
]);
const HOP_LENGTHS = new Set([...HOP_BY_HOP].map((n) => n.length));

const enum Body {
  None,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
}

function protocolError(message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`upstream: ${message}`), { code: "EPROTO" });
}

/** A pool of keep-alive connections to one pod endpoint. */
export class ConnectionPool {
  private readonly idle: UpstreamConnection[] = [];
  private closed = false;
  /** Connections opened so far (for tests and metrics). */
  opened = 0;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  private readonly maxIdle: number;

  constructor(
    readonly host: string,
    readonly port: number,
    opts: PoolOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.maxIdle = opts.maxIdle ?? 256;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /**
   * Sends one request: `head` is the whole request head (request line, headers, blank line);
   * `body` is "none", "length" (stream `source` as is) or "chunked" (re-chunk `source`);
   * `fresh` skips idle connections (a retry after a reused one failed).
   */
  send(
    head: string,
    body: "none" | "length" | "chunked",
    source: NodeJS.ReadableStream | undefined,
    isHead: boolean,
    handler: ExchangeHandler,
    fresh = false,
  ): UpstreamConnection {
    let conn = fresh ? undefined : this.idle.pop();
    while (conn && conn.socket.destroyed) conn = this.idle.pop();
    if (!conn) {
      conn = new UpstreamConnection(this);
      this.opened++;
    }
    conn.start(head, body, source, isHead, handler);
    return conn;
  }

  /** @internal A connection finished an exchange that allows reuse. */
  release(conn: UpstreamConnection): void {
    if (this.closed || this.idle.length >= this.maxIdle) {
      conn.socket.destroy();
      return;
    }
    this.idle.push(conn);
  }

  /** @internal A connection closed. */
  forget(conn: UpstreamConnection): void {
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Closes idle connections now; busy ones close when their exchange ends. */
  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.socket.destroy();
  }
}

/** One connection to a pod and the state of its current exchange. */
export class UpstreamConnection {
  readonly socket: Socket;
  private handler: ExchangeHandler | undefined;
  private res: ServerResponse | undefined;
  /** The connection carried an exchange before this one. */
  private reused = false;
  private exchanges = 0;
  private connected = false;
  private connectTimer: NodeJS.Timeout | undefined;
  // Response parsing state.
  private headBuf: Buffer | undefined;
  private body = Body.None;
  private remaining = 0;
  private line = "";
  private isHead = false;
  private keepAlive = true;
  private responded = false;
  private requestDone = false;
  private paused = false;

  constructor(private readonly pool: ConnectionPool) {
    const s = connect({ host: pool.host, port: pool.port, noDelay: true });
    this.socket = s;
    this.connectTimer = setTimeout(() => {
      s.destroy(Object.assign(new Error("timed out connecting to the endpoint"), { code: "ETIMEDOUT" }));
    }, pool.connectTimeoutMs);
    s.once("connect", () => {
      this.connected = true;
      clearTimeout(this.connectTimer);
      s.setTimeout(pool.timeoutMs);
    });
    s.on("data", (d: Buffer) => this.onData(d));
    s.on("end", () => this.onEnd());
    s.on("timeout", () => {
      if (this.handler) s.destroy(Object.assign(new Error("upstream read timeout"), { code: "ETIMEDOUT" }));
      else s.destroy();
    });
    s.on("error", (e: NodeJS.ErrnoException) => this.fail(e));
    s.on("close", () => {
      clearTimeout(this.connectTimer);
      this.pool.forget(this);
      if (this.handler)
        this.fail(Object.assign(new Error("upstream closed the connection"), { code: "ECONNRESET" }));
    });
    s.on("drain", this.resumeSource);
  }

  private source: NodeJS.ReadableStream | undefined;
  private readonly resumeSource = (): void => {
    this.source?.resume();
  };

  /** @internal Starts an exchange. */
  start(
    head: string,
    body: "none" | "length" | "chunked",
    source: NodeJS.ReadableStream | undefined,
    isHead: boolean,
    handler: ExchangeHandler,
  ): void {
    this.reused = this.exchanges > 0;
    this.exchanges++;
    this.handler = handler;
    this.res = undefined;
    this.headBuf = undefined;
    this.body = Body.None;
    this.remaining = 0;
    this.line = "";
    this.isHead = isHead;
    this.keepAlive = true;
    this.responded = false;
    this.requestDone = body === "none";
    this.paused = false;
    const s = this.socket;
    s.write(head, "latin1");
    if (body === "none" || !source) return;
    this.source = source;
    const chunked = body === "chunked";
    source.on("data", (d: Buffer) => {
      if (this.handler !== handler) return;
      if (d.length === 0) return; // an empty chunk would end a chunked body
      let ok: boolean;
      if (chunked) {
        s.cork();
        s.write(`${d.length.toString(16)}\r\n`, "latin1");
        s.write(d);
        ok = s.write("\r\n", "latin1");
        s.uncork();
      } else ok = s.write(d);
      if (!ok) source.pause();
    });
    source.once("end", () => {
      if (this.handler !== handler) return;
      if (chunked) s.write("0\r\n\r\n");
      this.source = undefined;
      this.requestDone = true;
    });
  }

  /** Abandons the exchange of `handler` (the client went away): the connection is closed. */
  abort(handler: ExchangeHandler): void {
    if (this.handler !== handler) return;
    this.handler = undefined;
    this.socket.destroy();
  }

  private fail(err: NodeJS.ErrnoException): void {
    const h = this.handler;
    if (!h) return;
    this.handler = undefined;
    this.source = undefined;
    this.unpause();
    if (!this.socket.destroyed) this.socket.destroy();
    h.onError(err, this.responded, this.reused && this.connected && !this.responded);
  }

  private onEnd(): void {
    if (this.handler && this.responded && this.body === Body.UntilClose) {
      this.handler = undefined;
      this.res?.end();
    }
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    if (!this.handler) {
      // Bytes outside an exchange: the pod is not speaking HTTP as expected.
      this.socket.destroy();
      return;
    }
    let off = 0;
    while (off < d.length && this.handler) {
      if (!this.responded) {
        off = this.parseHead(d, off);
        if (off < 0) return;
        continue;
      }
      off = this.parseBody(d, off);
    }
    // Bytes beyond a complete response: the connection cannot be trusted for another exchange.
    if (off < d.length) this.socket.destroy();
  }

  /** Consumes head bytes from `d` at `off`; returns the new offset, or -1 to wait for more. */
  private parseHead(d: Buffer, off: number): number {
    let buf = off === 0 ? d : d.subarray(off);
    if (this.headBuf) buf = Buffer.concat([this.headBuf, buf]);
    const end = buf.indexOf(CRLFCRLF);
    if (end < 0) {
      if (buf.length > MAX_HEAD) this.socket.destroy(protocolError("response head too large"));
      else this.headBuf = Buffer.from(buf);
      return -1;
    }
    const consumedFromD = end + 4 - (this.headBuf?.length ?? 0);
    this.headBuf = undefined;
    const text = buf.toString("latin1", 0, end);
    if (!this.onHead(text)) return -1;
    return off + consumedFromD;
  }

  /** Parses a response head; returns false when the connection was failed. */
  private onHead(text: string): boolean {
    const lines = text.split("\r\n");
    const statusLine = lines[0]!;
    const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) {
      this.socket.destroy(protocolError(`bad status line ${JSON.stringify(statusLine.slice(0, 64))}`));
      return false;
    }
    const http10 = m[1] === "0";
    const status = Number(m[2]);
    const headers: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let transferEncoding = false;
    let connection = "";
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i]!;
      const colon = l.indexOf(":");
      if (colon <= 0 || l.charCodeAt(0) === 32 || l.charCodeAt(0) === 9) {
        this.socket.destroy(protocolError("malformed header line"));
        return false;
      }
      const name = l.slice(0, colon);
      const value = l.slice(colon + 1).trim();
      const len = name.length;
      if (len === 14 || HOP_LENGTHS.has(len)) {
        const lower = name.toLowerCase();
        if (lower === "content-length") {
          const n = /^\d+$/.test(value) ? Number(value) : NaN;
          if (!Number.isSafeInteger(n) || (contentLength >= 0 && n !== contentLength)) {
            this.socket.destroy(protocolError("bad Content-Length"));
            return false;
          }
          contentLength = n;
        } else if (HOP_BY_HOP.has(lower)) {
          if (lower === "transfer-encoding") {
            transferEncoding = true;
            chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
          } else if (lower === "connection") connection += `${value.toLowerCase()},`;
          continue;
        }
      }
      headers.push(name, value);
    }
    if (status >= 100 && status < 200) {
      // Interim answers (100 Continue, 103 Early Hints) are dropped; 101 is never asked for here.
      if (status === 101) {
        this.socket.destroy(protocolError("unexpected 101 Switching Protocols"));
        return false;
      }
      return true;
    }
    this.keepAlive = http10
      ? /(?:^|,)\s*keep-alive\s*,/.test(connection)
      : !/(?:^|,)\s*close\s*,/.test(connection);
    if (this.isHead || status === 204 || status === 304) this.body = Body.None;
    else if (transferEncoding) {
      // Transfer-Encoding overrides Content-Length; the connection is not reused after such a mix.
      if (contentLength >= 0) {
        this.keepAlive = false;
        for (let i = 0; i < headers.length; i += 2) {
          if (headers[i]!.length === 14 && headers[i]!.toLowerCase() === "content-length")
            headers.splice(i, 2);
        }
      }
      this.body = chunked ? Body.ChunkSize : Body.UntilClose;
    } else if (contentLength >= 0) {
      this.body = contentLength === 0 ? Body.None : Body.Length;
      this.remaining = contentLength;
    } else this.body = Body.UntilClose;
    if (this.body === Body.UntilClose) this.keepAlive = false;
    this.responded = true;
    const res = this.handler!.onHead(status, m[3] ?? "", headers);
    this.res = res;
    if (this.body === Body.None) this.responseComplete();
    return true;
  }

  /** Consumes body bytes; returns the new offset. */
  private parseBody(d: Buffer, off: number): number {
    const res = this.res!;
    switch (this.body) {
      case Body.Length: {
        const n = Math.min(this.remaining, d.length - off);
        this.write(res, off === 0 && n === d.length ? d : d.subarray(off, off + n));
        this.remaining -= n;
        if (this.remaining === 0) this.responseComplete();
        return off + n;
      }
      case Body.UntilClose:
        this.write(res, off === 0 ? d : d.subarray(off));
        return d.length;
      case Body.ChunkData: {
        const n = Math.min(this.remaining, d.length - off);
        this.write(res, d.subarray(off, off + n));
        this.remaining -= n;
        if (this.remaining === 0) this.body = Body.ChunkDataEnd;
        return off + n;
      }
      case Body.ChunkSize:
      case Body.ChunkDataEnd:
      case Body.Trailers:
        return this.parseChunkLine(d, off);
      default:
        // Bytes after a complete response: not valid HTTP/1.1 without pipelining.
        this.socket.destroy(protocolError("data after the response"));
        return d.length;
    }
  }

  /** Reads one line of chunk framing (size line, CRLF after data, trailer line). */
  private parseChunkLine(d: Buffer, off: number): number {
    const nl = d.indexOf(10, off);
    const piece = d.toString("latin1", off, nl < 0 ? d.length : nl + 1);
    this.line += piece;
    if (this.line.length > 8192) {
      this.socket.destroy(protocolError("chunk framing line too long"));
      return d.length;
    }
    if (nl < 0) return d.length;
    const line = this.line.endsWith("\r\n") ? this.line.slice(0, -2) : this.line.slice(0, -1);
    this.line = "";
    if (this.body === Body.ChunkDataEnd) {
      if (line !== "") this.socket.destroy(protocolError("missing CRLF after chunk data"));
      else this.body = Body.ChunkSize;
    } else if (this.body === Body.ChunkSize) {
      const semi = line.indexOf(";");
      const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
      const size = /^[0-9a-fA-F]{1,12}$/.test(hex) ? parseInt(hex, 16) : NaN;
      if (Number.isNaN(size)) this.socket.destroy(protocolError("bad chunk size"));
      else if (size === 0) this.body = Body.Trailers;
      else {
        this.body = Body.ChunkData;
        this.remaining = size;
      }
    } else if (line === "") {
      this.responseComplete(); // end of trailers
    }
    return nl + 1;
  }

  private write(res: ServerResponse, chunk: Buffer): void {
    if (!res.write(chunk) && !this.paused) {
      // The client is slower than the pod: stop reading until its response drains.
      this.paused = true;
      this.socket.pause();
      res.once("drain", this.onDrain);
    }
  }

  private readonly onDrain = (): void => {
    this.paused = false;
    this.socket.resume();
  };

  private unpause(): void {
    if (!this.paused) return;
    this.res?.off("drain", this.onDrain);
    this.paused = false;
    this.socket.resume();
  }

  private responseComplete(): void {
    this.body = Body.None;
    const res = this.res;
    // A pod that answers before the request body was sent (a 413, say) leaves the rest of the
    // body unread on its side: that connection is closed, not reused.
    if (!this.requestDone) this.keepAlive = false;
    this.finish();
    res?.end();
  }

  private finish(): void {
    this.unpause();
    this.handler = undefined;
    this.res = undefined;
    this.source = undefined;
    if (this.keepAlive && !this.socket.destroyed) this.pool.release(this);
    else this.socket.destroy();
  }
}
