/**
 * @module Test fixtures for the streaming server: a `FakeRuntime` whose `exec` runs the
 * command as a host process (so exit codes, stdin and output are real), plus helpers that
 * start a pod's container in it and write CRI log lines the way conmon does. Tests only.
 */
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { FakeRuntime } from "../../runtime/fake-runtime.ts";
import type { ExecProcess } from "../../runtime/types.ts";

/** A FakeRuntime that runs `exec` commands on the host. */
export class HostExecRuntime extends FakeRuntime {
  override async exec(
    id: string,
    argv: string[],
    opts: { tty: boolean; stdin: boolean },
  ): Promise<ExecProcess> {
    const st = await this.containerStatus(id);
    if (st?.state !== "running") throw new Error(`container ${id} is not running`);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"] });
    const exited = new Promise<number>((resolve) => {
      child.on("error", () => resolve(126));
      child.on("close", (c) => resolve(c ?? 137));
    });
    child.stdin?.on("error", () => undefined);
    return {
      stdin: child.stdin ?? null,
      stdout: child.stdout!,
      stderr: child.stderr,
      exited,
      resize: () => undefined,
      kill: (sig) => child.kill(sig ?? "SIGKILL"),
    };
  }
}

export const TEST_IMAGE = "docker.io/library/busybox:latest";

/** Creates a host-network sandbox and starts container `name` (attempt n) with its log under `dir`. */
export async function startTestContainer(
  rt: FakeRuntime,
  dir: string,
  podUid: string,
  name: string,
  attempt = 0,
): Promise<{ id: string; logPath: string }> {
  if (!(await rt.getImage(TEST_IMAGE))) rt.addImage(TEST_IMAGE);
  await rt.runSandbox({
    uid: podUid,
    namespace: "default",
    name: "p",
    hostname: "p",
    hostNetwork: true,
    cgroupParent: "",
    hostsFile: "",
    resolvConf: "",
  });
  const logPath = join(dir, podUid, name, `${attempt}.log`);
  mkdirSync(dirname(logPath), { recursive: true });
  const id = await rt.createContainer(podUid, {
    name,
    image: TEST_IMAGE,
    argv: ["sh"],
    env: [],
    workingDir: "/",
    user: "",
    tty: false,
    stdin: false,
    mounts: [],
    logPath,
    attempt,
  });
  await rt.startContainer(id);
  return { id, logPath };
}

/** Appends CRI records: `[time, stream, tag, text]`. */
export function writeCri(path: string, records: [string, "stdout" | "stderr", "F" | "P", string][]): void {
  appendFileSync(path, records.map(([t, s, tag, text]) => `${t} ${s} ${tag} ${text}\n`).join(""));
}
