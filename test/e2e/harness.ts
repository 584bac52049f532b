/**
 * @module The e2e harness: starts a real `kites server` (bin/kites) on a free port in a temp
 * data dir, and runs real kubectl against it (any installed version), with its discovery
 * cache in the temp dir. Tests that need kubectl skip loudly when it is missing.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";

const ROOT = new URL("../..", import.meta.url).pathname;
const SDK = "/usr/lib/google-cloud-sdk/bin";

/** The kubectl binary for a minor version ("1.30"), or the default /usr/bin/kubectl. */
export function kubectlPath(version?: string): string | undefined {
  const p = version ? join(SDK, `kubectl.${version}`) : "/usr/bin/kubectl";
  return existsSync(p) ? p : undefined;
}

/** A reason to skip kubectl tests, printed loudly, or undefined when kubectl is here. */
export function kubectlMissing(version?: string): string | undefined {
  if (kubectlPath(version)) return undefined;
  const msg = `SKIPPED: kubectl ${version ?? ""} not found (${version ? join(SDK, `kubectl.${version}`) : "/usr/bin/kubectl"}); e2e kubectl tests need it`;
  console.warn(`\n*** ${msg} ***\n`);
  return msg;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestServer {
  dataDir: string;
  kubeconfig: string;
  port: number;
  /** Runs kubectl (optionally a given minor version) against this server. */
  kubectl(
    args: string[],
    opts?: { version?: string; stdin?: string; env?: Record<string, string> },
  ): KubectlResult;
  /** The same, without blocking the event loop (for commands that wait on something). */
  kubectlAsync(
    args: string[],
    opts?: { version?: string; env?: Record<string, string> },
  ): Promise<KubectlResult>;
  /** Stops the server (SIGTERM) and removes its data dir unless `keep`. */
  stop(opts?: { keep?: boolean }): Promise<void>;
  process: ChildProcess;
}

/** Starts `kites server` on a free port; resolves once it printed its kubeconfig line. */
export async function startServer(
  opts: { dataDir?: string; datastore?: string; port?: number; agent?: boolean; args?: string[] } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "kites-e2e-"));
  const args = ["server", "--data-dir", dataDir, "--port", String(opts.port ?? 0), ...(opts.args ?? [])];
  if (!opts.agent) args.push("--disable-agent");
  if (opts.datastore) args.push("--datastore", opts.datastore);
  const child = spawn(join(ROOT, "bin", "kites"), args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const kubeconfig = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`kites server did not start in 30 s: ${stderr}`)),
      30_000,
    );
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /export KUBECONFIG=(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`kites server exited with ${code}: ${stderr}`));
    });
  });
  const port = Number(/ready on https:\/\/[^:]+:(\d+)/.exec(stderr)?.[1] ?? 0);
  const cacheDir = join(dataDir, "kubectl-cache");
  return {
    dataDir,
    kubeconfig,
    port,
    process: child,
    kubectl(kargs, kopts = {}) {
      const bin = kubectlPath(kopts.version);
      if (!bin) throw new Error(`kubectl ${kopts.version ?? ""} not found`);
      const r = spawnSync(bin, [`--cache-dir=${cacheDir}`, ...kargs], {
        input: kopts.stdin ?? "",
        encoding: "utf8",
        env: { ...process.env, KUBECONFIG: kubeconfig, ...kopts.env },
        timeout: 60_000,
      });
      return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    },
    kubectlAsync(kargs, kopts = {}) {
      const bin = kubectlPath(kopts.version);
      if (!bin) throw new Error(`kubectl ${kopts.version ?? ""} not found`);
      const c = spawn(bin, [`--cache-dir=${cacheDir}`, ...kargs], {
        env: { ...process.env, KUBECONFIG: kubeconfig, ...kopts.env },
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 60_000,
      });
      let stdout = "";
      let stderr = "";
      c.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      return new Promise((resolve) => c.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr })));
    },
    async stop(sopts = {}) {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(t);
      }
      if (!sopts.keep && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What {@link serverForSuite} gives a test suite. */
export interface SuiteServer {
  /** The running server (set once the suite's `before` ran). */
  readonly server: TestServer;
  /** kubectl of the suite's version, optionally with stdin and extra environment. */
  k(args: string[], stdin?: string, env?: Record<string, string>): KubectlResult;
  /** The same, asserting success; returns stdout. */
  ok(args: string[], stdin?: string): string;
}

/**
 * A server for the enclosing `describe`: started in its `before`, stopped in its `after`,
 * with kubectl of `version` (default /usr/bin/kubectl) bound to it.
 */
export function serverForSuite(version?: string, opts: Parameters<typeof startServer>[0] = {}): SuiteServer {
  let s: TestServer | undefined;
  before(async () => {
    s = await startServer(opts);
  });
  after(async () => {
    await s?.stop();
  });
  const suite: SuiteServer = {
    get server(): TestServer {
      if (!s) throw new Error("the suite's server is not started yet");
      return s;
    },
    k: (args, stdin, env) =>
      suite.server.kubectl(args, {
        ...(version ? { version } : {}),
        ...(stdin !== undefined ? { stdin } : {}),
        ...(env ? { env } : {}),
      }),
    ok(args, stdin) {
      const r = suite.k(args, stdin);
      assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed: ${r.stderr}`);
      return r.stdout;
    },
  };
  return suite;
}

/** Runs `bin/kites` with `args` (e.g. `sim nodes --count 3`) against a server's kubeconfig. */
export function kites(args: string[], kubeconfig: string): KubectlResult {
  const r = spawnSync(join(ROOT, "bin", "kites"), args, {
    encoding: "utf8",
    env: { ...process.env, KUBECONFIG: kubeconfig },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Runs a shell-free command and returns its output (for tools other than kubectl). */
export function run(cmd: string, args: string[]): KubectlResult {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}
