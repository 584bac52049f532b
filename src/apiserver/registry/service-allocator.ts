/**
 * @module What the API server hands out to Services: cluster IPs from the service CIDR
 * (10.96.0.0/12) and node ports from 30000–32767, each at most once. As upstream, allocation
 * runs before validation (a requested value is reserved or refused with a field error such as
 * `failed to allocate IP 10.96.0.10: provided IP is already allocated`), dynamic values come
 * from the upper part of each range so the lower band stays free for addresses users pin
 * (kube-dns at 10.96.0.10), and values are released when the Service goes or stops needing
 * them. The bitmaps are rebuilt from the stored Services when the server starts; one API
 * server owns them (several servers sharing an etcd would need upstream's IPAddress objects).
 */
import type { Service, ServicePort } from "../../api/types/core-v1.ts";
import { invalidValue, type FieldError } from "../../api/field-errors.ts";
import { internalError } from "../../api/status-error.ts";
import { formatCidr, intToIp, ipToInt, parseCidr, type Cidr } from "../../runtime/network/cidr.ts";

/** The service CIDR and node port range kites uses (upstream's defaults). */
export const SERVICE_CIDR = "10.96.0.0/12";
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

/** Not an error a user caused: the range has no free value (500, as upstream). */
class RangeFullError extends Error {}

/**
 * A bitmap over `size` values. Dynamic allocation starts at a random offset inside the upper
 * band (`[reserved, size)`) and falls back to the lower band, as upstream's allocator does.
 */
export class RangeBitmap {
  private readonly bits: Uint8Array;
  private used = 0;
  constructor(
    readonly size: number,
    /** Values below this are handed out only when they are asked for, or the rest is full. */
    readonly reserved: number,
  ) {
    this.bits = new Uint8Array(Math.ceil(size / 8));
  }
  has(i: number): boolean {
    return (this.bits[i >> 3]! & (1 << (i & 7))) !== 0;
  }
  set(i: number): void {
    if (this.has(i)) return;
    this.bits[i >> 3]! |= 1 << (i & 7);
    this.used++;
  }
  clear(i: number): void {
    if (!this.has(i)) return;
    this.bits[i >> 3]! &= ~(1 << (i & 7));
    this.used--;
  }
  get free(): number {
    return this.size - this.used;
  }
  /** A free value, marked used; undefined when none is left. */
  next(): number | undefined {
    if (this.used >= this.size) return undefined;
    return this.scan(this.reserved, this.size) ?? this.scan(0, this.reserved);
  }
  private scan(lo: number, hi: number): number | undefined {
    const span = hi - lo;
    if (span <= 0) return undefined;
    const start = lo + Math.floor(Math.random() * span);
    for (let k = 0; k < span; k++) {
      const i = lo + ((start - lo + k) % span);
      if (!this.has(i)) {
        this.set(i);
        return i;
      }
    }
    return undefined;
  }
}

/** Upstream's size of the band kept for requested values: size/16 clamped to [16, 256]. */
const staticBand = (size: number, divisor: number, max: number): number =>
  Math.min(Math.max(16, Math.floor(size / divisor)), max);

/** The values one Service holds. */
interface Held {
  ips: number[];
  ports: number[];
}

/** Undo or keep what one write reserved. */
export interface Allocation {
  /** The write was stored: release what the old object held and the new one no longer does. */
  commit(): void;
  /** The write failed (or was a dry run): give back what it reserved. */
  rollback(): void;
}

const NOTHING: Allocation = { commit() {}, rollback() {} };

/** The cluster IP and node port allocator of one API server. */
export class ServiceAllocator {
  private readonly cidr: Cidr;
  private readonly base: number;
  private readonly ips: RangeBitmap;
  private readonly ports = new RangeBitmap(
    NODE_PORT_MAX - NODE_PORT_MIN + 1,
    staticBand(NODE_PORT_MAX - NODE_PORT_MIN + 1, 32, 128),
  );

  constructor(cidr = SERVICE_CIDR) {
    this.cidr = parseCidr(cidr);
    this.base = this.cidr.network;
    const size = 2 ** (32 - this.cidr.prefix);
    this.ips = new RangeBitmap(size, staticBand(size, 16, 256));
    // The network and broadcast addresses are never handed out.
    this.ips.set(0);
    this.ips.set(size - 1);
  }

  /** Marks what stored Services hold (at start-up). Conflicting duplicates are kept as found. */
  restore(services: readonly Service[]): void {
    for (const svc of services) {
      const held = this.heldBy(svc);
      for (const i of held.ips) this.ips.set(i);
      for (const p of held.ports) this.ports.set(p);
    }
  }

  /** Free cluster IPs and node ports left (for tests and metrics). */
  get freeCounts(): { ips: number; ports: number } {
    return { ips: this.ips.free, ports: this.ports.free };
  }

