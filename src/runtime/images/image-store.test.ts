import { test } from "node:test";
import assert from "node:assert/strict";
import { lstat, readFile, readdir, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImageStore } from "./image-store.ts";
import { sha256 } from "./fs-util.ts";
import { buildImage, tempDir, whiteoutImageSpecs, writeDockerSave, writeOciLayout } from "./test-fixtures.ts";

const isRoot = process.getuid?.() === 0;

/** Files of a store that an import must not change when it fails. */
async function snapshotStore(root: string): Promise<string> {
  const blobs = (await readdir(join(root, "blobs", "sha256"))).sort();
  const tmp = await readdir(join(root, "tmp")).catch(() => []);
  return JSON.stringify({ index: await readFile(join(root, "index.json"), "utf8"), blobs, tmp });
}

test("imports a docker save tarball (gzip and plain layers) and unpacks whiteouts and opaque dirs", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const img = await buildImage(whiteoutImageSpecs(), { gzip: [false, true] });
  const tarball = join(dir, "save.tar");
  await writeDockerSave(img, ["example.com/team/app:v1", "app:latest"], tarball);
  const store = new ImageStore(join(dir, "images"));

  const infos = await store.import(tarball);
  assert.deepEqual(infos.map((i) => i.ref).sort(), [
    "docker.io/library/app:latest",
    "example.com/team/app:v1",
  ]);
  const info = await store.get("app");
  assert.ok(info);
  assert.equal(info.id, sha256(img.config));
  assert.deepEqual(info.cmd, ["/bin/true"]);
  assert.deepEqual(info.env, ["PATH=/bin"]);
  assert.equal(info.workingDir, "/w");
  assert.equal(info.user, "1000");
  assert.equal(
    info.size,
    img.layers.reduce(
      (n, l) => n + l.length,
      img.config.length + (await lstat(store.blobPath(info.digest))).size,
    ),
  );
  // by id, id prefix and digest reference
  assert.equal((await store.get(info.id))?.digest, info.digest);
  assert.equal((await store.get(info.id.slice(7, 19)))?.digest, info.digest);
  assert.equal(
    (await store.get(`example.com/team/app@${info.digest}`))?.ref,
    `example.com/team/app@${info.digest}`,
  );
  assert.equal(await store.get("example.com/team/app:v2"), undefined);
  assert.equal((await store.list()).length, 2);
  // the layout is an OCI image layout with full names
  const index = JSON.parse(await readFile(join(store.root, "index.json"), "utf8")) as {
    manifests: { annotations: Record<string, string> }[];
  };
  assert.deepEqual(
    index.manifests.map((m) => m.annotations["org.opencontainers.image.ref.name"]),
    ["docker.io/library/app:latest", "example.com/team/app:v1"],
  );
  assert.deepEqual(JSON.parse(await readFile(join(store.root, "oci-layout"), "utf8")), {
    imageLayoutVersion: "1.0.0",
  });

  if (!isRoot) {
    await assert.rejects(store.layerDirs("app"), /opaque directories, which need root/);
    console.warn("SKIPPED: unpacking layers with opaque directories needs root");
    return;
  }
  const [l1, l2] = await store.layerDirs("example.com/team/app:v1");
  assert.ok(l1 && l2);
  assert.equal(await readFile(join(l1, "etc/a"), "utf8"), "a1");
  assert.equal(await readlink(join(l1, "lnk")), "/etc/b", "absolute symlink targets are kept");
  assert.equal(await readFile(join(l2, "opq/new"), "utf8"), "new");
  assert.equal(await readFile(join(l2, "added"), "utf8"), "2");
  await assert.rejects(lstat(join(l2, "etc/.wh.a")), /ENOENT/, "whiteout markers are not written as files");
  await assert.rejects(lstat(join(l2, "opq/.wh..wh..opq")), /ENOENT/);
  const wh = await lstat(join(l2, "etc/a"));
  assert.ok(wh.isCharacterDevice(), "whiteout is a character device");
  assert.equal(wh.rdev, 0);
});

test("imports an OCI layout tarball, also through a multi-platform index", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const img = await buildImage(whiteoutImageSpecs(), { gzip: [true, true] });
  const store = new ImageStore(join(dir, "images"));
  await writeOciLayout(img, "localhost:5000/oci/app:1", join(dir, "oci.tar"));
  await writeOciLayout(img, "docker.io/library/multi", join(dir, "multi.tar"), true);

  const [a] = await store.import(join(dir, "oci.tar"));
  assert.equal(a?.ref, "localhost:5000/oci/app:1");
  assert.equal(a?.digest, sha256(img.manifest));
  const [b] = await store.import(join(dir, "multi.tar"));
  assert.equal(b?.ref, "docker.io/library/multi:latest");
  assert.equal(b?.digest, sha256(img.manifest), "the platform manifest is stored, not the index");
  if (!isRoot) return console.warn("SKIPPED: unpacking layers with opaque directories needs root");
  const dirs = await store.layerDirs("multi");
  assert.equal(dirs.length, 2);
  assert.equal(await readFile(join(dirs[1]!, "opq/new"), "utf8"), "new");
});

