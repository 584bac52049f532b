/**
 * @module Zone disruption handling of the node lifecycle controller (upstream's
 * handleDisruption, ComputeZoneState and the per-zone NoExecute tainter queues), without I/O.
 * Nodes are grouped by zone (upstream's GetZoneKey: region and zone labels, beta ones first);
 * each zone's state comes from its nodes' Ready conditions (nodes labelled
 * `node.kubernetes.io/exclude-disruption` are not counted): FullDisruption when none is
 * ready, PartialDisruption when more than two and at least `unhealthyZoneThreshold` (0.55) of
 * them are not, Normal otherwise; Initial until first seen. Each zone has a token bucket
 * (burst 1) that paces how fast its not-ready nodes get the NoExecute taint: the eviction rate
 * (0.1/s) in Normal and in FullDisruption while another zone is healthy, the secondary rate
 * (0.01/s) in PartialDisruption when the zone has more than `largeClusterSize` (50) nodes, else
 * 0. When every zone is in FullDisruption the controller assumes the control plane is cut off
 * (upstream's "master disruption mode"): nothing is tainted and the NoExecute taints go, until
 * some node is ready again; the rate limiters then restart empty, as upstream's SwapLimiter
 * drains a new limiter that replaces a blocked one. Waiting nodes are taken in the order they
 * were first seen needing the taint.
 */
import type { Node } from "../../api/types/core-v1.ts";

export type ZoneState = "Initial" | "Normal" | "PartialDisruption" | "FullDisruption";

/** Upstream's kube-controller-manager defaults. */
export interface DisruptionOptions {
  /** `--node-eviction-rate`: nodes tainted per second per zone (0.1). */
  evictionRate: number;
  /** `--secondary-node-eviction-rate`: the same in a partially disrupted large zone (0.01). */
  secondaryEvictionRate: number;
  /** `--large-cluster-size-threshold`: above this many nodes a zone is large (50). */
  largeClusterSize: number;
  /** `--unhealthy-zone-threshold`: share of not-ready nodes that disrupts a zone (0.55). */
  unhealthyZoneThreshold: number;
}

export const DEFAULT_DISRUPTION_OPTIONS: DisruptionOptions = {
  evictionRate: 0.1,
  secondaryEvictionRate: 0.01,
  largeClusterSize: 50,
  unhealthyZoneThreshold: 0.55,
};

/** Nodes with this label do not count towards their zone's state (upstream's label). */
export const LABEL_EXCLUDE_DISRUPTION = "node.kubernetes.io/exclude-disruption";

/** Upstream's GetZoneKey: "" without region and zone labels, else `region:\0:zone`. */
export function zoneKey(node: Node): string {
  const l = node.metadata.labels;
  if (!l) return "";
  const zone = l["failure-domain.beta.kubernetes.io/zone"] ?? l["topology.kubernetes.io/zone"] ?? "";
  const region = l["failure-domain.beta.kubernetes.io/region"] ?? l["topology.kubernetes.io/region"] ?? "";
  if (!region && !zone) return "";
  return `${region}:\0:${zone}`;
}

/** A zone key as klog would quote it in a log line. */
export const printableZone = (zone: string): string => JSON.stringify(zone).replace("\\u0000", "\\x00");

export function excludedFromDisruption(node: Node): boolean {
  return node.metadata.labels?.[LABEL_EXCLUDE_DISRUPTION] !== undefined;
}

/** Upstream's ComputeZoneState over a zone's ready and not-ready node counts. */
export function computeZoneState(ready: number, notReady: number, threshold: number): ZoneState {
  if (ready === 0 && notReady > 0) return "FullDisruption";
  if (notReady > 2 && notReady / (ready + notReady) >= threshold) return "PartialDisruption";
  return "Normal";
}

/** A token bucket of burst 1 (client-go's, as the eviction limiters use); qps ≤ 0 never grants. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly qps: number,
    now: number,
    full = true,
  ) {
    this.tokens = qps > 0 && full ? 1 : 0;
    this.at = now;
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(1, this.tokens + ((now - this.at) * this.qps) / 1000);
      this.at = now;
    }
  }

  tryTake(now: number): boolean {
    if (this.qps <= 0) return false;
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is there (0: now); undefined when none ever will be. */
  msUntilToken(now: number): number | undefined {
    if (this.qps <= 0) return undefined;
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.qps);
  }
}

interface ZoneTainter {
  bucket: TokenBucket;
  /** Nodes waiting for the NoExecute taint, in the order first seen. */
  waiting: Set<string>;
}

/** Ready and not-ready counts of one zone's (not excluded) nodes. */
export interface ZoneTally {
  ready: number;
  notReady: number;
}

export class ZoneDisruption {
  /** Zone states, for zones with counted nodes (upstream's zoneStates). */
  readonly states = new Map<string, ZoneState>();
  private readonly tainters = new Map<string, ZoneTainter>();
  /** Every zone fully disrupted: no NoExecute taints (upstream's master disruption mode). */
  frozen = false;

