/**
 * @module The pod's shared UTS and IPC namespaces without a pause process: `unshare
 * --uts=<file> --ipc=<file>` makes both and bind-mounts them onto files (as `ip netns` does
 * for network namespaces), and sets the pod's hostname in the UTS one. Containers join them
 * by path, so every container of a pod sees the same hostname and System V IPC. Removal
 * unmounts the files (the kernel frees the namespaces when the last user leaves).
 */
import { existsSync } from "node:fs";
import { rm, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { run, tryRun } from "./command.ts";

/** Paths of a sandbox's persistent namespaces. */
export interface SandboxNamespaces {
  utsPath: string;
  ipcPath: string;
}

/** Makes the namespaces under `dir` and sets `hostname`. Throws when the kernel refuses. */
export async function createSandboxNamespaces(dir: string, hostname: string): Promise<SandboxNamespaces> {
  await mkdir(dir, { recursive: true });
  const ns = { utsPath: join(dir, "uts"), ipcPath: join(dir, "ipc") };
  await writeFile(ns.utsPath, "");
  await writeFile(ns.ipcPath, "");
  try {
    await run("unshare", [`--uts=${ns.utsPath}`, `--ipc=${ns.ipcPath}`, "hostname", hostname]);
  } catch (err) {
    await removeSandboxNamespaces(ns);
    throw err;
  }
  return ns;
}

/** Unmounts and deletes the namespace files. Gone is not an error (and runs no `umount`). */
export async function removeSandboxNamespaces(ns: SandboxNamespaces): Promise<void> {
  for (const p of [ns.utsPath, ns.ipcPath]) {
    if (!existsSync(p)) continue;
    await tryRun("umount", [p]);
    await rm(p, { force: true });
  }
}
