/**
 * @module What a pod worker does for one pod (upstream's SyncPod, SyncTerminatingPod and
 * SyncTerminatedPod, trimmed): set up volumes and the sandbox, run init containers in order to
 * completion, start and restart app containers per restartPolicy with CrashLoopBackOff,
 * restart containers whose liveness/startup probe failed or whose spec changed, and write the
 * status; kill a pod gracefully (preStop, SIGTERM, grace period, SIGKILL); tear it down
 * completely once deleted.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Container, Pod, PodStatus } from "../api/types/core-v1.ts";
import type { ContainerRuntime, ContainerStatus, SandboxStatus } from "../runtime/types.ts";
import { Backoff, formatDuration } from "./backoff.ts";
import {
  LABEL_HASH,
  LABEL_TERMINATION_LOG,
  containerHash,
  podDesc,
  startContainer,
  type StartDeps,
} from "./container-start.ts";
import {
  podHostname,
  podHostsFile,
  podResolvConf,
  formatResolvConf,
  type ClusterDNS,
  type ResolvConf,
} from "./dns.ts";
import { runLifecycleHandler } from "./lifecycle.ts";
import { attemptsByName, computePodStatus, isSidecar, type Waiting } from "./pod-status.ts";
import type { ProbeManager } from "./probes.ts";
import { podCgroupParent, podQOS } from "./qos.ts";
import { VolumeError, type MountedVolume } from "./volumes/volume-manager.ts";
import type { TokenSource } from "./volumes/projection.ts";

/** What the syncer needs besides what starting containers needs. */
export interface SyncDeps extends StartDeps {
  probes: ProbeManager;
  dns: ClusterDNS;
  hostResolv(): ResolvConf;
  hostHosts(): string;
  token?: TokenSource;
  runtimeScheme: string;
  /** Writes the pod's status (only when changed). */
  writeStatus(pod: Pod, status: PodStatus): Promise<void>;
  now?: () => number;
}

/** What one sync asks of its worker. */
export interface SyncResult {
  /** Sync again after this long (backoffs, deadlines); undefined waits for an event. */
  requeueAfterMs?: number;
  /** The pod reached a terminal phase: terminate it. */
  terminal?: boolean;
}

interface PodState {
  sandbox?: SandboxStatus;
  waiting: Map<string, Waiting>;
  startTime?: string;
  failure?: { reason: string; message: string };
  terminated?: boolean;
}

const MIN_GRACE_SECONDS = 2;
const RESYNC_MS = 60_000;

/** Decides and performs the runtime actions for pods; one call at a time per pod (the worker's job). */
export class PodSyncer {
  readonly restartBackoff: Backoff;
  private readonly states = new Map<string, PodState>();
  private readonly termMessages = new Map<string, string>();
  private readonly mountBackoff: Backoff;
  private readonly now: () => number;

  constructor(private readonly deps: SyncDeps) {
    this.now = deps.now ?? Date.now;
    this.restartBackoff = new Backoff(10_000, 300_000, this.now);
    this.mountBackoff = new Backoff(500, 122_000, this.now);
  }

  private state(uid: string): PodState {
    let s = this.states.get(uid);
    if (!s) this.states.set(uid, (s = { waiting: new Map() }));
    return s;
  }

  /** Registers sandboxes found in the runtime at start (adoption). */
  adoptSandbox(sb: SandboxStatus): void {
    this.state(sb.uid).sandbox = sb;
  }

  private get runtime(): ContainerRuntime {
    return this.deps.runtime;
  }

  private podIPs(pod: Pod, st: PodState): string[] {
    if (pod.spec?.hostNetwork) return [this.deps.nodeIP];
    return st.sandbox?.ip ? [st.sandbox.ip] : [];
  }

