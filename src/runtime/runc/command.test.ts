import assert from "node:assert/strict";
import { test } from "node:test";
import { CommandError, run, tryRun } from "./command.ts";

test("run returns a command's output, feeding it input when given", async () => {
  assert.deepEqual(await run("echo", ["hi"]), { stdout: "hi\n", stderr: "" });
  assert.equal((await run("cat", [], { input: "in\n" })).stdout, "in\n");
  // Commands run side by side.
  const outs = await Promise.all([1, 2, 3, 4].map((n) => run("sh", ["-c", `echo ${n}`])));
  assert.deepEqual(
    outs.map((o) => o.stdout),
    ["1\n", "2\n", "3\n", "4\n"],
  );
});

test("a failure carries the command's own words and exit code", async () => {
  const err = await run("sh", ["-c", "echo 'no such thing' >&2; exit 3"]).catch((e: unknown) => e);
  assert.ok(err instanceof CommandError);
  assert.equal(err.code, 3);
  assert.match(err.message, /^sh -c .*: no such thing$/);
  const missing = await run("/nonexistent/cmd", []).catch((e: unknown) => e);
  assert.ok(missing instanceof CommandError);
  assert.match(missing.message, /ENOENT/);
  const slow = await run("sleep", ["5"], { timeoutMs: 200 }).catch((e: unknown) => e);
  assert.ok(slow instanceof CommandError);
  assert.equal(slow.code, null);
  assert.equal(await tryRun("false", []), undefined);
});
