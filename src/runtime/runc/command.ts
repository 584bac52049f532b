/**
 * @module Runs a system command (runc, ip, iptables, …) with `execFile` — no shell, and
 * from a worker thread so that forks never stall the event loop — and turns a failure into
 * an Error carrying the command's own message, so callers can pass runc's or iproute2's
 * words on to the user.
 */
import { Worker } from "node:worker_threads";

/** Output of a command that exited 0. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** A command that failed: `message` is its stderr (or stdout) trimmed, `code` its exit code. */
export class CommandError extends Error {
  readonly code: number | null;
  readonly stderr: string;
  constructor(file: string, args: readonly string[], code: number | null, stderr: string, stdout: string) {
    const text = (stderr.trim() || stdout.trim() || `exit code ${String(code)}`).replace(/\s+$/, "");
    super(`${file} ${args.slice(0, 3).join(" ")}: ${text}`);
    this.name = "CommandError";
    this.code = code;
    this.stderr = stderr;
  }
}

/** How to run a command: time limit (default 60 s), standard input, working directory. */
export interface RunOptions {
  timeoutMs?: number;
  input?: string;
  cwd?: string;
}

/** What the spawn worker answers for one command. */
interface Reply {
  id: number;
  stdout: string;
  stderr: string;
  /** Exit code; null when killed or when the command could not be started. */
  code: number | null;
  /** Why it could not be started or was stopped (ENOENT, timeout), when it has no output. */
  error?: string;
}

/**
 * The worker thread's code (CommonJS, evaluated): runs each command it is sent with
 * `execFile` and posts back the output and the exit code.
 */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { execFile } = require("node:child_process");
parentPort.on("message", (m) => {
  const child = execFile(m.file, m.args, { cwd: m.cwd, timeout: m.timeoutMs, maxBuffer: 16 << 20, encoding: "utf8" },
    (err, stdout, stderr) => parentPort.postMessage({
      id: m.id, stdout, stderr,
      code: err ? (typeof err.code === "number" ? err.code : null) : 0,
      error: err ? err.message : undefined,
    }));
  child.stdin.on("error", () => {});
  if (m.input !== undefined) child.stdin.end(m.input); else child.stdin.end();
});
`;

/** One worker thread that starts commands; it holds the process open only while busy. */
class CommandWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();
  private seq = 0;

  /** Commands sent and not answered yet. */
  get busy(): number {
    return this.pending.size;
  }

  run(file: string, args: readonly string[], o: RunOptions): Promise<Reply> {
    const w = (this.worker ??= this.start());
    if (this.pending.size === 0) w.ref();
    const id = ++this.seq;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, file, args, timeoutMs: o.timeoutMs ?? 60_000, input: o.input, cwd: o.cwd });
    });
  }

  private start(): Worker {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.on("message", (r: Reply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (this.pending.size === 0) w.unref();
      p?.resolve(r);
    });
    const fail = (err: Error): void => {
      if (this.worker === w) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on("error", fail);
    w.on("exit", (code) => fail(new Error(`command worker exited (${code})`)));
    w.unref();
    return w;
  }
}

/**
 * Node's spawn blocks its thread until the child has exec'd — a fork of the whole process
 * plus the wait for the child to be scheduled, several ms each on a busy node, and a pod
 * start takes a handful of commands. Commands therefore start from worker threads, so the
 * agent's (and the API server's) event loop never waits for a fork; two of them, so that a
 * burst of pods forks on both cores. Each command goes to the less busy one.
 */
const workers = [new CommandWorker(), new CommandWorker()];

function leastBusy(): CommandWorker {
  return workers[0]!.busy <= workers[1]!.busy ? workers[0]! : workers[1]!;
}

/** Runs `file args…` (from the command worker), resolves with its output, rejects with a `CommandError`. */
export async function run(
  file: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<CommandOutput> {
  const r = await leastBusy().run(file, args, opts);
  if (r.code === 0) return { stdout: r.stdout, stderr: r.stderr };
  const said = r.stderr.trim() || r.stdout.trim();
  throw new CommandError(file, args, r.code, said ? r.stderr : (r.error ?? ""), r.stdout);
}

/** Like `run` but resolves `undefined` instead of rejecting (for idempotent clean-up). */
export async function tryRun(file: string, args: readonly string[]): Promise<CommandOutput | undefined> {
  try {
    return await run(file, args);
  } catch {
    return undefined;
  }
}