  /** Brings the pod's containers toward its spec; writes status. */
  async sync(pod: Pod): Promise<SyncResult> {
    const uid = pod.metadata.uid ?? "";
    const st = this.state(uid);
    st.startTime ??= pod.status?.startTime ?? new Date(this.now()).toISOString().replace(/\.\d+Z$/, "Z");
    const requeue: number[] = [];

    const deadline = pod.spec?.activeDeadlineSeconds;
    if (deadline !== undefined && deadline !== null) {
      const left = Date.parse(st.startTime) + deadline * 1000 - this.now();
      if (left <= 0) {
        st.failure = {
          reason: "DeadlineExceeded",
          message: "Pod was active on the node longer than the specified deadline",
        };
        this.deps.recorder.event(pod, "Normal", "DeadlineExceeded", st.failure.message);
        await this.writeStatus(pod, false);
        return { terminal: true };
      }
      requeue.push(left);
    }

    // Volumes.
    const podDir = this.deps.volumes.podDir(uid);
    let volumes: Map<string, MountedVolume>;
    try {
      volumes = await this.deps.volumes.setup(pod, {
        objects: this.deps.objects,
        podIPs: this.podIPs(pod, st),
        hostIPs: [this.deps.nodeIP],
        allocatable: this.deps.allocatable(),
        token: this.deps.token,
      });
      this.mountBackoff.reset(uid);
    } catch (e) {
      const msg = e instanceof VolumeError ? e.message : `MountVolume.SetUp failed: ${(e as Error).message}`;
      this.deps.recorder.event(pod, "Warning", "FailedMount", msg);
      await this.writeStatus(pod, false);
      return { requeueAfterMs: this.mountBackoff.next(uid) };
    }

    // Sandbox.
    if (!st.sandbox || !st.sandbox.ready) {
      try {
        st.sandbox = await this.createSandbox(pod, podDir);
      } catch (e) {
        this.deps.recorder.event(
          pod,
          "Warning",
          "FailedCreatePodSandBox",
          `Failed to create pod sandbox: ${(e as Error).message}`,
        );
        await this.writeStatus(pod, false);
        return { requeueAfterMs: 5_000 };
      }
    }
    const podIP = this.podIPs(pod, st)[0] ?? "";

    const all = await this.runtime.listContainers(uid);
    const byName = attemptsByName(all);
    await this.gcAttempts(byName);
    const policy = pod.spec?.restartPolicy ?? "Always";

    // Init containers, in order.
    let initDone = true;
    const appStarted = (pod.spec?.containers ?? []).some((c) => byName.has(c.name));
    for (const c of pod.spec?.initContainers ?? []) {
      if (appStarted && !isSidecar(c)) continue;
      const latest = byName.get(c.name)?.[0];
      if (isSidecar(c)) {
        if (latest?.state === "running") {
          this.deps.probes.ensure(pod, c, latest.id, podIP, Date.parse(latest.startedAt ?? latest.createdAt));
          if (await this.killForProbe(pod, c, latest)) {
            const after = (await this.runtime.containerStatus(latest.id)) ?? latest;
            await this.startOrRestart(pod, c, after, true, volumes, podIP, podDir, requeue);
            initDone = false;
            break;
          }
          if (!this.deps.probes.isStarted(latest.id, c)) {
            initDone = false;
            break;
          }
          continue;
        }
        await this.startOrRestart(pod, c, latest, true, volumes, podIP, podDir, requeue);
        initDone = false;
        break;
      }
      if (!latest) {
        await this.startOrRestart(pod, c, undefined, false, volumes, podIP, podDir, requeue);
        initDone = false;
        break;
      }
      if (latest.state === "running" || latest.state === "created") {
        if (latest.state === "created") await this.runtime.startContainer(latest.id).catch(() => undefined);
        initDone = false;
        break;
      }
      if ((latest.exitCode ?? 0) === 0) {
        st.waiting.delete(c.name);
        continue;
      }
      initDone = false;
      if (policy === "Never") break;
      await this.startOrRestart(pod, c, latest, true, volumes, podIP, podDir, requeue);
      break;
    }

    // App containers.
    if (initDone) {
      for (const c of pod.spec?.containers ?? []) {
        const latest = byName.get(c.name)?.[0];
        if (latest?.state === "running") {
          if (latest.labels[LABEL_HASH] && latest.labels[LABEL_HASH] !== containerHash(c)) {
            this.deps.recorder.event(
              pod,
              "Normal",
              "Killing",
              `Container ${c.name} definition changed, will be restarted`,
            );
            await this.stopOne(latest, pod.spec?.terminationGracePeriodSeconds ?? 30);
            const after = (await this.runtime.containerStatus(latest.id)) ?? latest;
            await this.startOrRestart(pod, c, after, false, volumes, podIP, podDir, requeue, true);
            continue;
          }
          this.deps.probes.ensure(pod, c, latest.id, podIP, Date.parse(latest.startedAt ?? latest.createdAt));
          if (await this.killForProbe(pod, c, latest)) {
            const after = (await this.runtime.containerStatus(latest.id)) ?? latest;
            if (shouldRestart(policy, after.exitCode ?? 137)) {
              await this.startOrRestart(pod, c, after, true, volumes, podIP, podDir, requeue);
            }
          }
          continue;
        }
        if (latest?.state === "created") {
          await this.runtime.startContainer(latest.id).catch(() => undefined);
          continue;
        }
        if (latest && !shouldRestart(policy, latest.exitCode ?? 0)) {
          st.waiting.delete(c.name);
          continue;
        }
        await this.startOrRestart(pod, c, latest, latest !== undefined, volumes, podIP, podDir, requeue);
      }
    }

    const status = await this.writeStatus(pod, false);
    if (status.phase === "Succeeded" || status.phase === "Failed") return { terminal: true };
    const next = requeue.length > 0 ? Math.min(...requeue) : RESYNC_MS;
    return { requeueAfterMs: Math.max(next, 0) };
  }

