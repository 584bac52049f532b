import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatastoreOpenError, openSqlite } from "./sqlite-backend.ts";

const fixture = join(import.meta.dirname, "testdata", "crash-writer.ts");

test("every acknowledged write survives SIGKILL of the writing process", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kites-crash-"));
  try {
    const db = join(dir, "state.db");
    const child = spawn(process.execPath, ["--import", "tsx", fixture, db], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const acked: string[] = [];
    let buf = "";
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_c, sig) => resolve(sig)),
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("writer produced too few acks")), 30_000);
      child.stdout.on("data", (chunk: Buffer) => {
        buf += chunk.toString();
        const lines = buf.split("\n");
        buf = lines.pop()!;
        acked.push(...lines);
        if (acked.length >= 3000 && !child.killed) {
          child.kill("SIGKILL");
          clearTimeout(timer);
          resolve();
        }
      });
    });
    assert.equal(await exited, "SIGKILL");
    const b = openSqlite(db);
    try {
      const missing = [];
      for (const key of acked) if (!(await b.get(key))) missing.push(key);
      assert.deepEqual(missing, [], "acknowledged writes missing after the crash");
      assert.ok((await b.count("/crash/")) >= acked.length);
    } finally {
      await b.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a corrupt database file is reported with its name and never overwritten", () => {
  const dir = mkdtempSync(join(tmpdir(), "kites-corrupt-"));
  try {
    const db = join(dir, "state.db");
    const garbage = Buffer.from("this is not a database, but it is someone's file\n".repeat(200));
    writeFileSync(db, garbage);
    assert.throws(
      () => openSqlite(db),
      (e: unknown) => {
        assert.ok(e instanceof DatastoreOpenError);
        assert.match(e.message, new RegExp(db.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")));
        assert.match(e.message, /not a database/);
        assert.match(e.message, /left untouched/);
        return true;
      },
    );
    assert.deepEqual(readFileSync(db), garbage, "the file is byte-for-byte unchanged");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a database with damaged pages fails the integrity check with a clear error", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kites-damaged-"));
  try {
    const db = join(dir, "state.db");
    const b = openSqlite(db);
    await Promise.all(Array.from({ length: 2000 }, (_, i) => b.create(`/k/${i}`, "x".repeat(200))));
    await b.close();
    const bytes = readFileSync(db);
    // Scribble over a page in the middle of the file (not the header).
    const page = 4096 * Math.floor(bytes.length / 4096 / 2);
    bytes.fill(0xa5, page, page + 4096);
    writeFileSync(db, bytes);
    const before = readFileSync(db);
    assert.throws(
      () => openSqlite(db),
      (e: unknown) => e instanceof DatastoreOpenError && e.message.includes(db),
    );
    assert.deepEqual(readFileSync(db), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a second process cannot open a database that a server holds", () => {
  const dir = mkdtempSync(join(tmpdir(), "kites-lock-"));
  const db = join(dir, "state.db");
  const b = openSqlite(db);
  try {
    assert.throws(
      () => openSqlite(db),
      (e: unknown) => e instanceof DatastoreOpenError && /in use/.test(e.message),
    );
  } finally {
    void b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
