/**
 * @module Builds the OCI runtime spec (`config.json`) for one container from the agent's
 * `ContainerConfig`, the pod's `SandboxConfig` and the paths the runtime prepared (rootfs,
 * namespaces, sandbox files). Pure: no I/O, so it is tested as a table of inputs → fields.
 * Defaults follow containerd's CRI plugin: the 14 default capabilities, its masked and
 * read-only paths, its default mounts, `RLIMIT_NOFILE` 1048576, CPU period 100 ms.
 */
import type { ContainerConfig, SandboxConfig } from "../types.ts";
import type { OciMount, OciNamespace, OciResources, OciSpec } from "./spec-types.ts";

/** The capabilities Docker and containerd give a container by default. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** containerd's default masked paths (made unreadable in the container). */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

/** containerd's default read-only paths. */
export const DEFAULT_READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

/** CFS period used for CPU limits (µs), as the kubelet uses. */
export const CPU_PERIOD_US = 100_000;
/** The kubelet's minimum CFS quota (µs). */
const MIN_QUOTA_US = 1000;
/** `RLIMIT_NOFILE` soft and hard limit, as containerd sets it. */
export const DEFAULT_NOFILE = 1_048_576;
/** Used when neither the image nor the pod sets `PATH`. */
export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** What the runtime prepared for the container, besides the two configs. */
export interface SpecPaths {
  /** The mounted root filesystem (an overlayfs snapshot). */
  rootfs: string;
  /** Network namespace to join (`/var/run/netns/…`); "" = the host's (host network). */
  netnsPath: string;
  /** Persistent UTS / IPC namespaces of the sandbox to join; "" = a new one per container. */
  utsPath?: string;
  ipcPath?: string;
  /** Sandbox files bind-mounted over `/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`; "" = none. */
  hostsFile: string;
  resolvConf: string;
  hostnameFile: string;
}

/** A resolved user: numeric ids, as runc needs them. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

/** Everything `buildSpec` reads. */
export interface SpecInput {
  containerId: string;
  container: ContainerConfig;
  sandbox: SandboxConfig;
  paths: SpecPaths;
  user: ResolvedUser;
  /**
   * `RLIMIT_NOFILE` (soft = hard); `DEFAULT_NOFILE` when unset. Without CAP_SYS_RESOURCE a
   * limit above the runtime's own hard limit fails `runc create`, so callers cap it.
   */
  nofile?: number;
  /** `/proc/<pid>/oom_score_adj` for the container's processes; unset = inherit. */
  oomScoreAdj?: number;
}

/** The CFS quota (µs per 100 ms period) for a limit in millicores, as the kubelet computes it. */
export function milliCpuToQuota(millis: number): number {
  if (millis <= 0) return 0;
  return Math.max(MIN_QUOTA_US, Math.floor((millis * CPU_PERIOD_US) / 1000));
}

