/**
 * @module The seam between the node agent (`src/kubelet`) and the container runtime
 * (`src/runtime`): the agent asks for pod sandboxes (a network namespace with an IP) and
 * containers in them; the runtime answers with states. The real implementation runs
 * containers with runc on overlayfs snapshots of OCI images; a fake one serves unit tests.
 * Modelled on the CRI (RunPodSandbox, CreateContainer, StartContainer, …), trimmed to what
 * the agent uses.
 */

/** An image as the local store knows it. */
export interface ImageInfo {
  /** Normalised reference, e.g. `docker.io/library/busybox:latest`. */
  ref: string;
  /** `sha256:…` of the manifest. */
  digest: string;
  /** `sha256:…` of the image config (what `kubectl get pod -o yaml` shows as imageID). */
  id: string;
  size: number;
  /** From the image config. */
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  user: string;
}

export interface SandboxConfig {
  /** Pod uid: the sandbox's identity. */
  uid: string;
  namespace: string;
  name: string;
  hostname: string;
  /** `hostNetwork: true` pods share the node's network namespace. */
  hostNetwork: boolean;
  /** Cgroup parent for the pod (limits of the whole pod), e.g. `/kites/pod<uid>`. */
  cgroupParent: string;
  /** Files written into the sandbox and bind-mounted into every container. */
  hostsFile: string;
  resolvConf: string;
  /** Other sandbox-wide settings follow in `annotations`, opaque to the runtime. */
  annotations?: Record<string, string>;
}

export interface SandboxStatus {
  uid: string;
  /** Pod IP; the node's IP for host-network pods. */
  ip: string;
  /** `/var/run/netns/<name>` path, or "" for host network. */
  netnsPath: string;
  ready: boolean;
}

export interface Mount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface ContainerConfig {
  /** Container name within the pod. */
  name: string;
  /** Normalised image reference; must be present in the image store. */
  image: string;
  /** Final argv, already resolved from command/args against the image's ENTRYPOINT/CMD. */
  argv: string[];
  /** `NAME=value` entries, already resolved (image env, then pod env). */
  env: string[];
  workingDir: string;
  /** uid[:gid] (numeric) to run as; "" for the image's user. */
  user: string;
  tty: boolean;
  stdin: boolean;
  /** Pod `stdinOnce`: stdin closes when the first attached client detaches. */
  stdinOnce?: boolean;
  mounts: Mount[];
  /** Limits: bytes, millicores (quota), cpu shares, pids; undefined = unlimited. */
  memoryLimitBytes?: number;
  cpuQuotaMillis?: number;
  cpuShares?: number;
  pidsLimit?: number;
  /** Absolute path of the file the container's stdout/stderr are written to (CRI log format). */
  logPath: string;
  /** Restart counter of this container name, kept in labels so a restart of the agent knows it. */
  attempt: number;
  labels?: Record<string, string>;
}

export type ContainerStateName = "created" | "running" | "exited" | "unknown";

export interface ContainerStatus {
  /** Runtime id (unique per attempt). */
  id: string;
  name: string;
  podUid: string;
  attempt: number;
  state: ContainerStateName;
  /** ISO-8601 times. */
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  /** `OOMKilled`, `Error`, `Completed`, `StartError`, … when exited. */
  reason?: string;
  message?: string;
  imageRef: string;
  imageId: string;
  logPath: string;
  labels: Record<string, string>;
}

/** Result of running a command in a container (probes, hooks). */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A process started in a container with streams attached (kubectl exec/attach). */
export interface ExecProcess {
  stdin: NodeJS.WritableStream | null;
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream | null;
  /** Resolves with the exit code. */
  exited: Promise<number>;
  resize(cols: number, rows: number): void;
  kill(signal?: NodeJS.Signals): void;
}

/** A container's cgroup counters (CRI ContainerStats' cpu and memory). */
export interface ContainerStats {
  cpuUsageNanoCores?: number;
  cpuUsageCoreNanoSeconds: number;
  memoryWorkingSetBytes: number;
  memoryUsageBytes: number;
  /** Anonymous memory (v2 `anon`, v1 `total_rss`), when the cgroup reports it. */
  memoryRssBytes?: number;
  /** Cumulative minor and major page faults, when the cgroup reports them. */
  memoryPageFaults?: number;
  memoryMajorPageFaults?: number;
}

/**
 * What the node agent needs from a container runtime. All methods are idempotent where it
 * makes sense (removing something gone is not an error).
 */
export interface ContainerRuntime {
  readonly name: string;
  readonly version: string;
  /** Images. `pullImage` only resolves from local sources (import, local registry). */
  getImage(ref: string): Promise<ImageInfo | undefined>;
  listImages(): Promise<ImageInfo[]>;
  /** Sandboxes. */
  runSandbox(config: SandboxConfig): Promise<SandboxStatus>;
  stopSandbox(uid: string): Promise<void>;
  removeSandbox(uid: string): Promise<void>;
  listSandboxes(): Promise<SandboxStatus[]>;
  /** Containers. `createContainer` returns the new container's id. */
  createContainer(podUid: string, config: ContainerConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM, wait up to `gracePeriodSeconds`, then SIGKILL. */
  stopContainer(id: string, gracePeriodSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  listContainers(podUid?: string): Promise<ContainerStatus[]>;
  containerStatus(id: string): Promise<ContainerStatus | undefined>;
  /** Runs a command to completion (exec probes, hooks), killed after `timeoutMs`. */
  execSync(id: string, argv: string[], timeoutMs: number): Promise<ExecResult>;
  /** Starts a command with streams (kubectl exec). */
  exec(id: string, argv: string[], opts: { tty: boolean; stdin: boolean }): Promise<ExecProcess>;
  containerStats(id: string): Promise<ContainerStats | undefined>;
  /**
   * Makes the container's log writer reopen `logPath` (CRI ReopenContainerLog), used after
   * log rotation renamed the current file away. Optional: runtimes without it are not rotated.
   */
  reopenContainerLog?(id: string): Promise<void>;
  /**
   * Attaches to a running container's own stdin (created with `stdin: true`) and terminal
   * (kubectl attach -i). Output is read from the container's log by the caller. Optional.
   */
  attach?(id: string): Promise<AttachSession>;
}

/** An attachment to a container's stdin and terminal. */
export interface AttachSession {
  /** Bytes written here reach the container's stdin; ending it detaches stdin. */
  stdin: NodeJS.WritableStream;
  /** Resizes the container's terminal (tty containers). */
  resize(width: number, height: number): void;
  /** Detaches. */
  close(): void;
}
