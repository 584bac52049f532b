import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256 } from "../runtime/images/fs-util.ts";
import { buildImage, tempDir, writeDockerSave } from "../runtime/images/test-fixtures.ts";
import { humanSize, imageTable } from "./image.ts";

const IMAGE_TS = fileURLToPath(new URL("./image.ts", import.meta.url));

/** Runs `kites image ARGS` in a child process. */
function kitesImage(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const script = `import { imageCommand } from ${JSON.stringify(IMAGE_TS)}; await imageCommand(JSON.parse(process.argv[1]));`;
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", script, JSON.stringify(args)],
    {
      encoding: "utf8",
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("humanSize and the ls table follow crictl's format", () => {
  assert.equal(humanSize(512), "512B");
  assert.equal(humanSize(2_129_180), "2.13MB");
  assert.equal(humanSize(10_500), "10.5kB");
  assert.equal(humanSize(100_000_000), "100MB");
  const id = `sha256:${"ab".repeat(32)}`;
  const table = imageTable([
    {
      ref: "docker.io/library/busybox:latest",
      digest: id,
      id,
      size: 2_129_180,
      entrypoint: [],
      cmd: [],
      env: [],
      workingDir: "",
      user: "",
    },
  ]);
  const [head, row] = table.split("\n");
  assert.match(head!, /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/);
  assert.deepEqual(row!.split(/\s{2,}/), ["docker.io/library/busybox", "latest", "ababababababa", "2.13MB"]);
  assert.equal(head!.indexOf("TAG"), row!.indexOf("latest"));
});

test("kites image import, ls, inspect and rm", async (t) => {
  const { dir, cleanup } = await tempDir("kites-cli-");
  t.after(cleanup);
  const img = await buildImage([{ "bin/app": "x" }], { cmd: ["/bin/app", "serve"] });
  await writeDockerSave(img, ["example.com/app:2"], join(dir, "app.tar"));
  const dd = ["--data-dir", join(dir, "data")];

  const imp = kitesImage(["import", join(dir, "app.tar"), ...dd]);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, /^Imported example\.com\/app:2 \(sha256:[0-9a-f]{12}\)$/m);

  const ls = kitesImage([`--data-dir=${join(dir, "data")}`, "ls"]);
  assert.equal(ls.code, 0, ls.stderr);
  const rows = ls.stdout.trim().split("\n");
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[1]!.split(/\s{2,}/).slice(0, 3), [
    "example.com/app",
    "2",
    sha256(img.config).slice(7, 20),
  ]);

  const ins = kitesImage(["inspect", "example.com/app:2", ...dd]);
  assert.equal(ins.code, 0, ins.stderr);
  const doc = JSON.parse(ins.stdout) as {
    ref: string;
    id: string;
    cmd: string[];
    config: { rootfs: { diff_ids: string[] } };
  };
  assert.equal(doc.ref, "example.com/app:2");
  assert.equal(doc.id, sha256(img.config));
  assert.deepEqual(doc.cmd, ["/bin/app", "serve"]);
  assert.deepEqual(doc.config.rootfs.diff_ids, img.diffIds);

  const rm = kitesImage(["rm", "example.com/app:2", "nosuch", ...dd]);
  assert.equal(rm.code, 1);
  assert.match(rm.stdout, /^Deleted: example\.com\/app:2$/m);
  assert.match(rm.stderr, /no such image: nosuch/);
  assert.equal(
    kitesImage(["ls", ...dd])
      .stdout.trim()
      .split("\n").length,
    1,
  );
});

test("kites image reports errors on stderr with exit code 1", async (t) => {
  const { dir, cleanup } = await tempDir("kites-cli-");
  t.after(cleanup);
  await writeFile(join(dir, "junk.tar"), "junk");
  const dd = ["--data-dir", join(dir, "data")];
  const cases: [string[], RegExp][] = [
    [["import", join(dir, "junk.tar"), ...dd], /kites image import: cannot import .*junk\.tar/],
    [["inspect", "nosuch", ...dd], /no such image: nosuch/],
    [["inspect", "Bad", ...dd], /must be lowercase/],
    [["frobnicate", ...dd], /unknown subcommand "frobnicate"/],
    [["ls", "--nope"], /unknown flag --nope/],
  ];
  for (const [args, re] of cases) {
    const r = kitesImage(args);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stderr, re);
  }
});
