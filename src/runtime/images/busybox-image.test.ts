import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { lstat, readFile, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { BUSYBOX_REF, ensureBusyboxImage } from "./busybox-image.ts";
import { ImageStore } from "./image-store.ts";
import { tempDir } from "./test-fixtures.ts";
import { Snapshotter } from "../snapshots/snapshotter.ts";

const execFileP = promisify(execFile);
const hasBusybox = await stat("/bin/busybox").then(
  () => true,
  () =>
    stat("/usr/bin/busybox").then(
      () => true,
      () => false,
    ),
);
const isRoot = process.getuid?.() === 0;
if (!hasBusybox) console.warn("SKIPPED: busybox image tests need Debian's busybox-static");

test(
  "ensureBusyboxImage builds a deterministic busybox image with /bin/busybox and applet links",
  { skip: !hasBusybox && "no busybox" },
  async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    const store = new ImageStore(join(dir, "one"));
    const info = await ensureBusyboxImage(store);
    assert.equal(info.ref, BUSYBOX_REF);
    assert.deepEqual(info.cmd, ["sh"]);
    assert.ok(info.env.some((e) => e.startsWith("PATH=") && e.includes("/bin")));
    // present now: returned as is
    assert.deepEqual(await ensureBusyboxImage(store), info);
    // another store on this machine builds the very same image
    const other = await ensureBusyboxImage(new ImageStore(join(dir, "two")));
    assert.equal(other.digest, info.digest);
    assert.equal(other.id, info.id);

    const [layer] = await store.layerDirs("busybox");
    assert.ok(layer);
    const bb = await lstat(join(layer, "bin/busybox"));
    assert.ok(bb.isFile() && (bb.mode & 0o111) !== 0, "/bin/busybox is an executable file");
    assert.equal(await readlink(join(layer, "bin/sh")), "busybox");
    assert.equal(await readlink(join(layer, "bin/ls")), "busybox");
    assert.match(await readFile(join(layer, "etc/passwd"), "utf8"), /^root:x:0:0:.*\nnobody:x:65534:65534:/);
    assert.match(await readFile(join(layer, "etc/group"), "utf8"), /^root:x:0:\nnobody:x:65534:/);
    assert.equal((await lstat(join(layer, "tmp"))).mode & 0o7777, 0o1777);
    // the binary runs
    const { stdout } = await execFileP(join(layer, "bin/busybox"), ["echo", "hello"]);
    assert.equal(stdout, "hello\n");
  },
);

test(
  "a busybox snapshot is a working root filesystem",
  { skip: (!hasBusybox || !isRoot) && "needs root and busybox" },
  async (t) => {
    const { dir, cleanup } = await tempDir();
    const store = new ImageStore(join(dir, "images"));
    const snaps = new Snapshotter(join(dir, "snapshots"), store);
    t.after(async () => {
      await snaps.remove("bb").catch(() => undefined);
      await cleanup();
    });
    await ensureBusyboxImage(store);
    const root = await snaps.prepare("bb", "busybox:latest");
    const { stdout } = await execFileP("chroot", [
      root,
      "/bin/sh",
      "-c",
      "echo hi > /tmp/x && cat /tmp/x && id -un",
    ]);
    assert.equal(stdout, "hi\nroot\n");
    await snaps.remove("bb");
  },
);
