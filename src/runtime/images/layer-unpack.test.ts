import { test } from "node:test";
import assert from "node:assert/strict";
import { lstat, mkdir, readFile, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { sha256 } from "./fs-util.ts";
import { unpackLayer } from "./layer-unpack.ts";
import { writeTar, type TarEntry } from "./tar-writer.ts";
import { tempDir } from "./test-fixtures.ts";

async function unpack(dir: string, entries: TarEntry[], gzip = false): Promise<string> {
  const tarBytes = writeTar(entries);
  const blob = join(dir, `blob-${Math.random()}`);
  await writeFile(blob, gzip ? gzipSync(tarBytes) : tarBytes);
  const dest = join(dir, `layer-${Math.random()}`);
  await unpackLayer(blob, sha256(tarBytes), dest);
  return dest;
}

test("members never land outside the layer directory", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const outside = join(dir, "outside");
  await mkdir(outside);
  // absolute member paths are made relative; absolute symlink targets are kept as they are
  const l = await unpack(dir, [
    { path: "/abs/file", type: "file", mode: 0o644, data: Buffer.from("x") },
    { path: "evil", type: "symlink", mode: 0o777, linkname: outside },
    { path: "evil/pwned", type: "file", mode: 0o644, data: Buffer.from("pwned") },
  ]).catch((e: Error) => e);
  assert.deepEqual(await readdir(outside), [], "nothing written through a symlink");
  if (typeof l === "string") {
    assert.equal(await readFile(join(l, "abs/file"), "utf8"), "x");
    assert.equal(await readlink(join(l, "evil")), outside);
  } else assert.match(l.message, /unpacking layer/);
  // ".." members are refused
  await assert.rejects(
    unpack(dir, [{ path: "../escape", type: "file", mode: 0o644, data: Buffer.from("x") }]),
    /unpacking layer sha256:\w+: tar failed/,
  );
  await assert.rejects(lstat(join(dir, "escape")), /ENOENT/);
  // a whiteout through a symlink is refused
  await assert.rejects(
    unpack(dir, [
      { path: "evil", type: "symlink", mode: 0o777, linkname: outside },
      { path: "evil/.wh.x", type: "file", mode: 0o644 },
    ]),
    /goes through "evil", which is not a directory/,
  );
  assert.deepEqual(await readdir(outside), []);
  // no temp dirs left behind by the failures
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.includes(".tmp-")),
    [],
  );
});

test("a layer whose content does not match its diffID is refused", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const blob = join(dir, "blob");
  await writeFile(
    blob,
    gzipSync(writeTar([{ path: "f", type: "file", mode: 0o644, data: Buffer.from("1") }])),
  );
  const dest = join(dir, "layer");
  await assert.rejects(unpackLayer(blob, `sha256:${"0".repeat(64)}`, dest), /does not match the diffID/);
  await assert.rejects(lstat(dest), /ENOENT/);
  assert.deepEqual(await readdir(dir), ["blob"]);
});

test("long names, modes and ownership survive unpacking (gzip layer)", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const long = `${"d".repeat(120)}/${"f".repeat(120)}`;
  const l = await unpack(
    dir,
    [
      { path: long, type: "file", mode: 0o640, uid: 1234, gid: 5678, data: Buffer.from("long") },
      { path: "tmp", type: "dir", mode: 0o1777 },
      { path: "suid", type: "file", mode: 0o4755, data: Buffer.from("s") },
    ],
    true,
  );
  assert.equal(await readFile(join(l, long), "utf8"), "long");
  const st = await lstat(join(l, long));
  assert.equal(st.mode & 0o7777, 0o640);
  if (process.getuid?.() === 0) {
    assert.equal(st.uid, 1234);
    assert.equal(st.gid, 5678);
    assert.equal((await lstat(join(l, "suid"))).mode & 0o7777, 0o4755);
  } else console.warn("SKIPPED: ownership checks need root");
  assert.equal((await lstat(join(l, "tmp"))).mode & 0o7777, 0o1777);
});
