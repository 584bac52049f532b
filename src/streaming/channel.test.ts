import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Channel,
  decodeChannelMessage,
  encodeChannelMessage,
  encodeCloseMessage,
  exitStatus,
  headerValues,
  negotiate,
  parseTerminalSize,
  SUCCESS_STATUS,
} from "./channel.ts";

test("channel messages: first byte is the channel", () => {
  const m = encodeChannelMessage(Channel.stdout, "hi");
  assert.deepEqual([...m], [1, 0x68, 0x69]);
  assert.deepEqual(decodeChannelMessage(m), { channel: 1, data: Buffer.from("hi") });
  assert.equal(decodeChannelMessage(Buffer.alloc(0)), undefined);
});

test("v5 close message names the closed channel", () => {
  const m = encodeCloseMessage(Channel.stdin);
  assert.deepEqual([...m], [255, 0]);
  assert.equal(decodeChannelMessage(m)?.closes, 0);
});

test("exit status: Success for 0, NonZeroExitCode with the code as cause otherwise", () => {
  assert.equal(exitStatus(["true"], 0), SUCCESS_STATUS);
  const s = JSON.parse(exitStatus(["sh", "-c", "exit 3"], 3)) as {
    status: string;
    reason: string;
    message: string;
    details: { causes: { reason: string; message: string }[] };
  };
  assert.equal(s.status, "Failure");
  assert.equal(s.reason, "NonZeroExitCode");
  assert.deepEqual(s.details.causes, [{ reason: "ExitCode", message: "3" }]);
  assert.equal(
    s.message,
    "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
  );
});

test("terminal sizes parse; malformed ones are ignored", () => {
  assert.deepEqual(parseTerminalSize('{"Width":80,"Height":24}'), { Width: 80, Height: 24 });
  assert.equal(parseTerminalSize("{"), undefined);
  assert.equal(parseTerminalSize('{"Width":"x"}'), undefined);
});

test("protocol negotiation follows our preference among the offered", () => {
  assert.equal(
    negotiate(["v4.channel.k8s.io", "v5.channel.k8s.io"], ["v5.channel.k8s.io", "v4.channel.k8s.io"]),
    "v5.channel.k8s.io",
  );
  assert.equal(negotiate(["v1"], ["v4.channel.k8s.io"]), undefined);
  assert.deepEqual(headerValues(["a, b", "c"]), ["a", "b", "c"]);
});
