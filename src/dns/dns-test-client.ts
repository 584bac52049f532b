/**
 * @module Test helpers for the cluster DNS server: send one query over UDP or TCP on
 * loopback and decode the answer (dns-packet on both sides), and a tiny upstream DNS server
 * whose answers a test chooses, standing in for the host's resolver.
 */
import { createSocket, type Socket } from "node:dgram";
import { connect, createServer, type Server } from "node:net";
import * as packet from "dns-packet";

/** Builds a query message. */
export function query(
  name: string,
  type: packet.RecordType,
  opts: { id?: number; edns?: number; ednsVersion?: number; flags?: number } = {},
): Buffer {
  return packet.encode({
    type: "query",
    id: opts.id ?? 4242,
    flags: opts.flags ?? packet.RECURSION_DESIRED,
    questions: [{ name, type, class: "IN" }],
    additionals:
      opts.edns !== undefined
        ? [
            {
              name: ".",
              type: "OPT",
              udpPayloadSize: opts.edns,
              extendedRcode: 0,
              ednsVersion: opts.ednsVersion ?? 0,
              flags: 0,
              flag_do: false,
              options: [],
            },
          ]
        : [],
  });
}

/** Sends raw bytes over UDP and resolves with the first answer (rejects after `ms`). */
export function udpExchange(port: number, msg: Buffer, ms = 5000): Promise<Buffer> {
  const sock = createSocket("udp4");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error("no UDP answer"));
    }, ms);
    sock.on("message", (answer) => {
      clearTimeout(timer);
      sock.close();
      resolve(answer);
    });
    sock.send(msg, port, "127.0.0.1");
  });
}

/** Sends raw bytes over TCP (length-prefixed) and resolves with the first answer. */
export function tcpExchange(port: number, msg: Buffer, ms = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error("no TCP answer"));
    }, ms);
    sock.on("connect", () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length, 0);
      sock.write(Buffer.concat([len, msg]));
    });
    sock.on("data", (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 2 && got.length >= got.readUInt16BE(0) + 2) {
        clearTimeout(timer);
        sock.destroy();
        resolve(got.subarray(2, got.readUInt16BE(0) + 2));
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export const udp = async (port: number, msg: Buffer): Promise<packet.DecodedPacket> =>
  packet.decode(await udpExchange(port, msg));
export const tcp = async (port: number, msg: Buffer): Promise<packet.DecodedPacket> =>
  packet.decode(await tcpExchange(port, msg));

/** The rcode name of a decoded answer. */
export const rcodeOf = (p: packet.DecodedPacket): string => (p as unknown as { rcode: string }).rcode;

/** A loopback DNS server answering with `answer(question)` (UDP and TCP on one port). */
export interface FakeUpstream {
  port: number;
  /** Questions received, as `transport name type`. */
  seen: string[];
  close(): Promise<void>;
}

export async function startUpstream(
  answer: (q: packet.Question, transport: "udp" | "tcp") => packet.Answer[] | "silent",
): Promise<FakeUpstream> {
  const seen: string[] = [];
  const udpSock: Socket = createSocket("udp4");
  const reply = (msg: Buffer, transport: "udp" | "tcp"): Buffer | undefined => {
    const req = packet.decode(msg);
    const q = req.questions![0]!;
    seen.push(`${transport} ${q.name} ${q.type}`);
    const answers = answer(q, transport);
    if (answers === "silent") return undefined;
    let out = packet.encode({
      type: "response",
      id: req.id,
      flags: packet.RECURSION_AVAILABLE | packet.RECURSION_DESIRED,
      questions: [q],
      answers,
    });
    if (transport === "udp" && out.length > 512) {
      out = packet.encode({
        type: "response",
        id: req.id,
        flags: packet.RECURSION_AVAILABLE | packet.RECURSION_DESIRED | packet.TRUNCATED_RESPONSE,
        questions: [q],
      });
    }
    return out;
  };
  udpSock.on("message", (msg, rinfo) => {
    const out = reply(msg, "udp");
    if (out) udpSock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => udpSock.bind(0, "127.0.0.1", () => r()));
  const port = udpSock.address().port;
  const server: Server = createServer((conn) => {
    let got = Buffer.alloc(0);
    conn.on("error", () => undefined);
    conn.on("data", (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 2 || got.length < got.readUInt16BE(0) + 2) return;
      const out = reply(got.subarray(2, got.readUInt16BE(0) + 2), "tcp");
      if (!out) return;
      const len = Buffer.alloc(2);
      len.writeUInt16BE(out.length, 0);
      conn.end(Buffer.concat([len, out]));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    port,
    seen,
    close: async () => {
      await new Promise<void>((r) => udpSock.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
