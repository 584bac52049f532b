/**
 * @module bench/network: the network benchmark, part by part in one run — cluster
 * DNS queries/s per core (dns.ts), the service proxy's rule sync when 5,000 Services exist
 * (proxy-sync.ts, needs root), and the Ingress beside Debian's nginx as a reverse proxy
 * (ingress.ts), and a pod reached by its IP versus through its ClusterIP on a real node
 * (latency.ts, needs root). Each part also runs alone (`node --import tsx bench/network/dns.ts`).
 * Prints each part's figures and, last, one JSON line with all of them.
 */
import { runDnsBench } from "./dns.ts";
import { runIngressBench } from "./ingress.ts";
import { runLatencyBench } from "./latency.ts";
import { benchProxySync } from "./proxy-sync.ts";

const out: Record<string, unknown> = {};
out.dns = await runDnsBench();
if (process.getuid?.() === 0) {
  out.latency = await runLatencyBench();
  out.proxySync = await benchProxySync();
} else console.warn("*** SKIPPED latency and proxy-sync: they need root (a node agent, nft) ***");
out.ingress = await runIngressBench();
console.log(JSON.stringify(out));