  /** Kills the container if its liveness/startup probe failed; true when it did. */
  private async killForProbe(pod: Pod, c: Container, latest: ContainerStatus): Promise<boolean> {
    const failed = this.deps.probes.failed(latest.id);
    if (!failed) return false;
    this.deps.recorder.event(
      pod,
      "Normal",
      "Killing",
      `Container ${c.name} failed ${failed} probe, will be restarted`,
    );
    const grace = this.deps.probes.failedGrace(latest.id) ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    await this.stopOne(latest, grace);
    return true;
  }

  /**
   * Starts attempt 0, or a restart after `latest` exited (honouring the restart backoff unless
   * `skipBackoff`). Records the waiting reason on failure.
   */
  private async startOrRestart(
    pod: Pod,
    c: Container,
    latest: ContainerStatus | undefined,
    restart: boolean,
    volumes: ReadonlyMap<string, MountedVolume>,
    podIP: string,
    podDir: string,
    requeue: number[],
    skipBackoff = false,
  ): Promise<void> {
    const uid = pod.metadata.uid ?? "";
    const st = this.state(uid);
    const attempt = latest ? latest.attempt + 1 : 0;
    if (restart && latest && !skipBackoff) {
      const key = `${uid}/${c.name}`;
      const finished = Date.parse(latest.finishedAt ?? latest.createdAt);
      const left = this.restartBackoff.remaining(key, finished);
      if (left > 0) {
        const delay = formatDuration(this.restartBackoff.get(key));
        st.waiting.set(c.name, {
          reason: "CrashLoopBackOff",
          message: `back-off ${delay} restarting failed container=${c.name} pod=${podDesc(pod)}`,
        });
        this.deps.recorder.event(
          pod,
          "Warning",
          "BackOff",
          `Back-off restarting failed container ${c.name} in pod ${podDesc(pod)}`,
        );
        requeue.push(left);
        return;
      }
      this.restartBackoff.next(key, finished);
    }
    const r = await startContainer(this.deps, pod, c, attempt, volumes, podIP, podDir);
    if (r.ok) st.waiting.delete(c.name);
    else {
      st.waiting.set(c.name, r.waiting);
      if (r.retryMs !== undefined) requeue.push(r.retryMs);
    }
  }

  private async stopOne(s: ContainerStatus, grace: number): Promise<void> {
    this.deps.probes.stopContainer(s.id);
    await this.runtime.stopContainer(s.id, Math.max(grace, MIN_GRACE_SECONDS));
  }

