/**
 * @module An in-memory `ContainerRuntime` for the node agent's unit tests: images are
 * registered by the test, sandboxes get IPs from a counter, containers "run" until the test
 * (or a script) makes them exit, and every call is logged in order in `calls`. No processes,
 * no timing: a container exits only when `exitContainer` is called, when its script says it
 * exits at start, or when it is stopped.
 */
import { randomUUID } from "node:crypto";
import { PassThrough } from "node:stream";
import type {
  ContainerConfig,
  ContainerRuntime,
  ContainerStats,
  ContainerStatus,
  ExecProcess,
  ExecResult,
  ImageInfo,
  SandboxConfig,
  SandboxStatus,
} from "./types.ts";

/** What a fake container does; returned by `FakeRuntime.script` per container. */
export interface FakeContainerScript {
  /** `createContainer` rejects with this message. */
  createError?: string;
  /** `startContainer` fails: the container ends exited with reason StartError, exit 128. */
  startError?: string;
  /** Exit at once after start with this code (reason Completed/Error, or `reason`). */
  exitOnStart?: number;
  /** Reason to report with `exitOnStart` (e.g. `OOMKilled`). */
  reason?: string;
  /** Stopping sends SIGTERM; a container that ignores it is SIGKILLed (137) instead of 143. */
  ignoresSigterm?: boolean;
}

interface FakeContainer {
  status: ContainerStatus;
  config: ContainerConfig;
  script: FakeContainerScript;
}

/** Everything a container was created with, for assertions. */
export interface FakeContainerRecord {
  id: string;
  podUid: string;
  config: ContainerConfig;
}

/** A scriptable in-memory runtime. */
export class FakeRuntime implements ContainerRuntime {
  readonly name = "fake";
  readonly version = "1.0.0-fake";
  /** Every call, in order: `runSandbox <uid>`, `createContainer <uid>/<name>`, `startContainer <name>`, … */
  readonly calls: string[] = [];
  /** Every container ever created (also after removal). */
  readonly created: FakeContainerRecord[] = [];
  /** Decides what a new container does. */
  script: (podUid: string, config: ContainerConfig) => FakeContainerScript = () => ({});
  /** Answers `execSync` (probes, hooks). Default: exit 0. */
  execHandler: (id: string, name: string, argv: string[]) => ExecResult | Promise<ExecResult> = () => ({
    exitCode: 0,
    stdout: "",
    stderr: "",
  });
  /** Called whenever a container changes state (tests wait on it). */
  onChange: () => void = () => {};
  private readonly images = new Map<string, ImageInfo>();
  private readonly sandboxes = new Map<string, { config: SandboxConfig; status: SandboxStatus }>();
  private readonly containers = new Map<string, FakeContainer>();
  private nextIp = 2;

