import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { ContainerStatus } from "../runtime/types.ts";
import { rotateAllLogs, rotateContainerLog, rotationTimestamp } from "./log-rotation.ts";

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kites-logrot-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("rotationTimestamp uses upstream's 20060102-150405 layout in UTC", () => {
  assert.equal(rotationTimestamp(new Date("2026-03-04T05:06:07.890Z")), "20260304-050607");
});

test("a log under maxSize is left alone", async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, "0.log");
  await writeFile(log, "small\n");
  let reopened = 0;
  const r = await rotateContainerLog(log, { maxSize: 100, maxFiles: 5, reopen: async () => void reopened++ });
  assert.equal(r, undefined);
  assert.equal(reopened, 0);
  assert.deepEqual(await readdir(dir), ["0.log"]);
});

test("rotation renames, reopens, compresses older files and keeps maxFiles", async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, "0.log");
  const big = "x".repeat(200) + "\n";
  let reopened = 0;
  const reopen = async () => {
    reopened++;
    await writeFile(log, ""); // what conmon does on reopen
  };
  const rotated: string[] = [];
  for (let i = 0; i < 6; i++) {
    await writeFile(log, `${i}${big}`);
    const r = await rotateContainerLog(log, {
      maxSize: 100,
      maxFiles: 4,
      reopen,
      now: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    });
    assert.ok(r);
    rotated.push(r);
  }
  assert.equal(reopened, 6);
  const names = (await readdir(dir)).sort();
  // maxFiles 4 = the current file + 3 rotated ones; as upstream, compression runs before each
  // rotation on all but the then-newest rotated file, so the two newest stay uncompressed.
  assert.deepEqual(names, [
    "0.log",
    "0.log.20260101-000003.gz",
    "0.log.20260101-000004",
    "0.log.20260101-000005",
  ]);
  assert.equal(gunzipSync(await readFile(join(dir, "0.log.20260101-000003.gz"))).toString(), `3${big}`);
  assert.equal(await readFile(join(dir, "0.log.20260101-000005"), "utf8"), `5${big}`);
  assert.equal(await readFile(log, "utf8"), "");
});

test("a failed reopen undoes the rename", async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, "0.log");
  await writeFile(log, "y".repeat(500));
  await assert.rejects(
    rotateContainerLog(log, {
      maxSize: 100,
      maxFiles: 5,
      reopen: async () => {
        throw new Error("no conmon");
      },
    }),
    /no conmon/,
  );
  assert.deepEqual(await readdir(dir), ["0.log"]);
  assert.equal((await readFile(log, "utf8")).length, 500);
});

test("rotateAllLogs rotates only running containers and reports failures per container", async (t) => {
  const dir = await tempDir(t);
  const mk = (id: string, state: ContainerStatus["state"]): ContainerStatus => ({
    id,
    name: id,
    podUid: "u",
    attempt: 0,
    state,
    createdAt: new Date().toISOString(),
    imageRef: "busybox",
    imageId: "sha256:0",
    logPath: join(dir, `${id}.log`),
    labels: {},
  });
  const cs = [mk("a", "running"), mk("b", "exited"), mk("c", "running")];
  for (const c of cs) await writeFile(c.logPath, "z".repeat(300));
  const reopened: string[] = [];
  const errors: string[] = [];
  const n = await rotateAllLogs({
    runtime: {
      reopenContainerLog: async (id: string) => {
        if (id === "c") throw new Error("gone");
        reopened.push(id);
      },
    },
    listContainers: async () => cs,
    maxSize: 100,
    maxFiles: 5,
    onError: (id) => errors.push(id),
  });
  assert.equal(n, 1);
  assert.deepEqual(reopened, ["a"]);
  assert.deepEqual(errors, ["c"]);
  const names = await readdir(dir);
  assert.ok(names.some((x) => x.startsWith("a.log.")));
  assert.ok(names.includes("b.log") && names.includes("c.log"));
  assert.ok(!names.some((x) => x.startsWith("b.log.") || x.startsWith("c.log.")));
});
