/**
 * @module Turns one DNS query message into its answer, for the UDP and TCP listeners:
 * decodes it with dns-packet, answers names of the cluster zone (and known reverse names)
 * from the record index, forwards everything else upstream, and handles the protocol
 * edges: FORMERR for undecodable messages or not exactly one question, NOTIMP for opcodes
 * other than QUERY, REFUSED for zone transfers (and for recursion when no upstream is
 * configured), BADVERS for EDNS versions above 0, SERVFAIL when every upstream failed.
 * EDNS: an OPT in the query gets one in the answer and raises the UDP size limit; a UDP
 * answer over the limit is sent empty with the TC bit so the client retries over TCP.
 *
 * Answers that come from the index alone are marked cacheable: they depend only on the
 * query bytes after the ID, so the server may reuse their encoding until the index changes.
 */
import * as packet from "dns-packet";
import type { Forwarder } from "./forwarder.ts";
import { isInZone } from "./names.ts";
import type { Lookup, NamedRecord, RecordIndex } from "./record-index.ts";

export type Transport = "udp" | "tcp";

/** An encoded answer; `cacheable` when it came from the index alone. */
export interface Reply {
  buf: Buffer;
  cacheable: boolean;
}

/** The UDP payload size we advertise in our OPT (the DNS flag day 2020 value). */
export const EDNS_UDP_SIZE = 1232;
const CLASSIC_UDP_LIMIT = 512;
/** The largest UDP answer we send whatever the client offers (bigger ones go over TCP). */
const MAX_UDP_ANSWER = 4096;
const TCP_LIMIT = 65535;

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type Rcode = keyof typeof RCODE;
const BADVERS = 16;

type OptRecord = Extract<packet.Answer, { type: "OPT" }>;

/** What one decoded query asks, with the bits the answer echoes. */
interface Query {
  id: number;
  /** Opcode, RD and CD bits of the query, copied into the answer's flags. */
  echo: number;
  question: packet.Question;
  qname: string;
  opt: OptRecord | undefined;
  transport: Transport;
}

export class Responder {
  constructor(
    private readonly index: RecordIndex,
    private readonly forwarder: Forwarder | undefined,
  ) {}

  private get canRecurse(): boolean {
    return (this.forwarder?.upstreams.length ?? 0) > 0;
  }

  /**
   * The answer to `msg`: at once when the index answers, a promise when it is forwarded;
   * undefined when the message is dropped (too short, or itself an answer).
   */
  respond(msg: Buffer, transport: Transport): Reply | Promise<Reply | undefined> | undefined {
    if (msg.length < 12 || (msg[2]! & 0x80) !== 0) return undefined;
    const id = msg.readUInt16BE(0);
    const echo = msg.readUInt16BE(2) & 0x7910; // opcode (0x7800), RD (0x0100), CD (0x0010)
    // Whatever goes wrong past here (say, a record dns-packet cannot encode) is SERVFAIL.
    const fail = (): Reply => this.bare(id, echo, "SERVFAIL");
    try {
      const r = this.answer(msg, id, echo, transport);
      return r instanceof Promise ? r.catch(fail) : r;
    } catch {
      return fail();
    }
  }

  private answer(
    msg: Buffer,
    id: number,
    echo: number,
    transport: Transport,
  ): Reply | Promise<Reply | undefined> | undefined {
    const flags = msg.readUInt16BE(2);
    let decoded: packet.DecodedPacket;
    try {
      decoded = packet.decode(msg);
    } catch {
      return this.bare(id, echo, "FORMERR");
    }
    const opcode = (flags >> 11) & 0xf;
    const questions = decoded.questions ?? [];
    if (opcode !== 0) return this.bare(id, echo, "NOTIMP", questions.length === 1 ? questions : []);
    if (questions.length !== 1) return this.bare(id, echo, "FORMERR");
    const question = questions[0]!;
    let opt: OptRecord | undefined;
    for (const a of decoded.additionals ?? []) {
      if (a.type !== "OPT") continue;
      if (opt) return this.bare(id, echo, "FORMERR", questions);
      opt = a;
    }
    const q: Query = { id, echo, question, qname: question.name.toLowerCase(), opt, transport };
    if (opt && opt.ednsVersion > 0) {
      return { buf: this.encode(q, { rcode: BADVERS, questions: [] }), cacheable: false };
    }
    if (question.type === "AXFR" || question.type === "IXFR") return this.refuse(q);
    if ((question.class ?? "IN") !== "IN" || q.qname === ".") return this.forward(msg, q);
    const found = this.index.lookup(q.qname, question.type);
    if (found.kind === "forward") return this.forward(msg, q);
    if (found.chase) return this.chase(q, found);
    return { buf: this.fromLookup(q, found, []), cacheable: true };
  }

