/**
 * @module Creates a container through conmon, the way CRI-O does: conmon runs `runc create`
 * for the bundle, then stays as the container's monitor — it copies the container's
 * stdout/stderr into the CRI log file (`--log-path k8s-file:…`, lines
 * `<RFC3339Nano> stdout|stderr F|P <text>`), keeps the attach socket and, when the container
 * exits, writes its exit code to `<exitDir>/<id>`. conmon runs in its own session with no
 * pipe to us except the sync pipe, so containers outlive a restart of the agent.
 *
 * conmon 2.1.6 facts this relies on (probed): with `_OCI_SYNCPIPE=<fd>` and `--api-version 1`
 * it writes `{"data": <pid>}` after a successful `runc create`, or
 * `{"data": -1, "message": "<runc's error>"}`; with `--sync` it does not daemonise (it stays
 * our child and exits with the container's exit code) — no zombie is left for an init that
 * does not reap. Without `_OCI_STARTPIPE` it starts at once.
 */
import { spawn } from "node:child_process";
import { closeSync, constants as fsConstants, openSync } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";

/** Where conmon lives on Debian (package `conmon`). */
export const CONMON_BINARY = "/usr/bin/conmon";

/** Everything conmon needs to create one container. */
export interface ConmonCreateOptions {
  conmonBinary?: string;
  runcBinary: string;
  runcRoot: string;
  id: string;
  /** Container name (for conmon's own logs). */
  name: string;
  bundle: string;
  logPath: string;
  exitDir: string;
  socketDir: string;
  stdin: boolean;
  /** Close the container's stdin when the first attached client leaves (pod `stdinOnce`). */
  stdinOnce?: boolean;
  tty: boolean;
  /** Give up (and kill conmon) after this long; runc create normally takes ~100 ms. */
  timeoutMs?: number;
}

/** A created (not yet started) container: its init pid and conmon's pid. */
export interface ConmonCreated {
  pid: number;
  conmonPid: number;
}

/** conmon's pid file inside a bundle. */
export function conmonPidFile(bundle: string): string {
  return join(bundle, "conmon.pid");
}

/**
 * Runs conmon for the bundle and resolves once `runc create` succeeded. Rejects with an Error
 * whose message is runc's own (e.g. `exec: "nope": executable file not found in $PATH`).
 */
export async function conmonCreate(o: ConmonCreateOptions): Promise<ConmonCreated> {
  await mkdir(dirname(o.logPath), { recursive: true });
  await mkdir(o.exitDir, { recursive: true });
  await mkdir(o.socketDir, { recursive: true });
  const args = [
    "--api-version",
    "1",
    "-c",
    o.id,
    "-u",
    o.id,
    "-n",
    o.name,
    "-r",
    o.runcBinary,
    "-b",
    o.bundle,
    "-p",
    join(o.bundle, "pidfile"),
    "-P",
    conmonPidFile(o.bundle),
    "-l",
    `k8s-file:${o.logPath}`,
    "--exit-dir",
    o.exitDir,
    "--socket-dir-path",
    o.socketDir,
    "--persist-dir",
    o.bundle,
    "--runtime-arg",
    `--root=${o.runcRoot}`,
    "--sync",
  ];
  if (o.stdin) args.push("-i");
  if (o.stdin && !o.stdinOnce) args.push("--leave-stdin-open");
  if (o.tty) args.push("-t");
  // conmon's own diagnostics go to a file in the bundle, never to a pipe that dies with us.
  const out = openSync(join(o.bundle, "conmon.log"), "a");
  let child;
  try {
    child = spawn(o.conmonBinary ?? CONMON_BINARY, args, {
      cwd: o.bundle,
      detached: true,
      stdio: ["ignore", out, out, "pipe"],
      env: { ...process.env, _OCI_SYNCPIPE: "3" },
    });
  } finally {
    closeSync(out);
  }
  const sync = child.stdio[3] as Readable;
  const conmonPid = child.pid ?? -1;
  child.unref();
  return await new Promise<ConmonCreated>((resolve, reject) => {
    let buf = "";
    let done = false;
    const timer = setTimeout(
      () => finish(new Error(`conmon: timed out creating container ${o.id}`)),
      o.timeoutMs ?? 30_000,
    );
    const finish = (err: Error | undefined, pid?: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sync.destroy();
      if (err) {
        if (child.exitCode === null) child.kill("SIGKILL");
        reject(err);
      } else resolve({ pid: pid ?? -1, conmonPid });
    };
    sync.setEncoding("utf8");
    sync.on("data", (chunk: string) => {
      buf += chunk;
      const msg = parseSyncMessage(buf);
      if (!msg) return;
      if (msg.data > 0) finish(undefined, msg.data);
      else finish(new Error(cleanRuncMessage(msg.message ?? `conmon: runc create failed for ${o.id}`)));
    });
    sync.on("error", () => undefined);
    sync.on("end", () =>
      finish(new Error(`conmon exited before reporting the container (see ${join(o.bundle, "conmon.log")})`)),
    );
    child.on("error", (err) => finish(err));
  });
}

/** Parses the first complete `{"data": n, "message"?: s}` object from the sync pipe. */
export function parseSyncMessage(text: string): { data: number; message?: string } | undefined {
  const end = text.indexOf("}");
  if (end < 0) return undefined;
  try {
    const v = JSON.parse(text.slice(0, end + 1)) as { data?: unknown; pid?: unknown; message?: unknown };
    const data = typeof v.data === "number" ? v.data : typeof v.pid === "number" ? v.pid : -1;
    return typeof v.message === "string" ? { data, message: v.message } : { data };
  } catch {
    return undefined;
  }
}

/**
 * runc reports errors as logrus lines (`time="…" level=error msg="runc create failed: …"`);
 * keep the `msg` text, unescaped, as containerd and CRI-O show it.
 */
export function cleanRuncMessage(raw: string): string {
  const lines = raw.trim().split("\n");
  const out: string[] = [];
  for (const line of lines) {
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
    out.push(m?.[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : line);
  }
  return out.join("\n").trim();
}

/** conmon's control FIFO inside a bundle (conmon creates it next to `config.json`). */
export function conmonCtlFifo(bundle: string): string {
  return join(bundle, "ctl");
}

/** conmon control message types (`<type> <height> <width>\n` on the ctl FIFO). */
export const CONMON_CTL_RESIZE = 1;
export const CONMON_CTL_REOPEN_LOGS = 2;

/** Formats one conmon control message. */
export function conmonCtlMessage(type: number, height = 0, width = 0): string {
  return `${type} ${height} ${width}\n`;
}

/**
 * Writes one control message to a running conmon's ctl FIFO. Opens the FIFO non-blocking for
 * writing, so a conmon that is gone (no reader) fails fast with ENXIO instead of hanging.
 */
export async function conmonControl(bundle: string, type: number, height = 0, width = 0): Promise<void> {
  const fh = await open(conmonCtlFifo(bundle), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
  try {
    await fh.write(conmonCtlMessage(type, height, width));
  } finally {
    await fh.close();
  }
}

/**
 * conmon's attach socket (a SOCK_SEQPACKET unix socket): conmon links `<socketDir>/<id>` to the
 * bundle and listens on `attach` inside it, keeping the path short.
 */
export function conmonAttachSocket(socketDir: string, id: string): string {
  return join(socketDir, id, "attach");
}
