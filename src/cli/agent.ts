/**
 * @module The node agent as `kites server` and `kites agent` run it: the image store (with the
 * busybox image), overlayfs snapshots, the runc runtime, the node's network services (service
 * proxy, cluster DNS, Ingress), the agent's streaming server and the kubelet. In its
 * own module so a control-plane-only server never loads the runtime.
 */
import { join } from "node:path";
import type { ConnectionConfig } from "../client/rest-client.ts";
import { Kubelet } from "../kubelet/kubelet.ts";
import { KubeletServer } from "../kubelet/server/kubelet-server.ts";
import { StatsProvider } from "../kubelet/stats/stats-provider.ts";
import { ensureBusyboxImage } from "../runtime/images/busybox-image.ts";
import { ImageStore } from "../runtime/images/image-store.ts";
import { RuncRuntime } from "../runtime/runc-runtime.ts";
import { Snapshotter } from "../runtime/snapshots/snapshotter.ts";
import { clientFor, type AgentSettings } from "./components.ts";

/** Starts the node agent with the runc runtime; resolves once it serves its pods. */
export async function startAgent(
  connection: ConnectionConfig,
  dataDir: string,
  settings: AgentSettings,
  /** The cluster CA (verifies the API server's client certificate) and the agent's serving pair. */
  tls: { ca: string; cert: string; key: string },
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
  // Cluster IPs, node ports, DNS and Ingress for this node's pods (on the pod bridge).
  const { gateway } = await runtime.ensureNodeNetwork();
  const { startNetworkServices } = await import("./network-services.ts");
  await startNetworkServices(connection, settings, gateway, signal);
  // The agent's streaming server (logs, exec, attach, port-forward), reached through the API server.
  const agent: { kubelet?: Kubelet } = {};
  // cpu and memory of containers, pods and the node, for GET /stats/summary.
  const stats = new StatsProvider({
    runtime,
    nodeName: settings.nodeName,
    dataDir,
    podByUid: (uid) => agent.kubelet?.pods.byIndex("uid", uid)[0],
  });
  stats.start(signal);
  const streaming = new KubeletServer({
    runtime,
    stats,
    pods: (ns, name) => agent.kubelet?.pods.get(ns, name),
    tls,
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
