/**
 * @module Starting one container of a pod, as upstream's kuberuntime startContainer: make sure
 * the image is in the local store (honouring imagePullPolicy, with pull backoff), resolve env,
 * argv, mounts and cgroup limits into a `ContainerConfig`, create, start, then run the
 * postStart hook. Each failure leaves a waiting reason (ErrImagePull, ImagePullBackOff,
 * ErrImageNeverPull, CreateContainerConfigError, CreateContainerError) and the event upstream
 * records.
 */
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import type { Container, Pod, Service } from "../api/types/core-v1.ts";
import { normalizeImageRef, parseImageRef } from "../runtime/images/reference.ts";
import type { ContainerConfig, ContainerRuntime, ImageInfo, Mount } from "../runtime/types.ts";
import type { Backoff } from "./backoff.ts";
import { containerArgv } from "./container-argv.ts";
import { ContainerConfigError, mergeEnv, resolveEnv, type ObjectSource } from "./env.ts";
import { runLifecycleHandler } from "./lifecycle.ts";
import type { Waiting } from "./pod-status.ts";
import { containerLimits } from "./qos.ts";
import type { Recorder } from "./recorder.ts";
import type { MountedVolume, VolumeManager } from "./volumes/volume-manager.ts";

/** Container labels (upstream's names where they exist). */
export const LABEL_POD_UID = "io.kubernetes.pod.uid";
export const LABEL_POD_NAME = "io.kubernetes.pod.name";
export const LABEL_POD_NAMESPACE = "io.kubernetes.pod.namespace";
export const LABEL_CONTAINER_NAME = "io.kubernetes.container.name";
export const LABEL_RESTART_COUNT = "io.kubernetes.container.restartCount";
export const LABEL_HASH = "kites.io/container-hash";
export const LABEL_TERMINATION_LOG = "kites.io/termination-log";

/** What starting a container needs from the agent. */
export interface StartDeps {
  runtime: ContainerRuntime;
  recorder: Recorder;
  volumes: VolumeManager;
  objects: ObjectSource;
  services(pod: Pod): Service[];
  allocatable(): Record<string, string>;
  imageBackoff: Backoff;
  logsDir: string;
  podPidsLimit?: number;
  nodeIP: string;
}

/** Result of an attempt: started (with id), or waiting with a reason; `retryMs` asks for a re-sync. */
export type StartResult = { ok: true; id: string } | { ok: false; waiting: Waiting; retryMs?: number };

/** `<ns>_<name>(<uid>)` as upstream's format.Pod. */
export function podDesc(pod: Pod): string {
  return `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
}

/** A stable hash of a container's spec: a change restarts the container. */
export function containerHash(c: Container): string {
  return createHash("sha256").update(JSON.stringify(c)).digest("hex").slice(0, 16);
}

/** The default pull policy: Always for `:latest` or untagged images, else IfNotPresent. */
export function pullPolicy(c: Container): string {
  if (c.imagePullPolicy) return c.imagePullPolicy;
  try {
    const p = parseImageRef(c.image ?? "");
    return !p.digest && (p.tag === undefined || p.tag === "latest") ? "Always" : "IfNotPresent";
  } catch {
    return "IfNotPresent";
  }
}

/** Upstream's log path: `<logs>/<ns>_<name>_<uid>/<container>/<attempt>.log`. */
export function containerLogPath(logsDir: string, pod: Pod, container: string, attempt: number): string {
  return join(
    logsDir,
    `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`,
    container,
    `${attempt}.log`,
  );
}

/** Makes sure the image is local; records events and returns the image or a waiting reason. */
export async function ensureImage(
  deps: StartDeps,
  pod: Pod,
  c: Container,
): Promise<ImageInfo | (Waiting & { retryMs?: number })> {
  const image = c.image ?? "";
  let ref: string;
  try {
    ref = normalizeImageRef(image);
  } catch (e) {
    const message = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": ${(e as Error).message}`;
    deps.recorder.event(pod, "Warning", "InspectFailed", message);
    return { reason: "InvalidImageName", message };
  }
  const policy = pullPolicy(c);
  const found = await deps.runtime.getImage(ref);
  if (found) {
    deps.recorder.event(pod, "Normal", "Pulled", `Container image "${image}" already present on machine`);
    return found;
  }
  if (policy === "Never") {
    const message = `Container image "${image}" is not present with pull policy of Never`;
    deps.recorder.event(pod, "Warning", "ErrImageNeverPull", message);
    return { reason: "ErrImageNeverPull", message };
  }
  const key = `${pod.metadata.uid}/${image}`;
  const fail = `Failed to pull image "${image}": image not found in the local store; import it with "kites image import FILE"`;
  const left = deps.imageBackoff.remainingSinceUpdate(key);
  if (left > 0) {
    deps.recorder.event(pod, "Normal", "BackOff", `Back-off pulling image "${image}"`);
    return {
      reason: "ImagePullBackOff",
      message: `Back-off pulling image "${image}": ErrImagePull: ${fail}`,
      retryMs: left,
    };
  }
  deps.recorder.event(pod, "Normal", "Pulling", `Pulling image "${image}"`);
  const delay = deps.imageBackoff.next(key);
  deps.recorder.event(pod, "Warning", "Failed", fail);
  deps.recorder.event(pod, "Warning", "Failed", "Error: ErrImagePull");
  return { reason: "ErrImagePull", message: fail, retryMs: delay };
}

