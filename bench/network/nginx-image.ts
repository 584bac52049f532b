/**
 * @module bench/network part: builds a tiny OCI image, `kites.local/bench/nginx:host`, from
 * the host's Debian nginx (the binary and the shared libraries `ldd` lists, loader included)
 * and a minimal nginx.conf: one worker in the foreground (`daemon off;`) on port 8080, HTTP
 * keep-alive, a small static `index.html`, no access log, errors to stderr. It is put in a
 * node's image store the same way the built-in busybox image is (src/runtime/images), so the
 * pod runs with no registry and no network.
 */
import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { promisify } from "node:util";
import type { ImageInfo } from "../../src/runtime/types.ts";
import type { ImageStore } from "../../src/runtime/images/image-store.ts";
import {
  ensureBuiltImage,
  singleLayerImage,
  type BuiltImage,
} from "../../src/runtime/images/single-layer-image.ts";
import type { TarEntry } from "../../src/runtime/images/tar-writer.ts";

const execFileP = promisify(execFile);

/** The image's reference. */
export const NGINX_BENCH_REF = "kites.local/bench/nginx:host";
/** The port nginx listens on in the pod. */
export const NGINX_BENCH_PORT = 8080;
const NGINX = "/usr/sbin/nginx";

const NGINX_CONF = `user root;
worker_processes 1;
daemon off;
pid /tmp/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nodelay on;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  client_body_temp_path /tmp/body;
  proxy_temp_path /tmp/proxy;
  fastcgi_temp_path /tmp/fastcgi;
  uwsgi_temp_path /tmp/uwsgi;
  scgi_temp_path /tmp/scgi;
  server {
    listen ${NGINX_BENCH_PORT} default_server;
    root /www;
    location / { default_type text/plain; }
  }
}
`;

/** The absolute paths of the shared objects `ldd bin` lists (the loader included). */
async function sharedLibraries(bin: string): Promise<string[]> {
  const { stdout } = await execFileP("ldd", [bin]);
  const libs = new Set<string>();
  for (const line of stdout.split("\n")) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.add(m[1]);
  }
  return [...libs].sort();
}

/** The layer, config and manifest of the nginx image built from the host's nginx. */
export async function buildNginxImage(): Promise<BuiltImage> {
  const st = await stat(NGINX).catch(() => undefined);
  if (!st?.isFile()) throw new Error(`${NGINX} not found: install Debian's nginx`);
  const mtime = Math.floor(st.mtimeMs / 1000);
  const files = new Map<string, { data: Buffer; mode: number }>();
  files.set(NGINX.slice(1), { data: await readFile(NGINX), mode: 0o755 });
  for (const lib of await sharedLibraries(NGINX)) {
    files.set(lib.slice(1), { data: await readFile(lib), mode: 0o755 });
  }
  files.set("etc/nginx/nginx.conf", { data: Buffer.from(NGINX_CONF), mode: 0o644 });
  files.set("etc/passwd", { data: Buffer.from("root:x:0:0:root:/root:/bin/false\n"), mode: 0o644 });
  files.set("etc/group", { data: Buffer.from("root:x:0:\n"), mode: 0o644 });
  files.set("www/index.html", { data: Buffer.from("hello from nginx\n"), mode: 0o644 });
  const dirs = new Set(["dev", "proc", "sys", "tmp", "var/lib/nginx", "var/log/nginx", "run"]);
  for (const path of [...files.keys(), ...dirs]) {
    for (let d = dirname(path); d !== "." && d !== "/"; d = dirname(d)) dirs.add(d);
  }
  const entries: TarEntry[] = [
    ...[...dirs].sort().map((path): TarEntry => ({
      path,
      type: "dir",
      mode: path === "tmp" ? 0o1777 : 0o755,
      mtime,
    })),
    ...[...files.keys()].sort().map((path): TarEntry => {
      const f = files.get(path)!;
      return { path, type: "file", mode: f.mode, mtime, data: f.data };
    }),
  ];
  return singleLayerImage(
    entries,
    mtime,
    {
      Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
      Cmd: [NGINX, "-e", "stderr", "-c", "/etc/nginx/nginx.conf"],
      ExposedPorts: { [`${NGINX_BENCH_PORT}/tcp`]: {} },
    },
    `kites bench: host ${NGINX} and ${files.size - 5} libraries`,
  );
}

/** Returns the nginx bench image from `store`, building and adding it first when missing. */
export function ensureNginxImage(store: ImageStore): Promise<ImageInfo> {
  return ensureBuiltImage(store, NGINX_BENCH_REF, buildNginxImage);
}
