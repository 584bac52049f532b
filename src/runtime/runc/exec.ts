/**
 * @module Runs commands in a running container with `runc exec`: to completion with a
 * timeout (exec probes, hooks) and with streams (kubectl exec). Without a TTY the streams are
 * plain pipes. `runc exec -t` would hand the pty master over a unix socket with SCM_RIGHTS,
 * when runc is detached, which Node cannot receive. In the foreground, though, `runc exec
 * -t` takes the console itself and relays it to its own terminal — so for a TTY we run it
 * under util-linux `script`, which gives runc a host pty as its terminal. The process gets a
 * real `/dev/pts/N` of the container (isatty, ttyname, line discipline, job control), and
 * `resize` sets the host pty's window size with `stty -F`; the kernel sends runc SIGWINCH,
 * and runc copies the size to the container's pty.
 */
import { spawn } from "node:child_process";
import { readFile, readlink, rm } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { randomBytes } from "node:crypto";
import type { ExecProcess, ExecResult } from "../types.ts";
import { tryRun } from "./command.ts";
import type { Runc } from "./runc.ts";

/** A command that ran past its deadline (it has been killed). */
export class ExecTimeoutError extends Error {
  constructor(argv: string[], timeoutMs: number) {
    super(`command ${JSON.stringify(argv)} timed out after ${timeoutMs}ms`);
    this.name = "ExecTimeoutError";
  }
}

/** Caps what an exec probe keeps of its output (upstream keeps 10 KiB for probe messages). */
const MAX_OUTPUT = 1 << 20;

/** Runs `argv` in container `id` and collects its output; kills it after `timeoutMs`. */
export async function runcExecSync(
  runc: Runc,
  id: string,
  argv: string[],
  timeoutMs: number,
): Promise<ExecResult> {
  const pidFile = join(tmpdir(), `kites-exec-${randomBytes(6).toString("hex")}.pid`);
  const child = spawn(runc.binary, [...runc.globalArgs(), "exec", "--pid-file", pidFile, id, ...argv], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    if (stdout.length < MAX_OUTPUT) stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    if (stderr.length < MAX_OUTPUT) stderr += d;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void killExecProcess(pidFile).finally(() => child.kill("SIGKILL"));
  }, timeoutMs);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (c, sig) => resolve(c ?? (sig ? 128 + signalNumber(sig) : 255)));
    });
    if (timedOut) throw new ExecTimeoutError(argv, timeoutMs);
    return { exitCode: code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    await rm(pidFile, { force: true });
  }
}

async function killExecProcess(pidFile: string): Promise<void> {
  try {
    const pid = Number((await readFile(pidFile, "utf8")).trim());
    if (pid > 0) process.kill(pid, "SIGKILL");
  } catch {
    /* not started or already gone */
  }
}

function signalNumber(sig: NodeJS.Signals): number {
  const n = (
    {
      SIGHUP: 1,
      SIGINT: 2,
      SIGQUIT: 3,
      SIGKILL: 9,
      SIGTERM: 15,
    } as Partial<Record<NodeJS.Signals, number>>
  )[sig];
  return n ?? 0;
}

/** Single-quotes an argument for `sh -c` (script runs its command through a shell). */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Starts `argv` in container `id` with streams attached. */
export async function runcExec(
  runc: Runc,
  id: string,
  argv: string[],
  opts: { tty: boolean; stdin: boolean },
): Promise<ExecProcess> {
  const runcArgs = [...runc.globalArgs(), "exec", ...(opts.tty ? ["--tty"] : []), id, ...argv];
  const child = opts.tty
    ? spawn("script", ["-q", "-e", "-c", [runc.binary, ...runcArgs].map(shellQuote).join(" "), "/dev/null"], {
        // script's own diagnostics are not the process's output; the pty carries both streams.
        // stdin is always a pipe: at EOF script would type ^D into the terminal, so without
        // stdin it stays open (unexposed) and the process reads nothing, as with the CRI.
        stdio: ["pipe", "pipe", "ignore"],
        env: { ...process.env, SHELL: "/bin/sh" },
      })
    : spawn(runc.binary, runcArgs, { stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"] });
  const exited = new Promise<number>((resolve) => {
    child.on("error", () => resolve(255));
    child.on("close", (c, sig) => resolve(c ?? (sig ? 128 + signalNumber(sig) : 255)));
  });
  child.stdin?.on("error", () => undefined);
  if (opts.tty && !opts.stdin) void exited.then(() => child.stdin?.destroy());
  // resize: the host pty is found once script has started runc on it (retrying briefly);
  // sizes asked for before that are applied when it is found.
  let ptyPath: Promise<string | undefined> | undefined;
  const findPty = async (): Promise<string | undefined> => {
    for (let i = 0; i < 200 && child.exitCode === null && child.pid !== undefined; i++) {
      const kids = await readFile(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").catch(() => "");
      const kid = kids.trim().split(/\s+/)[0];
      const link = kid ? await readlink(`/proc/${kid}/fd/0`).catch(() => "") : "";
      if (link.startsWith("/dev/pts/")) return link;
      await new Promise((r) => setTimeout(r, 10));
    }
    return undefined;
  };
  let resizing = Promise.resolve();
  const stdout = child.stdout;
  if (!stdout) throw new Error("runc exec: no stdout pipe");
  return {
    stdin: opts.stdin ? (child.stdin ?? null) : null,
    stdout,
    // A terminal merges stderr into stdout, as in the CRI.
    stderr: opts.tty ? null : child.stderr,
    exited,
    resize(cols: number, rows: number) {
      if (!opts.tty) return;
      ptyPath ??= findPty();
      const pty = ptyPath;
      // In order: the last size asked for is the one that stays.
      resizing = resizing.then(async () => {
        const path = await pty;
        if (path) await tryRun("stty", ["-F", path, "cols", String(cols), "rows", String(rows)]);
      });
    },
    kill(signal: NodeJS.Signals = "SIGKILL") {
      child.kill(signal);
    },
  };
}
