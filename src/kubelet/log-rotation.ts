/**
 * @module Container log rotation, as upstream kubelet's container log manager: every 10 s each
 * running container's current CRI log is checked; once it is larger than
 * `containerLogMaxSize` (default 10Mi) it is renamed to `<log>.<YYYYMMDD-hhmmss>` and the
 * runtime is asked to reopen the log (conmon starts a new file at the same path). Before that,
 * leftover `.tmp` files are removed, rotated files beyond `containerLogMaxFiles - 2` (the
 * rotation about to happen adds one, the current file is the last) are deleted oldest first,
 * and every rotated file but the newest is gzip-compressed to `<rotated>.gz`. `kubectl logs`
 * keeps reading the current file only, as upstream.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { ContainerRuntime, ContainerStatus } from "../runtime/types.ts";

/** Upstream's `containerLogMaxSize` default (10Mi). */
export const DEFAULT_CONTAINER_LOG_MAX_SIZE = 10 * 1024 * 1024;
/** Upstream's `containerLogMaxFiles` default. */
export const DEFAULT_CONTAINER_LOG_MAX_FILES = 5;
/** Upstream's log monitor period. */
export const LOG_ROTATION_PERIOD_MS = 10_000;

const COMPRESS_SUFFIX = ".gz";
const TMP_SUFFIX = ".tmp";

/** Options for {@link rotateContainerLog}. */
export interface RotateOptions {
  maxSize: number;
  maxFiles: number;
  /** Reopens the log writer after the current file was renamed away. */
  reopen: () => Promise<void>;
  now?: Date;
}

/** Upstream's rotated-file timestamp (`20060102-150405`, UTC). */
export function rotationTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return (
    `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`
  );
}

/** Rotated files (and temp files) of `logPath`, sorted by name (oldest first). */
export async function rotatedLogs(logPath: string): Promise<string[]> {
  const dir = dirname(logPath);
  const prefix = `${basename(logPath)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(prefix))
    .sort()
    .map((n) => join(dir, n));
}

async function compressLog(path: string): Promise<void> {
  const tmp = `${path}${COMPRESS_SUFFIX}${TMP_SUFFIX}`;
  try {
    await pipeline(createReadStream(path), createGzip(), createWriteStream(tmp));
    await rename(tmp, `${path}${COMPRESS_SUFFIX}`);
    await rm(path, { force: true });
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Rotates one container log if it is over `maxSize`. Returns the rotated file's path, or
 * undefined when nothing was rotated. When reopening fails the rename is undone, as upstream.
 */
export async function rotateContainerLog(logPath: string, o: RotateOptions): Promise<string | undefined> {
  let size: number;
  try {
    size = (await stat(logPath)).size;
  } catch {
    return undefined;
  }
  if (size < o.maxSize) return undefined;
  let logs = await rotatedLogs(logPath);
  // Clean unfinished compressions.
  for (const l of logs.filter((x) => x.endsWith(TMP_SUFFIX))) await rm(l, { force: true });
  logs = logs.filter((x) => !x.endsWith(TMP_SUFFIX));
  // Keep at most maxFiles - 2 rotated files: one more comes now, plus the current file.
  const keep = Math.max(o.maxFiles - 2, 0);
  const excess = logs.length - keep;
  if (excess > 0) {
    for (const l of logs.slice(0, excess)) await rm(l, { force: true });
    logs = logs.slice(excess);
  }
  // Compress every rotated file but the newest.
  for (const l of logs.slice(0, -1)) if (!l.endsWith(COMPRESS_SUFFIX)) await compressLog(l);
  let rotated = `${logPath}.${rotationTimestamp(o.now ?? new Date())}`;
  for (let i = 1; logs.includes(rotated) || logs.includes(`${rotated}${COMPRESS_SUFFIX}`); i++) {
    rotated = `${logPath}.${rotationTimestamp(o.now ?? new Date())}.${i}`;
  }
  await rename(logPath, rotated);
  try {
    await o.reopen();
  } catch (err) {
    await rename(rotated, logPath).catch(() => undefined);
    throw err;
  }
  return rotated;
}

/** Options for {@link startLogRotation}. */
export interface LogRotationOptions {
  runtime: Pick<ContainerRuntime, "reopenContainerLog">;
  /** The containers to look at (all of the node's); only running ones are rotated. */
  listContainers: () => Promise<ContainerStatus[]>;
  maxSize?: number;
  maxFiles?: number;
  periodMs?: number;
  signal: AbortSignal;
  /** Called with failures of one container's rotation (default: console.warn). */
  onError?: (id: string, err: unknown) => void;
}

/** One pass over all containers (exported for tests). */
export async function rotateAllLogs(o: Omit<LogRotationOptions, "signal" | "periodMs">): Promise<number> {
  const reopen = o.runtime.reopenContainerLog?.bind(o.runtime);
  if (!reopen) return 0;
  let n = 0;
  for (const c of await o.listContainers()) {
    if (c.state !== "running" || !c.logPath) continue;
    try {
      const r = await rotateContainerLog(c.logPath, {
        maxSize: o.maxSize ?? DEFAULT_CONTAINER_LOG_MAX_SIZE,
        maxFiles: o.maxFiles ?? DEFAULT_CONTAINER_LOG_MAX_FILES,
        reopen: () => reopen(c.id),
      });
      if (r) n++;
    } catch (err) {
      (o.onError ?? ((id, e) => console.warn(`log rotation of container ${id} failed: ${String(e)}`)))(c.id, err);
    }
  }
  return n;
}

/** Starts the periodic (10 s) rotation; stops when `signal` aborts. */
export function startLogRotation(o: LogRotationOptions): void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    rotateAllLogs(o)
      .catch((err: unknown) => console.warn(`log rotation failed: ${String(err)}`))
      .finally(() => {
        running = false;
      });
  }, o.periodMs ?? LOG_ROTATION_PERIOD_MS);
  timer.unref();
  o.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
