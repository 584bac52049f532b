/**
 * @module bench/pod-startup floor: the same busybox image, with no kites involved — one
 * overlay snapshot of the image's unpacked layers (made once, untimed, with kites' own image
 * store and snapshotter), a bundle from `runc spec` running `sleep 3600`, and `runc run -d`
 * timed from spawn until it returns (it returns once the container's process runs), then
 * checked with `runc state`, killed and deleted. Its own runc root, so nothing is shared
 * with the agent; everything it made is removed before it returns.
 */
import { execFile, spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { BUSYBOX_REF } from "../../src/runtime/images/busybox-image.ts";
import { ImageStore } from "../../src/runtime/images/image-store.ts";
import { Snapshotter } from "../../src/runtime/snapshots/snapshotter.ts";

const execFileP = promisify(execFile);
export const RUNC = "/usr/sbin/runc";

/** Timings of the bare runc runs, ms. */
export interface FloorResult {
  samplesMs: number[];
  /** Containers left in the floor's runc root afterwards (must be 0). */
  leftovers: number;
}

/** Runs `runs` bare `runc run -d` of busybox using the image store under `imagesDir`. */
export async function runcFloor(imagesDir: string, workDir: string, runs: number): Promise<FloorResult> {
  const snapshots = new Snapshotter(join(workDir, "snapshots"), new ImageStore(imagesDir));
  const bundle = join(workDir, "bundle");
  const root = join(workDir, "runc-root");
  const log = join(workDir, "runc.log");
  await mkdir(bundle, { recursive: true });
  const samplesMs: number[] = [];
  let unmounted = false;
  try {
    const rootfs = await snapshots.prepare("floor", BUSYBOX_REF);
    await execFileP(RUNC, ["spec"], { cwd: bundle });
    const spec = JSON.parse(await readFile(join(bundle, "config.json"), "utf8")) as {
      root: { path: string; readonly: boolean };
      process: { terminal: boolean; args: string[] };
      hostname?: string;
    };
    spec.root = { path: rootfs, readonly: false };
    spec.process.terminal = false;
    spec.process.args = ["sleep", "3600"];
    spec.hostname = "floor";
    await writeFile(join(bundle, "config.json"), JSON.stringify(spec));
    for (let i = 0; i < runs; i++) {
      const id = `kites-floor-${process.pid}-${i}`;
      const t0 = performance.now();
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(RUNC, ["--root", root, "--log", log, "run", "-d", "--bundle", bundle, id], {
          stdio: "ignore",
        });
        child.once("error", reject);
        // `exit`, not `close`: the detached container keeps no pipe of ours, but be safe.
        child.once("exit", (c) => resolve(c ?? 1));
      });
      const ms = performance.now() - t0;
      try {
        if (code !== 0)
          throw new Error(
            `runc run exited ${code}: ${(await readFile(log, "utf8").catch(() => "")).slice(-500)}`,
          );
        const { stdout } = await execFileP(RUNC, ["--root", root, "state", id]);
        const status = (JSON.parse(stdout) as { status?: string }).status;
        if (status !== "running") throw new Error(`runc container ${id} is ${status}, not running`);
        samplesMs.push(ms);
      } finally {
        await execFileP(RUNC, ["--root", root, "delete", "-f", id]).catch(() => undefined);
      }
    }
  } finally {
    const { stdout } = await execFileP(RUNC, ["--root", root, "list", "-q"]).catch(() => ({ stdout: "" }));
    for (const id of stdout.split("\n").filter(Boolean))
      await execFileP(RUNC, ["--root", root, "delete", "-f", id]).catch(() => undefined);
    await snapshots.remove("floor").then(
      () => (unmounted = true),
      (e: unknown) => console.error(`floor snapshot: ${(e as Error).message}`),
    );
  }
  const { stdout } = await execFileP(RUNC, ["--root", root, "list", "-q"]).catch(() => ({ stdout: "" }));
  const leftovers = stdout.split("\n").filter(Boolean).length;
  // Never delete through a mount that is still there.
  if (unmounted) await rm(workDir, { recursive: true, force: true });
  else console.error(`floor: ${workDir} left in place (snapshot still mounted)`);
  return { samplesMs, leftovers };
}
