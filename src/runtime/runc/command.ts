/**
 * @module Runs a system command (runc, ip, iptables, …) with `execFile` — no shell — and
 * turns a failure into an Error carrying the command's own message, so callers can pass
 * runc's or iproute2's words on to the user.
 */
import { execFile } from "node:child_process";

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

/** Runs `file args…`, resolves with its output, rejects with a `CommandError`. */
export function run(
  file: string,
  args: readonly string[],
  opts: { timeoutMs?: number; input?: string } = {},
): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err) {
          const code = typeof err.code === "number" ? err.code : null;
          reject(new CommandError(file, args, code, stderr, stdout));
        } else resolve({ stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like `run` but resolves `undefined` instead of rejecting (for idempotent clean-up). */
export async function tryRun(file: string, args: readonly string[]): Promise<CommandOutput | undefined> {
  try {
    return await run(file, args);
  } catch {
    return undefined;
  }
}
