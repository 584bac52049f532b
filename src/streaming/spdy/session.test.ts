import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, connect, type Socket } from "node:net";
import { encodeFrame, FLAG_FIN, FrameParser, RstStatus, type Frame } from "./frames.ts";
import { HeaderCompressor, HeaderDecompressor, headersOf } from "./header-codec.ts";
import { SpdySession, type SpdyStream } from "./session.ts";

/** A SPDY session on one end of a loopback connection; the test drives the other end. */
async function pair(t: { after(fn: () => unknown): void }): Promise<{ session: SpdySession; peer: Peer }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const accepted = new Promise<Socket>((r) => server.once("connection", r));
  const client = connect((server.address() as { port: number }).port, "127.0.0.1");
  const sock = await accepted;
  const session = new SpdySession(sock);
  const peer = new Peer(client);
  t.after(() => {
    session.destroy();
    client.destroy();
    peer.close();
    server.close();
  });
  return { session, peer };
}

class Peer {
  private readonly parser = new FrameParser();
  private readonly out = new HeaderCompressor();
  private readonly inflate = new HeaderDecompressor();
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | undefined;
  ended = false;

  constructor(readonly sock: Socket) {
    sock.on("data", (d: Buffer) => {
      this.frames.push(...this.parser.push(d));
      this.waiter?.();
    });
    sock.on("end", () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  async open(id: number, headers: Record<string, string>, flags = 0): Promise<void> {
    const headerBlock = await this.out.compress(headersOf(headers));
    this.sock.write(
      encodeFrame({
        type: "synStream",
        streamId: id,
        associatedId: 0,
        priority: 0,
        slot: 0,
        flags,
        headerBlock,
      }),
    );
  }

  send(f: Frame): void {
    this.sock.write(encodeFrame(f));
  }

  /** The next frame matching `pred` (earlier non-matching frames are dropped). */
  async next(pred: (f: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(0, i + 1).pop()!;
      if (this.ended) throw new Error("connection ended");
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  async replyHeaders(f: Frame): Promise<Map<string, string[]>> {
    assert.equal(f.type, "synReply");
    return this.inflate.decompress((f as Extract<Frame, { type: "synReply" }>).headerBlock);
  }

  close(): void {
    this.out.close();
    this.inflate.close();
  }
}

test("streams opened by the peer are accepted with SYN_REPLY and carry data both ways", async (t) => {
  const { session, peer } = await pair(t);
  const streams: SpdyStream[] = [];
  session.on("stream", (s) => streams.push(s));
  await peer.open(1, { streamtype: "stdin" });
  await peer.open(3, { streamtype: "stdout" });
  const r1 = await peer.next((f) => f.type === "synReply");
  assert.deepEqual(await peer.replyHeaders(r1), new Map());
  await peer.next((f) => f.type === "synReply" && f.streamId === 3);
  assert.deepEqual(
    streams.map((s) => [s.id, s.header("streamtype")]),
    [
      [1, "stdin"],
      [3, "stdout"],
    ],
  );

  // Peer → us: data then FIN ends the incoming side.
  peer.send({ type: "data", streamId: 1, flags: 0, data: Buffer.from("hello ") });
  peer.send({ type: "data", streamId: 1, flags: FLAG_FIN, data: Buffer.from("world") });
  let got = "";
  for await (const chunk of streams[0]!.incoming) got += (chunk as Buffer).toString();
  assert.equal(got, "hello world");

  // Us → peer: DATA frames then an empty FIN.
  streams[1]!.write("out");
  streams[1]!.end();
  const d = await peer.next((f) => f.type === "data" && f.streamId === 3);
  assert.deepEqual(d, { type: "data", streamId: 3, flags: 0, data: Buffer.from("out") });
  const fin = await peer.next((f) => f.type === "data" && f.streamId === 3);
  assert.equal((fin as Extract<Frame, { type: "data" }>).flags & FLAG_FIN, FLAG_FIN);
});

test("PINGs from the peer are echoed; RST_STREAM ends a stream; GOAWAY closes the session", async (t) => {
  const { session, peer } = await pair(t);
  const streams: SpdyStream[] = [];
  session.on("stream", (s) => streams.push(s));
  peer.send({ type: "ping", id: 1 });
  assert.deepEqual(await peer.next((f) => f.type === "ping"), { type: "ping", id: 1 });

  await peer.open(1, { streamtype: "data" });
  await peer.next((f) => f.type === "synReply");
  const reset = new Promise<number>((r) => streams[0]!.once("reset", r));
  peer.send({ type: "rstStream", streamId: 1, status: RstStatus.cancel });
  assert.equal(await reset, RstStatus.cancel);
  assert.equal(session.size, 0);

  const closed = new Promise<void>((r) => session.once("close", () => r()));
  peer.send({ type: "goaway", lastGoodStreamId: 1, status: 0 });
  await closed;
  const ga = await peer.next((f) => f.type === "goaway");
  assert.deepEqual(ga, { type: "goaway", lastGoodStreamId: 1, status: 0 });
});

test("received data is acknowledged with WINDOW_UPDATE once half a window is consumed", async (t) => {
  const { session, peer } = await pair(t);
  const got = new Promise<SpdyStream>((r) => session.once("stream", r));
  await peer.open(1, { streamtype: "stdin" });
  const s = await got;
  s.incoming.resume();
  peer.send({ type: "data", streamId: 1, flags: 0, data: Buffer.alloc(40 * 1024) });
  const wu = await peer.next((f) => f.type === "windowUpdate");
  assert.deepEqual(wu, { type: "windowUpdate", streamId: 1, delta: 40 * 1024 });
});

test("a stream id that goes backwards is refused with RST_STREAM(PROTOCOL_ERROR)", async (t) => {
  const { peer } = await pair(t);
  await peer.open(5, { streamtype: "a" });
  await peer.open(3, { streamtype: "b" });
  const rst = await peer.next((f) => f.type === "rstStream");
  assert.deepEqual(rst, { type: "rstStream", streamId: 3, status: RstStatus.protocolError });
});
