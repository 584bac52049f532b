/**
 * @module bench/apiserver server process: starts `bin/kites server` as a child exactly as a
 * user would, waits for `export KUBECONFIG=…` on stdout and `ready on https://…:PORT` on
 * stderr, reads its CPU time and memory from /proc, and stops it (SIGTERM, then SIGKILL).
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = new URL("../..", import.meta.url).pathname;

/** A running API server child process. */
export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  readonly kubeconfig: string;
  /** The last lines the server wrote to stderr (for error messages). */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** CPU time and memory of a process, from /proc. */
export interface ProcStats {
  /** utime + stime in milliseconds. */
  cpuMs: number;
  /** Current resident set size, MB. */
  rssMb: number;
  /** Peak resident set size since start (VmHWM), MB. */
  peakRssMb: number;
}

let clockTicks = 0;

/** Reads utime+stime (/proc/PID/stat) and VmRSS/VmHWM (/proc/PID/status). */
export function procStats(pid: number): ProcStats {
  if (clockTicks === 0) clockTicks = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name "(...)": state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return {
    cpuMs: (ticks * 1000) / clockTicks,
    rssMb: Math.round(kb("VmRSS") / 102.4) / 10,
    peakRssMb: Math.round(kb("VmHWM") / 102.4) / 10,
  };
}

/**
 * Starts `bin/kites server --data-dir DIR --port 0 --disable-agent` and resolves once it is
 * ready; rejects (after killing it) if it exits or is not ready within `timeoutMs`.
 */
export async function startServer(
  dataDir: string,
  timeoutMs = 30_000,
  extraArgs: readonly string[] = [],
): Promise<ServerProcess> {
  // BENCH_CPU_PROF=DIR: the server writes a V8 CPU profile into DIR when it exits.
  const prof = process.env.BENCH_CPU_PROF;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(prof ? ["--cpu-prof", "--cpu-prof-dir", prof] : []),
      join(ROOT, "bin/kites"),
      ...["server", "--data-dir", dataDir, "--port", "0", "--disable-agent", ...extraArgs],
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (graceMs = 5000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(t);
  };
  try {
    const ready = await new Promise<{ port: number; kubeconfig: string }>((resolve, reject) => {
      const check = (): void => {
        const kc = /^export KUBECONFIG=(.+)$/m.exec(stdout)?.[1];
        const port = /ready on https:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1];
        if (kc && port) resolve({ port: Number(port), kubeconfig: kc.trim() });
      };
      child.stdout!.on("data", (c: Buffer) => {
        stdout += c.toString();
        check();
      });
      child.stderr!.on("data", (c: Buffer) => {
        stderr = (stderr + c.toString()).slice(-8192);
        check();
      });
      child.once("exit", (code, sig) =>
        reject(new Error(`kites server exited (${code ?? sig}) before it was ready:\n${stderr}`)),
      );
      child.once("error", reject);
      setTimeout(
        () => reject(new Error(`kites server not ready after ${timeoutMs} ms:\n${stderr}`)),
        timeoutMs,
      );
    });
    if (child.pid === undefined) throw new Error("kites server has no pid");
    return { pid: child.pid, ...ready, stderrTail: () => stderr, stop };
  } catch (e) {
    await stop(1000);
    throw e;
  }
}
