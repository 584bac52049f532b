/**
 * @module The host's resolvers for the cluster DNS server's forwarding: the `nameserver`
 * lines of /etc/resolv.conf (CoreDNS's `forward . /etc/resolv.conf`), minus any address the
 * server itself listens on, so a query is never forwarded back to us.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";

/** A DNS server address. */
export interface DnsAddress {
  address: string;
  port: number;
}

/** The nameservers of a resolv.conf text, in order, port 53 (IPv6 zone ids dropped). */
export function parseResolvConf(text: string): DnsAddress[] {
  const out: DnsAddress[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const m = /^nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const address = m[1]!.replace(/%.*$/, "");
    if (isIP(address)) out.push({ address, port: 53 });
  }
  return out;
}

const isLoopback = (a: string): boolean => a.startsWith("127.") || a === "::1";
const isWildcard = (a: string): boolean => a === "0.0.0.0" || a === "::";

/** Every address of this machine's interfaces. */
function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) out.add(i.address);
  return out;
}

/**
 * Drops upstreams that would reach this server: the same address and port as a listen
 * address, or, for a wildcard listen on that port, any address of this machine.
 */
export function withoutSelf(upstreams: readonly DnsAddress[], listen: readonly DnsAddress[]): DnsAddress[] {
  let local: Set<string> | undefined;
  const isLocal = (a: string): boolean => isLoopback(a) || (local ??= localAddresses()).has(a);
  return upstreams.filter(
    (u) =>
      !listen.some(
        (l) =>
          l.port === u.port && (l.address === u.address || (isWildcard(l.address) && isLocal(u.address))),
      ),
  );
}

/** The host's resolvers from `path` (default /etc/resolv.conf); none when it is unreadable. */
export function hostResolvers(path = "/etc/resolv.conf"): DnsAddress[] {
  try {
    return parseResolvConf(readFileSync(path, "utf8"));
  } catch {
    return [];
  }
}
