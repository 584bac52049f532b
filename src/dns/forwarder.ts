/**
 * @module Forwarding of queries outside the cluster zone to the host's resolvers (CoreDNS's
 * `forward . /etc/resolv.conf`): over UDP with a fresh random message ID, each upstream in
 * turn with a per-attempt timeout, an answer accepted only from the upstream asked and for
 * the question asked; a truncated answer is fetched again over TCP when the client itself
 * came over TCP. When every upstream fails the caller answers SERVFAIL.
 */
import { randomInt } from "node:crypto";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { connect } from "node:net";
import * as packet from "dns-packet";
import type { DnsAddress } from "./resolv-conf.ts";

export interface ForwarderOptions {
  upstreams: readonly DnsAddress[];
  /** Per-upstream attempt timeout (default 2,000 ms). */
  timeoutMs?: number;
}

interface Pending {
  upstream: DnsAddress;
  qname: string;
  qtype: string;
  done: (answer: Buffer | undefined) => void;
}

const TC_BIT = 0x02; // in byte 2 of the header

export class Forwarder {
  readonly upstreams: readonly DnsAddress[];
  private readonly timeoutMs: number;
  private readonly sockets = new Map<"udp4" | "udp6", Socket>();
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(opts: ForwarderOptions) {
    this.upstreams = opts.upstreams;
    this.timeoutMs = opts.timeoutMs ?? 2000;
  }

  /**
   * Sends `query` (a client's message) upstream and resolves with the answer carrying the
   * client's ID, or undefined when no upstream answered. `qname` (lowercase) and `qtype`
   * are the question, used to check the answer.
   */
  async forward(query: Buffer, qname: string, qtype: string, tcp: boolean): Promise<Buffer | undefined> {
    for (const upstream of this.upstreams) {
      if (this.closed) return undefined;
      let answer = await this.udpAttempt(query, upstream, qname, qtype);
      if (answer && tcp && (answer[2]! & TC_BIT) !== 0) answer = await this.tcpAttempt(query, upstream);
      if (answer) {
        answer[0] = query[0]!;
        answer[1] = query[1]!;
        return answer;
      }
    }
    return undefined;
  }

  /** Resolves `name`/`type` upstream (for CNAME targets): the answer records, or undefined. */
  async resolve(name: string, type: packet.RecordType): Promise<packet.Answer[] | undefined> {
    const query = packet.encode({
      type: "query",
      id: 0,
      flags: packet.RECURSION_DESIRED,
      questions: [{ name, type, class: "IN" }],
    });
    const answer = await this.forward(query, name.toLowerCase(), type, true);
    if (!answer) return undefined;
    try {
      return packet.decode(answer).answers ?? [];
    } catch {
      return undefined;
    }
  }

  /** Closes the sockets; pending forwards resolve with undefined. */
  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) p.done(undefined);
    this.pending.clear();
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  private socket(family: "udp4" | "udp6"): Socket {
    let s = this.sockets.get(family);
    if (s) return s;
    s = createSocket(family);
    s.on("message", (msg, rinfo) => this.onAnswer(msg, rinfo));
    s.on("error", () => undefined);
    s.unref();
    this.sockets.set(family, s);
    return s;
  }

  private udpAttempt(
    query: Buffer,
    upstream: DnsAddress,
    qname: string,
    qtype: string,
  ): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      let id = randomInt(0, 0x10000);
      while (this.pending.has(id)) id = (id + 1) & 0xffff;
      const msg = Buffer.from(query);
      msg.writeUInt16BE(id, 0);
      const timer = setTimeout(() => finish(undefined), this.timeoutMs);
      const finish = (answer: Buffer | undefined): void => {
        clearTimeout(timer);
        if (this.pending.get(id) === entry) this.pending.delete(id);
        resolve(answer);
      };
      const entry: Pending = { upstream, qname, qtype, done: finish };
      this.pending.set(id, entry);
      const family = upstream.address.includes(":") ? "udp6" : "udp4";
      this.socket(family).send(msg, upstream.port, upstream.address, (err) => {
        if (err) finish(undefined);
      });
    });
  }

  private onAnswer(msg: Buffer, rinfo: RemoteInfo): void {
    if (msg.length < 12) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (!p || rinfo.port !== p.upstream.port || rinfo.address !== p.upstream.address) return;
    let q: packet.Question | undefined;
    try {
      q = packet.decode(msg).questions?.[0];
    } catch {
      return;
    }
    if (!q || q.name.toLowerCase() !== p.qname || q.type !== p.qtype) return;
    p.done(msg);
  }

  private tcpAttempt(query: Buffer, upstream: DnsAddress): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const id = randomInt(0, 0x10000);
      const framed = Buffer.allocUnsafe(query.length + 2);
      framed.writeUInt16BE(query.length, 0);
      query.copy(framed, 2);
      framed.writeUInt16BE(id, 2);
      let got = Buffer.alloc(0);
      let settled = false;
      const sock = connect({ host: upstream.address, port: upstream.port });
      const finish = (answer: Buffer | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.destroy();
        resolve(answer);
      };
      const timer = setTimeout(() => finish(undefined), this.timeoutMs);
      sock.on("connect", () => sock.write(framed));
      sock.on("data", (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length < 2) return;
        const len = got.readUInt16BE(0);
        if (got.length < len + 2) return;
        const answer = got.subarray(2, len + 2);
        finish(answer.length >= 12 && answer.readUInt16BE(0) === id ? Buffer.from(answer) : undefined);
      });
      sock.on("error", () => finish(undefined));
      sock.on("close", () => finish(undefined));
    });
  }
}
