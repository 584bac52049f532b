import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { RecordIndex } from "./record-index.ts";

interface Rec {
  id: string;
  podUid: string;
  n: number;
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "kites-records-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("loads what an earlier process wrote, skipping bundles without a record", async (t) => {
  const dir = tempDir(t);
  for (const [id, pod] of [
    ["a", "p1"],
    ["b", "p1"],
    ["c", "p2"],
  ] as const) {
    mkdirSync(join(dir, id));
    writeFileSync(join(dir, id, "meta.json"), JSON.stringify({ id, podUid: pod, n: 0 }));
  }
  mkdirSync(join(dir, "half-made"));
  const idx = new RecordIndex<Rec>(dir);
  assert.deepEqual((await idx.list("p1")).map((r) => r.id).sort(), ["a", "b"]);
  assert.deepEqual(
    (await idx.list("p2")).map((r) => r.id),
    ["c"],
  );
  assert.deepEqual(await idx.list("nope"), []);
  assert.equal((await idx.list()).length, 3);
  assert.equal(await idx.get("half-made"), undefined);
  mkdirSync(join(dir, "new"));
  await idx.save({ id: "new", podUid: "p3", n: 0 });
  assert.deepEqual((await idx.adopted()).map((r) => r.id).sort(), ["a", "b", "c"]);
});

test("save writes through, and concurrent saves of one record end with the last", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "x"));
  const idx = new RecordIndex<Rec>(dir);
  const r: Rec = { id: "x", podUid: "p", n: 1 };
  await Promise.all([1, 2, 3, 4, 5].map((n) => idx.save({ ...r, n })));
  assert.equal((JSON.parse(readFileSync(join(dir, "x", "meta.json"), "utf8")) as Rec).n, 5);
  assert.equal((await idx.get("x"))?.n, 5);
  // A fresh index over the same directory sees it.
  assert.equal((await new RecordIndex<Rec>(dir).get("x"))?.n, 5);
});

test("remove forgets the record and its pod entry", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "x"));
  const idx = new RecordIndex<Rec>(dir);
  await idx.save({ id: "x", podUid: "p", n: 0 });
  await idx.remove("x");
  assert.equal(await idx.get("x"), undefined);
  assert.deepEqual(await idx.list("p"), []);
  await idx.remove("x"); // twice is fine
});
