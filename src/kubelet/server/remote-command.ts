/**
 * @module Runs `kubectl exec` and `kubectl attach` over whichever transport the client chose
 * (WebSocket channels or SPDY streams): a `CommandStreams` is the transport's view of stdin,
 * stdout, stderr, terminal resizes and the final status. `runExec` starts the command through
 * the runtime and reports its exit code the way kubectl reads it; `runAttach` follows the
 * running container's output from its log and, with `-i`, feeds the client's stdin and
 * terminal resizes to the container through the runtime's `attach` (conmon's attach socket).
 */
import { statSync } from "node:fs";
import { open } from "node:fs/promises";
import { Writable, type Readable } from "node:stream";
import type { ContainerRuntime } from "../../runtime/types.ts";
import { errorStatus, exitStatus, SUCCESS_STATUS, type TerminalSize } from "../../streaming/channel.ts";
import { parseCriLine, splitLines } from "./cri-log.ts";

/** Which streams the client asked for (query `stdin`, `stdout`, `stderr`, `tty`). */
export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** Parses upstream's stream options; with a TTY there is no separate stderr. */
export function parseStreamOptions(q: URLSearchParams): StreamOptions {
  const b = (n: string): boolean => ["true", "1", "True"].includes(q.get(n) ?? "");
  const tty = b("tty");
  return { stdin: b("stdin"), stdout: b("stdout"), stderr: b("stderr") && !tty, tty };
}

/** A transport's streams for one command. */
export interface CommandStreams {
  stdin: Readable | null;
  stdout: Writable | null;
  stderr: Writable | null;
  /** Subscribes to terminal sizes sent by the client. */
  onResize(cb: (size: TerminalSize) => void): void;
  /** Writes the final Status and closes the connection. */
  finish(status: string): void;
  /** Resolves when the client goes away (or after `finish`). */
  readonly closed: Promise<void>;
}

function endWhenDone(src: NodeJS.ReadableStream | null, dst: Writable | null): Promise<void> {
  if (!src) return Promise.resolve();
  return new Promise((resolve) => {
    if (dst) {
      src.on("data", (d: Buffer) => {
        if (!dst.destroyed && !dst.write(d)) {
          src.pause();
          dst.once("drain", () => src.resume());
        }
      });
    } else src.on("data", () => undefined);
    src.on("end", resolve);
    src.on("error", () => resolve());
    src.on("close", () => resolve());
  });
}

function waitWritten(w: Writable | null): Promise<void> {
  if (!w || w.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    w.end(() => resolve());
    w.once("error", () => resolve());
    w.once("close", () => resolve());
  });
}

/** Runs `argv` in container `containerId` and reports its exit through `streams`. */
export async function runExec(
  runtime: ContainerRuntime,
  containerId: string,
  argv: string[],
  opts: StreamOptions,
  streams: CommandStreams,
): Promise<void> {
  let proc;
  try {
    proc = await runtime.exec(containerId, argv, { tty: opts.tty, stdin: opts.stdin });
  } catch (e) {
    streams.finish(errorStatus(e instanceof Error ? e.message : String(e)));
    return;
  }
  let done = false;
  void streams.closed.then(() => {
    if (!done) proc.kill("SIGKILL");
  });
  streams.onResize((s) => proc.resize(s.Width, s.Height));
  if (streams.stdin) {
    const stdin = proc.stdin;
    if (stdin) {
      streams.stdin.on("data", (d: Buffer) => {
        if (!stdin.write(d)) {
          streams.stdin!.pause();
          stdin.once("drain", () => streams.stdin!.resume());
        }
      });
      streams.stdin.on("end", () => stdin.end());
    } else streams.stdin.resume();
  }
  const outDone = endWhenDone(proc.stdout, streams.stdout);
  const errDone = endWhenDone(proc.stderr, streams.stderr ?? streams.stdout);
  const code = await proc.exited;
  await Promise.all([outDone, errDone]);
  done = true;
  await Promise.all([waitWritten(streams.stdout), waitWritten(streams.stderr)]);
  streams.finish(exitStatus(argv, code));
}

/**
 * Attaches to container `containerId`: its new output (from the log file's current end) goes
 * to stdout/stderr until the container exits or the client leaves.
 */
export async function runAttach(
  runtime: ContainerRuntime,
  containerId: string,
  logPath: string,
  opts: StreamOptions,
  streams: CommandStreams,
): Promise<void> {
  const session = opts.stdin && runtime.attach ? await runtime.attach(containerId).catch(() => undefined) : undefined;
  if (session && streams.stdin) {
    const input = session.stdin;
    streams.stdin.on("data", (d: Buffer) => input.write(d));
    streams.stdin.on("end", () => session.close());
  } else streams.stdin?.resume();
  streams.onResize((size) => {
    if (opts.tty) session?.resize(size.Width, size.Height);
  });
  const abort = new AbortController();
  void streams.closed.then(() => abort.abort());
  // Demultiplex the CRI records back into the container's two streams.
  let pending: Buffer = Buffer.alloc(0);
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const { lines, rest } = splitLines(Buffer.concat([pending, chunk]));
      pending = Buffer.from(rest);
      for (const line of lines) {
        const r = parseCriLine(line);
        if (!r) continue;
        const target = r.stream === "stderr" && !opts.tty ? (streams.stderr ?? null) : streams.stdout;
        target?.write(r.partial ? r.text : Buffer.concat([r.text, Buffer.from("\n")]));
      }
      cb();
    },
  });
  const running = async (): Promise<boolean> =>
    (await runtime.containerStatus(containerId))?.state === "running";
  try {
    await streamRawFromEnd(logPath, sink, running, abort.signal);
  } finally {
    session?.close();
    await Promise.all([waitWritten(streams.stdout), waitWritten(streams.stderr)]);
    streams.finish(SUCCESS_STATUS);
  }
}

/** Follows `path` from its current end, handing the raw appended bytes to `out`. */
async function streamRawFromEnd(
  path: string,
  out: Writable,
  running: () => Promise<boolean>,
  signal: AbortSignal,
): Promise<void> {
  let pos = 0;
  try {
    pos = statSync(path).size;
  } catch {
    pos = 0;
  }
  const buf = Buffer.allocUnsafe(64 * 1024);
  while (!signal.aborted) {
    const alive = await running();
    const fh = await open(path, "r").catch(() => undefined);
    if (fh) {
      try {
        // The log was rotated: conmon started a new file at the same path.
        if ((await fh.stat()).size < pos) pos = 0;
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) break;
          pos += bytesRead;
          out.write(Buffer.from(buf.subarray(0, bytesRead)));
        }
      } finally {
        await fh.close();
      }
    }
    if (!alive) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 200);
      signal.addEventListener(
        "abort",
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }
}
