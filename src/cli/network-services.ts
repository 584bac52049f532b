/**
 * @module The node's share of Services, as k3s bundles them with its agent: the service
 * proxy (nftables rules for cluster IPs, node ports and load balancers), the cluster DNS on
 * the pod bridge's address (published as the `kube-dns` Service's endpoint, so 10.96.0.10
 * reaches it through the proxy), and the Ingress controller on the node's ports. They share
 * one informer cache, as one process's components do. A part that cannot start (a port in
 * use) is reported and the rest runs.
 */
import { startNodeRoutes } from "../runtime/network/node-routes.ts";
import { RestClient, type ConnectionConfig } from "../client/rest-client.ts";
import { InformerFactory } from "../client/informer.ts";
import { startClusterDNS } from "../dns/index.ts";
import { startIngressController } from "../ingress/ingress-controller.ts";
import { startServiceProxy } from "../proxy/service-proxy.ts";
import type { AgentSettings } from "./components.ts";

export interface NetworkServices {
  /** The Ingress controller's ports (when it runs). */
  ingress?: { httpPort: number; httpsPort: number };
  /** Stops all three; the proxy removes its nftables table. */
  stop(): Promise<void>;
}

/** Starts proxy, DNS and Ingress for this node; `gateway` is the pod bridge's address. */
export async function startNetworkServices(
  connection: ConnectionConfig,
  settings: AgentSettings,
  gateway: string,
  signal: AbortSignal,
): Promise<NetworkServices> {
  const client = new RestClient({ ...connection, userAgent: `kites-network/${settings.nodeName}` });
  const informers = new InformerFactory(client);
  const stops: (() => Promise<void>)[] = [];
  const proxy = await startServiceProxy({
    client,
    informers,
    nodeName: settings.nodeName,
    nodeIP: settings.nodeIP,
    podCIDR: settings.podCIDR,
    signal,
  });
  stops.push(() => proxy.stop());
  try {
    const dns = await startClusterDNS({
      informers,
      client,
      listen: [{ address: gateway, port: 53 }],
      signal,
      publish: {
        namespace: "kube-system",
        service: "kube-dns",
        ip: gateway,
        nodeName: settings.nodeName,
        sliceName: `kube-dns-${settings.nodeName}`,
      },
    });
    stops.push(() => dns.stop());
  } catch (e) {
    console.error(`kites agent: cluster DNS not started: ${(e as Error).message}`);
  }
  let ingress: NetworkServices["ingress"];
  try {
    const ic = await startIngressController({
      client,
      informers,
      nodeIP: settings.nodeIP,
      httpPort: settings.ingressHttpPort,
      httpsPort: settings.ingressHttpsPort,
      signal,
    });
    ingress = { httpPort: ic.httpPort, httpsPort: ic.httpsPort };
    stops.push(() => ic.stop());
  } catch (e) {
    console.error(`kites agent: Ingress controller not started: ${(e as Error).message}`);
  }
  // Routes to the other nodes' pod CIDRs (host-gw), kept while the agent restarts.
  startNodeRoutes({
    informers,
    nodeName: settings.nodeName,
    nodeIP: settings.nodeIP,
    podCIDR: settings.podCIDR,
    signal,
  });
  informers.start(signal);
  return {
    ...(ingress ? { ingress } : {}),
    async stop() {
      for (const s of stops.reverse()) await s().catch(() => undefined);
    },
  };
}
