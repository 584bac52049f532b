/**
 * @module Unpacks one image layer (a tar, plain or gzip) into a directory that overlayfs can
 * use as a lower layer, and checks its diffID (sha256 of the uncompressed tar).
 *
 * The layer stream is read once: node-tar's parser lists the members (to find OCI whiteouts),
 * a hash computes the diffID, and GNU tar (Debian's, always present) writes the files. GNU
 * tar is used for the writing because container layers need what node-tar's extractor does
 * not do: absolute symlink targets kept as they are, device nodes, ownership and file
 * capabilities (xattrs). Its defaults keep members inside the target: leading `/` stripped,
 * `..` members refused, and symlinks that point outside created only after all other
 * members, so no member is ever written through one.
 *
 * Whiteouts become overlayfs's own form afterwards: `.wh.NAME` → a character device 0/0 named
 * NAME, `.wh..wh..opq` → the xattr `trusted.overlay.opaque=y` on its directory. Those are
 * written by a second, tiny GNU tar run from an archive we build, after checking that every
 * parent directory on the way is a real directory (never a symlink).
 *
 * Everything happens in a temp directory renamed into place at the end, so a layer directory
 * either does not exist or is complete.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { Parser, type ReadEntry } from "tar";
import { tempSuffix } from "./fs-util.ts";
import { writeTar, type TarEntry } from "./tar-writer.ts";

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_MARKER = ".wh..wh..opq";

/** Whiteouts found in a layer, as relative path components. */
interface Whiteouts {
  /** Paths hidden by this layer (`.wh.NAME` → [...dir, NAME]). */
  removed: string[][];
  /** Directories whose lower contents this layer hides. */
  opaque: string[][];
}

const isRoot = process.getuid?.() === 0;

/** Splits a tar member path into clean components; undefined when it would escape. */
function memberParts(p: string): string[] | undefined {
  const parts = p.split("/").filter((c) => c !== "" && c !== ".");
  return parts.includes("..") ? undefined : parts;
}

/**
 * Runs GNU tar extracting stdin into `dir`; resolves when it exits 0 (and, with `strict`,
 * printed nothing: GNU tar only warns, exit 0, when it cannot set an xattr).
 */
