/**
 * @module Stale UDP conntrack entries, as upstream kube-proxy clears them. UDP has no
 * connection to end, so a conntrack entry keeps sending a client's datagrams to the endpoint
 * it was DNATed to, even after that endpoint is gone, and entries made while a Service had no
 * endpoints keep a client from reaching the ones that arrive. After each sync the proxier
 * asks this module which entries to delete and runs `conntrack -D` for each:
 * - an endpoint of a UDP port went away (or the port or Service did): entries DNATed to it
 *   through any of the port's addresses (`--orig-dst FRONT --orig-port-dst PORT --dst-nat EP`,
 *   node port `--orig-port-dst NODEPORT --dst-nat EP`);
 * - a UDP port went from no endpoints to some: entries to its addresses
 *   (`--orig-dst FRONT --orig-port-dst PORT`, node port `--orig-port-dst NODEPORT`).
 */
import { CommandError, run } from "../runtime/runc/command.ts";
import { inNetns } from "./nft-runner.ts";
import type { ProxyEndpoint, ServicePortInfo } from "./service-ports.ts";

/** The arguments of one `conntrack -D …` call. */
export type ConntrackDeletion = string[];

/** Runs deletions (the proxier's hook; tests pass a recorder). */
export type ConntrackCleaner = (deletions: readonly ConntrackDeletion[]) => Promise<void>;

/** Only the UDP ports of a Service: what the proxier keeps to compare the next sync with. */
export function udpPorts(ports: readonly ServicePortInfo[]): ServicePortInfo[] {
  return ports.filter((p) => p.protocol === "udp");
}

function fronts(p: ServicePortInfo): string[] {
  const out = p.clusterIP ? [p.clusterIP] : [];
  out.push(...p.externalIPs, ...p.loadBalancerIPs);
  return out;
}

function used(p: ServicePortInfo): Map<string, ProxyEndpoint> {
  const m = new Map<string, ProxyEndpoint>();
  for (const e of p.endpoints) m.set(`${e.ip}:${e.port}`, e);
  for (const e of p.localEndpoints) m.set(`${e.ip}:${e.port}`, e);
  return m;
}

/**
 * The `conntrack -D` calls that one Service's change from `prev` to `next` (its UDP ports
 * before and after; empty: none) calls for. Pure.
 */
export function staleConntrackEntries(
  prev: readonly ServicePortInfo[],
  next: readonly ServicePortInfo[],
): ConntrackDeletion[] {
  const out: ConntrackDeletion[] = [];
  const before = new Map(prev.map((p) => [p.nameString, p]));
  const after = new Map(next.map((p) => [p.nameString, p]));
  for (const [name, p] of before) {
    const q = after.get(name);
    const still = q ? used(q) : new Map<string, ProxyEndpoint>();
    const goneIPs = new Set<string>();
    for (const [k, e] of used(p)) if (!still.has(k)) goneIPs.add(e.ip);
    for (const ip of goneIPs) {
      for (const f of fronts(p))
        out.push(["-D", "-p", "udp", "--orig-dst", f, "--orig-port-dst", String(p.port), "--dst-nat", ip]);
      if (p.nodePort) out.push(["-D", "-p", "udp", "--orig-port-dst", String(p.nodePort), "--dst-nat", ip]);
    }
  }
  for (const [name, q] of after) {
    if (q.endpoints.length === 0) continue;
    const p = before.get(name);
    if (p && p.endpoints.length > 0) continue;
    for (const f of fronts(q))
      out.push(["-D", "-p", "udp", "--orig-dst", f, "--orig-port-dst", String(q.port)]);
    if (q.nodePort) out.push(["-D", "-p", "udp", "--orig-port-dst", String(q.nodePort)]);
  }
  return out;
}

/**
 * The real cleaner: runs Debian's `conntrack` (in `netns` if given) off the event loop, one
 * call after another. "0 flow entries have been deleted" (exit 1) is success; other
 * failures are logged, not thrown (a stale entry is not worth failing a sync for).
 */
export function execConntrackCleaner(
  netns: string | undefined,
  log: (msg: string) => void = (m) => console.error(`kites-proxy: ${m}`),
): ConntrackCleaner {
  return async (deletions) => {
    for (const d of deletions) {
      const [file, args] = inNetns(netns, "conntrack", d);
      try {
        await run(file, args, { timeoutMs: 10_000 });
      } catch (e) {
        if (e instanceof CommandError && /0 flow entries/.test(e.message)) continue;
        log(`conntrack ${d.join(" ")}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  };
}
