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
import type { ControllerOptions } from "../controllers/context.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { SimKubelet } from "../sim/sim-kubelet.ts";
import type { FlagSpec, FlagValues } from "./flags.ts";

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

/** The node agent's flags, the same for `kites server` and `kites agent`. */
export const AGENT_FLAGS: FlagSpec = {
  "node-name": { type: "string", help: "name of this machine's Node (default: the host name)" },
  "node-ip": { type: "string", help: "address the node reports and serves on (default 127.0.0.1)" },
  "pod-cidr": {
    type: "string",
    help: "pod addresses of this node, distinct per node (default 10.244.0.0/24)",
  },
  "kubelet-port": {
    type: "number",
    help: "port of the node agent's streaming server (default 10250; 0: any free)",
  },
  "ingress-http-port": {
    type: "number",
    help: "HTTP port of the node's Ingress controller (default 80; 0: any free)",
  },
  "ingress-https-port": {
    type: "number",
    help: "HTTPS port of the node's Ingress controller (default 443; 0: any free)",
  },
};

/** The agent's settings: the defaults, with what `AGENT_FLAGS` gave on top. */
export function agentSettingsFrom(flags: FlagValues, controlPlane: boolean): AgentSettings {
  const s = { ...defaultAgentSettings(), controlPlane };
  if (flags["node-name"]) s.nodeName = String(flags["node-name"]);
  if (flags["node-ip"]) s.nodeIP = String(flags["node-ip"]);
  if (flags["pod-cidr"]) s.podCIDR = String(flags["pod-cidr"]);
  if (flags["kubelet-port"] !== undefined) s.kubeletPort = Number(flags["kubelet-port"]);
  if (flags["ingress-http-port"] !== undefined) s.ingressHttpPort = Number(flags["ingress-http-port"]);
  if (flags["ingress-https-port"] !== undefined) s.ingressHttpsPort = Number(flags["ingress-https-port"]);
  return s;
}

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
  run: { scheduler: boolean; controllers: boolean; controllerOptions?: Partial<ControllerOptions> } = {
    scheduler: true,
    controllers: true,
  },
): Promise<ControlPlane> {
  const client = clientFor(connection, "kube-controller-manager");
  const informers = new InformerFactory(client);
  let manager: ControllerManager | undefined;
  if (run.controllers) {
    // The cluster CA the components trust is the one every namespace gets (kube-root-ca.crt).
    const options = { rootCA: connection.ca, ...run.controllerOptions };
    manager = new ControllerManager({ client, informers, options });
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