  /** Removes exited attempts older than the previous one of each container. */
  private async gcAttempts(byName: Map<string, ContainerStatus[]>): Promise<void> {
    for (const list of byName.values()) {
      while (list.length > 2) {
        const old = list.pop()!;
        if (old.state !== "exited") continue;
        await this.runtime.removeContainer(old.id).catch(() => undefined);
        this.termMessages.delete(old.id);
      }
    }
  }

  private async createSandbox(pod: Pod, podDir: string): Promise<SandboxStatus> {
    const uid = pod.metadata.uid ?? "";
    mkdirSync(podDir, { recursive: true });
    const resolvPath = join(podDir, "resolv.conf");
    const hostsPath = join(podDir, "etc-hosts");
    writeFileSync(resolvPath, formatResolvConf(podResolvConf(pod, this.deps.hostResolv(), this.deps.dns)));
    writeFileSync(hostsPath, podHostsFile(pod, [], this.deps.dns.domain, this.deps.hostHosts()));
    const sb = await this.runtime.runSandbox({
      uid,
      namespace: pod.metadata.namespace ?? "default",
      name: pod.metadata.name ?? "",
      hostname: pod.spec?.hostNetwork ? hostnameOfNode() : podHostname(pod),
      hostNetwork: pod.spec?.hostNetwork === true,
      cgroupParent: podCgroupParent(pod, podQOS(pod)),
      hostsFile: hostsPath,
      resolvConf: resolvPath,
    });
    const ips = pod.spec?.hostNetwork ? [this.deps.nodeIP] : sb.ip ? [sb.ip] : [];
    writeFileSync(hostsPath, podHostsFile(pod, ips, this.deps.dns.domain, this.deps.hostHosts()));
    return sb;
  }

