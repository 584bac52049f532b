/**
 * @module Builds the node's base image, `docker.io/library/busybox:latest`, from Debian's
 * statically linked busybox (package `busybox-static`), so pods can run with no registry and
 * no network. One uncompressed layer: `/bin/busybox`, a symlink per applet, `/etc/passwd` and
 * `/etc/group` (root, nobody), the usual empty directories. Byte-for-byte deterministic: the
 * same busybox binary gives the same image digest every time.
 */
import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { promisify } from "node:util";
import type { ImageInfo } from "../types.ts";
import type { ImageStore } from "./image-store.ts";
import { ensureBuiltImage, singleLayerImage, type BuiltImage } from "./single-layer-image.ts";
import type { TarEntry } from "./tar-writer.ts";

const execFileP = promisify(execFile);

/** The reference of the built-in base image. */
export const BUSYBOX_REF = "docker.io/library/busybox:latest";
const BUSYBOX_PATHS = ["/bin/busybox", "/usr/bin/busybox"];
const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

async function findBusybox(): Promise<string> {
  for (const p of BUSYBOX_PATHS) {
    if ((await stat(p).catch(() => undefined))?.isFile()) return p;
  }
  throw new Error(`busybox not found at ${BUSYBOX_PATHS.join(" or ")}: install Debian's busybox-static`);
}

/** The layer, config and manifest of the busybox image, built from the binary at `bin`. */
export async function buildBusyboxImage(bin: string): Promise<BuiltImage> {
  const [data, st, list] = await Promise.all([readFile(bin), stat(bin), execFileP(bin, ["--list"])]);
  const applets = [...new Set(list.stdout.split("\n").map((s) => s.trim()))]
    .filter((a) => a !== "" && a !== "busybox" && !a.includes("/"))
    .sort();
  const mtime = Math.floor(st.mtimeMs / 1000);
  const dir = (path: string, mode = 0o755): TarEntry => ({ path, type: "dir", mode, mtime });
  const file = (path: string, body: Buffer, mode = 0o644): TarEntry => ({
    path,
    type: "file",
    mode,
    mtime,
    data: body,
  });
  const entries: TarEntry[] = [
    dir("bin"),
    file("bin/busybox", data, 0o755),
    ...applets.map((a): TarEntry => ({
      path: `bin/${a}`,
      type: "symlink",
      mode: 0o777,
      mtime,
      linkname: "busybox",
    })),
    dir("dev"),
    dir("etc"),
    file("etc/group", Buffer.from("root:x:0:\nnobody:x:65534:\n")),
    file(
      "etc/passwd",
      Buffer.from("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"),
    ),
    dir("home"),
    dir("proc"),
    dir("root", 0o700),
    dir("sys"),
    dir("tmp", 0o1777),
    dir("usr"),
    dir("var"),
  ];
  return singleLayerImage(
    entries,
    mtime,
    { Env: [PATH_ENV], Cmd: ["sh"] },
    `kites: ${bin} with ${applets.length} applet links`,
  );
}

/**
 * Returns `docker.io/library/busybox:latest` from `store`, building it from the machine's
 * busybox first when the store does not have it.
 */
export function ensureBusyboxImage(store: ImageStore): Promise<ImageInfo> {
  return ensureBuiltImage(store, BUSYBOX_REF, async () => buildBusyboxImage(await findBusybox()));
}
