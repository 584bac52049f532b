/**
 * @module The cluster DNS server's listeners: one UDP socket and one TCP server per listen
 * address (RFC 7766 framing: 2-byte length prefix, several queries per connection, idle
 * connections closed after 10 s). Answers come from the `Responder`.
 *
 * Hot path: an answer computed from the record index alone depends only on the query bytes
 * after the 2-byte ID (flags, question, EDNS), so its encoding is kept in a map keyed by
 * those bytes; a repeated query costs one map lookup and a copy with the ID patched in. The
 * map is dropped whenever the index changes and when it grows past its bound.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { createServer, type Server, type Socket as TcpSocket } from "node:net";
import type { DnsAddress } from "./resolv-conf.ts";
import type { Reply, Responder, Transport } from "./responder.ts";

export interface DnsServerOptions {
  responder: Responder;
  listen: readonly DnsAddress[];
  /** Bound of each encoded-answer cache (default 10,000 entries; 0 turns caching off). */
  cacheEntries?: number;
  /** Idle TCP connections are closed after this long (default 10,000 ms). */
  tcpIdleMs?: number;
}

/** Queries longer than this are answered but never cached. */
const MAX_CACHED_QUERY = 512;

/** Encoded answers by query bytes (after the ID). */
class AnswerCache {
  private map = new Map<string, Buffer>();
  constructor(private readonly bound: number) {}

  get(key: string): Buffer | undefined {
    return this.map.get(key);
  }

  set(key: string, buf: Buffer): void {
    if (this.bound <= 0) return;
    if (this.map.size >= this.bound) this.map = new Map();
    this.map.set(key, buf);
  }

  clear(): void {
    if (this.map.size > 0) this.map = new Map();
  }
}

export class DnsServer {
  private readonly responder: Responder;
  private readonly listen: readonly DnsAddress[];
  private readonly udpCache: AnswerCache;
  private readonly tcpCache: AnswerCache;
  private readonly tcpIdleMs: number;
  private readonly udp: Socket[] = [];
  private readonly tcp: Server[] = [];
  private readonly conns = new Set<TcpSocket>();
  /** The addresses actually bound (port 0 in `listen` resolved), UDP and TCP on the same port. */
  readonly bound: DnsAddress[] = [];

  constructor(opts: DnsServerOptions) {
    this.responder = opts.responder;
    this.listen = opts.listen;
    this.udpCache = new AnswerCache(opts.cacheEntries ?? 10_000);
    this.tcpCache = new AnswerCache(opts.cacheEntries ?? 10_000);
    this.tcpIdleMs = opts.tcpIdleMs ?? 10_000;
  }

  /** Drops every cached answer (call after the index changed). */
  invalidate(): void {
    this.udpCache.clear();
    this.tcpCache.clear();
  }

  /** Binds every listen address (UDP and TCP); rejects if one cannot be bound. */
  async start(): Promise<void> {
    try {
      for (const l of this.listen) this.bound.push(await this.bindPair(l));
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Closes the sockets and every TCP connection. */
  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    await Promise.all([
      ...this.udp.map((s) => new Promise<void>((r) => s.close(() => r()))),
      ...this.tcp.map((s) => new Promise<void>((r) => s.close(() => r()))),
    ]);
    this.udp.length = 0;
    this.tcp.length = 0;
  }

  /** UDP then TCP on the same port; with port 0 retried when TCP finds the port taken. */
  private async bindPair(l: DnsAddress): Promise<DnsAddress> {
    for (let attempt = 0; ; attempt++) {
      const sock = await this.bindUdp(l);
      const port = sock.address().port;
      try {
        const server = await this.bindTcp(l.address, port);
        this.udp.push(sock);
        this.tcp.push(server);
        return { address: l.address, port };
      } catch (e) {
        await new Promise<void>((r) => sock.close(() => r()));
        if (l.port !== 0 || attempt >= 8 || (e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
      }
    }
  }

  private bindUdp(l: DnsAddress): Promise<Socket> {
    const sock = createSocket({ type: l.address.includes(":") ? "udp6" : "udp4" });
    return new Promise((resolve, reject) => {
      sock.once("error", reject);
      sock.bind(l.port, l.address, () => {
        sock.off("error", reject);
        sock.on("error", () => undefined);
        try {
          sock.setRecvBufferSize(4 << 20);
          sock.setSendBufferSize(4 << 20);
        } catch {
          // Capped by net.core.[rw]mem_max: the default then.
        }
        sock.on("message", (msg, rinfo) => this.onUdp(sock, msg, rinfo));
        resolve(sock);
      });
    });
  }

  private onUdp(sock: Socket, msg: Buffer, rinfo: RemoteInfo): void {
    if (msg.length < 12) return;
    const key = msg.length <= MAX_CACHED_QUERY ? msg.toString("latin1", 2) : undefined;
    if (key !== undefined) {
      const hit = this.udpCache.get(key);
      if (hit !== undefined) {
        const out = Buffer.allocUnsafe(hit.length);
        hit.copy(out, 0);
        out[0] = msg[0]!;
        out[1] = msg[1]!;
        sock.send(out, rinfo.port, rinfo.address);
        return;
      }
    }
    this.answer(msg, "udp", key, (buf) => sock.send(buf, rinfo.port, rinfo.address));
  }

  /** Computes (or forwards) an answer, caches it when it may be, and hands it to `send`. */
  private answer(
    msg: Buffer,
    transport: Transport,
    key: string | undefined,
    send: (b: Buffer) => void,
  ): void {
    let r: Reply | Promise<Reply | undefined> | undefined;
    try {
      r = this.responder.respond(msg, transport);
    } catch {
      return;
    }
    if (r === undefined) return;
    if (r instanceof Promise) {
      r.then((rep) => rep && send(rep.buf)).catch(() => undefined);
      return;
    }
    if (r.cacheable && key !== undefined)
      (transport === "udp" ? this.udpCache : this.tcpCache).set(key, r.buf);
    send(r.buf);
  }

  private bindTcp(address: string, port: number): Promise<Server> {
    const server = createServer((conn) => this.onConnection(conn));
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off("error", reject);
        server.on("error", () => undefined);
        resolve(server);
      });
    });
  }

  private onConnection(conn: TcpSocket): void {
    this.conns.add(conn);
    conn.setNoDelay(true);
    conn.setTimeout(this.tcpIdleMs, () => conn.destroy());
    conn.on("close", () => this.conns.delete(conn));
    conn.on("error", () => undefined);
    let pending: Buffer | undefined;
    const send = (buf: Buffer): void => {
      if (conn.destroyed) return;
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE(buf.length, 0);
      conn.cork();
      conn.write(len);
      conn.write(buf);
      conn.uncork();
    };
    conn.on("data", (chunk: Buffer) => {
      let data = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = undefined;
      while (data.length >= 2) {
        const len = data.readUInt16BE(0);
        if (data.length < len + 2) break;
        const msg = Buffer.from(data.subarray(2, len + 2));
        data = data.subarray(len + 2);
        if (msg.length < 12) {
          conn.destroy();
          return;
        }
        const key = msg.length <= MAX_CACHED_QUERY ? msg.toString("latin1", 2) : undefined;
        const hit = key !== undefined ? this.tcpCache.get(key) : undefined;
        if (hit !== undefined) {
          const out = Buffer.from(hit);
          out[0] = msg[0]!;
          out[1] = msg[1]!;
          send(out);
          continue;
        }
        this.answer(msg, "tcp", key, send);
      }
      if (data.length > 0) pending = Buffer.from(data);
    });
  }
}