function runTar(
  dir: string,
  extra: string[],
  strict = false,
): { stdin: NodeJS.WritableStream & Writable; done: Promise<void> } {
  const args = [
    "-x",
    "-f",
    "-",
    "-C",
    dir,
    "--numeric-owner",
    isRoot ? "--same-owner" : "--no-same-owner",
    "--same-permissions",
    "--xattrs",
    "--warning=no-timestamp",
    "--warning=no-unknown-keyword",
    ...extra,
  ];
  const child = spawn("tar", args, { stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  child.stdin.on("error", () => {
    /* EPIPE when tar exits early: reported through the exit code */
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on("error", (e) => reject(new Error(`cannot run tar: ${e.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0 && !(strict && stderr.trim())) resolve();
      else reject(new Error(`tar failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
  return { stdin: child.stdin, done };
}

/** Makes sure `parts` under `root` is a real directory, creating missing ones; never follows a symlink. */
async function ensureRealDir(root: string, parts: string[]): Promise<string> {
  let cur = root;
  for (const p of parts) {
    cur = join(cur, p);
    try {
      const st = await lstat(cur);
      if (!st.isDirectory())
        throw new Error(`layer path "${parts.join("/")}" goes through "${p}", which is not a directory`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      await mkdir(cur, { mode: 0o755 });
    }
  }
  return cur;
}

/** Reads the first bytes of a file to tell its compression. */
async function compressionOf(path: string): Promise<"gzip" | "zstd" | "none"> {
  const fh = await open(path, "r");
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    if (bytesRead >= 2 && b[0] === 0x1f && b[1] === 0x8b) return "gzip";
    if (bytesRead === 4 && b.readUInt32LE(0) === 0xfd2fb528) return "zstd";
    return "none";
  } finally {
    await fh.close();
  }
}

/** Streams the layer into GNU tar, hashing it and collecting whiteouts on the way. */
async function extract(blobPath: string, dir: string): Promise<{ diffId: string; wh: Whiteouts }> {
  const compression = await compressionOf(blobPath);
  if (compression === "zstd")
    throw new Error("zstd-compressed layers are not supported (gzip or plain tar only)");
  const wh: Whiteouts = { removed: [], opaque: [] };
  const parser = new Parser({
    onReadEntry: (entry: ReadEntry) => {
      const parts = memberParts(entry.path);
      const base = parts?.[parts.length - 1];
      if (parts && base?.startsWith(WHITEOUT_PREFIX)) {
        if (base === OPAQUE_MARKER) wh.opaque.push(parts.slice(0, -1));
        else {
          const name = base.slice(WHITEOUT_PREFIX.length);
          if (name !== "" && name !== "." && name !== "..") wh.removed.push([...parts.slice(0, -1), name]);
        }
      }
      entry.resume();
    },
  });
  parser.on("warn", () => {
    /* malformed archives are reported by GNU tar */
  });
  const tar = runTar(dir, [
    "--xattrs-include=security.capability",
    "--xattrs-include=user.*",
    // whiteout markers are turned into overlayfs whiteouts below, never written as files
    `--exclude=${WHITEOUT_PREFIX}*`,
  ]);
  const hash = createHash("sha256");
  let tarOpen = true;
  tar.stdin.on("close", () => (tarOpen = false));
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      parser.write(chunk);
      // Keep hashing to the end even if tar stopped reading after its end-of-archive blocks.
      if (!tarOpen || tar.stdin.write(chunk)) return cb();
      const go = (): void => {
        tar.stdin.off("drain", go);
        tar.stdin.off("close", go);
        cb();
      };
      tar.stdin.on("drain", go);
      tar.stdin.on("close", go);
    },
    final(cb) {
      parser.end();
      tar.stdin.end();
      cb();
    },
  });
  const source = createReadStream(blobPath);
  const piped = compression === "gzip" ? pipeline(source, createGunzip(), sink) : pipeline(source, sink);
  const [p, t] = await Promise.allSettled([piped, tar.done]);
  if (p.status === "rejected") throw new Error(`reading layer: ${(p.reason as Error).message}`);
  if (t.status === "rejected") throw t.reason as Error;
  return { diffId: `sha256:${hash.digest("hex")}`, wh };
}

/** Writes the overlayfs forms of the layer's whiteouts into `dir`. */
async function applyWhiteouts(dir: string, wh: Whiteouts): Promise<void> {
  if (wh.removed.length === 0 && wh.opaque.length === 0) return;
  if (wh.opaque.length > 0 && !isRoot) {
    throw new Error(
      "the layer has opaque directories, which need root to unpack (xattr trusted.overlay.opaque)",
    );
  }
  const entries: TarEntry[] = [];
  for (const parts of wh.opaque) {
    const abs = await ensureRealDir(dir, parts);
    if (parts.length === 0) continue; // an opaque layer root means nothing to overlayfs
    const st = await lstat(abs);
    entries.push({
      path: parts.join("/"),
      type: "dir",
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: Math.floor(st.mtimeMs / 1000),
      xattrs: { "trusted.overlay.opaque": "y" },
    });
  }
  for (const parts of wh.removed) {
    const parent = await ensureRealDir(dir, parts.slice(0, -1));
    await rm(join(parent, parts[parts.length - 1]!), { recursive: true, force: true });
    entries.push({ path: parts.join("/"), type: "chardev", mode: 0, devmajor: 0, devminor: 0 });
  }
  if (entries.length === 0) return;
  const tar = runTar(dir, ["--xattrs-include=trusted.overlay.opaque"], true);
  tar.stdin.end(writeTar(entries));
  await tar.done;
}

/**
 * Unpacks the layer blob at `blobPath` into `dest` (which must not exist yet), checking that
 * its uncompressed sha256 is `diffId`. Another unpacker winning the race to `dest` is fine.
 */
export async function unpackLayer(blobPath: string, diffId: string, dest: string): Promise<void> {
  const tmp = `${dest}.tmp-${tempSuffix()}`;
  await mkdir(tmp, { mode: 0o755 });
  try {
    const { diffId: got, wh } = await extract(blobPath, tmp);
    if (got !== diffId)
      throw new Error(`content digest ${got} does not match the diffID in the image config`);
    await applyWhiteouts(tmp, wh);
    try {
      await rename(tmp, dest);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
      await rm(tmp, { recursive: true, force: true }); // someone else unpacked it first
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`unpacking layer ${diffId}: ${(e as Error).message}`);
  }
}