  constructor(
    private readonly opts: DisruptionOptions,
    private readonly log: (line: string) => void,
  ) {}

  /** The tainting rate for a zone of `size` counted nodes in `state`. */
  rate(state: ZoneState, size: number): number {
    if (state === "PartialDisruption") {
      return size > this.opts.largeClusterSize ? this.opts.secondaryEvictionRate : 0;
    }
    return this.opts.evictionRate;
  }

  /** Current tainting rate of a zone (for tests and diagnostics). */
  zoneRate(zone: string): number | undefined {
    return this.tainters.get(zone)?.bucket.qps;
  }

  /** Upstream's SwapLimiter: a new bucket when the rate changes, empty if the old one was. */
  private setRate(zone: string, qps: number, now: number): void {
    const t = this.tainters.get(zone);
    if (!t || t.bucket.qps === qps) return;
    const blocked = !t.bucket.tryTake(now);
    t.bucket = new TokenBucket(qps, now, !blocked);
  }

  /**
   * One pass of upstream's handleDisruption. `tallies` has the counted nodes per zone;
   * `zones` every zone with a node (tainters are made for new ones and dropped for empty
   * ones). Returns "enter" or "exit" when master disruption mode starts or ends.
   */
  update(
    tallies: Map<string, ZoneTally>,
    zones: Iterable<string>,
    now: number,
  ): "enter" | "exit" | undefined {
    const present = new Set(zones);
    for (const zone of present) {
      if (!this.tainters.has(zone)) {
        this.tainters.set(zone, { bucket: new TokenBucket(this.opts.evictionRate, now), waiting: new Set() });
      }
    }
    for (const zone of this.tainters.keys()) if (!present.has(zone)) this.tainters.delete(zone);

    const next = new Map<string, ZoneState>();
    let allAre = true;
    for (const [zone, t] of tallies) {
      const state = computeZoneState(t.ready, t.notReady, this.opts.unhealthyZoneThreshold);
      if (state !== "FullDisruption") allAre = false;
      next.set(zone, state);
      if (!this.states.has(zone)) this.states.set(zone, "Initial");
    }
    let allWere = true;
    for (const [zone, state] of this.states) {
      if (!next.has(zone)) this.states.delete(zone);
      else if (state !== "FullDisruption") allWere = false;
    }
    const size = (zone: string) => {
      const t = tallies.get(zone);
      return t ? t.ready + t.notReady : 0;
    };
    if (allAre && allWere) return undefined;
    if (allAre) {
      this.log("Controller detected that all Nodes are not-Ready. Entering master disruption mode");
      for (const zone of this.tainters.keys()) this.setRate(zone, 0, now);
      for (const zone of this.states.keys()) this.states.set(zone, "FullDisruption");
      this.frozen = true;
      return "enter";
    }
    if (allWere) {
      this.log("Controller detected that some Nodes are Ready. Exiting master disruption mode");
      for (const zone of this.tainters.keys()) {
        const state = next.get(zone);
        this.setRate(zone, state ? this.rate(state, size(zone)) : this.opts.evictionRate, now);
        if (state) this.states.set(zone, state);
      }
      this.frozen = false;
      return "exit";
    }
    for (const [zone, state] of this.states) {
      const newState = next.get(zone)!;
      if (state === newState) continue;
      this.log(
        `Controller detected that zone is now in new state zone=${printableZone(zone)} newState="${newState}"`,
      );
      this.setRate(zone, this.rate(newState, size(zone)), now);
      this.states.set(zone, newState);
    }
    this.frozen = false;
    return undefined;
  }

  /**
   * Brings each zone's waiting list in line with `needing` (zone → nodes that are not ready
   * and lack the NoExecute taint) and takes from each zone's head as many nodes as its bucket
   * grants now. `retryMs`: when the next token of a zone with waiting nodes comes.
   */
  take(
    needing: Map<string, string[]>,
    now: number,
  ): { nodes: { zone: string; name: string }[]; retryMs?: number } {
    const nodes: { zone: string; name: string }[] = [];
    let retryMs: number | undefined;
    for (const [zone, t] of this.tainters) {
      const want = new Set(needing.get(zone) ?? []);
      for (const name of t.waiting) if (!want.has(name)) t.waiting.delete(name);
      for (const name of want) t.waiting.add(name);
      if (this.frozen) continue;
      for (const name of t.waiting) {
        if (!t.bucket.tryTake(now)) break;
        t.waiting.delete(name);
        nodes.push({ zone, name });
      }
      if (t.waiting.size > 0) {
        const ms = t.bucket.msUntilToken(now);
        if (ms !== undefined) retryMs = Math.min(retryMs ?? Infinity, Math.max(ms, 1));
      }
    }
    return retryMs === undefined ? { nodes } : { nodes, retryMs };
  }

  /** A node whose taint could not be written goes back to the head of its zone's list. */
  putBack(zone: string, name: string): void {
    const t = this.tainters.get(zone);
    if (t) t.waiting = new Set([name, ...t.waiting]);
  }
}
