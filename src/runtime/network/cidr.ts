/**
 * @module IPv4 CIDR arithmetic for the pod network: parse `10.244.0.0/24`, convert between
 * dotted quads and integers, the gateway (first host address) and the usable host range.
 */

/** A parsed IPv4 CIDR. */
export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  network: number;
  prefix: number;
  /** Number of addresses in the block. */
  size: number;
}

/** `10.1.2.3` → integer; throws on anything that is not a dotted quad. */
export function ipToInt(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4) throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
    n = n * 256 + v;
  }
  return n;
}

/** Integer → `10.1.2.3`. */
export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Parses `a.b.c.d/p` (the host bits are cleared). */
export function parseCidr(cidr: string): Cidr {
  const [ip, p] = cidr.split("/");
  const prefix = Number(p);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 30) {
    throw new Error(`invalid pod CIDR ${JSON.stringify(cidr)} (want an IPv4 a.b.c.d/8..30)`);
  }
  const size = 2 ** (32 - prefix);
  const network = ipToInt(ip) - (ipToInt(ip) % size);
  return { network, prefix, size };
}

/** `a.b.c.d/p` text of a parsed CIDR. */
export function formatCidr(c: Cidr): string {
  return `${intToIp(c.network)}/${c.prefix}`;
}

/** The gateway: the first host address (what the bridge carries). */
export function gatewayOf(c: Cidr): string {
  return intToIp(c.network + 1);
}
