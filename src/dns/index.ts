/**
 * @module The cluster DNS component (CoreDNS's role at 10.96.0.10): `startClusterDNS`
 * feeds the record index from the shared informers, waits for them to list (at most 5 s,
 * as CoreDNS starts with an unsynced API after a while), binds UDP and TCP on every listen
 * address, forwards other names to the host's resolvers, and optionally publishes its
 * address as the `kube-dns` Service's endpoint. See record-index.ts for the names served.
 */
import type { InformerFactory } from "../client/informer.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import type { Client } from "../client/types.ts";
import { Forwarder } from "./forwarder.ts";
import { startSlicePublisher, type PublishSettings } from "./publish.ts";
import { RecordIndex } from "./record-index.ts";
import { hostResolvers, withoutSelf, type DnsAddress } from "./resolv-conf.ts";
import { Responder } from "./responder.ts";
import { DnsServer } from "./server.ts";

export type { DnsAddress } from "./resolv-conf.ts";
export type { PublishSettings } from "./publish.ts";

export interface ClusterDNSOptions {
  /** The shared informer factory (services, endpointslices, namespaces are taken from it). */
  informers: InformerFactory;
  /** Writes the published EndpointSlice. */
  client: Client;
  /** Where to listen, UDP and TCP each (port 0 picks a free port, the same for both). */
  listen: DnsAddress[];
  /** The cluster domain (default cluster.local). */
  domain?: string;
  /** Resolvers for other names (default: /etc/resolv.conf's, minus our own addresses). */
  upstreams?: DnsAddress[];
  signal: AbortSignal;
  /** Publish the listen address as an endpoint of this Service (kube-system/kube-dns). */
  publish?: Omit<PublishSettings, "port">;
  /** Record TTL in seconds (default 5). */
  ttl?: number;
  /** Per-upstream forwarding timeout (default 2,000 ms). */
  forwardTimeoutMs?: number;
  /** Bound of the encoded-answer cache (default 10,000; 0 turns it off). */
  cacheEntries?: number;
  /** Longest wait for the informers' first list before serving anyway (default 5,000 ms). */
  syncTimeoutMs?: number;
}

/** A running cluster DNS server. */
export interface ClusterDNS {
  /** The bound addresses (UDP and TCP share each port). */
  readonly addresses: readonly DnsAddress[];
  readonly index: RecordIndex;
  readonly upstreams: readonly DnsAddress[];
  /** Closes the sockets and stops publishing (the slice is left for the next start). */
  stop(): Promise<void>;
}

/** Starts the cluster DNS server; resolves once it listens. */
export async function startClusterDNS(opts: ClusterDNSOptions): Promise<ClusterDNS> {
  const index = new RecordIndex({
    ...(opts.domain !== undefined ? { domain: opts.domain } : {}),
    ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}),
  });
  const informers = index.attach(opts.informers);
  opts.informers.start(opts.signal);
  await waitSynced(
    informers.map((i) => i.synced),
    opts.syncTimeoutMs ?? 5000,
    opts.signal,
  );

  const upstreams = withoutSelf(opts.upstreams ?? hostResolvers(), opts.listen);
  const forwarder = new Forwarder({
    upstreams,
    ...(opts.forwardTimeoutMs !== undefined ? { timeoutMs: opts.forwardTimeoutMs } : {}),
  });
  const server = new DnsServer({
    responder: new Responder(index, forwarder),
    listen: opts.listen,
    ...(opts.cacheEntries !== undefined ? { cacheEntries: opts.cacheEntries } : {}),
  });
  index.onChange(() => server.invalidate());
  try {
    await server.start();
  } catch (e) {
    forwarder.close();
    throw e;
  }

  const publishing = new AbortController();
  if (opts.publish) {
    const at = server.bound.find((b) => b.address === opts.publish!.ip);
    startSlicePublisher({
      client: opts.client,
      slices: opts.informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices"),
      publish: { ...opts.publish, port: at?.port ?? 53 },
      signal: publishing.signal,
    });
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      publishing.abort();
      forwarder.close();
      await server.stop();
    })());
  opts.signal.addEventListener("abort", () => void stop(), { once: true });
  return { addresses: server.bound, index, upstreams, stop };
}

function waitSynced(synced: Promise<void>[], ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    void Promise.all(synced).then(done);
  });
}
