/**
 * @module The components `kites server` runs beside the API server, each a client of the API
 * with its own connection pool and user agent (as separate processes would be): the
 * controller manager, the scheduler, the kubelet of simulated nodes, and the node agent with the runc runtime unless the control plane
 * runs alone. `kites agent` starts the node agent alone against a remote server.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { RestClient, type ConnectionConfig } from "../client/rest-client.ts";
import { EventRecorder } from "../client/events.ts";
import { InformerFactory } from "../client/informer.ts";
import { ControllerManager } from "../controllers/manager.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { SimKubelet } from "../sim/sim-kubelet.ts";
import type { ClusterPki } from "../apiserver/pki.ts";
import { Kubelet } from "../kubelet/kubelet.ts";
import { KubeletServer } from "../kubelet/server/kubelet-server.ts";
import { ensureBusyboxImage } from "../runtime/images/busybox-image.ts";
import { ImageStore } from "../runtime/images/image-store.ts";
import { RuncRuntime } from "../runtime/runc-runtime.ts";
import { Snapshotter } from "../runtime/snapshots/snapshotter.ts";

/** What the node agent needs to know about its node. */
export interface AgentSettings {
  nodeName: string;
  nodeIP: string;
  podCIDR: string;
  /** The node also runs the control plane (gets the control-plane role label). */
  controlPlane: boolean;
  /** Port of the agent's streaming server (upstream's 10250; 0 picks a free one). */
  kubeletPort: number;
}

export const defaultAgentSettings = (): AgentSettings => ({
  nodeName: hostname().toLowerCase(),
  nodeIP: "127.0.0.1",
  podCIDR: "10.244.0.0/24",
  controlPlane: true,
  kubeletPort: 10250,
});

/** Why this machine cannot run pods, or undefined when it can. */
export function agentUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "the node agent needs root (runc, network namespaces, mounts)";
  return undefined;
}

const clientFor = (connection: ConnectionConfig, userAgent: string): RestClient =>
  new RestClient({ ...connection, userAgent });

export interface ControlPlane {
  manager: ControllerManager | undefined;
  simKubelet: SimKubelet;
  scheduler: Scheduler | undefined;
}

/**
 * Starts the controller manager, the scheduler (each unless switched off, as k3s's
 * `--disable-*` flags) and the simulated nodes' kubelet (idle until simulated nodes exist),
 * sharing one informer cache; resolves once they run.
 */
export async function startControlPlane(
  connection: ConnectionConfig,
  signal: AbortSignal,
  run: { scheduler: boolean; controllers: boolean } = { scheduler: true, controllers: true },
): Promise<ControlPlane> {
  const client = clientFor(connection, "kube-controller-manager");
  const informers = new InformerFactory(client);
  let manager: ControllerManager | undefined;
  if (run.controllers) {
    manager = new ControllerManager({ client, informers });
    await manager.start(signal);
  }
  const simClient = clientFor(connection, "kites-sim-kubelet");
  const simKubelet = new SimKubelet({
    client: simClient,
    informers,
    recorder: new EventRecorder(simClient, { component: "kubelet" }),
  });
  await simKubelet.start(signal);
  let scheduler: Scheduler | undefined;
  if (run.scheduler) {
    const schedClient = clientFor(connection, "default-scheduler");
    scheduler = new Scheduler({
      client: schedClient,
      informers,
      recorder: new EventRecorder(schedClient, { component: "default-scheduler" }),
    });
    informers.start(signal);
    void scheduler.start(signal);
    await scheduler.ready;
  }
  informers.start(signal);
  return { manager, simKubelet, scheduler };
}

/** Starts the node agent with the runc runtime; resolves once it serves its pods. */
export async function startAgent(
  connection: ConnectionConfig,
  dataDir: string,
  settings: AgentSettings,
  pki: ClusterPki,
  signal: AbortSignal,
): Promise<Kubelet> {
  const images = new ImageStore(join(dataDir, "images"));
  await ensureBusyboxImage(images);
  const snapshots = new Snapshotter(join(dataDir, "snapshots"), images);
  const runtime = new RuncRuntime({
    stateDir: join(dataDir, "runtime"),
    images,
    snapshots,
    network: { podCIDR: settings.podCIDR, nodeIP: settings.nodeIP },
  });
  // The agent's streaming server (logs, exec, attach, port-forward), reached through the API server.
  const agent: { kubelet?: Kubelet } = {};
  const streaming = new KubeletServer({
    runtime,
    pods: (ns, name) => agent.kubelet?.pods.get(ns, name),
    tls: { ca: pki.caCert, cert: pki.kubeletCert, key: pki.kubeletKey },
    port: settings.kubeletPort,
    host: settings.nodeIP,
  });
  await streaming.start();
  signal.addEventListener("abort", () => void streaming.stop(), { once: true });
  const kubelet = new Kubelet({
    kubeletPort: streaming.port,
    client: clientFor(connection, `kubelet/${settings.nodeName}`),
    runtime,
    nodeName: settings.nodeName,
    nodeIP: settings.nodeIP,
    podCIDR: settings.podCIDR,
    dataDir: join(dataDir, "agent"),
    controlPlane: settings.controlPlane,
  });
  agent.kubelet = kubelet;
  kubelet.start(signal);
  await kubelet.ready;
  return kubelet;
}
