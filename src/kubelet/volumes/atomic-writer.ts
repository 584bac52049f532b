/**
 * @module Upstream's AtomicWriter for configMap, secret, downwardAPI and projected volumes:
 * the payload is written into a fresh hidden `..<timestamp>` directory, a `..data` symlink is
 * swapped to it with one rename, and each visible top-level name is a symlink through
 * `..data`. A reader inside the container sees either the old or the new set of files, never
 * a mix. Writing an unchanged payload does nothing.
 */
import { randomBytes } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
} from "node:fs";
import { dirname, join } from "node:path";

/** One file of a payload: its bytes and permission bits. */
export interface FileProjection {
  data: Buffer;
  mode: number;
}

const DATA_DIR = "..data";
const DATA_TMP = "..data_tmp";

function tsDirName(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, "0");
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${randomBytes(5).toString("hex")}`;
}

/** Rejects absolute paths and `..` components (validation already forbids them; belt and braces). */
function checkPath(p: string): void {
  if (p === "" || p.startsWith("/") || p.split("/").some((c) => c === ".." || c === "")) {
    throw new Error(`invalid path in volume payload: ${JSON.stringify(p)}`);
  }
  if (p.startsWith(".."))
    throw new Error(`invalid path in volume payload: ${JSON.stringify(p)} (must not start with "..")`);
}

function sameAsCurrent(dir: string, payload: ReadonlyMap<string, FileProjection>): boolean {
  const data = join(dir, DATA_DIR);
  if (!existsSync(data)) return false;
  const current = new Set<string>();
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(data, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else current.add(r);
    }
  };
  try {
    walk("");
  } catch {
    return false;
  }
  if (current.size !== payload.size) return false;
  for (const [p, f] of payload) {
    if (!current.has(p)) return false;
    const full = join(data, p);
    if ((statSync(full).mode & 0o7777) !== f.mode) return false;
    if (!readFileSync(full).equals(f.data)) return false;
  }
  return true;
}

/**
 * Makes `dir` hold exactly `payload`. Returns true when something changed.
 */
export function writeAtomic(dir: string, payload: ReadonlyMap<string, FileProjection>): boolean {
  for (const p of payload.keys()) checkPath(p);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (sameAsCurrent(dir, payload)) return false;
  const oldTarget = existsSync(join(dir, DATA_DIR)) ? readlinkSync(join(dir, DATA_DIR)) : undefined;
  const ts = tsDirName();
  const tsPath = join(dir, ts);
  mkdirSync(tsPath, { mode: 0o755 });
  for (const [p, f] of payload) {
    const full = join(tsPath, p);
    mkdirSync(dirname(full), { recursive: true, mode: 0o755 });
    writeFileSync(full, f.data, { mode: f.mode });
    chmodSync(full, f.mode);
  }
  const tmp = join(dir, DATA_TMP);
  rmSync(tmp, { force: true });
  symlinkSync(ts, tmp);
  renameSync(tmp, join(dir, DATA_DIR));
  // Visible names: one symlink per top-level component.
  const top = new Set<string>();
  for (const p of payload.keys()) top.add(p.split("/")[0]!);
  for (const name of top) {
    const link = join(dir, name);
    let ok = false;
    try {
      ok = lstatSync(link).isSymbolicLink() && readlinkSync(link) === join(DATA_DIR, name);
    } catch {
      ok = false;
    }
    if (!ok) {
      rmSync(link, { recursive: true, force: true });
      symlinkSync(join(DATA_DIR, name), link);
    }
  }
  for (const e of readdirSync(dir)) {
    if (e.startsWith("..")) continue;
    if (!top.has(e)) rmSync(join(dir, e), { recursive: true, force: true });
  }
  if (oldTarget && oldTarget !== ts) rmSync(join(dir, oldTarget), { recursive: true, force: true });
  return true;
}
