/**
 * @module The node agent (upstream's kubelet, trimmed): registers the Node and keeps its status
 * and Lease current, watches the pods bound to this node and runs one serialized worker per
 * pod over the container runtime, notices container exits by relisting the runtime every
 * second (upstream's PLEG), re-syncs pods whose ConfigMaps or Secrets change, and on start
 * adopts the sandboxes and containers it already runs instead of recreating them.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { deepEqual } from "../api/meta.ts";
import { isNotFound } from "../api/status-error.ts";
import type {
  ConfigMap,
  Node,
  Pod,
  Secret,
  Service,
  ServiceAccountTokenProjection,
} from "../api/types/core-v1.ts";
import { EventRecorder } from "../client/events.ts";
import { Informer } from "../client/informer.ts";
import type { Client } from "../client/types.ts";
import type { ContainerRuntime } from "../runtime/types.ts";
import { Backoff } from "./backoff.ts";
import { parseResolvConf, type ResolvConf } from "./dns.ts";
import type { ObjectSource } from "./env.ts";
import { every, NodeLease } from "./node-lease.ts";
import { startLogRotation } from "./log-rotation.ts";
import { buildNodeStatus, newNode, nodeLabels, readHostFacts, statusFingerprint } from "./node-status.ts";
import { PodSyncer } from "./pod-sync.ts";
import { PodWorkers, type PodLifecycle } from "./pod-workers.ts";
import { ProbeManager, unhealthyMessage } from "./probes.ts";
import type { Recorder } from "./recorder.ts";
import { StatusManager } from "./status-manager.ts";
import { podObjectRefs, VolumeManager } from "./volumes/volume-manager.ts";

/** How to start a node agent. */
export interface KubeletOptions {
  client: Client;
  runtime: ContainerRuntime;
  nodeName: string;
  /** The node's InternalIP (tests use 127.0.0.1). */
  nodeIP: string;
  /** Used when the Node has no spec.podCIDR (default 10.244.0.0/24). */
  podCIDR?: string;
  /** Pod directories, logs: `<dataDir>/pods`, `<dataDir>/logs/pods`. */
  dataDir: string;
  recorder?: Recorder;
  /** Adds `node-role.kubernetes.io/control-plane=""` (the server's own node). */
  controlPlane?: boolean;
  /** Extra node labels. */
  labels?: Record<string, string>;
  clusterDNS?: string[];
  clusterDomain?: string;
  podPidsLimit?: number;
  /** Scheme of container ids and the runtime version (`runc://…`). */
  runtimeScheme?: string;
  /** Port advertised in status.daemonEndpoints (the streaming server). */
  kubeletPort?: number;
  nodeStatusUpdateMs?: number;
  nodeStatusReportMs?: number;
  leaseRenewMs?: number;
  relistMs?: number;
  hostResolvConf?: string;
  hostHostsFile?: string;
  /** Clock for backoffs and deadlines (tests). */
  now?: () => number;
  /** Milliseconds per probe "second" (tests shorten probe periods with it). */
  probeMsPerSecond?: number;
}

/** A node agent. `start(signal)` runs it; `ready` resolves once it serves its pods. */
export class Kubelet {
  readonly ready: Promise<void>;
  readonly workers: PodWorkers;
  readonly syncer: PodSyncer;
  readonly probes: ProbeManager;
  readonly pods: Informer<Pod>;
  private readonly configMaps: Informer<ConfigMap>;
  private readonly secrets: Informer<Secret>;
  private readonly services: Informer<Service>;
  private readonly recorder: Recorder;
  private readonly status: StatusManager;
  private readonly volumes: VolumeManager;
  private readonly lease: NodeLease;
  private markReady!: () => void;
  private failReady!: (e: unknown) => void;
  private node: Node | undefined;
  private lastNodeFingerprint = "";
  private lastNodePost = 0;
  private allocatable: Record<string, string> = {};
  private relistSeen = new Map<string, string>();
  private readonly cleaning = new Set<string>();
  private readonly tokens = new Map<string, { token: string; refreshAt: number }>();
  private readonly opts: Required<Pick<KubeletOptions, "runtimeScheme" | "kubeletPort" | "clusterDomain">> &
    KubeletOptions;

