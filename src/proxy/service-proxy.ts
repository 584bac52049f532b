/**
 * @module The per-node service proxy as the node agent starts it: kernel settings it needs,
 * the proxier over shared Service and EndpointSlice informers, and the servicelb-style
 * LoadBalancer status controller. `stop()` deletes the `ip kites-proxy` table.
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import type { Service } from "../api/types/core-v1.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import type { InformerFactory } from "../client/informer.ts";
import type { Client } from "../client/types.ts";
import { execConntrackCleaner } from "./conntrack.ts";
import { LoadBalancerStatusController } from "./lb-status.ts";
import { execNftRunner, inNetns, type NftOptions, type NftRunner } from "./nft-runner.ts";
import { Proxier } from "./proxier.ts";
import { TABLE } from "./render.ts";

export interface ServiceProxyOptions {
  client: Client;
  informers: InformerFactory;
  /** The node's address: NodePorts and LoadBalancer ports answer on it (and on 127.0.0.1). */
  nodeIP: string;
  /** The node's pod CIDR (e.g. 10.244.0.0/24): cluster-IP traffic from outside it is masqueraded. */
  podCIDR: string;
  signal: AbortSignal;
  /**
   * This node's name: endpoints with this `nodeName` are local for `internalTrafficPolicy`
   * / `externalTrafficPolicy: Local`. Undefined: every endpoint counts as local.
   */
  nodeName?: string;
  /** Delete stale UDP conntrack entries with Debian's `conntrack` (default true; never with `runner`). */
  conntrack?: boolean;
  /** Where nft runs (`netns`: inside that network namespace). */
  nft?: NftOptions;
  /** Replaces the nft runner entirely (unit tests). */
  runner?: NftRunner;
  /** Run the LoadBalancer status controller (default true). */
  loadBalancerStatus?: boolean;
  /**
   * Flat service chains (see RenderConfig.flatEndpoints): default true, which keeps adding
   * one Service among 5,000 under 50 ms; false renders upstream's per-endpoint chains.
   */
  flatEndpoints?: boolean;
  /** Proxier tuning. */
  debounceMs?: number;
  minSyncIntervalMs?: number;
  /** Skip the sysctl writes (unit tests with a fake runner). */
  skipSysctls?: boolean;
}

export interface ServiceProxy {
  proxier: Proxier;
  lbStatus: LoadBalancerStatusController | undefined;
  /** Stops syncing and deletes the `ip kites-proxy` table. */
  stop(): Promise<void>;
}

function sh(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(file, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    c.stderr.on("data", (b: Buffer) => (err += b.toString()));
    c.on("error", reject);
    c.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`${file} ${args.join(" ")}: ${err.trim()}`)),
    );
  });
}

/** Writes one sysctl (`net/ipv4/conf/all/route_localnet` style path), in `netns` if given. */
export async function setSysctl(netns: string | undefined, path: string, value: string): Promise<void> {
  if (!netns) return writeFile(`/proc/sys/${path}`, value);
  const [file, args] = inNetns(netns, "sysctl", ["-q", "-w", `${path.replaceAll("/", ".")}=${value}`]);
  return sh(file, args);
}

/**
 * The kernel settings Services need: bridged pod→VIP→pod replies must pass conntrack
 * (`bridge-nf-call-iptables`, as upstream requires) and NodePorts answer on 127.0.0.1
 * (`route_localnet`, as kube-proxy's iptables mode). Warns instead of failing when a
 * setting is unavailable (no br_netfilter module).
 */
export async function ensureProxySysctls(netns: string | undefined): Promise<void> {
  for (const [path, value] of [
    ["net/bridge/bridge-nf-call-iptables", "1"],
    ["net/ipv4/conf/all/route_localnet", "1"],
  ] as const) {
    try {
      await setSysctl(netns, path, value);
    } catch (e) {
      console.warn(`kites-proxy: cannot set ${path}=${value}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/**
 * Starts the service proxy; resolves once the first full sync is in the kernel. Uses (and
 * starts) the factory's Service and EndpointSlice informers.
 */
export async function startServiceProxy(o: ServiceProxyOptions): Promise<ServiceProxy> {
  const runner = o.runner ?? execNftRunner(o.nft ?? {});
  if (!o.skipSysctls) await ensureProxySysctls(o.nft?.netns);
  const services = o.informers.informer<Service>("", "services");
  const slices = o.informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices");
  const proxier = new Proxier({
    services,
    slices,
    runner,
    render: { podCIDR: o.podCIDR, flatEndpoints: o.flatEndpoints ?? true },
    base: { localhostNodePorts: true },
    ...(o.nodeName !== undefined ? { nodeName: o.nodeName } : {}),
    ...(o.conntrack !== false && !o.runner ? { conntrack: execConntrackCleaner(o.nft?.netns) } : {}),
    ...(o.debounceMs !== undefined ? { debounceMs: o.debounceMs } : {}),
    ...(o.minSyncIntervalMs !== undefined ? { minSyncIntervalMs: o.minSyncIntervalMs } : {}),
  });
  let lbStatus: LoadBalancerStatusController | undefined;
  if (o.loadBalancerStatus !== false) {
    lbStatus = new LoadBalancerStatusController({ client: o.client, services, nodeIP: o.nodeIP });
    lbStatus.start(o.signal);
  }
  await proxier.start(o.signal);
  return {
    proxier,
    lbStatus,
    async stop(): Promise<void> {
      await proxier.shutdown();
      try {
        await runner.apply(`delete table ip ${TABLE}\n`);
      } catch (e) {
        if (!/No such file or directory/.test(e instanceof Error ? e.message : "")) throw e;
      }
    },
  };
}