/** Creates and starts container `c` as attempt `attempt`. */
export async function startContainer(
  deps: StartDeps,
  pod: Pod,
  c: Container,
  attempt: number,
  volumes: ReadonlyMap<string, MountedVolume>,
  podIP: string,
  podDir: string,
): Promise<StartResult> {
  const img = await ensureImage(deps, pod, c);
  if (!("id" in img))
    return { ok: false, waiting: { reason: img.reason, message: img.message }, retryMs: img.retryMs };
  let config: ContainerConfig;
  try {
    const env = resolveEnv(pod, c, {
      objects: deps.objects,
      services: deps.services(pod),
      podIPs: podIP ? [podIP] : [],
      hostIPs: [deps.nodeIP],
      allocatable: deps.allocatable(),
      warn: (reason, message) => deps.recorder.event(pod, "Warning", reason, message),
    });
    const envMap = new Map(env);
    const argv = containerArgv(c.command, c.args, img.entrypoint, img.cmd, (n) => envMap.get(n));
    const mounts: Mount[] = deps.volumes.containerMounts(c, volumes, envMap);
    const termPath = c.terminationMessagePath ?? "/dev/termination-log";
    const termDir = join(podDir, "containers", c.name);
    mkdirSync(termDir, { recursive: true });
    const termFile = join(termDir, `${attempt}-termination-log`);
    closeSync(openSync(termFile, "w", 0o666));
    if (!mounts.some((m) => m.containerPath === termPath))
      mounts.push({ hostPath: termFile, containerPath: termPath, readOnly: false });
    const limits = containerLimits(c);
    const sc = c.securityContext;
    const uid = sc?.runAsUser ?? pod.spec?.securityContext?.runAsUser;
    const gid = sc?.runAsGroup ?? pod.spec?.securityContext?.runAsGroup;
    config = {
      name: c.name,
      image: img.ref,
      argv,
      env: mergeEnv(img.env, env),
      workingDir: c.workingDir || img.workingDir || "/",
      user: uid !== undefined ? (gid !== undefined ? `${uid}:${gid}` : String(uid)) : "",
      tty: c.tty === true,
      stdin: c.stdin === true,
      stdinOnce: c.stdinOnce === true,
      mounts,
      cpuShares: limits.cpuShares,
      logPath: containerLogPath(deps.logsDir, pod, c.name, attempt),
      attempt,
      labels: {
        [LABEL_POD_UID]: pod.metadata.uid ?? "",
        [LABEL_POD_NAME]: pod.metadata.name ?? "",
        [LABEL_POD_NAMESPACE]: pod.metadata.namespace ?? "",
        [LABEL_CONTAINER_NAME]: c.name,
        [LABEL_RESTART_COUNT]: String(attempt),
        [LABEL_HASH]: containerHash(c),
        [LABEL_TERMINATION_LOG]: termFile,
      },
    };
    if (limits.memoryLimitBytes !== undefined) config.memoryLimitBytes = limits.memoryLimitBytes;
    if (limits.cpuQuotaMillis !== undefined) config.cpuQuotaMillis = limits.cpuQuotaMillis;
    if (deps.podPidsLimit !== undefined && deps.podPidsLimit > 0) config.pidsLimit = deps.podPidsLimit;
    if (argv.length === 0) throw new Error("no command specified");
  } catch (e) {
    const message = (e as Error).message;
    const reason = e instanceof ContainerConfigError ? "CreateContainerConfigError" : "CreateContainerError";
    deps.recorder.event(pod, "Warning", "Failed", `Error: ${message}`);
    return { ok: false, waiting: { reason, message }, retryMs: 10_000 };
  }
  let id: string;
  try {
    mkdirSync(join(config.logPath, ".."), { recursive: true });
    id = await deps.runtime.createContainer(pod.metadata.uid ?? "", config);
  } catch (e) {
    const message = (e as Error).message;
    deps.recorder.event(pod, "Warning", "Failed", `Error: ${message}`);
    return { ok: false, waiting: { reason: "CreateContainerError", message }, retryMs: 10_000 };
  }
  deps.recorder.event(pod, "Normal", "Created", `Created container: ${c.name}`);
  try {
    await deps.runtime.startContainer(id);
  } catch (e) {
    deps.recorder.event(pod, "Warning", "Failed", `Error: ${(e as Error).message}`);
    return { ok: true, id };
  }
  deps.recorder.event(pod, "Normal", "Started", `Started container ${c.name}`);
  const postStart = c.lifecycle?.postStart;
  if (postStart) {
    const r = await runLifecycleHandler(deps.runtime, postStart, c, id, podIP, 120_000);
    if (!r.ok) {
      const msg = r.output;
      deps.recorder.event(pod, "Warning", "FailedPostStartHook", msg);
      deps.recorder.event(pod, "Normal", "Killing", `FailedPostStartHook`);
      await deps.runtime.stopContainer(id, pod.spec?.terminationGracePeriodSeconds ?? 30);
    }
  }
  return { ok: true, id };
}
