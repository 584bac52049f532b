import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { lstat, readFile, readdir, readlink, realpath, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ImageStore } from "../images/image-store.ts";
import { buildImage, tempDir, whiteoutImageSpecs, writeOciLayout } from "../images/test-fixtures.ts";
import { mountCount, readMounts } from "./mountinfo.ts";
import { Snapshotter } from "./snapshotter.ts";

const execFileP = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** Mount points under `dir` (resolved). */
async function mountsUnder(dir: string): Promise<string[]> {
  const real = await realpath(dir);
  return (await readMounts()).map((m) => m.mountPoint).filter((p) => p === real || p.startsWith(`${real}/`));
}

/** A temp dir with a store and a snapshotter; after the test, every mount under it is gone. */
async function setup(t: {
  after(fn: () => Promise<void>): void;
}): Promise<{ dir: string; store: ImageStore; snaps: Snapshotter }> {
  const { dir, cleanup } = await tempDir("kites-snap-");
  const store = new ImageStore(join(dir, "images"));
  const snaps = new Snapshotter(join(dir, "snapshots"), store);
  t.after(async () => {
    for (const id of await snaps.list().catch(() => [])) await snaps.remove(id).catch(() => undefined);
    for (const m of (await mountsUnder(dir)).reverse())
      await execFileP("umount", ["-l", m]).catch(() => undefined);
    await cleanup();
  });
  return { dir, store, snaps };
}

test(
  "two snapshots of one image see the image's files and write separately",
  { skip: !isRoot && "needs root" },
  async (t) => {
    const { dir, store, snaps } = await setup(t);
    const img = await buildImage(whiteoutImageSpecs(), { gzip: [true, false] });
    await writeOciLayout(img, "docker.io/library/snap:1", join(dir, "img.tar"));
    await store.import(join(dir, "img.tar"));

    const a = await snaps.prepare("a", "snap:1");
    const b = await snaps.prepare("b", "docker.io/library/snap:1");
    assert.notEqual(a, b);
    for (const root of [a, b]) {
      assert.equal(await readFile(join(root, "etc/b"), "utf8"), "b1");
      await assert.rejects(lstat(join(root, "etc/a")), /ENOENT/, "whited-out file is hidden");
      assert.deepEqual(
        await readdir(join(root, "opq")),
        ["new"],
        "opaque dir hides the lower layer's contents",
      );
      assert.equal(await readFile(join(root, "added"), "utf8"), "2");
      assert.equal(await readlink(join(root, "lnk")), "/etc/b");
    }
    await writeFile(join(a, "hello"), "from a");
    await writeFile(join(b, "etc/b"), "changed in b");
    await assert.rejects(lstat(join(b, "hello")), /ENOENT/);
    assert.equal(await readFile(join(a, "etc/b"), "utf8"), "b1");
    assert.equal(await readFile(join(dir, "snapshots/a/upper/hello"), "utf8"), "from a");
    // the layers themselves are untouched
    const [l1] = await store.layerDirs("snap:1");
    assert.equal(await readFile(join(l1!, "etc/b"), "utf8"), "b1");

    // idempotent prepare: same path, still one mount
    assert.equal(await snaps.prepare("a", "snap:1"), a);
    assert.equal(await mountCount(a), 1);
    assert.deepEqual(await snaps.list(), ["a", "b"]);

    // removing the image keeps the layers mounted snapshots use
    assert.equal(await store.remove("snap:1"), true);
    assert.equal(await store.pruneLayers(), 0);
    assert.equal(await readFile(join(a, "etc/b"), "utf8"), "b1");

    await snaps.remove("a");
    await snaps.remove("b");
    await snaps.remove("b");
    assert.equal(await store.pruneLayers(), 2, "unused once the snapshots are gone");
    assert.deepEqual(await snaps.list(), []);
    assert.deepEqual(await mountsUnder(dir), [], "no mount left in /proc/self/mountinfo");
  },
);

test(
  "an image with many layers mounts although absolute lowerdirs exceed a page",
  { skip: !isRoot && "needs root" },
  async (t) => {
    const { dir, store, snaps } = await setup(t);
    const specs = Array.from({ length: 50 }, (_, i) => ({ [`f${i}`]: String(i), top: String(i) }));
    const img = await buildImage(specs);
    await writeOciLayout(img, "docker.io/library/tall:1", join(dir, "tall.tar"));
    await store.import(join(dir, "tall.tar"));
    const lowers = (await store.layerDirs("tall:1")).join(":");
    assert.ok(lowers.length > 4096, `lowerdir is ${lowers.length} bytes`);
    const root = await snaps.prepare("tall", "tall:1");
    assert.equal(await readFile(join(root, "f0"), "utf8"), "0");
    assert.equal(await readFile(join(root, "f49"), "utf8"), "49");
    assert.equal(await readFile(join(root, "top"), "utf8"), "49", "the top layer wins");
    await snaps.remove("tall");
    assert.deepEqual(await mountsUnder(dir), []);
  },
);

test("a busy snapshot is removed lazily", { skip: !isRoot && "needs root" }, async (t) => {
  const { dir, store, snaps } = await setup(t);
  const img = await buildImage([{ f: "1" }]);
  await writeOciLayout(img, "docker.io/library/busy:1", join(dir, "busy.tar"));
  await store.import(join(dir, "busy.tar"));
  const root = await snaps.prepare("busy", "busy:1");
  // a process with its working directory inside keeps the mount busy
  const { spawn } = await import("node:child_process");
  const child = spawn("sleep", ["30"], { cwd: root, stdio: "ignore" });
  t.after(() => void child.kill("SIGKILL"));
  await new Promise((r) => child.once("spawn", r));
  await snaps.remove("busy");
  assert.deepEqual(await mountsUnder(dir), []);
  assert.deepEqual(await snaps.list(), []);
  child.kill("SIGKILL");
});

test("snapshot ids are checked and an unknown image is an error", async (t) => {
  const { snaps } = await setup(t);
  await assert.rejects(snaps.prepare("../x", "busybox"), /invalid snapshot id/);
  await assert.rejects(snaps.prepare("ok", "nosuch:1"), /image "nosuch:1" not found/);
  await snaps.remove("never-made");
  assert.deepEqual(await snaps.list(), [], "a failed prepare leaves nothing behind");
});

if (!isRoot) console.warn("SKIPPED: snapshotter mount tests need root");
