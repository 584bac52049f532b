/**
 * @module Address plans of simulated nodes: which pod CIDR and InternalIP a new simulated
 * node gets (never colliding with the podCIDRs other nodes already hold), and the per-node
 * pool pods draw their IPs from. IPv4 only; nothing here is ever routed (simulated pods have
 * no network), the addresses only have to be unique and look like a real cluster's.
 *
 * Pod CIDRs are /24 blocks handed out in this order: 10.244.1.0/24 … 10.244.255.0/24 (the
 * cluster's pod range 10.244.0.0/16, whose first block is left to the real node agent), then
 * on through 10.245.0.0/24 … 10.255.255.0/24, then 10.128.0.0/24 … 10.243.255.0/24 — 32,767
 * blocks in all, none inside the service range 10.96.0.0/12. A node whose pod CIDR is
 * 10.A.B.0/24 gets the InternalIP 10.16.A.B (10.16.0.0/16 holds simulated node addresses).
 */

/** Parses dotted-quad IPv4 to an unsigned 32-bit number; undefined when it is not one. */
export function parseIPv4(s: string): number | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** Formats an unsigned 32-bit number as dotted-quad IPv4. */
export function formatIPv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** An IPv4 CIDR: its first address and prefix length. */
export interface Cidr4 {
  base: number;
  prefix: number;
}

/** Parses `10.244.1.0/24` (the base is masked to the prefix); undefined for IPv6 or junk. */
export function parseCidr4(s: string): Cidr4 | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIPv4(s.slice(0, slash));
  const prefixText = s.slice(slash + 1);
  if (ip === undefined || !/^\d{1,2}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix };
}

const TEN = 10 * 2 ** 24;
/** /24 blocks from 10.244.1.0 to 10.255.255.0. */
const FIRST_RUN = 12 * 256 - 1;
/** /24 blocks from 10.128.0.0 to 10.243.255.0. */
const SECOND_RUN = 116 * 256;
/** How many pod CIDRs simulated nodes can be given. */
export const SIM_POD_CIDR_CAPACITY = FIRST_RUN + SECOND_RUN;

/** The n-th (0-based) /24 block of the simulated pod CIDR order, as its index within 10/8. */
function blockOf(n: number): number {
  return n < FIRST_RUN ? 244 * 256 + 1 + n : 128 * 256 + (n - FIRST_RUN);
}

/** A pod CIDR for a new simulated node, and the InternalIP that goes with it. */
export interface SimNodeAddresses {
  podCIDR: string;
  internalIP: string;
}

/**
 * Hands out pod CIDRs (and InternalIPs) to new simulated nodes, lowest free block first,
 * skipping every block that overlaps a CIDR already taken (`taken`: the podCIDRs of the
 * nodes that exist). O(1) per block checked for /24-or-smaller existing CIDRs.
 */
export class PodCidrAllocator {
  /** Indexes within 10/8 of /24 blocks that some existing CIDR overlaps. */
  private readonly used = new Set<number>();
  /** Existing CIDRs larger than a /24 (rare): checked by range. */
  private readonly wide: { first: number; last: number }[] = [];
  private cursor = 0;

  constructor(taken: Iterable<string>) {
    for (const s of taken) this.take(s);
  }

  /** Marks a CIDR as in use. */
  take(s: string): void {
    const c = parseCidr4(s);
    if (!c) return;
    if (c.prefix >= 24) {
      if (Math.floor(c.base / 2 ** 24) === 10) this.used.add(Math.floor((c.base - TEN) / 256));
      return;
    }
    const size = 2 ** (32 - c.prefix);
    this.wide.push({ first: c.base, last: c.base + size - 1 });
  }

  /** The next free block; throws when all {@link SIM_POD_CIDR_CAPACITY} are taken. */
  next(): SimNodeAddresses {
    while (this.cursor < SIM_POD_CIDR_CAPACITY) {
      const block = blockOf(this.cursor++);
      if (this.used.has(block)) continue;
      const first = TEN + block * 256;
      if (this.wide.some((w) => w.first <= first + 255 && first <= w.last)) continue;
      this.used.add(block);
      return {
        podCIDR: `${formatIPv4(first)}/24`,
        internalIP: formatIPv4(TEN + 16 * 2 ** 16 + block),
      };
    }
    throw new Error(
      `no free pod CIDR left for simulated nodes (all ${SIM_POD_CIDR_CAPACITY} /24 blocks are in use)`,
    );
  }
}

/**
 * The pod IPs of one node: addresses of its pod CIDR, lowest free first, skipping the
 * network address, the gateway (.1) and the broadcast address, as a bridge IPAM does. An
 * address comes back to the pool when its pod goes away.
 */
export class PodIpPool {
  private readonly base: number;
  private readonly size: number;
  private readonly inUse: Uint8Array;
  private readonly byPod = new Map<string, number>();
  /** No free address lies below this offset. */
  private hint = 2;

  /** Throws when `cidr` is not an IPv4 CIDR with room for at least one pod. */
  constructor(readonly cidr: string) {
    const c = parseCidr4(cidr);
    if (!c || c.prefix > 30) throw new Error(`pod CIDR "${cidr}" has no room for pods`);
    this.base = c.base;
    this.size = 2 ** (32 - c.prefix);
    this.inUse = new Uint8Array(this.size);
  }

  /** Addresses handed out now. */
  get allocated(): number {
    return this.byPod.size;
  }

  /** The address `key` holds, if any. */
  get(key: string): string | undefined {
    const off = this.byPod.get(key);
    return off === undefined ? undefined : formatIPv4(this.base + off);
  }

  /** The address of `key`, allocating the lowest free one; undefined when the pool is full. */
  allocate(key: string): string | undefined {
    const have = this.byPod.get(key);
    if (have !== undefined) return formatIPv4(this.base + have);
    for (let off = this.hint; off <= this.size - 2; off++) {
      if (this.inUse[off]) continue;
      this.inUse[off] = 1;
      this.byPod.set(key, off);
      this.hint = off + 1;
      return formatIPv4(this.base + off);
    }
    return undefined;
  }

  /**
   * Claims `ip` for `key` (a pod that already shows this address, seen again after a
   * restart). False when the address is outside the CIDR, not assignable, or held by another.
   */
  reserve(key: string, ip: string): boolean {
    const n = parseIPv4(ip);
    if (n === undefined) return false;
    const off = n - this.base;
    if (off < 2 || off > this.size - 2) return false;
    const have = this.byPod.get(key);
    if (have === off) return true;
    if (this.inUse[off]) return false;
    if (have !== undefined) this.inUse[have] = 0;
    this.inUse[off] = 1;
    this.byPod.set(key, off);
    return true;
  }

  /** Returns the address of `key` to the pool. */
  release(key: string): void {
    const off = this.byPod.get(key);
    if (off === undefined) return;
    this.byPod.delete(key);
    this.inUse[off] = 0;
    if (off < this.hint) this.hint = off;
  }
}
