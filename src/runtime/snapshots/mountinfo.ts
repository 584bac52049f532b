/**
 * @module Reads `/proc/self/mountinfo`: which paths are mount points, and with what
 * filesystem. The snapshotter uses it to make prepare idempotent and remove thorough; tests
 * use it to check nothing is left mounted.
 */
import { readFile } from "node:fs/promises";

/** One mount as the kernel reports it. */
export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  superOptions: string;
}

/** Undoes the kernel's octal escapes (`\040` for a space, …). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses mountinfo text. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const f = line.split(" ");
    const sep = f.indexOf("-", 6);
    if (sep < 0 || f.length < sep + 4) continue;
    out.push({
      mountPoint: unescape(f[4]!),
      fsType: f[sep + 1]!,
      source: unescape(f[sep + 2]!),
      superOptions: f[sep + 3]!,
    });
  }
  return out;
}

/** The mounts of this process's mount namespace. */
export async function readMounts(): Promise<MountEntry[]> {
  return parseMountInfo(await readFile("/proc/self/mountinfo", "utf8"));
}

/** How many mounts are stacked on `path` (0 when it is not a mount point). */
export async function mountCount(path: string): Promise<number> {
  let n = 0;
  for (const m of await readMounts()) if (m.mountPoint === path) n++;
  return n;
}