  /** An answer with no records: header, the question when given, OPT when asked. */
  private bare(id: number, echo: number, rcode: Rcode, questions: packet.Question[] = []): Reply {
    const buf = packet.encode({
      type: "response",
      id,
      flags: (echo & 0x7910) | RCODE[rcode] | (this.canRecurse ? packet.RECURSION_AVAILABLE : 0),
      questions,
    });
    return { buf, cacheable: false };
  }

  private refuse(q: Query): Reply {
    return { buf: this.encode(q, { rcode: RCODE.REFUSED }), cacheable: true };
  }

  private async forward(msg: Buffer, q: Query): Promise<Reply | undefined> {
    if (!this.forwarder || !this.canRecurse) return this.refuse(q);
    const answer = await this.forwarder.forward(msg, q.qname, q.question.type, q.transport === "tcp");
    if (!answer) return { buf: this.encode(q, { rcode: RCODE.SERVFAIL }), cacheable: false };
    return { buf: answer, cacheable: false };
  }

  /** A CNAME (ExternalName Service) answered to another type: follow it one step. */
  private async chase(q: Query, found: Lookup): Promise<Reply> {
    const target = found.chase!;
    const lower = target.toLowerCase();
    const zoneTarget = isInZone(lower, this.index.domain);
    if (zoneTarget) {
      const inner = this.index.lookup(lower, q.question.type);
      return {
        buf: this.fromLookup(q, found, inner.answers.map(toPacketAnswer(this.index.ttl))),
        cacheable: true,
      };
    }
    const extra = this.canRecurse ? await this.forwarder!.resolve(target, q.question.type) : undefined;
    return { buf: this.fromLookup(q, found, extra ?? []), cacheable: false };
  }

  private fromLookup(q: Query, found: Lookup, extra: packet.Answer[]): Buffer {
    const ttl = this.index.ttl;
    const conv = toPacketAnswer(ttl);
    const answers: packet.Answer[] = [];
    for (const r of found.answers) {
      const a = conv(r);
      if (r.name === q.qname) a.name = q.question.name;
      answers.push(a);
    }
    for (const a of extra) answers.push(a);
    const authorities: packet.Answer[] = [];
    if (found.kind === "zone" && answers.length === 0) {
      authorities.push({ name: this.index.domain, type: "SOA", ttl, class: "IN", data: this.index.soa() });
    }
    return this.encode(q, {
      rcode: RCODE[found.rcode],
      aa: true,
      answers,
      authorities,
      additionals: found.additionals.map(conv),
    });
  }

  /** Encodes an answer to `q`, applying the transport's size limit (TC when over it). */
  private encode(
    q: Query,
    a: {
      rcode: number;
      aa?: boolean;
      questions?: packet.Question[];
      answers?: packet.Answer[];
      authorities?: packet.Answer[];
      additionals?: packet.Answer[];
    },
  ): Buffer {
    const flags =
      q.echo |
      (a.rcode & 0xf) |
      (a.aa ? packet.AUTHORITATIVE_ANSWER : 0) |
      (this.canRecurse ? packet.RECURSION_AVAILABLE : 0);
    const additionals = a.additionals ?? [];
    if (q.opt) {
      additionals.push({
        name: ".",
        type: "OPT",
        udpPayloadSize: EDNS_UDP_SIZE,
        extendedRcode: a.rcode >> 4,
        ednsVersion: 0,
        flags: q.opt.flag_do ? packet.DNSSEC_OK : 0,
        flag_do: q.opt.flag_do,
        options: [],
      });
    }
    const out: packet.Packet = {
      type: "response",
      id: q.id,
      flags,
      questions: a.questions ?? [q.question],
      answers: a.answers ?? [],
      authorities: a.authorities ?? [],
      additionals,
    };
    const buf = packet.encode(out);
    const limit =
      q.transport === "tcp"
        ? TCP_LIMIT
        : q.opt
          ? Math.min(MAX_UDP_ANSWER, Math.max(CLASSIC_UDP_LIMIT, q.opt.udpPayloadSize))
          : CLASSIC_UDP_LIMIT;
    if (buf.length <= limit) return buf;
    out.flags = flags | packet.TRUNCATED_RESPONSE;
    out.answers = [];
    out.authorities = [];
    out.additionals = additionals.filter((r) => r.type === "OPT");
    return packet.encode(out);
  }
}

/** Converts index records into dns-packet answers with the index TTL. */
function toPacketAnswer(ttl: number): (r: NamedRecord) => packet.Answer {
  return (r) => {
    switch (r.type) {
      case "SRV":
        return { name: r.name, type: "SRV", ttl, class: "IN", data: { ...r.data } };
      case "SOA":
        return { name: r.name, type: "SOA", ttl, class: "IN", data: { ...r.data } };
      default:
        return { name: r.name, type: r.type, ttl, class: "IN", data: r.data };
    }
  };
}
