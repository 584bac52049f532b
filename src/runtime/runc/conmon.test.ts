import { test } from "node:test";
import assert from "node:assert/strict";
import { cleanRuncMessage, parseSyncMessage } from "./conmon.ts";

test("parseSyncMessage reads conmon's sync-pipe JSON (api v1 and v0)", () => {
  assert.equal(parseSyncMessage('{"data": 12'), undefined, "incomplete");
  assert.deepEqual(parseSyncMessage('{"data": 4242}\n'), { data: 4242 });
  assert.deepEqual(parseSyncMessage('{"pid": 7}'), { data: 7 });
  assert.deepEqual(parseSyncMessage('{"data": -1, "message": "boom"}'), { data: -1, message: "boom" });
});

test("cleanRuncMessage keeps runc's msg text, unescaped", () => {
  const raw =
    'time="2026-11-22T02:16:51Z" level=error msg="runc create failed: unable to start container process: exec: \\"sh\\": executable file not found in $PATH"\n';
  assert.equal(
    cleanRuncMessage(raw),
    'runc create failed: unable to start container process: exec: "sh": executable file not found in $PATH',
  );
  assert.equal(cleanRuncMessage("plain text\n"), "plain text");
});
