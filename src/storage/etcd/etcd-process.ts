/**
 * @module Test and benchmark harness that runs a real single-member etcd (Debian's
 * `etcd-server`, `/usr/bin/etcd`) on free loopback ports in a fresh temporary directory, and
 * tears it down again: the process is killed and the directory removed on `stop()`, on a
 * failed start, and (best effort) when the Node process exits. Durability is left at etcd's
 * default (fsync on), since that is part of what the benchmarks measure.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where Debian's `etcd-server` installs the binary; `KITES_ETCD_BIN` overrides it. */
const ETCD_BIN = process.env.KITES_ETCD_BIN ?? "/usr/bin/etcd";
/** How long a started etcd may take to answer `/health` before the start fails. */
const READY_TIMEOUT_MS = 20_000;
/** How long `stop()` waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Keep this much of etcd's stderr for error messages. */
const LOG_TAIL_CHARS = 4_000;

/** A running etcd started by {@link startEtcd}. */
export interface EtcdProcess {
  /** Client URL, e.g. `http://127.0.0.1:40123`; pass it to `openEtcd`. */
  endpoint: string;
  /**
   * Stops etcd (SIGTERM, or SIGKILL with `crash`) and starts it again on the same ports and
   * data, resolving once it answers: for reconnection and durability tests.
   */
  restart(opts?: { crash?: boolean }): Promise<void>;
  /** Kills etcd and removes its data directory; safe to call more than once. */
  stop(): Promise<void>;
}

/** True when the etcd binary is installed (tests skip loudly without it). */
export function etcdAvailable(): boolean {
  return existsSync(ETCD_BIN);
}

/** Children still alive, killed synchronously if the Node process exits first. */
const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const reap = (): void => {
    for (const [child, dir] of live) {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
    live.clear();
  };
  process.on("exit", reap);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      reap();
      // Keep the signal's usual effect unless someone else handles it.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/** A loopback TCP port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

/** Go's name for this CPU, for `ETCD_UNSUPPORTED_ARCH` (etcd 3.4 refuses arm64 etc. without it). */
function goArch(): string {
  const map: Record<string, string> = { x64: "amd64", arm64: "arm64", ia32: "386", ppc64: "ppc64le" };
  return map[process.arch] ?? process.arch;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves once the child has exited (immediately if it already has). */
function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function killAndWait(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (exited(child)) return;
  child.kill(signal);
  if (await waitExit(child, STOP_GRACE_MS)) return;
  child.kill("SIGKILL");
  await waitExit(child, STOP_GRACE_MS);
}

/** Polls etcd's `/health` until it reports healthy, the child dies, or time runs out. */
async function waitHealthy(child: ChildProcess, endpoint: string, tail: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited(child)) {
      throw new Error(`etcd exited during start (code ${child.exitCode ?? child.signalCode}): ${tail()}`);
    }
    try {
      const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1_000) });
      const body = (await res.json()) as { health?: unknown };
      if (res.ok && body.health === "true") return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`etcd at ${endpoint} did not become healthy in ${READY_TIMEOUT_MS} ms: ${tail()}`);
}

/** Spawns etcd on the given ports and data dir and waits until it is healthy. */
async function launch(dir: string, clientPort: number, peerPort: number): Promise<ChildProcess> {
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  const arch = goArch();
  if (arch !== "amd64" && arch !== "ppc64le") env.ETCD_UNSUPPORTED_ARCH = arch;
  const args = [
    "--name=kites-test",
    `--data-dir=${join(dir, "data")}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=kites-test=${peer}`,
    "--initial-cluster-state=new",
    "--logger=zap",
    "--log-outputs=stderr",
    "--log-level=warn",
  ];
  const child = spawn(ETCD_BIN, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  installExitHook();
  live.set(child, dir);
  let log = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    log = (log + chunk).slice(-LOG_TAIL_CHARS);
  });
  try {
    const spawnError = new Promise<never>((_, reject) => child.once("error", reject));
    await Promise.race([waitHealthy(child, endpoint, () => log.trim()), spawnError]);
    return child;
  } catch (err) {
    await killAndWait(child);
    live.delete(child);
    throw err;
  }
}

async function startOnce(): Promise<EtcdProcess> {
  const dir = await mkdtemp(join(tmpdir(), "kites-etcd-"));
  try {
    const clientPort = await freePort();
    let peerPort = await freePort();
    while (peerPort === clientPort) peerPort = await freePort();
    let child = await launch(dir, clientPort, peerPort);
    let stopped: Promise<void> | undefined;
    const halt = async (signal: NodeJS.Signals): Promise<void> => {
      await killAndWait(child, signal);
      live.delete(child);
    };
    const proc: EtcdProcess = {
      endpoint: `http://127.0.0.1:${clientPort}`,
      async restart(opts = {}) {
        if (stopped) throw new Error("etcd was stopped");
        await halt(opts.crash ? "SIGKILL" : "SIGTERM");
        try {
          child = await launch(dir, clientPort, peerPort);
        } catch (err) {
          await proc.stop();
          throw err;
        }
      },
      stop() {
        stopped ??= (async () => {
          await halt("SIGTERM");
          await rm(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
    return proc;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Starts a fresh single-member etcd on loopback and resolves once it answers. Retries a
 * couple of times, since a port found free may be taken before etcd binds it.
 */
export async function startEtcd(): Promise<EtcdProcess> {
  if (!etcdAvailable()) throw new Error(`etcd binary not found at ${ETCD_BIN}`);
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce();
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}
