/**
 * @module The real `ContainerRuntime`: pods are network namespaces on the node bridge (no
 * pause container — the netns, plus persistent UTS/IPC namespaces, *is* the sandbox, and
 * containers join them by path); containers are OCI bundles on overlayfs snapshots, created
 * through conmon + runc as CRI-O does, so they outlive a restart of the agent. Everything
 * the runtime knows is on disk under `stateDir` (sandbox records, bundles with a `meta.json`,
 * conmon's exit files, runc's own root), so a new instance over the same directory adopts
 * what an earlier one started.
 *
 * Layout: `<stateDir>/sandboxes/<uid>/sandbox.json` (+ uts, ipc, hostname, hosts,
 * resolv.conf), `<stateDir>/containers/<id>/{config.json,meta.json,conmon.log,…}`,
 * `<stateDir>/exits/<id>`, `<stateDir>/sockets/`, `<stateDir>/runc/`, `<stateDir>/ipam.json`.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { basename, dirname, join } from "node:path";
import type {
  AttachSession,
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
import { buildSpec, DEFAULT_NOFILE } from "./oci/spec.ts";
import { resolveUser } from "./oci/user.ts";
import {
  conmonAttachSocket,
  conmonControl,
  conmonCreate,
  CONMON_BINARY,
  CONMON_CTL_REOPEN_LOGS,
  CONMON_CTL_RESIZE,
} from "./runc/conmon.ts";
import { RecordIndex } from "./runc/record-index.ts";
import { Runc } from "./runc/runc.ts";
import { oomKilled, readCgroupUsage } from "./runc/cgroups.ts";
import { runcExec, runcExecSync } from "./runc/exec.ts";
import { createSandboxNamespaces, removeSandboxNamespaces } from "./runc/sandbox-namespaces.ts";
import { Ipam } from "./network/ipam.ts";
import { setupNodeNetwork } from "./network/node-network.ts";
import { netnsName, setupPodNetwork, teardownPodNetwork } from "./network/pod-network.ts";

/** What the runtime needs of the image store (`images/image-store.ts: ImageStore`). */
export interface RuntimeImages {
  get(ref: string): Promise<ImageInfo | undefined>;
  list(): Promise<ImageInfo[]>;
}

/** What the runtime needs of the snapshotter (`snapshots/snapshotter.ts: Snapshotter`). */
export interface RuntimeSnapshots {
  /** Mounts a writable rootfs for `id` over the image's layers; returns its path. */
  prepare(id: string, imageRef: string): Promise<string>;
  remove(id: string): Promise<void>;
}

/** Options of `RuncRuntime`. */
export interface RuncRuntimeOptions {
  stateDir: string;
  images: RuntimeImages;
  snapshots: RuntimeSnapshots;
  network: {
    /** The node's pod CIDR, e.g. `10.244.0.0/24`; the bridge takes its first address. */
    podCIDR: string;
    /** Bridge name, `kites0` by default. */
    bridge?: string;
    /** The address host-network pods report; the first non-loopback IPv4 by default. */
    nodeIP?: string;
  };
  runcBinary?: string;
  conmonBinary?: string;
}

/** A sandbox as recorded on disk. */
interface SandboxRecord {
  config: SandboxConfig;
  ip: string;
  netns: string;
  netnsPath: string;
  hostVeth: string;
  utsPath: string;
  ipcPath: string;
  hostsFile: string;
  resolvConf: string;
  hostnameFile: string;
  ready: boolean;
  createdAt: string;
}

/** A container as recorded on disk (`meta.json` in its bundle). */
interface ContainerMeta {
  id: string;
  podUid: string;
  name: string;
  attempt: number;
  imageRef: string;
  imageId: string;
  logPath: string;
  labels: Record<string, string>;
  cgroupsPath: string;
  createdAt: string;
  startedAt?: string;
  /** Set once the exit has been observed (exit file + OOM check), then never recomputed. */
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
  message?: string;
}

const POLL_MS = 50;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(value));
  await rename(tmp, path);
}

/**
 * `RLIMIT_NOFILE` for containers: containerd's 1048576, capped at this process's own hard
 * limit, which a runtime without CAP_SYS_RESOURCE (a sandboxed root) may not exceed.
 */
