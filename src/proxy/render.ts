/**
 * @module The nftables rules of the service proxy, after upstream kube-proxy's nftables
 * mode, in kites' own table `ip kites-proxy`:
 *
 * - `services` (jumped to from the `nat-prerouting` and `nat-output` base chains, DNAT
 *   priority) looks up `ip daddr . meta l4proto . th dport` in the `service-ips` verdict map
 *   (cluster IPs, external IPs, load-balancer IPs) and, for any local destination address
 *   (`fib daddr type local`, 127.0.0.1 included), `meta l4proto . th dport` in
 *   `service-nodeports`; both `goto` a per-port chain.
 * - `service-<hash>-<ns>/<name>/<proto>/<port>` marks traffic from outside the pod CIDR for
 *   masquerade (`mark set mark or 0x4000`, inline rather than upstream's jump), honours ClientIP affinity (`ip saddr @affinity-… goto endpoint-…`), then
 *   picks an endpoint at random; `external-…` (NodePort / LoadBalancer / external IPs)
 *   marks for masquerade and goes to the service chain.
 * - `endpoint-<hash>-<ns>/<name>/<proto>/<port>__<ip>/<port>` marks hairpin traffic (a pod
 *   reaching itself), records affinity (`update @affinity-… { ip saddr }`) and DNATs.
 * - `masquerading` (postrouting, SNAT priority) masquerades marked packets.
 * - Ports without endpoints appear in `no-endpoint-services` / `no-endpoint-nodeports`,
 *   consulted for new connections from the filter hooks, whose verdict is `reject` (TCP
 *   reset, ICMP port-unreachable otherwise), so connections fail at once.
 *
 * Each Service renders to a `RenderedService` (its chains, affinity sets and map elements)
 * that the proxier diffs against what it applied last (see transaction.ts).
 */
import { createHash } from "node:crypto";
import type { ServicePortInfo } from "./service-ports.ts";

/** The table kites owns; nothing else is ever touched. */
export const TABLE = "kites-proxy";
/** `ip kites-proxy`, the family and table every command names. */
export const T = `ip ${TABLE}`;
/** Packet mark bit asking `masquerading` to SNAT (upstream's default bit 14). */
export const MASQ_MARK = "0x00004000";
/**
 * From this many endpoints on, a service chain picks with one `numgen random mod N vmap`
 * (constant time per new connection). Below it, with a cascade of `numgen random mod k == 0`
 * rules, which spreads identically but creates no anonymous set: the kernel names and binds
 * anonymous sets with scans over every set in the table, which made a 5,000-Service full sync
 * take 7 s instead of 0.6 s and added ~20 ms to every incremental change (measured on 6.18).
 */
export const VMAP_MIN_ENDPOINTS = 16;

export const SERVICE_IPS_MAP = "service-ips";
export const SERVICE_NODEPORTS_MAP = "service-nodeports";
export const NO_ENDPOINT_SERVICES_MAP = "no-endpoint-services";
export const NO_ENDPOINT_NODEPORTS_MAP = "no-endpoint-nodeports";
/**
 * Marks a packet for masquerade. Upstream jumps to a `mark-for-masquerade` chain; the same
 * statement inline spares the kernel a visit of that chain per rule each time it validates
 * the table's jump graph (which it does on every change that adds a jump or goto): with
 * 5,000 Services that halves the validation, the largest cost of an incremental sync.
 */
const MARK_MASQ = `mark set mark or ${MASQ_MARK}`;
const REJECT_CHAIN = "reject-chain";

/** One element of one of the four verdict maps. */
export interface MapElement {
  map: string;
  /** e.g. `10.96.0.10 . udp . 53` or `tcp . 30080`. */
  key: string;
  /** e.g. `goto service-…`. */
  value: string;
}

/** Everything one Service owns in the table. */
export interface RenderedService {
  /** Chain name → its rules in order (rule text without `add rule ip kites-proxy <chain>`). */
  chains: Map<string, string[]>;
  /** Affinity set name → its declaration (`{ type …; flags …; timeout …; }`). */
  sets: Map<string, string>;
  /** `map\tkey` → element. */
  elements: Map<string, MapElement>;
}

/** Settings that shape the rules. */
export interface RenderConfig {
  /**
   * The node's pod CIDR: traffic to a cluster IP from outside it (host processes, other
   * nodes) is masqueraded so replies come back through this node. Absent: never.
   */
  podCIDR?: string;
}

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** First 8 characters of base32(sha256(s)), upstream's chain-name prefix. */
export function hash8(s: string): string {
  const d = createHash("sha256").update(s).digest();
  // 8 base32 characters = 40 bits = the first 5 bytes.
  let bits = 0n;
  for (let i = 0; i < 5; i++) bits = (bits << 8n) | BigInt(d[i]!);
  let out = "";
  for (let i = 7; i >= 0; i--) out += B32[Number((bits >> BigInt(i * 5)) & 31n)];
  return out;
}

