/**
 * @module Serves one container's log (`GET /containerLogs/NS/POD/CONTAINER`): reads the CRI
 * log file of the chosen attempt, honours `tailLines`, `sinceSeconds`/`sinceTime`,
 * `timestamps` and `limitBytes`, and with `follow` keeps reading what conmon appends
 * (woken by `fs.watch`, with a one-second poll as the fallback) until the container has
 * exited and the file is drained, the byte limit is reached, or the client goes away.
 */
import { watch, type FSWatcher } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import type { Writable } from "node:stream";
import type { ContainerRuntime } from "../../runtime/types.ts";
import { LogRenderer, parseCriLine, splitLines, tailOffset, type LogOptions } from "./cri-log.ts";

/** Log request options parsed from the query (`follow` on top of the rendering options). */
export interface ContainerLogRequest extends LogOptions {
  follow: boolean;
  previous: boolean;
}

/** Thrown for a bad query parameter; the server answers 400 with the message. */
export class LogParamError extends Error {}

function intParam(q: URLSearchParams, name: string, min: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new LogParamError(
      `${name}: Invalid value: "${v}": must be ${min === 0 ? "non-negative" : "greater than 0"}`,
    );
  return n;
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === "true" || v === "1" || v === "True";
}

/** Parses the log query the API server forwards (upstream's PodLogOptions names). */
export function parseLogQuery(q: URLSearchParams, now = Date.now()): ContainerLogRequest {
  const sinceSeconds = intParam(q, "sinceSeconds", 1);
  const sinceTime = q.get("sinceTime");
  if (sinceSeconds !== undefined && sinceTime)
    throw new LogParamError("at most one of `sinceTime` or `sinceSeconds` may be specified");
  let sinceMs: number | undefined;
  if (sinceSeconds !== undefined) sinceMs = now - sinceSeconds * 1000;
  else if (sinceTime) {
    const t = Date.parse(sinceTime);
    if (Number.isNaN(t))
      throw new LogParamError(`sinceTime: Invalid value: "${sinceTime}": must be an RFC3339 time`);
    sinceMs = t;
  }
  const req: ContainerLogRequest = {
    follow: boolParam(q, "follow"),
    previous: boolParam(q, "previous"),
    timestamps: boolParam(q, "timestamps"),
  };
  if (sinceMs !== undefined) req.sinceMs = sinceMs;
  const tail = intParam(q, "tailLines", 0);
  if (tail !== undefined) req.tailLines = tail;
  const limit = intParam(q, "limitBytes", 1);
  if (limit !== undefined) req.limitBytes = limit;
  return req;
}

/** Wakes a follower when the file changes, or after `pollMs`, or on abort. */
class ChangeWaiter {
  private watcher: FSWatcher | undefined;
  private wake: (() => void) | undefined;
  private changed = false;

  constructor(path: string) {
    try {
      this.watcher = watch(path, { persistent: false }, () => {
        this.changed = true;
        this.wake?.();
      });
      this.watcher.on("error", () => undefined);
    } catch {
      this.watcher = undefined; // polling only
    }
  }

  wait(pollMs: number, signal: AbortSignal): Promise<void> {
    if (this.changed || signal.aborted) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = undefined;
        this.changed = false;
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      signal.addEventListener("abort", done, { once: true });
      this.wake = done;
    });
  }

  close(): void {
    this.watcher?.close();
  }
}

/** Reads the byte offset where the last `n` lines of the file begin, scanning back in blocks. */
async function tailStart(fh: FileHandle, size: number, n: number): Promise<number> {
  const block = 64 * 1024;
  let end = size;
  let collected: Buffer = Buffer.alloc(0);
  while (end > 0) {
    const start = Math.max(0, end - block);
    const buf = Buffer.allocUnsafe(end - start);
    await fh.read(buf, 0, buf.length, start);
    collected = collected.length ? Buffer.concat([buf, collected]) : buf;
    end = start;
    const off = tailOffset(collected, n);
    if (off > 0 || end === 0) return end + off;
  }
  return 0;
}

async function writeOut(out: Writable, chunk: Buffer, signal: AbortSignal): Promise<void> {
  if (chunk.length === 0 || signal.aborted) return;
  if (!out.write(chunk)) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        out.off("drain", done);
        out.off("close", done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      out.once("drain", done);
      out.once("close", done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

/**
 * Streams the log file `path` of container `containerId` to `out` (which is not ended here).
 * With `follow`, `running()` is asked between reads whether the container still runs.
 */
export async function streamLogFile(
  path: string,
  req: ContainerLogRequest,
  out: Writable,
  running: () => Promise<boolean>,
  signal: AbortSignal,
  pollMs = 1000,
): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return; // nothing logged yet
    throw e;
  }
  const renderer = new LogRenderer(req);
  const waiter = req.follow ? new ChangeWaiter(path) : undefined;
  try {
    const size = (await fh.stat()).size;
    let pos = req.tailLines !== undefined ? await tailStart(fh, size, req.tailLines) : 0;
    let rest: Buffer = Buffer.alloc(0);
    const chunk = Buffer.allocUnsafe(64 * 1024);
    const drain = async (): Promise<void> => {
      for (;;) {
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
        if (bytesRead === 0) return;
        pos += bytesRead;
        const data = rest.length
          ? Buffer.concat([rest, chunk.subarray(0, bytesRead)])
          : chunk.subarray(0, bytesRead);
        const { lines, rest: tail } = splitLines(data);
        rest = Buffer.from(tail);
        const outParts: Buffer[] = [];
        for (const line of lines) {
          const rec = parseCriLine(line);
          if (rec) outParts.push(renderer.render(rec));
          if (renderer.exhausted) break;
        }
        await writeOut(out, Buffer.concat(outParts), signal);
        if (renderer.exhausted || signal.aborted) return;
      }
    };
    await drain();
    if (!req.follow) return;
    while (!renderer.exhausted && !signal.aborted) {
      const alive = await running();
      await drain();
      if (!alive) return;
      await waiter!.wait(pollMs, signal);
    }
  } finally {
    waiter?.close();
    await fh.close();
  }
}

/** The attempt whose log is wanted, or the reason there is none (upstream's messages). */
export type LogSource = { ok: true; logPath: string; containerId: string } | { ok: false; message: string };

/**
 * Picks the container attempt to read: the newest for a plain request, the one before it for
 * `previous`. The pod's status (when known) gives upstream's reasons for having no log yet.
 */
export async function findLogSource(
  runtime: ContainerRuntime,
  pod: { uid: string; name: string; waitingReason?: string | undefined },
  container: string,
  previous: boolean,
): Promise<LogSource> {
  const attempts = (await runtime.listContainers(pod.uid))
    .filter((c) => c.name === container)
    .sort((a, b) => b.attempt - a.attempt);
  if (previous) {
    const prev = attempts[1];
    if (!prev)
      return {
        ok: false,
        message: `previous terminated container "${container}" in pod "${pod.name}" not found`,
      };
    return { ok: true, logPath: prev.logPath, containerId: prev.id };
  }
  const cur = attempts[0];
  if (!cur || cur.state === "created") {
    return {
      ok: false,
      message: `container "${container}" in pod "${pod.name}" is waiting to start: ${pod.waitingReason || "ContainerCreating"}`,
    };
  }
  return { ok: true, logPath: cur.logPath, containerId: cur.id };
}