  /** Reads the termination message of an exited container (file, or log tail on error). */
  private terminationMessage(pod: Pod, s: ContainerStatus): string | undefined {
    if (s.state !== "exited") return undefined;
    const cached = this.termMessages.get(s.id);
    if (cached !== undefined) return cached || undefined;
    let msg = "";
    const file = s.labels[LABEL_TERMINATION_LOG];
    if (file && existsSync(file)) {
      try {
        msg = readFileSync(file).subarray(0, 4096).toString("utf8");
      } catch {
        msg = "";
      }
    }
    const spec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
      (c) => c.name === s.name,
    );
    if (
      !msg &&
      spec?.terminationMessagePolicy === "FallbackToLogsOnError" &&
      (s.exitCode ?? 0) !== 0 &&
      existsSync(s.logPath)
    ) {
      const text = readFileSync(s.logPath, "utf8");
      const lines = text.split("\n").filter(Boolean).slice(-80);
      msg = lines
        .map((l) => l.split(" ").slice(3).join(" "))
        .join("\n")
        .slice(-2048);
    }
    this.termMessages.set(s.id, msg);
    return msg || undefined;
  }

  /** Computes and writes the pod's status; returns it. */
  async writeStatus(pod: Pod, terminal: boolean): Promise<PodStatus> {
    const uid = pod.metadata.uid ?? "";
    const st = this.state(uid);
    const containers = (await this.runtime.listContainers(uid)).map((c) => {
      const m = this.terminationMessage(pod, c);
      return m && !c.message ? { ...c, message: m } : c;
    });
    const status = computePodStatus({
      pod,
      containers,
      waiting: st.waiting,
      ready: (c, spec) => this.deps.probes.isReady(c.id, spec),
      started: (c, spec) => this.deps.probes.isStarted(c.id, spec),
      podIPs: this.podIPs(pod, st),
      hostIPs: [this.deps.nodeIP],
      sandboxReady: st.sandbox?.ready === true,
      terminal: terminal || st.terminated === true,
      ...(st.failure ? { failure: st.failure } : {}),
      startTime: st.startTime ?? new Date(this.now()).toISOString().replace(/\.\d+Z$/, "Z"),
      runtimeName: this.deps.runtimeScheme,
      now: new Date(this.now()).toISOString().replace(/\.\d+Z$/, "Z"),
    });
    await this.deps.writeStatus(pod, status);
    return status;
  }

  /**
   * Kills every running container of the pod: preStop hooks, then SIGTERM and SIGKILL after
   * the grace period; app containers first, then sidecars. Stops the sandbox (its IP is
   * released) and writes the final status.
   */
  async terminate(pod: Pod, gracePeriodSeconds: number): Promise<void> {
    const uid = pod.metadata.uid ?? "";
    const st = this.state(uid);
    this.deps.probes.stopPod(uid);
    const grace = Math.max(gracePeriodSeconds, MIN_GRACE_SECONDS);
    const running = (await this.runtime.listContainers(uid)).filter(
      (c) => c.state === "running" || c.state === "created",
    );
    const sidecars = new Set((pod.spec?.initContainers ?? []).filter(isSidecar).map((c) => c.name));
    const specOf = (name: string): Container | undefined =>
      pod.spec?.containers.find((c) => c.name === name) ??
      pod.spec?.initContainers?.find((c) => c.name === name);
    const podIP = this.podIPs(pod, st)[0] ?? "";
    const kill = async (s: ContainerStatus): Promise<void> => {
      const spec = specOf(s.name);
      this.deps.recorder.event(pod, "Normal", "Killing", `Stopping container ${s.name}`);
      const started = this.now();
      const preStop = spec?.lifecycle?.preStop;
      if (preStop && spec && s.state === "running") {
        const r = await runLifecycleHandler(this.runtime, preStop, spec, s.id, podIP, grace * 1000);
        if (!r.ok) this.deps.recorder.event(pod, "Warning", "FailedPreStopHook", r.output);
      }
      const left = Math.max(MIN_GRACE_SECONDS, Math.ceil(grace - (this.now() - started) / 1000));
      await this.runtime.stopContainer(s.id, left);
    };
    await Promise.all(running.filter((s) => !sidecars.has(s.name)).map(kill));
    await Promise.all(running.filter((s) => sidecars.has(s.name)).map(kill));
    st.terminated = true;
    for (const w of st.waiting.keys()) st.waiting.delete(w);
    await this.runtime.stopSandbox(uid).catch(() => undefined);
    if (st.sandbox) st.sandbox = { ...st.sandbox, ready: false };
  }

  /** Shortens an ongoing termination (a later delete with a smaller grace period). */
  async shortenTermination(pod: Pod, gracePeriodSeconds: number): Promise<void> {
    const uid = pod.metadata.uid ?? "";
    for (const s of await this.runtime.listContainers(uid)) {
      if (s.state === "running")
        await this.runtime.stopContainer(s.id, Math.max(gracePeriodSeconds, MIN_GRACE_SECONDS));
    }
  }

  /** Removes everything of a pod: containers, sandbox (netns, IP), volumes, state. */
  async cleanup(uid: string): Promise<void> {
    this.deps.probes.stopPod(uid);
    for (const c of await this.runtime.listContainers(uid)) {
      if (c.state === "running") await this.runtime.stopContainer(c.id, MIN_GRACE_SECONDS);
      await this.runtime.removeContainer(c.id);
      this.termMessages.delete(c.id);
    }
    await this.runtime.stopSandbox(uid);
    await this.runtime.removeSandbox(uid);
    await this.deps.volumes.teardown(uid);
    this.restartBackoff.resetPrefix(`${uid}/`);
    this.deps.imageBackoff.resetPrefix(`${uid}/`);
    this.mountBackoff.reset(uid);
    this.states.delete(uid);
  }

  /** Whether the syncer holds state for a pod. */
  has(uid: string): boolean {
    return this.states.has(uid);
  }
}

/** Upstream's ShouldContainerBeRestarted for an exited container. */
export function shouldRestart(policy: string, exitCode: number): boolean {
  if (policy === "Always") return true;
  if (policy === "OnFailure") return exitCode !== 0;
  return false;
}

function hostnameOfNode(): string {
  // Host-network pods see the node's hostname.
  return process.env.HOSTNAME || readHostname();
}

function readHostname(): string {
  try {
    return readFileSync("/etc/hostname", "utf8").trim();
  } catch {
    return "localhost";
  }
}
