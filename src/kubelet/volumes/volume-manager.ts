/**
 * @module Sets up and tears down a pod's volumes under `<podsDir>/<uid>/volumes/<plugin>/<name>`
 * (upstream's layout): emptyDir (a directory, or a tmpfs mount with `medium: Memory` and its
 * sizeLimit), hostPath (with type checks), configMap, secret, downwardAPI and projected
 * (through the atomic writer, rewritten when their sources change), and turns the container's
 * volumeMounts (subPath, readOnly) into runtime mounts.
 */
import { run } from "../../runtime/runc/command.ts";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join, normalize, resolve, sep } from "node:path";
import { parseQuantity } from "../../api/quantity.ts";
import type { Container, Pod, Volume } from "../../api/types/core-v1.ts";
import type { Mount } from "../../runtime/types.ts";
import { expand } from "../expansion.ts";
import { writeAtomic } from "./atomic-writer.ts";
import { checkHostPathType } from "./host-path.ts";
import { volumePayload, type ProjectionContext } from "./projection.ts";

/** A volume that could not be set up: a `FailedMount` event for the pod. */
export class VolumeError extends Error {
  constructor(
    readonly volume: string,
    message: string,
  ) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${message}`);
  }
}

/** A mounted volume: its path on the host and whether every mount of it is read-only. */
export interface MountedVolume {
  path: string;
  readOnly: boolean;
}

function pluginDir(v: Volume): string | undefined {
  if (v.emptyDir) return "kubernetes.io~empty-dir";
  if (v.configMap) return "kubernetes.io~configmap";
  if (v.secret) return "kubernetes.io~secret";
  if (v.downwardAPI) return "kubernetes.io~downward-api";
  if (v.projected) return "kubernetes.io~projected";
  return undefined;
}

/** True when `dir` is a mount point (listed in /proc/self/mountinfo). */
function isMountPoint(dir: string): boolean {
  try {
    const info = readFileSync("/proc/self/mountinfo", "utf8");
    const esc = dir.replace(/ /g, "\\040");
    for (const line of info.split("\n")) if (line.split(" ")[4] === esc) return true;
  } catch {
    return false;
  }
  return false;
}

/** Names of the ConfigMaps and Secrets a pod's volumes and env read (`ns/name`), for re-syncs on change. */
export function podObjectRefs(pod: Pod): { configMaps: string[]; secrets: string[] } {
  const ns = pod.metadata.namespace ?? "default";
  const cms = new Set<string>();
  const secrets = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) cms.add(`${ns}/${v.configMap.name}`);
    if (v.secret?.secretName) secrets.add(`${ns}/${v.secret.secretName}`);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) cms.add(`${ns}/${s.configMap.name}`);
      if (s.secret?.name) secrets.add(`${ns}/${s.secret.name}`);
    }
  }
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef?.name) cms.add(`${ns}/${e.configMapRef.name}`);
      if (e.secretRef?.name) secrets.add(`${ns}/${e.secretRef.name}`);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) cms.add(`${ns}/${e.valueFrom.configMapKeyRef.name}`);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(`${ns}/${e.valueFrom.secretKeyRef.name}`);
    }
  }
  return { configMaps: [...cms], secrets: [...secrets] };
}

/** Per-pod volume setup. */
export class VolumeManager {
  /** Pods whose static volumes (emptyDir, hostPath) are ready: uid → volume name → mount. */
  private readonly staticReady = new Map<string, Map<string, MountedVolume>>();

  constructor(
    private readonly podsDir: string,
    /** Whether tmpfs may be mounted (root); without it `medium: Memory` is a plain directory. */
    private readonly canMount: boolean = process.getuid?.() === 0,
  ) {}

  /** The pod's own directory. */
  podDir(uid: string): string {
    return join(this.podsDir, uid);
  }

  /**
   * Makes every volume of `pod` ready and returns them by name. Projected kinds are rewritten
   * when their content changed. Throws `VolumeError` for the first volume that fails.
   */
  async setup(pod: Pod, ctx: ProjectionContext): Promise<Map<string, MountedVolume>> {
    const uid = pod.metadata.uid ?? "";
    let ready = this.staticReady.get(uid);
    if (!ready) this.staticReady.set(uid, (ready = new Map()));
    const out = new Map<string, MountedVolume>();
    for (const v of pod.spec?.volumes ?? []) {
      const known = ready.get(v.name);
      if (known) {
        out.set(v.name, known);
        continue;
      }
      try {
        if (v.hostPath) {
          checkHostPathType(v.hostPath.path, v.hostPath.type);
          const m = { path: v.hostPath.path, readOnly: false };
          ready.set(v.name, m);
          out.set(v.name, m);
          continue;
        }
        const plugin = pluginDir(v);
        if (!plugin) {
          // Unsupported sources (PVCs, CSI, …) are not mounted; containers referring to them fail.
          continue;
        }
        const dir = join(this.podDir(uid), "volumes", plugin, v.name);
        if (v.emptyDir) {
          mkdirSync(dir, { recursive: true, mode: 0o777 });
          if (v.emptyDir.medium === "Memory" && this.canMount && !isMountPoint(dir)) {
            const opts = v.emptyDir.sizeLimit ? `size=${parseQuantity(v.emptyDir.sizeLimit).value()}` : "";
            await run("mount", ["-t", "tmpfs", ...(opts ? ["-o", opts] : []), "tmpfs", dir]);
          }
          const m = { path: dir, readOnly: false };
          ready.set(v.name, m);
          out.set(v.name, m);
          continue;
        }
        const payload = await volumePayload(pod, v.name, ctx);
        if (payload) writeAtomic(dir, payload);
        out.set(v.name, { path: dir, readOnly: true });
      } catch (e) {
        throw new VolumeError(v.name, (e as Error).message);
      }
    }
    return out;
  }

  /**
   * The runtime mounts of a container. `env` resolves `subPathExpr`. Throws when a mount names
   * an unknown volume or a subPath escapes its volume.
   */
  containerMounts(
    container: Container,
    volumes: ReadonlyMap<string, MountedVolume>,
    env: ReadonlyMap<string, string>,
  ): Mount[] {
    const out: Mount[] = [];
    for (const vm of container.volumeMounts ?? []) {
      const v = volumes.get(vm.name);
      if (!v) throw new Error(`cannot find volume "${vm.name}" to mount into container "${container.name}"`);
      let hostPath = v.path;
      const sub = vm.subPathExpr ? expand(vm.subPathExpr, (n) => env.get(n)) : vm.subPath;
      if (sub) {
        const full = resolve(v.path, normalize(sub));
        if (full !== v.path && !full.startsWith(v.path.endsWith(sep) ? v.path : v.path + sep)) {
          throw new Error(`subPath "${sub}" escapes volume "${vm.name}"`);
        }
        if (!existsSync(full)) mkdirSync(full, { recursive: true, mode: 0o755 });
        hostPath = full;
      }
      out.push({ hostPath, containerPath: vm.mountPath, readOnly: vm.readOnly === true || v.readOnly });
    }
    return out;
  }

  /** Unmounts tmpfs volumes and removes the pod's directory. */
  async teardown(uid: string): Promise<void> {
    this.staticReady.delete(uid);
    const dir = this.podDir(uid);
    if (!existsSync(dir)) return;
    const empty = join(dir, "volumes", "kubernetes.io~empty-dir");
    if (existsSync(empty)) {
      for (const name of readdirSync(empty)) {
        const p = join(empty, name);
        if (isMountPoint(p)) await run("umount", [p]).catch(() => run("umount", ["-l", p]));
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