  constructor(opts: KubeletOptions) {
    this.opts = { runtimeScheme: "runc", kubeletPort: 10250, clusterDomain: "cluster.local", ...opts };
    const { client, nodeName } = opts;
    this.ready = new Promise((resolve, reject) => {
      this.markReady = resolve;
      this.failReady = reject;
    });
    this.ready.catch(() => undefined);
    this.recorder = opts.recorder ?? new EventRecorder(client, { component: "kubelet", host: nodeName });
    this.status = new StatusManager(client);
    this.volumes = new VolumeManager(join(opts.dataDir, "pods"));
    this.lease = new NodeLease(client, nodeName, () => this.node?.metadata.uid);
    this.pods = new Informer<Pod>(client.resource<Pod>("", "pods"), {
      fieldSelector: `spec.nodeName=${nodeName}`,
    });
    this.configMaps = new Informer<ConfigMap>(client.resource<ConfigMap>("", "configmaps"));
    this.secrets = new Informer<Secret>(client.resource<Secret>("", "secrets"));
    this.services = new Informer<Service>(client.resource<Service>("", "services"));
    this.pods.addIndex("uid", (p) => [p.metadata.uid ?? ""]);
    this.pods.addIndex("configmap", (p) => podObjectRefs(p).configMaps);
    this.pods.addIndex("secret", (p) => podObjectRefs(p).secrets);
    const objects: ObjectSource = {
      configMap: (ns, name) => this.configMaps.get(ns, name),
      secret: (ns, name) => this.secrets.get(ns, name),
    };
    this.probes = new ProbeManager(
      opts.runtime,
      {
        changed: (uid) => this.workers.requeue(uid),
        unhealthy: (pod, _c, type, output) =>
          this.recorder.event(pod, "Warning", "Unhealthy", unhealthyMessage(type, output)),
      },
      opts.probeMsPerSecond,
    );
    const hostResolv = opts.hostResolvConf ?? "/etc/resolv.conf";
    const hostHosts = opts.hostHostsFile ?? "/etc/hosts";
    this.syncer = new PodSyncer({
      runtime: opts.runtime,
      recorder: this.recorder,
      volumes: this.volumes,
      objects,
      services: (pod) => this.serviceLinks(pod),
      allocatable: () => this.allocatable,
      imageBackoff: new Backoff(10_000, 300_000, opts.now),
      now: opts.now,
      logsDir: join(opts.dataDir, "logs", "pods"),
      podPidsLimit: opts.podPidsLimit,
      nodeIP: opts.nodeIP,
      probes: this.probes,
      dns: { servers: opts.clusterDNS ?? ["10.96.0.10"], domain: this.opts.clusterDomain },
      hostResolv: (): ResolvConf => parseResolvConf(readText(hostResolv)),
      hostHosts: () => readText(hostHosts),
      token: (pod, src) => this.serviceAccountToken(pod, src),
      runtimeScheme: this.opts.runtimeScheme,
      writeStatus: (pod, status) => this.status.write(pod, status),
    });
    const lifecycle: PodLifecycle = {
      sync: (pod) => this.syncer.sync(this.withLatestStatus(pod)),
      terminate: async (pod, grace) => {
        await this.syncer.terminate(pod, grace);
        await this.syncer.writeStatus(this.withLatestStatus(pod), true);
      },
      shorten: (pod, grace) => this.syncer.shortenTermination(pod, grace),
      terminated: async (pod) => {
        await this.syncer.writeStatus(this.withLatestStatus(pod), true);
      },
      cleanup: async (pod, deleted) => {
        await this.syncer.cleanup(pod.metadata.uid ?? "");
        if (!deleted) await this.status.deletePod(pod);
        this.status.forget(pod.metadata.uid ?? "");
        this.dropTokens(pod.metadata.uid ?? "");
      },
      error: (pod, err) =>
        console.error(
          `kubelet: pod ${pod.metadata.namespace}/${pod.metadata.name}: ${(err as Error).message ?? String(err)}`,
        ),
    };
    this.workers = new PodWorkers(lifecycle);
  }

  /** The pod with the status this agent last wrote (the informer may lag behind it). */
  private withLatestStatus(pod: Pod): Pod {
    const latest = this.pods.byIndex("uid", pod.metadata.uid ?? "")[0] ?? pod;
    const written = this.status.lastWritten(pod.metadata.uid ?? "");
    if (!written) return latest;
    const others = (latest.status?.conditions ?? []).filter(
      (c) => !["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"].includes(c.type),
    );
    const mine = (written.conditions ?? []).filter((c) =>
      ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"].includes(c.type),
    );
    return { ...latest, status: { ...latest.status, ...written, conditions: [...mine, ...others] } };
  }

  /** Service link variables: `default/kubernetes` always, the pod's namespace with enableServiceLinks. */
  private serviceLinks(pod: Pod): Service[] {
    const out: Service[] = [];
    const ns = pod.metadata.namespace ?? "default";
    const links = pod.spec?.enableServiceLinks !== false;
    const master = this.services.get("default", "kubernetes");
    if (links)
      for (const s of this.services.list(ns))
        if (!(ns === "default" && s.metadata.name === "kubernetes")) out.push(s);
    if (master) out.push(master);
    return out;
  }

