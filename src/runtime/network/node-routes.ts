/**
 * @module Routes between nodes' pod CIDRs, flannel's "host-gw" backend: every node sits on
 * one L2 network, so another node's pods are reached through that node's address —
 * `ip route replace <peer podCIDR> via <peer InternalIP> proto 107` in the main table — and
 * pod-to-pod traffic keeps its source address: for every peer a rule
 * `-s <own podCIDR> -d <peer podCIDR> -m comment --comment kites-peer -j RETURN` inserted at
 * the top of the nat chain `KITES-POSTROUTING`, before its MASQUERADE. (RETURN rules inserted
 * into that chain itself, not a sub-chain: a RETURN from a sub-chain would fall back into
 * KITES-POSTROUTING and reach the MASQUERADE anyway.)
 *
 * Our routes carry route protocol 107 (`ROUTE_PROTO`, "k", unused by iproute2's
 * /etc/iproute2/rt_protos), so `ip route show proto 107` lists exactly ours, and our nat rules
 * carry the comment `kites-peer`; each reconcile lists both and diffs them against the Nodes,
 * so routes of nodes that went away or changed address are removed. Nodes skipped: this node,
 * nodes without `spec.podCIDR` or InternalIP, nodes whose InternalIP is this node's (several
 * simulated nodes on 127.0.0.1) or a loopback address, nodes whose pod CIDR overlaps ours or
 * an earlier peer's; a peer whose address is not on a directly connected network (the kernel
 * answers "Nexthop has invalid gateway") is logged once and skipped.
 *
 * The decision logic (`desiredRoutes`, `planRoutes`, `planRules`, parsers) is pure; the
 * `NodeRoutes` applier runs iproute2/iptables through the command worker, optionally inside
 * a network namespace (`ip -n NS`, `ip netns exec NS iptables`) for tests; `startNodeRoutes`
 * drives it from the shared Node informer, one coalesced reconcile at a time.
 */
import type { Node } from "../../api/types/core-v1.ts";
import type { InformerFactory } from "../../client/informer.ts";
import { run, tryRun } from "../runc/command.ts";
import { formatCidr, ipToInt, parseCidr } from "./cidr.ts";
import { NAT_CHAIN } from "./node-network.ts";

/** Route protocol number marking our routes (107 = ASCII "k"; not in iproute2's rt_protos). */
export const ROUTE_PROTO = 107;
/** Comment on our nat RETURN rules. */
export const PEER_COMMENT = "kites-peer";

/** One route to a peer node's pods. */
export interface PeerRoute {
  /** The peer's pod CIDR, normalised (`10.244.1.0/24`). */
  cidr: string;
  /** The peer's InternalIP. */
  gateway: string;
  /** The peer's Node name. */
  node: string;
}

/** A Node left out, and why (for one log line). */
export interface SkippedNode {
  node: string;
  reason: string;
}

/** This node, as the decision needs it. */
export interface Self {
  nodeName: string;
  nodeIP: string;
  podCIDR: string;
}

/** A route of ours found in the kernel. */
export interface CurrentRoute {
  cidr: string;
  gateway: string | undefined;
}

/** A `kites-peer` nat rule found in the kernel. */
export interface PeerRule {
  source: string;
  dest: string;
}

/** The first InternalIP of a Node, if any. */
export function internalIP(node: Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
}

function cidrRange(text: string): { lo: number; hi: number; text: string } | undefined {
  const [ip, p] = text.split("/");
  const prefix = Number(p);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  let n: number;
  try {
    n = ipToInt(ip);
  } catch {
    return undefined;
  }
  const size = 2 ** (32 - prefix);
  const lo = n - (n % size);
  return {
    lo,
    hi: lo + size - 1,
    text: prefix >= 8 && prefix <= 30 ? formatCidr(parseCidr(text)) : `${ip}/${prefix}`,
  };
}

/**
 * The routes this node wants: one per other Node with a pod CIDR and an InternalIP that is
 * not ours, sorted by node name so conflicts resolve the same way every time. O(n log n).
 */
