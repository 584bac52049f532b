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
 * - `local-<hash>-…` (only with a Local traffic policy) picks among this node's endpoints:
 *   cluster-IP traffic goes there under `internalTrafficPolicy: Local`; under
 *   `externalTrafficPolicy: Local` the external chain sends traffic from pods and from the
 *   node itself to the service chain (the node's masqueraded) and the rest, source kept, to
 *   it. A port whose endpoints are all on other nodes drops that traffic (upstream's verdict).
 * - `masquerading` (postrouting, SNAT priority) masquerades marked packets, and DNATed
 *   packets whose source and destination pair is in `hairpin-endpoints` (flat chains).
 * - Ports without endpoints appear in `no-endpoint-services` / `no-endpoint-nodeports`,
 *   consulted for new connections from the filter hooks, whose verdict is `reject` (TCP
 *   reset, ICMP port-unreachable otherwise), so connections fail at once.
 *
 * Each Service renders to a `RenderedService` (its chains, affinity sets and map elements)
 * that the proxier diffs against what it applied last (see transaction.ts).
 */
import { createHash } from "node:crypto";
import type { ProxyEndpoint, ServicePortInfo } from "./service-ports.ts";

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
 * Set of `endpoint-ip . endpoint-ip` pairs, one per endpoint of a flat service chain. After
 * DNAT the destination is the chosen endpoint, so `ip saddr . ip daddr @hairpin-endpoints`
 * in postrouting matches exactly a pod that reached itself through a Service (hairpin) and
 * masquerades it, as upstream's per-endpoint chain does, without a chain or goto per
 * endpoint. A pod landing on another endpoint keeps its source address.
 */
export const HAIRPIN_SET = "hairpin-endpoints";
/**
 * Marks a packet for masquerade. Upstream jumps to a `mark-for-masquerade` chain; the same
 * statement inline spares the kernel a visit of that chain per rule each time it validates
 * the table's jump graph (which it does on every change that adds a jump or goto): with
 * 5,000 Services that halves the validation, the largest cost of an incremental sync.
 */
const MARK_MASQ = `mark set mark or ${MASQ_MARK}`;
const REJECT_CHAIN = "reject-chain";

/** One element of one of the four verdict maps, or of the hairpin set. */
export interface MapElement {
  map: string;
  /** e.g. `10.96.0.10 . udp . 53` or `tcp . 30080`. */
  key: string;
  /** e.g. `goto service-…`; "" for an element of a set (no value). */
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
  /**
   * Flat service chains: a port without ClientIP affinity and with fewer than
   * VMAP_MIN_ENDPOINTS endpoints DNATs straight from its service chain instead of going to
   * one `endpoint-…` chain per endpoint. Two thirds fewer chains make every incremental
   * transaction cheaper (nft dumps every chain of the table before applying a rule or map
   * element, and the kernel revalidates the whole jump graph on each commit that adds a
   * goto): at 5,000 Services one add went from ~87 ms to ~48 ms (measured, 6.18, nft 1.0.6).
   * Hairpin traffic (a pod reaching itself) is still masqueraded exactly as upstream, by
   * the postrouting rule over HAIRPIN_SET.
   */
  flatEndpoints?: boolean;
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

/** `local-<hash>-ns/name/proto/port`: the pick among this node's endpoints (Local policies). */
export function localChainName(nameString: string): string {
  return `local-${hash8(nameString)}-${nameString}`;
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

/**
 * Appends to `rules` the pick among `eps` (at least one): flat (inline DNAT, hairpin pairs
 * in HAIRPIN_SET) when allowed, else through per-endpoint chains (shared by a port's
 * service and local chains), with ClientIP affinity checks first.
 */
function pickRules(
  p: ServicePortInfo,
  eps: readonly ProxyEndpoint[],
  cfg: RenderConfig,
  rules: string[],
  out: RenderedService,
): void {
  const proto = p.protocol;
  const timeout = p.affinityTimeoutSeconds;
  const n = eps.length;
  if (cfg.flatEndpoints && timeout === undefined && n < VMAP_MIN_ENDPOINTS) {
    // Hairpin is masqueraded in postrouting through HAIRPIN_SET. `dnat` ends the chain, so
    // endpoint i is taken with probability 1/(n-i) among the rest.
    eps.forEach((ep, i) => {
      addElement(out, HAIRPIN_SET, `${ep.ip} . ${ep.ip}`, "");
      const dnat = `meta l4proto ${proto} dnat to ${ep.ip}:${ep.port}`;
      rules.push(i < n - 1 ? `numgen random mod ${n - i} == 0 ${dnat}` : dnat);
    });
    return;
  }
  const epChains: string[] = [];
  for (const ep of eps) {
    const chain = endpointChainName(p.nameString, ep.ip, ep.port);
    epChains.push(chain);
    const epRules = [`ip saddr ${ep.ip} ${MARK_MASQ}`];
    if (timeout !== undefined) {
      const set = affinitySetName(p.nameString, ep.ip, ep.port, timeout);
      out.sets.set(set, `{ type ipv4_addr; flags dynamic,timeout; timeout ${timeout}s; }`);
      epRules.push(`update @${set} { ip saddr }`);
      rules.push(`ip saddr @${set} goto ${chain}`);
    }
    epRules.push(`meta l4proto ${proto} dnat to ${ep.ip}:${ep.port}`);
    out.chains.set(chain, epRules);
  }
  if (n === 1) {
    rules.push(`goto ${epChains[0]!}`);
  } else if (n >= VMAP_MIN_ENDPOINTS) {
    rules.push(`numgen random mod ${n} vmap { ${epChains.map((c, i) => `${i} : goto ${c}`).join(", ")} }`);
  } else {
    // Endpoint i is taken with probability 1/(n-i) among the rest: 1/n each overall.
    for (let i = 0; i < n - 1; i++) rules.push(`numgen random mod ${n - i} == 0 goto ${epChains[i]!}`);
    rules.push(`goto ${epChains[n - 1]!}`);
  }
}

function renderPort(p: ServicePortInfo, cfg: RenderConfig, out: RenderedService): void {
  const proto = p.protocol;
  const frontKeys = (ips: readonly string[]): string[] => ips.map((ip) => `${ip} . ${proto} . ${p.port}`);
  const externalKeys = frontKeys([...p.externalIPs, ...p.loadBalancerIPs]);
  const nodePortKey = p.nodePort ? `${proto} . ${p.nodePort}` : undefined;
  const hasExternal = externalKeys.length > 0 || nodePortKey !== undefined;
  const hasEndpoints = p.endpoints.length > 0;
  // As upstream's nftables proxier: no endpoints at all → reject at once; endpoints only on
  // other nodes under a Local policy → drop.
  const noEndpoints = hasEndpoints ? "drop" : `goto ${REJECT_CHAIN}`;
  const internalEps = p.internalLocal ? p.localEndpoints : p.endpoints;
  const externalEps = p.externalLocal ? p.localEndpoints : p.endpoints;
  const svcChain = serviceChainName(p.nameString);
  const localChain = localChainName(p.nameString);
  const internalChain = p.internalLocal ? localChain : svcChain;
  const internal = !!p.clusterIP && internalEps.length > 0;
  const external = hasExternal && externalEps.length > 0;
  const clusterIPMasq =
    p.clusterIP && cfg.podCIDR
      ? `ip daddr ${p.clusterIP} ${proto} dport ${p.port} ip saddr != ${cfg.podCIDR} ${MARK_MASQ}`
      : undefined;
  // The cluster chain serves internal traffic (policy Cluster) and all external traffic but
  // that of ETP Local from other hosts; the local chain the rest.
  if ((internal && !p.internalLocal) || external) {
    const rules: string[] = [];
    if (clusterIPMasq && internal && !p.internalLocal) rules.push(clusterIPMasq);
    pickRules(p, p.endpoints, cfg, rules, out);
    out.chains.set(svcChain, rules);
  }
  if ((internal && p.internalLocal) || (external && p.externalLocal)) {
    const rules: string[] = [];
    if (clusterIPMasq && internal && p.internalLocal) rules.push(clusterIPMasq);
    pickRules(p, p.localEndpoints, cfg, rules, out);
    out.chains.set(localChain, rules);
  }
  if (p.clusterIP) {
    const key = frontKeys([p.clusterIP])[0]!;
    if (internal) addElement(out, SERVICE_IPS_MAP, key, `goto ${internalChain}`);
    else addElement(out, NO_ENDPOINT_SERVICES_MAP, key, noEndpoints);
  }
  if (!hasExternal) return;
  if (!external) {
    for (const k of externalKeys) addElement(out, NO_ENDPOINT_SERVICES_MAP, k, noEndpoints);
    if (nodePortKey) addElement(out, NO_ENDPOINT_NODEPORTS_MAP, nodePortKey, noEndpoints);
    return;
  }
  const extChain = externalChainName(p.nameString);
  if (p.externalLocal) {
    // Source kept, local endpoints only; but pods and the node itself reaching an external
    // address are served like cluster traffic (upstream's short circuits), the node's masqueraded.
    const rules: string[] = [];
    if (cfg.podCIDR) rules.push(`ip saddr ${cfg.podCIDR} goto ${svcChain}`);
    rules.push(
      `fib saddr type local ${MARK_MASQ}`,
      `fib saddr type local goto ${svcChain}`,
      `goto ${localChain}`,
    );
    out.chains.set(extChain, rules);
  } else {
    // External traffic may come from anywhere (including 127.0.0.1 on the node): always
    // masquerade it so that replies return through this node (externalTrafficPolicy Cluster).
    out.chains.set(extChain, [`${MARK_MASQ}`, `goto ${svcChain}`]);
  }
  for (const k of externalKeys) addElement(out, SERVICE_IPS_MAP, k, `goto ${extChain}`);
  if (nodePortKey) addElement(out, SERVICE_NODEPORTS_MAP, nodePortKey, `goto ${extChain}`);
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
  L.push(
    `add set ${T} ${HAIRPIN_SET} { type ipv4_addr . ipv4_addr; comment "endpoint IP . itself (hairpin)"; }`,
  );
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
  rule("masquerading", `ct status dnat ip saddr . ip daddr @${HAIRPIN_SET} masquerade fully-random`);
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