  private async serviceAccountToken(pod: Pod, src: ServiceAccountTokenProjection): Promise<string> {
    const key = `${pod.metadata.uid}/${src.path}`;
    const cached = this.tokens.get(key);
    if (cached && cached.refreshAt > Date.now()) return cached.token;
    const expirationSeconds = src.expirationSeconds ?? 3607;
    const sa = pod.spec?.serviceAccountName || "default";
    const res = (await this.opts.client
      .resource("", "serviceaccounts")
      .createSubresource(pod.metadata.namespace, sa, "token", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {
          audiences: src.audience ? [src.audience] : [],
          expirationSeconds,
          boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata.name, uid: pod.metadata.uid },
        },
      })) as { status?: { token?: string } };
    const token = res.status?.token;
    if (!token) throw new Error(`no token issued for service account "${sa}"`);
    this.tokens.set(key, { token, refreshAt: Date.now() + expirationSeconds * 800 });
    return token;
  }

  private dropTokens(uid: string): void {
    for (const k of this.tokens.keys()) if (k.startsWith(`${uid}/`)) this.tokens.delete(k);
  }

  /** Runs the agent until `signal` aborts. */
  start(signal: AbortSignal): void {
    void this.run(signal).catch((e: unknown) => this.failReady(e));
  }

  private async run(signal: AbortSignal): Promise<void> {
    const o = this.opts;
    mkdirSync(join(o.dataDir, "pods"), { recursive: true });
    mkdirSync(join(o.dataDir, "logs", "pods"), { recursive: true });
    await this.registerNode(signal);
    every(signal, o.nodeStatusUpdateMs ?? 10_000, () =>
      this.updateNodeStatus().catch((e: unknown) =>
        console.error(`kubelet: node status: ${(e as Error).message}`),
      ),
    );
    this.lease.run(signal, o.leaseRenewMs ?? 10_000);

    // Adoption: sandboxes the runtime already has.
    for (const sb of await o.runtime.listSandboxes()) this.syncer.adoptSandbox(sb);

    this.configMaps.start(signal);
    this.secrets.start(signal);
    this.services.start(signal);
    this.pods.start(signal);
    startLogRotation({ runtime: o.runtime, listContainers: () => o.runtime.listContainers(), signal });
    await Promise.all([this.configMaps.synced, this.secrets.synced, this.services.synced, this.pods.synced]);
    if (signal.aborted) return;

    const onObject = (index: string) => ({
      update: (_old: ConfigMap | Secret, cur: ConfigMap | Secret) => {
        for (const p of this.pods.byIndex(index, `${cur.metadata.namespace}/${cur.metadata.name}`))
          this.workers.requeue(p.metadata.uid ?? "");
      },
      add: (cur: ConfigMap | Secret) => {
        if (!this.pods.hasSynced()) return;
        for (const p of this.pods.byIndex(index, `${cur.metadata.namespace}/${cur.metadata.name}`))
          this.workers.requeue(p.metadata.uid ?? "");
      },
    });
    this.configMaps.addHandlers(onObject("configmap"));
    this.secrets.addHandlers(onObject("secret"));

    // Remove what belongs to pods that no longer exist.
    await this.removeOrphans();
    this.pods.addHandlers({
      add: (p) => this.workers.update(p),
      update: (old, p) => {
        if (onlyStatusChanged(old, p)) return;
        this.workers.update(p);
      },
      delete: (p) => this.workers.remove(p),
    });
    signal.addEventListener("abort", () => {
      this.workers.stop();
      this.probes.stopAll();
    });
    every(signal, o.relistMs ?? 1000, () =>
      this.relist().catch((e: unknown) => console.error(`kubelet: relist: ${(e as Error).message}`)),
    );
    this.markReady();
  }

  private async removeOrphans(): Promise<void> {
    const rt = this.opts.runtime;
    const known = (uid: string): boolean => this.pods.byIndex("uid", uid).length > 0;
    const uids = new Set<string>();
    for (const sb of await rt.listSandboxes()) uids.add(sb.uid);
    for (const c of await rt.listContainers()) uids.add(c.podUid);
    for (const uid of uids) if (!known(uid)) await this.cleanupOrphan(uid);
  }

  private async cleanupOrphan(uid: string): Promise<void> {
    if (this.cleaning.has(uid)) return;
    this.cleaning.add(uid);
    try {
      await this.syncer.cleanup(uid);
    } catch (e) {
      console.error(`kubelet: removing orphaned pod ${uid}: ${(e as Error).message}`);
    } finally {
      this.cleaning.delete(uid);
    }
  }

  /** PLEG: one runtime listing; pods whose containers changed state get a sync. */
  async relist(): Promise<void> {
    const seen = new Map<string, string>();
    const changed = new Set<string>();
    for (const c of await this.opts.runtime.listContainers()) {
      const sig = `${c.state}/${c.exitCode ?? ""}`;
      seen.set(c.id, sig);
      if (this.relistSeen.get(c.id) !== sig) changed.add(c.podUid);
    }
    for (const [id] of this.relistSeen) if (!seen.has(id)) this.relistSeen.delete(id);
    this.relistSeen = seen;
    for (const uid of changed) {
      if (this.workers.state(uid) !== undefined) this.workers.requeue(uid);
      else if (this.pods.byIndex("uid", uid).length === 0 && !this.syncer.has(uid))
        void this.cleanupOrphan(uid);
    }
  }

  private async registerNode(signal: AbortSignal): Promise<void> {
    const o = this.opts;
    const nodes = o.client.resource<Node>("", "nodes");
    let delay = 500;
    for (;;) {
      try {
        const status = await this.computeNodeStatus(undefined);
        const labels = { ...nodeLabels(o.nodeName, o.controlPlane === true), ...(o.labels ?? {}) };
        let node: Node;
        try {
          const cur = await nodes.get(undefined, o.nodeName);
          const next = structuredClone(cur);
          next.metadata.labels = { ...(cur.metadata.labels ?? {}), ...labels };
          if (!next.spec?.podCIDR) {
            const cidr = o.podCIDR ?? "10.244.0.0/24";
            next.spec = { ...next.spec, podCIDR: cidr, podCIDRs: [cidr] };
          }
          node = await nodes.update(next);
        } catch (e) {
          if (!isNotFound(e)) throw e;
          node = await nodes.create(newNode(o.nodeName, labels, o.podCIDR ?? "10.244.0.0/24", status));
        }
        node.status = await this.computeNodeStatus(node.status);
        this.node = await nodes.updateStatus(node);
        this.lastNodeFingerprint = statusFingerprint(this.node.status ?? {});
        this.lastNodePost = Date.now();
        return;
      } catch (e) {
        if (signal.aborted) throw e;
        console.error(`kubelet: registering node ${o.nodeName}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  private async computeNodeStatus(previous: Node["status"]) {
    const o = this.opts;
    let runtimeReady = true;
    let images: Awaited<ReturnType<ContainerRuntime["listImages"]>> = [];
    try {
      images = await o.runtime.listImages();
    } catch {
      runtimeReady = false;
    }
    const status = buildNodeStatus({
      host: readHostFacts(o.dataDir),
      nodeIP: o.nodeIP,
      nodeName: o.nodeName,
      runtimeScheme: o.runtimeScheme,
      runtimeVersion: o.runtime.version,
      runtimeReady,
      images,
      kubeletPort: o.kubeletPort,
      previous,
      now: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    });
    this.allocatable = { ...(status.allocatable ?? {}) };
    return status;
  }

  /** Posts the node status when it changed, and at least every 5 minutes. */
  private async updateNodeStatus(): Promise<void> {
    const o = this.opts;
    const status = await this.computeNodeStatus(this.node?.status);
    const fp = statusFingerprint(status);
    if (fp === this.lastNodeFingerprint && Date.now() - this.lastNodePost < (o.nodeStatusReportMs ?? 300_000))
      return;
    const nodes = o.client.resource<Node>("", "nodes");
    try {
      this.node = await nodes.patch(undefined, o.nodeName, "merge", { status }, { subresource: "status" });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      // The Node was deleted: register again.
      this.node = await nodes.create(
        newNode(
          o.nodeName,
          nodeLabels(o.nodeName, o.controlPlane === true),
          o.podCIDR ?? "10.244.0.0/24",
          status,
        ),
      );
    }
    this.lastNodeFingerprint = fp;
    this.lastNodePost = Date.now();
  }
}

/** Upstream's pod config ignores updates that change nothing but status (unless readiness gates read it). */
function onlyStatusChanged(a: Pod, b: Pod): boolean {
  if ((b.spec?.readinessGates ?? []).length > 0) return false;
  const ma = a.metadata;
  const mb = b.metadata;
  return (
    ma.deletionTimestamp === mb.deletionTimestamp &&
    ma.deletionGracePeriodSeconds === mb.deletionGracePeriodSeconds &&
    deepEqual(a.spec, b.spec) &&
    deepEqual(ma.labels, mb.labels) &&
    deepEqual(ma.annotations, mb.annotations)
  );
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