/** `service-<hash>-ns/name/proto/port`. */
export function serviceChainName(nameString: string): string {
  return `service-${hash8(nameString)}-${nameString}`;
}

/** `external-<hash>-ns/name/proto/port`. */
export function externalChainName(nameString: string): string {
  return `external-${hash8(nameString)}-${nameString}`;
}

/** `endpoint-<hash>-ns/name/proto/port__ip/port`. */
export function endpointChainName(nameString: string, ip: string, port: number): string {
  const base = `${nameString}__${ip}/${port}`;
  return `endpoint-${hash8(base)}-${base}`;
}

/**
 * `affinity-<hash>-ns/name/proto/port__ip/port`. The timeout is part of the hashed input, so
 * a changed timeout is a new set (nft cannot change a set's timeout in place) and the old
 * one goes away with the rules that used it.
 */
export function affinitySetName(nameString: string, ip: string, port: number, timeout: number): string {
  const base = `${nameString}__${ip}/${port}`;
  return `affinity-${hash8(`${base}/${timeout}`)}-${base}`;
}

function addElement(out: RenderedService, map: string, key: string, value: string): void {
  out.elements.set(`${map}\t${key}`, { map, key, value });
}

function renderPort(p: ServicePortInfo, cfg: RenderConfig, out: RenderedService): void {
  const proto = p.protocol;
  const frontKeys = (ips: readonly string[]): string[] => ips.map((ip) => `${ip} . ${proto} . ${p.port}`);
  const externalKeys = frontKeys([...p.externalIPs, ...p.loadBalancerIPs]);
  const nodePortKey = p.nodePort ? `${proto} . ${p.nodePort}` : undefined;

  if (p.endpoints.length === 0) {
    const reject = `goto ${REJECT_CHAIN}`;
    if (p.clusterIP) addElement(out, NO_ENDPOINT_SERVICES_MAP, frontKeys([p.clusterIP])[0]!, reject);
    for (const k of externalKeys) addElement(out, NO_ENDPOINT_SERVICES_MAP, k, reject);
    if (nodePortKey) addElement(out, NO_ENDPOINT_NODEPORTS_MAP, nodePortKey, reject);
    return;
  }

  const svcChain = serviceChainName(p.nameString);
  const svcRules: string[] = [];
  if (p.clusterIP && cfg.podCIDR) {
    svcRules.push(`ip daddr ${p.clusterIP} ${proto} dport ${p.port} ip saddr != ${cfg.podCIDR} ${MARK_MASQ}`);
  }
  const timeout = p.affinityTimeoutSeconds;
  const epChains: string[] = [];
  for (const ep of p.endpoints) {
    const chain = endpointChainName(p.nameString, ep.ip, ep.port);
    epChains.push(chain);
    const rules = [`ip saddr ${ep.ip} ${MARK_MASQ}`];
    if (timeout !== undefined) {
      const set = affinitySetName(p.nameString, ep.ip, ep.port, timeout);
      out.sets.set(set, `{ type ipv4_addr; flags dynamic,timeout; timeout ${timeout}s; }`);
      rules.push(`update @${set} { ip saddr }`);
      svcRules.push(`ip saddr @${set} goto ${chain}`);
    }
    rules.push(`meta l4proto ${proto} dnat to ${ep.ip}:${ep.port}`);
    out.chains.set(chain, rules);
  }
  const n = epChains.length;
  if (n === 1) {
    svcRules.push(`goto ${epChains[0]!}`);
  } else if (n >= VMAP_MIN_ENDPOINTS) {
    svcRules.push(`numgen random mod ${n} vmap { ${epChains.map((c, i) => `${i} : goto ${c}`).join(", ")} }`);
  } else {
    // Endpoint i is taken with probability 1/(n-i) among the rest: 1/n each overall.
    for (let i = 0; i < n - 1; i++) svcRules.push(`numgen random mod ${n - i} == 0 goto ${epChains[i]!}`);
    svcRules.push(`goto ${epChains[n - 1]!}`);
  }
  out.chains.set(svcChain, svcRules);

  if (p.clusterIP) addElement(out, SERVICE_IPS_MAP, frontKeys([p.clusterIP])[0]!, `goto ${svcChain}`);
  if (externalKeys.length > 0 || nodePortKey) {
    // External traffic may come from anywhere (including 127.0.0.1 on the node): always
    // masquerade it so that replies return through this node (externalTrafficPolicy Cluster).
    const extChain = externalChainName(p.nameString);
    out.chains.set(extChain, [`${MARK_MASQ}`, `goto ${svcChain}`]);
    for (const k of externalKeys) addElement(out, SERVICE_IPS_MAP, k, `goto ${extChain}`);
    if (nodePortKey) addElement(out, SERVICE_NODEPORTS_MAP, nodePortKey, `goto ${extChain}`);
  }
}