  /**
   * Fills in and reserves what `svc` needs and `old` (on update) did not hold; throws a field
   * error list (as `FieldError[]` in an `AllocationError`) for a requested value that is taken
   * or out of range.
   */
  allocate(svc: Service, old?: Service): Allocation {
    const spec = svc.spec;
    if (!spec) return NOTHING;
    const before = old ? this.heldBy(old) : { ips: [], ports: [] };
    const taken: { ips: number[]; ports: number[] } = { ips: [], ports: [] };
    const undo = (): void => {
      for (const i of taken.ips) this.ips.clear(i);
      for (const p of taken.ports) this.ports.clear(p);
    };
    try {
      const errs: FieldError[] = [];
      if (spec.type !== "ExternalName" && spec.clusterIP !== "None")
        this.allocateIP(svc, before, taken, errs);
      if (
        spec.type === "NodePort" ||
        (spec.type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts !== false)
      ) {
        this.allocatePorts(svc, before, taken, errs);
      }
      if (errs.length) throw new AllocationError(errs);
    } catch (e) {
      undo();
      if (e instanceof RangeFullError) throw internalError(e.message);
      throw e;
    }
    return {
      commit: () => {
        const now = this.heldBy(svc);
        for (const i of before.ips) if (!now.ips.includes(i)) this.ips.clear(i);
        for (const p of before.ports) if (!now.ports.includes(p)) this.ports.clear(p);
      },
      rollback: undo,
    };
  }

  /** The Service is gone: its values are free again. */
  release(svc: Service): void {
    const held = this.heldBy(svc);
    for (const i of held.ips) this.ips.clear(i);
    for (const p of held.ports) this.ports.clear(p);
  }

  private allocateIP(svc: Service, before: Held, taken: Held, errs: FieldError[]): void {
    const spec = svc.spec!;
    const requested = spec.clusterIP || spec.clusterIPs?.[0];
    if (!requested) {
      const i = this.ips.next();
      if (i === undefined) throw new RangeFullError("failed to allocate a serviceIP: range is full");
      taken.ips.push(i);
      const ip = intToIp(this.base + i);
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
      spec.ipFamilies ??= ["IPv4"];
      spec.ipFamilyPolicy ??= "SingleStack";
      return;
    }
    spec.ipFamilies ??= ["IPv4"];
    spec.ipFamilyPolicy ??= "SingleStack";
    // A malformed address is validation's to report.
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(requested)) return;
    const i = ipToInt(requested) - this.base;
    if (before.ips.includes(i)) return;
    const fail = (why: string): void => {
      errs.push(
        invalidValue(
          "spec.clusterIPs",
          spec.clusterIPs ?? [requested],
          `failed to allocate IP ${requested}: ${why}`,
        ),
      );
    };
    if (i < 0 || i >= this.ips.size) {
      fail(
        `the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${formatCidr(this.cidr)}`,
      );
    } else if (this.ips.has(i)) {
      fail("provided IP is already allocated");
    } else {
      this.ips.set(i);
      taken.ips.push(i);
    }
  }

  private allocatePorts(svc: Service, before: Held, taken: Held, errs: FieldError[]): void {
    const ports = svc.spec!.ports ?? [];
    // Requested ports first, so a dynamic pick never takes one asked for further down.
    ports.forEach((sp, idx) => {
      if (!sp.nodePort) return;
      const p = sp.nodePort - NODE_PORT_MIN;
      if (before.ports.includes(p) || taken.ports.includes(p)) return;
      const path = `spec.ports[${idx}].nodePort`;
      if (p < 0 || p >= this.ports.size) {
        errs.push(
          invalidValue(
            path,
            sp.nodePort,
            `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`,
          ),
        );
      } else if (this.ports.has(p)) {
        errs.push(invalidValue(path, sp.nodePort, "provided port is already allocated"));
      } else {
        this.ports.set(p);
        taken.ports.push(p);
      }
    });
    // Ports of one number over TCP and UDP share a node port, as upstream.
    const byNumber = new Map<number, number>();
    for (const sp of ports) if (sp.nodePort) byNumber.set(sp.port, sp.nodePort);
    for (const sp of ports as ServicePort[]) {
      if (sp.nodePort) continue;
      const same = byNumber.get(sp.port);
      if (same) {
        sp.nodePort = same;
        continue;
      }
      const p = this.ports.next();
      if (p === undefined) throw new RangeFullError("failed to allocate a nodePort: range is full");
      taken.ports.push(p);
      sp.nodePort = NODE_PORT_MIN + p;
      byNumber.set(sp.port, sp.nodePort);
    }
  }

  /** The bitmap offsets a stored Service holds. */
  private heldBy(svc: Service): Held {
    const spec = svc.spec;
    const held: Held = { ips: [], ports: [] };
    if (!spec) return held;
    for (const ip of spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])) {
      if (ip === "None" || !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) continue;
      const i = ipToInt(ip) - this.base;
      if (i >= 0 && i < this.ips.size) held.ips.push(i);
    }
    for (const sp of spec.ports ?? []) {
      const p = (sp.nodePort ?? 0) - NODE_PORT_MIN;
      if (sp.nodePort && p >= 0 && p < this.ports.size && !held.ports.includes(p)) held.ports.push(p);
    }
    return held;
  }
}

/** Requested values that could not be reserved: the store answers 422 with these causes. */
export class AllocationError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => e.detail).join("; "));
  }
}