const NOFILE_LIMIT = ((): number => {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const hard = Number(line?.trim().split(/\s+/)[4]);
    return Number.isFinite(hard) && hard > 0 ? Math.min(DEFAULT_NOFILE, hard) : DEFAULT_NOFILE;
  } catch {
    return DEFAULT_NOFILE;
  }
})();

function defaultNodeIP(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

/** The runc + conmon container runtime. */
export class RuncRuntime implements ContainerRuntime {
  readonly name = "kites-runc";
  readonly version = "0.1.0";
  readonly runc: Runc;
  private readonly dirs: { sandboxes: string; containers: string; exits: string; sockets: string };
  private readonly ipam: Ipam;
  private nodeNet: Promise<{ bridge: string; gateway: string }> | undefined;
  private readonly lastCpu = new Map<string, { at: bigint; nanos: number }>();
  /** Container records, in memory after the first read of the bundles. */
  private readonly records: RecordIndex<ContainerMeta>;
  /** Containers runc did not know when this instance first looked (their conmon is gone). */
  private lost: Promise<Set<string>> | undefined;

  constructor(private readonly opts: RuncRuntimeOptions) {
    this.runc = new Runc(opts.runcBinary ?? "/usr/sbin/runc", join(opts.stateDir, "runc"));
    this.dirs = {
      sandboxes: join(opts.stateDir, "sandboxes"),
      containers: join(opts.stateDir, "containers"),
      exits: join(opts.stateDir, "exits"),
      sockets: join(opts.stateDir, "sockets"),
    };
    this.ipam = new Ipam(join(opts.stateDir, "ipam.json"), opts.network.podCIDR);
    this.records = new RecordIndex<ContainerMeta>(this.dirs.containers);
  }

  // ---- images ----

  getImage(ref: string): Promise<ImageInfo | undefined> {
    return this.opts.images.get(ref);
  }

  listImages(): Promise<ImageInfo[]> {
    return this.opts.images.list();
  }

  // ---- sandboxes ----

  private sandboxDir(uid: string): string {
    return join(this.dirs.sandboxes, uid);
  }

  private readSandbox(uid: string): Promise<SandboxRecord | undefined> {
    return readJson<SandboxRecord>(join(this.sandboxDir(uid), "sandbox.json"));
  }

  /** The node's bridge and gateway address, set up on first use (pods, or the agent's DNS). */
  ensureNodeNetwork(): Promise<{ bridge: string; gateway: string }> {
    if (!this.nodeNet) {
      this.nodeNet = setupNodeNetwork(this.opts.network);
      this.nodeNet.catch(() => (this.nodeNet = undefined));
    }
    return this.nodeNet;
  }

  private toSandboxStatus(r: SandboxRecord): SandboxStatus {
    const alive = r.netnsPath === "" || existsSync(r.netnsPath);
    return { uid: r.config.uid, ip: r.ip, netnsPath: r.netnsPath, ready: r.ready && alive };
  }

  async runSandbox(config: SandboxConfig): Promise<SandboxStatus> {
    const existing = await this.readSandbox(config.uid);
    if (existing && this.toSandboxStatus(existing).ready) return this.toSandboxStatus(existing);
    const dir = this.sandboxDir(config.uid);
    await mkdir(dir, { recursive: true });
    const rec: SandboxRecord = {
      config,
      ip: "",
      netns: "",
      netnsPath: "",
      hostVeth: "",
      utsPath: "",
      ipcPath: "",
      hostsFile: "",
      resolvConf: "",
      hostnameFile: join(dir, "hostname"),
      ready: false,
      createdAt: new Date().toISOString(),
    };
    try {
      if (config.hostNetwork) {
        rec.ip = this.opts.network.nodeIP ?? defaultNodeIP();
      } else {
        const { bridge, gateway } = await this.ensureNodeNetwork();
        // A half-made network from an earlier attempt goes first.
        if (existing?.hostVeth) await teardownPodNetwork(existing);
        const ip = await this.ipam.allocate(config.uid);
        // The network and the UTS/IPC namespaces are independent: made side by side.
        const [net, ns] = await Promise.allSettled([
          setupPodNetwork({ uid: config.uid, ip, prefix: this.ipam.cidr.prefix, gateway, bridge }),
          createSandboxNamespaces(join(dir, "ns"), config.hostname),
        ]);
        if (net.status === "fulfilled") {
          const n = net.value;
          Object.assign(rec, { ip, netns: n.netns, netnsPath: n.netnsPath, hostVeth: n.hostVeth });
        }
        if (ns.status === "fulfilled") Object.assign(rec, ns.value);
        if (net.status === "rejected") throw net.reason;
        if (ns.status === "rejected") throw ns.reason;
      }
      await writeFile(rec.hostnameFile, `${config.hostname}\n`);
      rec.hostsFile =
        config.hostsFile && existsSync(config.hostsFile) ? config.hostsFile : join(dir, "hosts");
      if (rec.hostsFile === join(dir, "hosts")) {
        await writeFile(
          rec.hostsFile,
          `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${rec.ip}\t${config.hostname}\n`,
        );
      }
      rec.resolvConf =
        config.resolvConf && existsSync(config.resolvConf) ? config.resolvConf : join(dir, "resolv.conf");
      if (rec.resolvConf === join(dir, "resolv.conf")) {
        await writeFile(rec.resolvConf, await readFile("/etc/resolv.conf", "utf8").catch(() => ""));
      }
      rec.ready = true;
      await writeJsonAtomic(join(dir, "sandbox.json"), rec);
      return this.toSandboxStatus(rec);
    } catch (err) {
      await this.releaseSandboxResources(rec).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private async releaseSandboxResources(rec: SandboxRecord): Promise<void> {
    if (rec.netns) await teardownPodNetwork(rec);
    else if (!rec.config.hostNetwork)
      await teardownPodNetwork({ netns: netnsName(rec.config.uid), hostVeth: "" });
    if (rec.utsPath) await removeSandboxNamespaces(rec);
    await this.ipam.release(rec.config.uid);
  }

  async stopSandbox(uid: string): Promise<void> {
    const rec = await this.readSandbox(uid);
    if (!rec) return;
    const containers = await this.listContainers(uid);
    await Promise.all(
      containers.filter((c) => c.state === "running").map((c) => this.stopContainer(c.id, 0)),
    );
    // As a CNI DEL on StopPodSandbox: the network and the address go now.
    await this.releaseSandboxResources(rec);
    rec.ready = false;
    await writeJsonAtomic(join(this.sandboxDir(uid), "sandbox.json"), rec);
  }

  async removeSandbox(uid: string): Promise<void> {
    const rec = await this.readSandbox(uid);
    for (const c of await this.listContainers(uid)) await this.removeContainer(c.id);
    if (rec) {
      await this.releaseSandboxResources(rec);
      await removeEmptyCgroup(rec.config.cgroupParent);
    }
    await rm(this.sandboxDir(uid), { recursive: true, force: true });
  }

  async listSandboxes(): Promise<SandboxStatus[]> {
    const uids = await readdir(this.dirs.sandboxes).catch(() => [] as string[]);
    const recs = await Promise.all(uids.map((u) => this.readSandbox(u)));
    return recs.filter((r): r is SandboxRecord => r !== undefined).map((r) => this.toSandboxStatus(r));
  }

  // ---- containers ----

  private bundle(id: string): string {
    return join(this.dirs.containers, id);
  }

  private readMeta(id: string): Promise<ContainerMeta | undefined> {
    return this.records.get(id);
  }

  private writeMeta(meta: ContainerMeta): Promise<void> {
    return this.records.save(meta);
  }

  /**
   * Adoption check, once per instance: a container recorded as started, not yet seen to
   * exit, that runc no longer knows (its conmon died with the machine) cannot report an
   * exit; its state is "unknown" rather than "running". One `runc list` for the node.
   */
  private lostContainers(): Promise<Set<string>> {
    this.lost ??= (async () => {
      // Only what an earlier process left: a container this one is creating is not lost.
      const open = (await this.records.adopted()).filter((m) => !m.finishedAt);
      if (open.length === 0) return new Set<string>();
      const known = new Set((await this.runc.list()).map((s) => s.id));
      return new Set(open.filter((m) => !known.has(m.id) && !this.exitSeen(m.id)).map((m) => m.id));
    })();
    this.lost.catch(() => (this.lost = undefined));
    return this.lost;
  }

  private exitSeen(id: string): boolean {
    return existsSync(join(this.dirs.exits, id));
  }

  async createContainer(podUid: string, config: ContainerConfig): Promise<string> {
    const sb = await this.readSandbox(podUid);
    if (!sb || !this.toSandboxStatus(sb).ready) throw new Error(`pod sandbox ${podUid} is not ready`);
    const image = await this.opts.images.get(config.image);
    if (!image) throw new Error(`image "${config.image}" is not present on the node`);
    const id = randomBytes(32).toString("hex");
    const bundle = this.bundle(id);
    await mkdir(bundle, { recursive: true });
    let prepared = false;
    try {
      const rootfs = await this.opts.snapshots.prepare(id, image.ref);
      prepared = true;
      const [passwd, group] = await Promise.all([
        readFile(join(rootfs, "etc/passwd"), "utf8").catch(() => ""),
        readFile(join(rootfs, "etc/group"), "utf8").catch(() => ""),
      ]);
      const user = resolveUser(config.user || image.user, passwd, group);
      const spec = buildSpec({
        containerId: id,
        container: { ...config, workingDir: config.workingDir || image.workingDir },
        sandbox: sb.config,
        paths: {
          rootfs,
          netnsPath: sb.netnsPath,
          utsPath: sb.utsPath,
          ipcPath: sb.ipcPath,
          hostsFile: sb.hostsFile,
          resolvConf: sb.resolvConf,
          hostnameFile: sb.hostnameFile,
        },
        user,
        nofile: NOFILE_LIMIT,
      });
      await writeFile(join(bundle, "config.json"), JSON.stringify(spec));
      const meta: ContainerMeta = {
        id,
        podUid,
        name: config.name,
        attempt: config.attempt,
        imageRef: image.ref,
        imageId: image.id,
        logPath: config.logPath,
        labels: config.labels ?? {},
        cgroupsPath: spec.linux.cgroupsPath,
        createdAt: new Date().toISOString(),
      };
      await this.writeMeta(meta);
      await conmonCreate({
        conmonBinary: this.opts.conmonBinary ?? CONMON_BINARY,
        runcBinary: this.runc.binary,
        runcRoot: this.runc.root,
        id,
        name: `${sb.config.namespace}_${sb.config.name}_${config.name}_${config.attempt}`,
        bundle,
        logPath: config.logPath,
        exitDir: this.dirs.exits,
        socketDir: this.dirs.sockets,
        stdin: config.stdin,
        stdinOnce: config.stdinOnce ?? false,
        tty: config.tty,
      });
      return id;
    } catch (err) {
      await this.runc.delete(id).catch(() => undefined);
      if (prepared) await this.opts.snapshots.remove(id).catch(() => undefined);
      await this.records.remove(id);
      await rm(bundle, { recursive: true, force: true });
      await rm(join(this.dirs.exits, id), { force: true });
      throw err;
    }
  }

  async startContainer(id: string): Promise<void> {
    const meta = await this.readMeta(id);
    if (!meta) throw new Error(`container ${id} not found`);
    await this.runc.start(id);
    meta.startedAt = new Date().toISOString();
    await this.writeMeta(meta);
  }

  async stopContainer(id: string, gracePeriodSeconds: number): Promise<void> {
    if (this.exitSeen(id)) return;
    const state = await this.runc.state(id);
    if (!state || state.status === "stopped") return;
    if (state.status === "created") {
      await this.runc.kill(id, "KILL", true);
      await this.waitStopped(id, 10_000);
      return;
    }
    if (gracePeriodSeconds > 0) {
      await this.runc.kill(id, "TERM");
      if (await this.waitStopped(id, gracePeriodSeconds * 1000)) return;
    }
    await this.runc.kill(id, "KILL", true);
    await this.waitStopped(id, 10_000);
  }

  /**
   * Waits until the container stopped: conmon's exit file appears (a file check per poll),
   * or runc — asked once a second — no longer reports it running. False on timeout.
   */
  private async waitStopped(id: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 1; ; i++) {
      if (this.exitSeen(id)) return true;
      if (i % 10 === 0) {
        const s = await this.runc.state(id);
        if (!s || s.status === "stopped") return true;
      }
      if (Date.now() >= deadline) return false;
      await sleep(POLL_MS * 2);
    }
  }

  async removeContainer(id: string): Promise<void> {
    const meta = await this.readMeta(id);
    await this.runc.delete(id);
    if (meta) await this.opts.snapshots.remove(id);
    await this.records.remove(id);
    await rm(this.bundle(id), { recursive: true, force: true });
    await rm(join(this.dirs.exits, id), { force: true });
    await rm(join(this.dirs.sockets, id), { force: true });
    this.lastCpu.delete(id);
  }

  async listContainers(podUid?: string): Promise<ContainerStatus[]> {
    const metas = await this.records.list(podUid);
    if (metas.length === 0) return [];
    const lost = await this.lostContainers();
    return Promise.all(metas.map((m) => this.statusOf(m, lost)));
  }

  async containerStatus(id: string): Promise<ContainerStatus | undefined> {
    const meta = await this.readMeta(id);
    if (!meta) return undefined;
    return this.statusOf(meta, await this.lostContainers());
  }

  /**
   * A container's state from what conmon and this runtime recorded, as CRI-O does — no runc
   * process per look: exited once conmon's exit file exists, running once started, created
   * before that; "unknown" when runc lost it (see `lostContainers`).
   */
  private async statusOf(meta: ContainerMeta, lost: Set<string>): Promise<ContainerStatus> {
    const base: ContainerStatus = {
      id: meta.id,
      name: meta.name,
      podUid: meta.podUid,
      attempt: meta.attempt,
      state: "unknown",
      createdAt: meta.createdAt,
      imageRef: meta.imageRef,
      imageId: meta.imageId,
      logPath: meta.logPath,
      labels: meta.labels,
    };
    if (meta.startedAt) base.startedAt = meta.startedAt;
    if (!meta.finishedAt) {
      if (!this.exitSeen(meta.id)) {
        if (lost.has(meta.id)) return base;
        return { ...base, state: meta.startedAt ? "running" : "created" };
      }
      if (!(await this.finalize(meta))) return base;
    }
    const out: ContainerStatus = {
      ...base,
      state: "exited",
      finishedAt: meta.finishedAt,
      exitCode: meta.exitCode,
    };
    if (meta.reason) out.reason = meta.reason;
    if (meta.message) out.message = meta.message;
    return out;
  }

  /**
   * Records the exit of a stopped container once: exit code from conmon's exit file (written
   * a moment after runc sees the process gone), OOM from the memory cgroup, which still
   * exists until `runc delete`. Returns false if the exit file has not appeared yet.
   */
  private async finalize(meta: ContainerMeta): Promise<boolean> {
    const exitFile = join(this.dirs.exits, meta.id);
    let text: string | undefined;
    let mtime: Date | undefined;
    for (let i = 0; i < 40; i++) {
      try {
        text = await readFile(exitFile, "utf8");
        mtime = (await stat(exitFile)).mtime;
        if (text.trim() !== "") break;
      } catch {
        /* not yet written */
      }
      await sleep(POLL_MS);
    }
    if (text === undefined || text.trim() === "") return false;
    const code = Number.parseInt(text.trim(), 10);
    const oom = (await oomKilled(meta.cgroupsPath)) || existsSync(join(this.bundle(meta.id), "oom"));
    meta.exitCode = Number.isFinite(code) ? code : 255;
    meta.finishedAt = (mtime ?? new Date()).toISOString();
    meta.reason = oom ? "OOMKilled" : meta.exitCode === 0 ? "Completed" : "Error";
    if (oom && meta.exitCode === 0) meta.exitCode = 137;
    if (!meta.startedAt) meta.startedAt = meta.finishedAt;
    await this.writeMeta(meta);
    return true;
  }

  async execSync(id: string, argv: string[], timeoutMs: number): Promise<ExecResult> {
    const r = await runcExecSync(this.runc, id, argv, timeoutMs);
    if (r.exitCode === 255 && /cannot exec in a stopped|does not exist|not running/.test(r.stderr)) {
      throw new Error(`container ${id} is not running: ${r.stderr.trim()}`);
    }
    return r;
  }

  async exec(id: string, argv: string[], opts: { tty: boolean; stdin: boolean }): Promise<ExecProcess> {
    const state = await this.runc.state(id);
    if (state?.status !== "running") throw new Error(`container ${id} is not running`);
    return runcExec(this.runc, id, argv, opts);
  }

  /**
   * Asks the container's conmon to reopen its log file (after the log was rotated away), as
   * CRI's ReopenContainerLog: a `2 0 0` message on conmon's ctl FIFO. Fails when the container
   * is not running (no conmon reads the FIFO).
   */
  async reopenContainerLog(id: string): Promise<void> {
    await conmonControl(this.bundle(id), CONMON_CTL_REOPEN_LOGS);
  }

  /**
   * Attaches to the container's stdin through conmon's SEQPACKET attach socket. Node cannot
   * open SEQPACKET sockets, so `socat` relays our bytes into it; resizes go to conmon's ctl
   * FIFO (`1 HEIGHT WIDTH`).
   */
  async attach(id: string): Promise<AttachSession> {
    const meta = await this.readMeta(id);
    if (!meta) throw new Error(`container ${id} not found`);
    const sock = conmonAttachSocket(this.dirs.sockets, id);
    if (!existsSync(sock)) throw new Error(`container ${id} has no attach socket`);
    // Connected by its name from inside its directory: a unix socket path may not exceed
    // 108 bytes, and a data dir under a long temporary path makes the full one longer.
    const relay = spawn("socat", ["-u", "STDIN", `UNIX-CONNECT:${basename(sock)},type=5`], {
      cwd: dirname(sock),
      stdio: ["pipe", "ignore", "ignore"],
    });
    relay.on("error", () => undefined);
    relay.stdin.on("error", () => undefined);
    const bundle = this.bundle(id);
    return {
      stdin: relay.stdin,
      resize: (width, height) => {
        void conmonControl(bundle, CONMON_CTL_RESIZE, height, width).catch(() => undefined);
      },
      close: () => {
        // socat leaves once it has passed on the end of input; a stuck one is stopped.
        relay.stdin.end();
        const t = setTimeout(() => relay.kill("SIGTERM"), 10_000);
        t.unref();
        relay.once("exit", () => clearTimeout(t));
      },
    };
  }

  async containerStats(id: string): Promise<ContainerStats | undefined> {
    const meta = await this.readMeta(id);
    if (!meta) return undefined;
    const usage = await readCgroupUsage(meta.cgroupsPath);
    if (!usage) return undefined;
    const now = process.hrtime.bigint();
    const prev = this.lastCpu.get(id);
    this.lastCpu.set(id, { at: now, nanos: usage.cpuUsageNanos });
    const stats: ContainerStats = {
      cpuUsageCoreNanoSeconds: usage.cpuUsageNanos,
      memoryWorkingSetBytes: usage.memoryWorkingSetBytes,
      memoryUsageBytes: usage.memoryUsageBytes,
    };
    if (usage.memoryRssBytes !== undefined) stats.memoryRssBytes = usage.memoryRssBytes;
    if (usage.memoryPageFaults !== undefined) stats.memoryPageFaults = usage.memoryPageFaults;
    if (usage.memoryMajorPageFaults !== undefined) stats.memoryMajorPageFaults = usage.memoryMajorPageFaults;
    if (prev && now > prev.at) {
      stats.cpuUsageNanoCores = Math.max(
        0,
        Math.round(((usage.cpuUsageNanos - prev.nanos) * 1e9) / Number(now - prev.at)),
      );
    }
    return stats;
  }
}

/** Removes a pod's cgroup directories (every v1 hierarchy) once they are empty; best effort. */
async function removeEmptyCgroup(cgroupParent: string): Promise<void> {
  if (!cgroupParent || cgroupParent === "/") return;
  const root = "/sys/fs/cgroup";
  const hierarchies = existsSync(join(root, "cgroup.controllers"))
    ? [""]
    : await readdir(root).catch(() => []);
  await Promise.all(hierarchies.map((h) => rmdir(join(root, h, cgroupParent)).catch(() => undefined)));
}
