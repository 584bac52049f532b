import { test } from "node:test";
import assert from "node:assert/strict";
import { SPDY_DICTIONARY } from "./dictionary.ts";
import { encodeFrame, FLAG_FIN, FrameParser, SpdyProtocolError, type Frame } from "./frames.ts";
import {
  decodeHeaderBlock,
  encodeHeaderBlock,
  HeaderCompressor,
  HeaderDecompressor,
  headersOf,
} from "./header-codec.ts";

const frames: Frame[] = [
  { type: "data", streamId: 5, flags: FLAG_FIN, data: Buffer.from("payload") },
  {
    type: "synStream",
    streamId: 1,
    associatedId: 0,
    priority: 3,
    slot: 0,
    flags: 0,
    headerBlock: Buffer.from([1, 2, 3]),
  },
  { type: "synReply", streamId: 1, flags: FLAG_FIN, headerBlock: Buffer.from([4]) },
  { type: "headers", streamId: 3, flags: 0, headerBlock: Buffer.from([9, 9]) },
  { type: "rstStream", streamId: 7, status: 5 },
  {
    type: "settings",
    flags: 0,
    entries: [
      { flags: 0, id: 7, value: 65536 },
      { flags: 1, id: 4, value: 100 },
    ],
  },
  { type: "ping", id: 1 },
  { type: "goaway", lastGoodStreamId: 9, status: 0 },
  { type: "windowUpdate", streamId: 3, delta: 32768 },
];

test("every frame type survives encode → parse", () => {
  for (const f of frames) assert.deepEqual(new FrameParser().push(encodeFrame(f)), [f]);
});

test("control frames carry version 3 and the type; data frames a clear control bit", () => {
  const ping = encodeFrame({ type: "ping", id: 7 });
  assert.deepEqual([...ping.subarray(0, 8)], [0x80, 3, 0, 6, 0, 0, 0, 4]);
  const data = encodeFrame({ type: "data", streamId: 3, flags: FLAG_FIN, data: Buffer.from("x") });
  assert.deepEqual([...data], [0, 0, 0, 3, 1, 0, 0, 1, 0x78]);
});

test("the parser reassembles frames split at any byte", () => {
  const wire = Buffer.concat(frames.map(encodeFrame));
  const p = new FrameParser();
  const got: Frame[] = [];
  for (let i = 0; i < wire.length; i += 3) got.push(...p.push(wire.subarray(i, i + 3)));
  assert.deepEqual(got, frames);
});

test("a control frame of another SPDY version is a protocol error", () => {
  const bad = encodeFrame({ type: "ping", id: 1 });
  bad.writeUInt16BE(0x8002, 0);
  assert.throws(() => new FrameParser().push(bad), SpdyProtocolError);
});

test("the dictionary is the spec's 1423 bytes", () => {
  assert.equal(SPDY_DICTIONARY.length, 1423);
  assert.equal(SPDY_DICTIONARY.subarray(0, 11).toString("latin1"), "\0\0\0\x07options");
  assert.equal(SPDY_DICTIONARY.subarray(-6).toString(), "enq=0.");
});

test("header blocks: layout with NUL-joined values", () => {
  const h = new Map([
    ["streamtype", ["data"]],
    ["x", ["a", "b"]],
  ]);
  const block = encodeHeaderBlock(h);
  assert.equal(block.readUInt32BE(0), 2);
  assert.deepEqual(decodeHeaderBlock(block), h);
});

test("compressed header blocks round-trip with state shared across blocks", async () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  try {
    const sent = [
      headersOf({ streamtype: "error", port: "8080", requestid: "0" }),
      headersOf({ streamtype: "data", port: "8080", requestid: "0" }),
      new Map<string, string[]>(),
    ];
    const blocks = await Promise.all(sent.map((h) => c.compress(h)));
    // The second block refers back to the first: it is smaller than a fresh compression.
    assert.ok(blocks[1]!.length < blocks[0]!.length);
    for (let i = 0; i < sent.length; i++) assert.deepEqual(await d.decompress(blocks[i]!), sent[i]);
  } finally {
    c.close();
    d.close();
  }
});

test("a corrupt compressed block is a protocol error", async () => {
  const d = new HeaderDecompressor();
  try {
    await assert.rejects(d.decompress(Buffer.from([1, 2, 3, 4, 5])), SpdyProtocolError);
  } finally {
    d.close();
  }
});