test("corrupt or invalid tarballs are refused and leave the store unchanged", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const store = new ImageStore(join(dir, "images"));
  const good = await buildImage([{ f: "1" }]);
  await writeOciLayout(good, "docker.io/library/good:1", join(dir, "good.tar"));
  await store.import(join(dir, "good.tar"));
  const before = await snapshotStore(store.root);

  const img = await buildImage(whiteoutImageSpecs());
  // a layer whose bytes changed after the config was written
  const corrupt = Buffer.from(img.layers[1]!);
  corrupt[600] = corrupt[600]! ^ 0xff;
  const bad = { ...img, layers: [img.layers[0]!, corrupt] };
  await writeDockerSave(bad, ["bad:1"], join(dir, "bad-save.tar"));
  await assert.rejects(
    store.import(join(dir, "bad-save.tar")),
    /bad-save\.tar.*does not match diffID.*corrupt layer/,
  );
  // an OCI blob that does not match its digest
  await writeOciLayout(img, "docker.io/library/bad:2", join(dir, "bad-oci.tar"), false, {
    [sha256(img.layers[1]!)]: bad.layers[1]!,
  });
  await assert.rejects(
    store.import(join(dir, "bad-oci.tar")),
    /bad-oci\.tar: layer blob sha256:\w+: content digest is sha256:\w+ \(corrupt blob\)/,
  );
  // a blob of the wrong size
  await writeOciLayout(img, "docker.io/library/bad:3", join(dir, "short.tar"), false, {
    [sha256(img.config)]: img.config.subarray(1),
  });
  await assert.rejects(
    store.import(join(dir, "short.tar")),
    /config blob sha256:\w+: size \d+ does not match/,
  );
  // a truncated archive, garbage, a missing file
  const whole = await readFile(join(dir, "good.tar"));
  await writeFile(join(dir, "trunc.tar"), whole.subarray(0, 1000));
  await assert.rejects(store.import(join(dir, "trunc.tar")), /cannot import .*trunc\.tar/);
  await writeFile(join(dir, "junk.tar"), "this is not a tarball at all".repeat(40));
  await assert.rejects(store.import(join(dir, "junk.tar")), /cannot import .*junk\.tar/);
  await assert.rejects(store.import(join(dir, "absent.tar")), /cannot import .*absent\.tar: no such file/);
  // an OCI layout whose name is only a tag
  await writeOciLayout(good, "latest", join(dir, "tagonly.tar"));
  await assert.rejects(store.import(join(dir, "tagonly.tar")), /has no name/);

  assert.equal(await snapshotStore(store.root), before);
  assert.ok(await store.get("good:1"));
});

test("layers are unpacked once when callers race, across store instances", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  // a whiteout but no opaque directory: unpacking it needs no root
  const [base] = whiteoutImageSpecs();
  const img = await buildImage([base!, { "etc/.wh.a": "", "etc/c": "c2" }], { gzip: [true, false] });
  await writeOciLayout(img, "docker.io/library/race:1", join(dir, "race.tar"));
  const root = join(dir, "images");
  await new ImageStore(root).import(join(dir, "race.tar"));
  const stores = [new ImageStore(root), new ImageStore(root), new ImageStore(root)];
  const results = await Promise.all(stores.flatMap((s) => [s.layerDirs("race:1"), s.layerDirs("race:1")]));
  for (const r of results) assert.deepEqual(r, results[0]);
  assert.deepEqual(
    results[0],
    img.diffIds.map((d) => join(root, "layers", d.slice(7))),
  );
  // exactly one directory per layer, no temp leftovers, and complete content
  assert.deepEqual((await readdir(join(root, "layers"))).sort(), img.diffIds.map((d) => d.slice(7)).sort());
  assert.equal(await readFile(join(results[0]![0]!, "etc/b"), "utf8"), "b1");
  // a later call finds them unpacked: same inode (not re-extracted)
  const ino = (await lstat(results[0]![0]!)).ino;
  await new ImageStore(root).layerDirs("race:1");
  assert.equal((await lstat(results[0]![0]!)).ino, ino);
});

test("remove untags, and deletes blobs only when no image uses them", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const img = await buildImage([{ a: "1" }, { ".wh.a": "", b: "2" }]);
  await writeDockerSave(img, ["one:1", "two:2"], join(dir, "s.tar"));
  const store = new ImageStore(join(dir, "images"));
  const [info] = await store.import(join(dir, "s.tar"));
  assert.ok(info);
  const blobCount = (await readdir(join(store.root, "blobs", "sha256"))).length;
  assert.equal(blobCount, 4, "manifest, config, two layers");

  assert.equal(await store.remove("one:1"), true);
  assert.equal(await store.get("one:1"), undefined);
  assert.ok(await store.get("two:2"));
  assert.equal((await readdir(join(store.root, "blobs", "sha256"))).length, 4, "still used by two:2");
  assert.equal(await store.remove("one:1"), false);

  assert.equal(await store.remove("docker.io/library/two:2"), true);
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(await readdir(join(store.root, "blobs", "sha256")), []);

  // remove by id drops every name of the image
  await store.import(join(dir, "s.tar"));
  assert.equal(await store.remove(info.id), true);
  assert.deepEqual(await store.list(), []);

  // remove by digest reference drops that repository's names of the image
  await store.import(join(dir, "s.tar"));
  assert.equal(await store.remove(`docker.io/library/one@${info.digest}`), true);
  assert.deepEqual(
    (await store.list()).map((i) => i.ref),
    ["docker.io/library/two:2"],
  );

  // unpacked layers stay until pruned, and only unused ones go
  assert.equal((await store.layerDirs("two:2")).length, 2);
  assert.equal(await store.pruneLayers(), 0);
  assert.equal(await store.remove("two:2"), true);
  assert.equal(await store.pruneLayers(), 2);
  assert.deepEqual(await readdir(join(store.root, "layers")), []);
});