/** The chains, affinity sets and map elements of one Service's ports. */
export function renderService(ports: readonly ServicePortInfo[], cfg: RenderConfig): RenderedService {
  const out: RenderedService = { chains: new Map(), sets: new Map(), elements: new Map() };
  for (const p of ports) renderPort(p, cfg, out);
  return out;
}

/** Options of the fixed part of the table. */
export interface BaseConfig {
  /**
   * NodePorts answer on 127.0.0.1 (needs `route_localnet`): also drop packets from other
   * hosts addressed to 127.0.0.0/8 that were not DNATed (upstream's CVE-2020-8558 guard).
   */
  localhostNodePorts?: boolean;
}

/**
 * The commands that (re)create the table with its base chains, maps and fixed rules,
 * deleting whatever the table held before: the first lines of a full sync.
 */
export function renderBase(cfg: BaseConfig = {}): string[] {
  const L: string[] = [];
  const comment = `comment "kites service proxy: Service IPs, NodePorts, LoadBalancer ports";`;
  // add + delete + add: recreates the table whether or not it existed, in one transaction.
  L.push(`add table ${T} { ${comment} }`, `delete table ${T}`, `add table ${T} { ${comment} }`);
  const base = (name: string, type: string, hook: string, prio: number): void => {
    L.push(`add chain ${T} ${name} { type ${type} hook ${hook} priority ${prio}; policy accept; }`);
  };
  // Filter chains run before DNAT (upstream's dstnat - 10) to see the original destination.
  base("filter-input", "filter", "input", -110);
  base("filter-forward", "filter", "forward", -110);
  base("filter-output", "filter", "output", -110);
  base("nat-prerouting", "nat", "prerouting", -100);
  base("nat-output", "nat", "output", -100);
  base("nat-postrouting", "nat", "postrouting", 100);
  for (const c of ["services", "masquerading", "endpoints-check", REJECT_CHAIN]) {
    L.push(`add chain ${T} ${c}`);
  }
  const vmap = (name: string, type: string, what: string): void => {
    L.push(`add map ${T} ${name} { type ${type} : verdict; comment "${what}"; }`);
  };
  vmap(
    SERVICE_IPS_MAP,
    "ipv4_addr . inet_proto . inet_service",
    "ClusterIP, ExternalIP and LoadBalancer IP traffic",
  );
  vmap(SERVICE_NODEPORTS_MAP, "inet_proto . inet_service", "NodePort traffic");
  vmap(NO_ENDPOINT_SERVICES_MAP, "ipv4_addr . inet_proto . inet_service", "services with no endpoints");
  vmap(NO_ENDPOINT_NODEPORTS_MAP, "inet_proto . inet_service", "service nodeports with no endpoints");
  const rule = (chain: string, text: string): void => {
    L.push(`add rule ${T} ${chain} ${text}`);
  };
  rule("nat-prerouting", "jump services");
  rule("nat-output", "jump services");
  rule("nat-postrouting", "jump masquerading");
  for (const c of ["filter-input", "filter-forward", "filter-output"])
    rule(c, "ct state new jump endpoints-check");
  if (cfg.localhostNodePorts) {
    rule(
      "filter-input",
      `iifname != "lo" ip daddr 127.0.0.0/8 ip saddr != 127.0.0.0/8 ct state new ct status & dnat == 0 drop`,
    );
  }
  rule("masquerading", `mark and ${MASQ_MARK} == 0 return`);
  rule("masquerading", `mark set mark xor ${MASQ_MARK}`);
  rule("masquerading", "masquerade fully-random");
  rule("services", `ip daddr . meta l4proto . th dport vmap @${SERVICE_IPS_MAP}`);
  rule("services", `fib daddr type local meta l4proto . th dport vmap @${SERVICE_NODEPORTS_MAP}`);
  rule("endpoints-check", `ip daddr . meta l4proto . th dport vmap @${NO_ENDPOINT_SERVICES_MAP}`);
  rule("endpoints-check", `fib daddr type local meta l4proto . th dport vmap @${NO_ENDPOINT_NODEPORTS_MAP}`);
  rule(REJECT_CHAIN, "meta l4proto tcp reject with tcp reset");
  rule(REJECT_CHAIN, "reject");
  return L;
}
