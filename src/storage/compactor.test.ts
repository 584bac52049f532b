import { test } from "node:test";
import assert from "node:assert/strict";
import { openBackend } from "./open.ts";

test("periodic compaction keeps one interval of history and bounds the store", async () => {
  const b = await openBackend("memory://", { compactIntervalMs: 100 });
  try {
    let kv = await b.create("/c/k", "0");
    const first = kv.modRevision;
    for (let i = 1; i <= 50; i++) kv = await b.update("/c/k", String(i), kv.modRevision);
    // First tick marks the revision, the next compacts up to it.
    const deadline = Date.now() + 5000;
    while ((await b.compactedRevision()) < kv.modRevision && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok((await b.compactedRevision()) >= kv.modRevision, "compacted up to the marked revision");
    await assert.rejects(b.list("/c/", { revision: first }), /compacted/);
    assert.equal((await b.get("/c/k"))?.value, "50", "the current value survives");
  } finally {
    await b.close();
  }
});