  /** Registers an image (normalised reference). */
  addImage(ref: string, partial: Partial<ImageInfo> = {}): ImageInfo {
    const img: ImageInfo = {
      ref,
      digest: `sha256:${"d".repeat(64)}`,
      id: `sha256:${"a".repeat(64)}`,
      size: 1024,
      entrypoint: [],
      cmd: ["sh"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      workingDir: "",
      user: "",
      ...partial,
    };
    this.images.set(ref, img);
    return img;
  }

  async getImage(ref: string): Promise<ImageInfo | undefined> {
    return this.images.get(ref);
  }

  async listImages(): Promise<ImageInfo[]> {
    return [...this.images.values()];
  }

  async runSandbox(config: SandboxConfig): Promise<SandboxStatus> {
    this.calls.push(`runSandbox ${config.uid}`);
    const existing = this.sandboxes.get(config.uid);
    if (existing) return { ...existing.status };
    const status: SandboxStatus = {
      uid: config.uid,
      ip: config.hostNetwork ? "192.0.2.1" : `10.244.0.${this.nextIp++}`,
      netnsPath: config.hostNetwork ? "" : `/var/run/netns/kites-${config.uid}`,
      ready: true,
    };
    this.sandboxes.set(config.uid, { config, status });
    return { ...status };
  }

  /** The config a sandbox was created with. */
  sandboxConfig(uid: string): SandboxConfig | undefined {
    return this.sandboxes.get(uid)?.config;
  }

  async stopSandbox(uid: string): Promise<void> {
    this.calls.push(`stopSandbox ${uid}`);
    const s = this.sandboxes.get(uid);
    if (s) s.status.ready = false;
    for (const c of this.containers.values())
      if (c.status.podUid === uid && c.status.state === "running") this.exit(c, 137, "Error");
  }

  async removeSandbox(uid: string): Promise<void> {
    this.calls.push(`removeSandbox ${uid}`);
    this.sandboxes.delete(uid);
  }

  async listSandboxes(): Promise<SandboxStatus[]> {
    return [...this.sandboxes.values()].map((s) => ({ ...s.status }));
  }

  async createContainer(podUid: string, config: ContainerConfig): Promise<string> {
    this.calls.push(`createContainer ${podUid}/${config.name}`);
    if (!this.sandboxes.has(podUid)) throw new Error(`sandbox ${podUid} not found`);
    const script = this.script(podUid, config);
    if (script.createError) throw new Error(script.createError);
    const img = this.images.get(config.image);
    if (!img) throw new Error(`image ${config.image} not found`);
    const id = randomUUID().replace(/-/g, "");
    this.created.push({ id, podUid, config });
    this.containers.set(id, {
      config,
      script,
      status: {
        id,
        name: config.name,
        podUid,
        attempt: config.attempt,
        state: "created",
        createdAt: new Date().toISOString(),
        imageRef: img.ref,
        imageId: img.id,
        logPath: config.logPath,
        labels: { ...config.labels },
      },
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.must(id);
    this.calls.push(`startContainer ${c.config.name}`);
    const now = new Date().toISOString();
    if (c.script.startError) {
      c.status.state = "exited";
      c.status.exitCode = 128;
      c.status.reason = "StartError";
      c.status.message = c.script.startError;
      c.status.startedAt = now;
      c.status.finishedAt = now;
      this.onChange();
      throw new Error(c.script.startError);
    }
    c.status.state = "running";
    c.status.startedAt = now;
    if (c.script.exitOnStart !== undefined) {
      this.exit(c, c.script.exitOnStart, c.script.reason);
    } else this.onChange();
  }

  async stopContainer(id: string, gracePeriodSeconds: number): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    this.calls.push(`stopContainer ${c.config.name} ${gracePeriodSeconds}`);
    if (c.status.state !== "running") return;
    if (c.script.ignoresSigterm || gracePeriodSeconds <= 0) this.exit(c, 137, "Error");
    else this.exit(c, 143, "Error");
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    this.calls.push(`removeContainer ${c.config.name}`);
    this.containers.delete(id);
  }

  async listContainers(podUid?: string): Promise<ContainerStatus[]> {
    const out: ContainerStatus[] = [];
    for (const c of this.containers.values()) {
      if (podUid === undefined || c.status.podUid === podUid)
        out.push({ ...c.status, labels: { ...c.status.labels } });
    }
    return out;
  }

  async containerStatus(id: string): Promise<ContainerStatus | undefined> {
    const c = this.containers.get(id);
    return c ? { ...c.status } : undefined;
  }

  async execSync(id: string, argv: string[], _timeoutMs: number): Promise<ExecResult> {
    const c = this.must(id);
    this.calls.push(`exec ${c.config.name} ${argv.join(" ")}`);
    if (c.status.state !== "running") throw new Error(`container ${id} is not running`);
    return this.execHandler(id, c.config.name, argv);
  }

  async exec(id: string, argv: string[], _opts: { tty: boolean; stdin: boolean }): Promise<ExecProcess> {
    const r = await this.execSync(id, argv, 0);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.end(r.stdout);
    stderr.end(r.stderr);
    return { stdin: null, stdout, stderr, exited: Promise.resolve(r.exitCode), resize() {}, kill() {} };
  }

  async containerStats(id: string): Promise<ContainerStats | undefined> {
    return this.containers.has(id)
      ? { cpuUsageCoreNanoSeconds: 0, memoryWorkingSetBytes: 0, memoryUsageBytes: 0 }
      : undefined;
  }

  /** Makes a running container exit now, as if its process ended. */
  exitContainer(id: string, exitCode: number, reason?: string): void {
    const c = this.must(id);
    if (c.status.state === "running") this.exit(c, exitCode, reason);
  }

  /** The newest container of a pod with this name, if any. */
  latest(podUid: string, name: string): ContainerStatus | undefined {
    let best: ContainerStatus | undefined;
    for (const c of this.containers.values()) {
      if (c.status.podUid === podUid && c.status.name === name && (!best || c.status.attempt > best.attempt))
        best = c.status;
    }
    return best ? { ...best } : undefined;
  }

  /** Number of sandboxes and containers still present. */
  get counts(): { sandboxes: number; containers: number } {
    return { sandboxes: this.sandboxes.size, containers: this.containers.size };
  }

  private exit(c: FakeContainer, exitCode: number, reason?: string): void {
    c.status.state = "exited";
    c.status.exitCode = exitCode;
    c.status.reason = reason ?? (exitCode === 0 ? "Completed" : "Error");
    c.status.finishedAt = new Date().toISOString();
    this.onChange();
  }

  private must(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`container ${id} not found`);
    return c;
  }
}