export function desiredRoutes(
  nodes: readonly Node[],
  self: Self,
): { routes: PeerRoute[]; skipped: SkippedNode[] } {
  const routes: PeerRoute[] = [];
  const skipped: SkippedNode[] = [];
  const own = cidrRange(self.podCIDR);
  const sorted = [...nodes].sort((a, b) => ((a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1));
  const taken: { lo: number; hi: number; node: string }[] = [];
  for (const n of sorted) {
    const name = n.metadata.name ?? "";
    if (name === self.nodeName) continue;
    const podCIDR = n.spec?.podCIDR;
    if (!podCIDR) {
      skipped.push({ node: name, reason: "no spec.podCIDR" });
      continue;
    }
    const range = cidrRange(podCIDR);
    if (!range || podCIDR.includes(":")) {
      skipped.push({ node: name, reason: `pod CIDR ${podCIDR} is not an IPv4 CIDR` });
      continue;
    }
    const ip = internalIP(n);
    if (!ip) {
      skipped.push({ node: name, reason: "no InternalIP in status.addresses" });
      continue;
    }
    if (ip === self.nodeIP) {
      skipped.push({ node: name, reason: `InternalIP ${ip} is this node's` });
      continue;
    }
    let ipInt: number;
    try {
      ipInt = ipToInt(ip);
    } catch {
      skipped.push({ node: name, reason: `InternalIP ${ip} is not IPv4` });
      continue;
    }
    if (ipInt >>> 24 === 127) {
      skipped.push({ node: name, reason: `InternalIP ${ip} is a loopback address` });
      continue;
    }
    if (own && range.lo <= own.hi && own.lo <= range.hi) {
      skipped.push({ node: name, reason: `pod CIDR ${podCIDR} overlaps this node's ${self.podCIDR}` });
      continue;
    }
    const clash = taken.find((t) => range.lo <= t.hi && t.lo <= range.hi);
    if (clash) {
      skipped.push({ node: name, reason: `pod CIDR ${podCIDR} overlaps node ${clash.node}'s` });
      continue;
    }
    taken.push({ lo: range.lo, hi: range.hi, node: name });
    routes.push({ cidr: range.text, gateway: ip, node: name });
  }
  return { routes, skipped };
}

/** What to change in the route table: `replace` adds or re-points, `remove` deletes. */
export interface RoutePlan {
  replace: PeerRoute[];
  remove: CurrentRoute[];
}

/** Diffs desired routes against ours in the kernel. */
export function planRoutes(desired: readonly PeerRoute[], current: readonly CurrentRoute[]): RoutePlan {
  const have = new Map<string, CurrentRoute>();
  for (const c of current) have.set(c.cidr, c);
  const want = new Set<string>();
  const replace: PeerRoute[] = [];
  for (const d of desired) {
    want.add(d.cidr);
    if (have.get(d.cidr)?.gateway !== d.gateway) replace.push(d);
  }
  const remove = current.filter((c) => !want.has(c.cidr));
  return { replace, remove };
}

/** What to change in the nat chain. */
export interface RulePlan {
  add: PeerRule[];
  remove: PeerRule[];
}

/** Diffs the wanted RETURN rules (own CIDR → each peer CIDR) against the `kites-peer` rules found. */
export function planRules(
  ownCIDR: string,
  desired: readonly PeerRoute[],
  current: readonly PeerRule[],
): RulePlan {
  const source = cidrRange(ownCIDR)?.text ?? ownCIDR;
  const key = (r: PeerRule): string => `${r.source} ${r.dest}`;
  const have = new Set(current.map(key));
  const wanted = new Set<string>();
  const add: PeerRule[] = [];
  for (const d of desired) {
    const r = { source, dest: d.cidr };
    const k = key(r);
    if (wanted.has(k)) continue;
    wanted.add(k);
    if (!have.has(k)) add.push(r);
  }
  const seen = new Set<string>();
  const remove: PeerRule[] = [];
  for (const c of current) {
    const k = key(c);
    // Duplicates of a wanted rule go too (all but the first copy).
    if (!wanted.has(k) || seen.has(k)) remove.push(c);
    seen.add(k);
  }
  return { add, remove };
}

/** Parses `ip -j route show proto N` output. */
export function parseRoutes(json: string): CurrentRoute[] {
  const text = json.trim();
  if (!text) return [];
  const rows = JSON.parse(text) as { dst?: string; gateway?: string }[];
  const out: CurrentRoute[] = [];
  for (const r of rows) {
    if (!r.dst) continue;
    out.push({
      cidr: r.dst.includes("/") || r.dst === "default" ? r.dst : `${r.dst}/32`,
      gateway: r.gateway,
    });
  }
  return out;
}

/** Parses `iptables -t nat -S KITES-POSTROUTING` for our `kites-peer` RETURN rules. */
export function parsePeerRules(text: string): PeerRule[] {
  const out: PeerRule[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("-A ") || !line.includes(PEER_COMMENT) || !line.endsWith("-j RETURN")) continue;
    const t = line.split(/\s+/);
    const source = t[t.indexOf("-s") + 1];
    const dest = t[t.indexOf("-d") + 1];
    const comment = t[t.indexOf("--comment") + 1]?.replace(/"/g, "");
    if (comment !== PEER_COMMENT || !t.includes("-s") || !t.includes("-d") || !source || !dest) continue;
    out.push({ source, dest });
  }
  return out;
}

function ruleSpec(r: PeerRule): string[] {
  return ["-s", r.source, "-d", r.dest, "-m", "comment", "--comment", PEER_COMMENT, "-j", "RETURN"];
}

/** What one sync did. */
export interface SyncResult {
  routes: PeerRoute[];
  skipped: SkippedNode[];
  /** Routes the kernel refused (e.g. gateway not on a connected network), with its words. */
  failed: { route: PeerRoute; error: string }[];
  changed: number;
}

/** Settings of the applier. */
export interface NodeRoutesOptions extends Self {
  /** Run every command inside this network namespace (tests). */
  netns?: string;
  /** Where log lines go (console.error by default). */
  log?: (msg: string) => void;
}

/** Applies desired routes and nat rules to the kernel; remembers what it logged. */
export class NodeRoutes {
  private readonly logged = new Set<string>();
  private readonly log: (msg: string) => void;

  constructor(private readonly o: NodeRoutesOptions) {
    this.log = o.log ?? ((m) => console.error(`kites node-routes: ${m}`));
  }

  private ip(args: string[]): [string, string[]] {
    return this.o.netns ? ["ip", ["-n", this.o.netns, ...args]] : ["ip", args];
  }

  private iptables(args: string[]): [string, string[]] {
    const a = ["-w", "-t", "nat", ...args];
    return this.o.netns ? ["ip", ["netns", "exec", this.o.netns, "iptables", ...a]] : ["iptables", a];
  }

  private once(key: string, msg: string): void {
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.log(msg);
  }

  /** Our routes in the main table. */
  async currentRoutes(): Promise<CurrentRoute[]> {
    const out = await run(...this.ip(["-j", "route", "show", "table", "main", "proto", String(ROUTE_PROTO)]));
    return parseRoutes(out.stdout);
  }

  /** Our RETURN rules in KITES-POSTROUTING (none when the chain does not exist). */
  async currentRules(): Promise<PeerRule[]> {
    const out = await tryRun(...this.iptables(["-S", NAT_CHAIN]));
    return out ? parsePeerRules(out.stdout) : [];
  }

  /** Brings routes and rules in line with `nodes`. */
  async sync(nodes: readonly Node[]): Promise<SyncResult> {
    const { routes, skipped } = desiredRoutes(nodes, this.o);
    for (const s of skipped) this.once(`skip ${s.node} ${s.reason}`, `node ${s.node} skipped: ${s.reason}`);
    const [curRoutes, curRules] = await Promise.all([this.currentRoutes(), this.currentRules()]);
    const failed: SyncResult["failed"] = [];
    let changed = 0;
    const rplan = planRoutes(routes, curRoutes);
    for (const r of rplan.remove) {
      await tryRun(...this.ip(["route", "del", r.cidr, "table", "main", "proto", String(ROUTE_PROTO)]));
      changed++;
    }
    const ok = new Set<string>();
    for (const r of routes) ok.add(r.cidr);
    for (const r of rplan.replace) {
      try {
        await run(
          ...this.ip([
            "route",
            "replace",
            r.cidr,
            "via",
            r.gateway,
            "table",
            "main",
            "proto",
            String(ROUTE_PROTO),
          ]),
        );
        changed++;
        // Log again should it ever fail anew.
        this.logged.delete(`fail ${r.cidr} ${r.gateway}`);
      } catch (e) {
        const error = (e as Error).message;
        ok.delete(r.cidr);
        failed.push({ route: r, error });
        const why = /invalid gateway|unreachable/i.test(error)
          ? `${r.gateway} is not on a directly connected network (host-gw needs every node on one L2 network)`
          : "the kernel refused it";
        this.once(
          `fail ${r.cidr} ${r.gateway}`,
          `node ${r.node}: no route ${r.cidr} via ${r.gateway}: ${why}: ${error}`,
        );
      }
    }
    // Rules only for peers with a route: without one their traffic leaves by the default route and needs NAT.
    const routed = routes.filter((r) => ok.has(r.cidr));
    const plan = planRules(this.o.podCIDR, routed, curRules);
    for (const r of plan.remove) {
      await tryRun(...this.iptables(["-D", NAT_CHAIN, ...ruleSpec(r)]));
      changed++;
    }
    if (plan.add.length > 0) await tryRun(...this.iptables(["-N", NAT_CHAIN]));
    for (const r of plan.add) {
      await run(...this.iptables(["-I", NAT_CHAIN, "1", ...ruleSpec(r)]));
      changed++;
    }
    return { routes: routed, skipped, failed, changed };
  }

  /**
   * Removes every route with our protocol and every `kites-peer` rule; the chain (and the
   * POSTROUTING jump to it) too when nothing else is left in it. Idempotent.
   */
  async teardown(): Promise<void> {
    await tryRun(...this.ip(["route", "flush", "table", "main", "proto", String(ROUTE_PROTO)]));
    for (const r of await this.currentRules())
      await tryRun(...this.iptables(["-D", NAT_CHAIN, ...ruleSpec(r)]));
    const listed = await tryRun(...this.iptables(["-S", NAT_CHAIN]));
    if (!listed || listed.stdout.split("\n").some((l) => l.startsWith("-A "))) return;
    while (await tryRun(...this.iptables(["-D", "POSTROUTING", "-j", NAT_CHAIN]))) {
      /* every jump */
    }
    await tryRun(...this.iptables(["-X", NAT_CHAIN]));
  }
}

/** Removes the routes and nat rules of `startNodeRoutes` (for clean-up after a crash). */
export async function teardownNodeRoutes(o: { podCIDR?: string; netns?: string } = {}): Promise<void> {
  await new NodeRoutes({
    nodeName: "",
    nodeIP: "",
    podCIDR: o.podCIDR ?? "",
    ...(o.netns ? { netns: o.netns } : {}),
  }).teardown();
}

/** Settings of `startNodeRoutes`. */
export interface StartNodeRoutesOptions extends NodeRoutesOptions {
  informers: InformerFactory;
  signal: AbortSignal;
  /** Re-check the kernel this often even without Node changes (default 60 s; 0: never). */
  resyncMs?: number;
  /**
   * Remove the routes and rules on abort. Off by default: like the bridge and the pods, they
   * stay while the agent restarts (as flannel leaves its routes), so pods keep talking.
   */
  teardownOnStop?: boolean;
}

/** A running route reconciler. */
export interface NodeRoutesHandle {
  readonly applier: NodeRoutes;
  /** Resolves when no reconcile is running or pending. */
  idle(): Promise<void>;
  /** Resolves once the reconciler stopped after abort (and tore down, if asked). */
  readonly stopped: Promise<void>;
}

/** What of a Node matters to routing (heartbeats change nothing). */
function routingKey(n: Node): string {
  return `${n.spec?.podCIDR ?? ""} ${internalIP(n) ?? ""}`;
}

/**
 * Keeps this node's routes to its peers current from the shared Node informer: handlers only
 * mark the state dirty; one reconcile runs at a time and every change that arrives meanwhile
 * is folded into the next. On abort it stops, leaving the routes in place unless
 * `teardownOnStop`.
 */
export function startNodeRoutes(o: StartNodeRoutesOptions): NodeRoutesHandle {
  const applier = new NodeRoutes(o);
  const nodes = o.informers.informer<Node>("", "nodes");
  const log = o.log ?? ((m: string) => console.error(`kites node-routes: ${m}`));
  let dirty = false;
  let running: Promise<void> | undefined;
  let idleWaiters: (() => void)[] = [];

  const loop = async (): Promise<void> => {
    await nodes.synced;
    while (dirty && !o.signal.aborted) {
      dirty = false;
      try {
        await applier.sync(nodes.list());
      } catch (e) {
        log(`sync failed: ${(e as Error).message}`);
      }
    }
    running = undefined;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  };
  const enqueue = (): void => {
    if (o.signal.aborted) return;
    dirty = true;
    running ??= loop();
  };

  nodes.addHandlers({
    add: enqueue,
    update: (a, b) => {
      if (routingKey(a) !== routingKey(b)) enqueue();
    },
    delete: enqueue,
  });
  enqueue();
  const resync = o.resyncMs ?? 60_000;
  const timer = resync > 0 ? setInterval(enqueue, resync) : undefined;
  timer?.unref();

  const stopped = new Promise<void>((resolve) => {
    const stop = async (): Promise<void> => {
      if (timer) clearInterval(timer);
      await running;
      if (o.teardownOnStop)
        await applier.teardown().catch((e: Error) => log(`teardown failed: ${e.message}`));
      resolve();
    };
    if (o.signal.aborted) void stop();
    else o.signal.addEventListener("abort", () => void stop(), { once: true });
  });

  return {
    applier,
    stopped,
    idle: () => (running ? new Promise<void>((r) => idleWaiters.push(r)) : Promise.resolve()),
  };
}
