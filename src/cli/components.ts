/**
 * @module The components `kites server` runs beside the API server, each a client of the API
 * with its own connection pool and user agent (as separate processes would be): the
 * controller manager, the scheduler, the kubelet of simulated nodes, and the node agent with the runc runtime unless the control plane
 * runs alone. `kites agent` starts the node agent alone against a remote server.
 */
import { hostname } from "node:os";
import { RestClient, type ConnectionConfig } from "../client/rest-client.ts";
import { EventRecorder } from "../client/events.ts";
import { InformerFactory } from "../client/informer.ts";
import { ControllerManager } from "../controllers/manager.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { SimKubelet } from "../sim/sim-kubelet.ts";

/** What the node agent needs to know about its node. */
export interface AgentSettings {
  nodeName: string;
  nodeIP: string;
  podCIDR: string;
  /** The node also runs the control plane (gets the control-plane role label). */
  controlPlane: boolean;
  /** Port of the agent's streaming server (upstream's 10250; 0 picks a free one). */
  kubeletPort: number;
  /** Ports of the Ingress controller on the node (80 and 443; 0 picks a free one). */
  ingressHttpPort: number;
  ingressHttpsPort: number;
}

export const defaultAgentSettings = (): AgentSettings => ({
  nodeName: hostname().toLowerCase(),
  nodeIP: "127.0.0.1",
  podCIDR: "10.244.0.0/24",
  controlPlane: true,
  kubeletPort: 10250,
  ingressHttpPort: 80,
  ingressHttpsPort: 443,
});

/** Why this machine cannot run pods, or undefined when it can. */
export function agentUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "the node agent needs root (runc, network namespaces, mounts)";
  return undefined;
}

export const clientFor = (connection: ConnectionConfig, userAgent: string): RestClient =>
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