/** Builds the OCI runtime spec for one container. */
export function buildSpec(input: SpecInput): OciSpec {
  const { container, sandbox, paths, user } = input;
  const newUts = !paths.utsPath && !sandbox.hostNetwork;
  const namespaces: OciNamespace[] = [{ type: "pid" }, { type: "mount" }];
  namespaces.push(paths.ipcPath ? { type: "ipc", path: paths.ipcPath } : { type: "ipc" });
  if (paths.utsPath) namespaces.push({ type: "uts", path: paths.utsPath });
  else if (newUts) namespaces.push({ type: "uts" });
  if (paths.netnsPath) namespaces.push({ type: "network", path: paths.netnsPath });

  const spec: OciSpec = {
    ociVersion: "1.0.2-dev",
    process: {
      terminal: container.tty,
      user: user.additionalGids?.length
        ? { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids }
        : { uid: user.uid, gid: user.gid },
      args: container.argv,
      env: buildEnv(container.env, sandbox.hostname),
      cwd: container.workingDir || "/",
      capabilities: {
        bounding: [...DEFAULT_CAPABILITIES],
        effective: [...DEFAULT_CAPABILITIES],
        permitted: [...DEFAULT_CAPABILITIES],
      },
      rlimits: [
        { type: "RLIMIT_NOFILE", hard: input.nofile ?? DEFAULT_NOFILE, soft: input.nofile ?? DEFAULT_NOFILE },
      ],
      noNewPrivileges: false,
    },
    root: { path: paths.rootfs, readonly: false },
    mounts: buildMounts(container, paths),
    annotations: {
      "io.kubernetes.pod.uid": sandbox.uid,
      "io.kubernetes.pod.namespace": sandbox.namespace,
      "io.kubernetes.pod.name": sandbox.name,
      "io.kubernetes.container.name": container.name,
    },
    linux: {
      namespaces,
      resources: buildResources(container),
      cgroupsPath: `${sandbox.cgroupParent.replace(/\/+$/, "")}/${input.containerId}`,
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
  if (newUts) spec.hostname = sandbox.hostname;
  if (input.oomScoreAdj !== undefined) spec.process.oomScoreAdj = input.oomScoreAdj;
  return spec;
}

/** `HOSTNAME` first (as containerd adds it), then the resolved env; a default PATH if none. */
function buildEnv(env: string[], hostname: string): string[] {
  const out = [`HOSTNAME=${hostname}`, ...env];
  if (!env.some((e) => e.startsWith("PATH="))) out.splice(1, 0, DEFAULT_PATH);
  return out;
}

function buildResources(c: ContainerConfig): OciResources {
  const r: OciResources = { devices: [{ allow: false, access: "rwm" }] };
  if (c.memoryLimitBytes !== undefined && c.memoryLimitBytes > 0) {
    // swap = limit: no swap on top of the memory limit, as the kubelet wants on cgroup v1.
    r.memory = { limit: c.memoryLimitBytes, swap: c.memoryLimitBytes };
  }
  const cpu: NonNullable<OciResources["cpu"]> = {};
  if (c.cpuShares !== undefined && c.cpuShares > 0) cpu.shares = c.cpuShares;
  if (c.cpuQuotaMillis !== undefined && c.cpuQuotaMillis > 0) {
    cpu.quota = milliCpuToQuota(c.cpuQuotaMillis);
    cpu.period = CPU_PERIOD_US;
  }
  if (Object.keys(cpu).length > 0) r.cpu = cpu;
  if (c.pidsLimit !== undefined && c.pidsLimit > 0) r.pids = { limit: c.pidsLimit };
  return r;
}

const DEFAULT_MOUNTS: readonly OciMount[] = [
  { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
  {
    destination: "/dev",
    type: "tmpfs",
    source: "tmpfs",
    options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
  },
  {
    destination: "/dev/pts",
    type: "devpts",
    source: "devpts",
    options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
  },
  {
    destination: "/dev/shm",
    type: "tmpfs",
    source: "shm",
    options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
  },
  { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
  { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
  {
    destination: "/sys/fs/cgroup",
    type: "cgroup",
    source: "cgroup",
    options: ["nosuid", "noexec", "nodev", "relatime", "ro"],
  },
];

function bind(source: string, destination: string, readOnly: boolean): OciMount {
  return { destination, type: "bind", source, options: ["rbind", "rprivate", readOnly ? "ro" : "rw"] };
}

/** Default mounts, then sandbox files, then the pod's volumes (shallow paths first). */
function buildMounts(c: ContainerConfig, paths: SpecPaths): OciMount[] {
  const userDest = new Set(c.mounts.map((m) => cleanPath(m.containerPath)));
  const out: OciMount[] = [];
  for (const m of DEFAULT_MOUNTS) {
    // A pod volume over a default destination wins, as in containerd.
    if (userDest.has(m.destination)) continue;
    out.push({ ...m, options: [...(m.options ?? [])] });
  }
  const files: [string, string][] = [
    [paths.hostsFile, "/etc/hosts"],
    [paths.resolvConf, "/etc/resolv.conf"],
    [paths.hostnameFile, "/etc/hostname"],
  ];
  for (const [src, dest] of files) {
    if (src && !userDest.has(dest)) out.push(bind(src, dest, false));
  }
  const volumes = c.mounts
    .map((m) => bind(m.hostPath, cleanPath(m.containerPath), m.readOnly))
    .sort((a, b) => depth(a.destination) - depth(b.destination));
  out.push(...volumes);
  return out;
}

function cleanPath(p: string): string {
  const parts = p.split("/").filter((s) => s !== "" && s !== ".");
  return "/" + parts.join("/");
}

function depth(p: string): number {
  return p === "/" ? 0 : p.split("/").length - 1;
}
