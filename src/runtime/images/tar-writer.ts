/**
 * @module A small deterministic tar writer (ustar headers, pax records for long names and
 * xattrs). The store uses it where node-tar cannot help: to build layers byte-for-byte
 * reproducibly (the busybox image) and to write overlayfs whiteouts (character devices 0/0)
 * and opaque-directory xattrs into unpacked layers.
 */

/** One archive member. Times are whole seconds since the epoch. */
export interface TarEntry {
  path: string;
  type: "file" | "dir" | "symlink" | "chardev";
  mode: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  /** File contents (type "file"). */
  data?: Buffer;
  /** Symlink target (type "symlink"). */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written as `SCHILY.xattr.<name>` pax records. */
  xattrs?: Record<string, string>;
}

const BLOCK = 512;
const TYPEFLAG: Record<TarEntry["type"], string> = { file: "0", dir: "5", symlink: "2", chardev: "3" };

function octal(buf: Buffer, off: number, width: number, value: number): void {
  const s = value.toString(8).padStart(width - 1, "0");
  if (s.length > width - 1) throw new Error(`tar: value ${value} does not fit a ${width}-byte field`);
  buf.write(s, off, width - 1, "ascii");
  buf[off + width - 1] = 0;
}

function header(
  name: string,
  typeflag: string,
  e: Partial<TarEntry>,
  size: number,
  linkname: string,
): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  octal(h, 100, 8, (e.mode ?? 0o644) & 0o7777);
  octal(h, 108, 8, e.uid ?? 0);
  octal(h, 116, 8, e.gid ?? 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, e.mtime ?? 0);
  h.write(typeflag, 156, 1, "ascii");
  h.write(linkname, 157, 100, "utf8");
  h.write("ustar\0", 257, 6, "ascii");
  h.write("00", 263, 2, "ascii");
  octal(h, 329, 8, e.devmajor ?? 0);
  octal(h, 337, 8, e.devminor ?? 0);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  octal(h, 148, 7, sum);
  h[155] = 0x20;
  return h;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len)
    len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function padded(data: Buffer): Buffer[] {
  const rem = data.length % BLOCK;
  return rem === 0 ? [data] : [data, Buffer.alloc(BLOCK - rem)];
}

/** Writes `entries` in order as one complete tar archive (with the two end blocks). */
export function writeTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const path = e.type === "dir" && !e.path.endsWith("/") ? `${e.path}/` : e.path;
    const linkname = e.linkname ?? "";
    let pax = "";
    if (Buffer.byteLength(path) > 100) pax += paxRecord("path", path);
    if (Buffer.byteLength(linkname) > 100) pax += paxRecord("linkpath", linkname);
    for (const [k, v] of Object.entries(e.xattrs ?? {})) pax += paxRecord(`SCHILY.xattr.${k}`, v);
    if (pax) {
      const body = Buffer.from(pax, "utf8");
      parts.push(
        header("PaxHeaders/entry", "x", { mode: 0o644, mtime: e.mtime ?? 0 }, body.length, ""),
        ...padded(body),
      );
    }
    const data = e.type === "file" ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(header(path.slice(0, 100), TYPEFLAG[e.type], e, data.length, linkname.slice(0, 100)));
    if (data.length) parts.push(...padded(data));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
