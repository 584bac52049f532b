/**
 * @module A pod's `/etc/resolv.conf` and `/etc/hosts`, with upstream's rules: dnsPolicy
 * ClusterFirst uses the cluster DNS with the `<ns>.svc.<domain> svc.<domain> <domain>` search
 * path (plus the host's) and `ndots:5`; Default copies the host's resolver; None starts empty;
 * `dnsConfig` is merged on top. The hosts file is the kubelet-managed one: localhost lines,
 * the pod's IP and hostname (FQDN with a subdomain), and hostAliases.
 */
import type { Pod } from "../api/types/core-v1.ts";

/** Parsed resolver configuration. */
export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

/** Cluster DNS settings of the agent. */
export interface ClusterDNS {
  /** Cluster DNS service IPs (10.96.0.10). */
  servers: string[];
  /** Cluster domain (cluster.local). */
  domain: string;
}

const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

/** Parses resolv.conf text. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    if (!line) continue;
    const [key, ...rest] = line.split(/\s+/);
    if (key === "nameserver" && rest[0]) out.nameservers.push(rest[0]);
    else if (key === "search" || key === "domain") out.searches = rest.filter((s) => s !== ".");
    else if (key === "options") out.options.push(...rest);
  }
  return out;
}

/** Serializes a resolver configuration. */
export function formatResolvConf(c: ResolvConf): string {
  let s = "";
  if (c.searches.length > 0) s += `search ${c.searches.join(" ")}\n`;
  for (const n of c.nameservers) s += `nameserver ${n}\n`;
  if (c.options.length > 0) s += `options ${c.options.join(" ")}\n`;
  return s;
}

const uniq = (xs: string[]): string[] => [...new Set(xs)];

function mergeOptions(base: string[], extra: { name?: string; value?: string }[]): string[] {
  const m = new Map<string, string>();
  for (const o of base) {
    const i = o.indexOf(":");
    m.set(i < 0 ? o : o.slice(0, i), o);
  }
  for (const o of extra) {
    if (!o.name) continue;
    m.set(o.name, o.value !== undefined ? `${o.name}:${o.value}` : o.name);
  }
  return [...m.values()];
}

/** The effective DNS policy (ClusterFirst on the host network falls back to Default). */
export function effectiveDnsPolicy(pod: Pod): string {
  const policy = pod.spec?.dnsPolicy ?? "ClusterFirst";
  if (policy === "ClusterFirstWithHostNet") return "ClusterFirst";
  if (policy === "ClusterFirst" && pod.spec?.hostNetwork) return "Default";
  return policy;
}

/** The pod's resolver configuration. */
export function podResolvConf(pod: Pod, host: ResolvConf, cluster: ClusterDNS): ResolvConf {
  const policy = effectiveDnsPolicy(pod);
  let c: ResolvConf;
  if (policy === "None") c = { nameservers: [], searches: [], options: [] };
  else if (policy === "ClusterFirst" && cluster.servers.length > 0) {
    const ns = pod.metadata.namespace ?? "default";
    const d = cluster.domain;
    c = {
      nameservers: [...cluster.servers],
      searches: uniq([`${ns}.svc.${d}`, `svc.${d}`, d, ...host.searches]),
      options: ["ndots:5"],
    };
  } else c = { nameservers: [...host.nameservers], searches: [...host.searches], options: [...host.options] };
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    c.nameservers = uniq([...c.nameservers, ...(extra.nameservers ?? [])]);
    c.searches = uniq([...c.searches, ...(extra.searches ?? [])]);
    c.options = mergeOptions(c.options, extra.options ?? []);
  }
  c.nameservers = c.nameservers.slice(0, MAX_NAMESERVERS);
  c.searches = c.searches.slice(0, MAX_SEARCHES);
  return c;
}

/** The pod's hostname: spec.hostname or the pod name, cut to 63 characters. */
export function podHostname(pod: Pod): string {
  const h = pod.spec?.hostname || pod.metadata.name || "";
  return h.length > 63 ? h.slice(0, 63).replace(/[-.]+$/, "") : h;
}

/** The kubelet-managed /etc/hosts of a pod. `hostHosts` is the node's file, for host-network pods. */
export function podHostsFile(pod: Pod, podIPs: string[], clusterDomain: string, hostHosts: string): string {
  let s: string;
  if (pod.spec?.hostNetwork) {
    s = `# Kubernetes-managed hosts file (host network).\n${hostHosts}`;
    if (!s.endsWith("\n")) s += "\n";
  } else {
    s =
      "# Kubernetes-managed hosts file.\n" +
      "127.0.0.1\tlocalhost\n" +
      "::1\tlocalhost ip6-localhost ip6-loopback\n" +
      "fe00::0\tip6-localnet\n" +
      "fe00::0\tip6-mcastprefix\n" +
      "fe00::1\tip6-allnodes\n" +
      "fe00::2\tip6-allrouters\n";
    const hostname = podHostname(pod);
    const sub = pod.spec?.subdomain;
    for (const ip of podIPs) {
      s += sub
        ? `${ip}\t${hostname}.${sub}.${pod.metadata.namespace ?? "default"}.svc.${clusterDomain}\t${hostname}\n`
        : `${ip}\t${hostname}\n`;
    }
  }
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length > 0) {
    s += "\n# Entries added by HostAliases.\n";
    for (const a of aliases) s += `${a.ip}\t${(a.hostnames ?? []).join("\t")}\n`;
  }
  return s;
}
