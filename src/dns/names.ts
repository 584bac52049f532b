/**
 * @module Name helpers for the cluster DNS server: reverse (PTR) names of IPv4 and IPv6
 * addresses, the dashed form of an address used for endpoint and pod names
 * (`10-244-0-5`, as CoreDNS's kubernetes plugin writes them), and parsing a dashed pod
 * label back into an address. Names are handled lowercase and without the trailing dot.
 */
import { isIPv4, isIPv6 } from "node:net";

/** `5.0.244.10.in-addr.arpa` for 10.244.0.5, nibble form under `ip6.arpa` for IPv6. */
export function reverseName(ip: string): string | undefined {
  if (isIPv4(ip)) {
    const p = ip.split(".");
    return `${p[3]}.${p[2]}.${p[1]}.${p[0]}.in-addr.arpa`;
  }
  const hex = expandIPv6(ip);
  if (hex === undefined) return undefined;
  const nibbles: string[] = [];
  for (let i = hex.length - 1; i >= 0; i--) nibbles.push(hex[i]!);
  return `${nibbles.join(".")}.ip6.arpa`;
}

/** The 32 lowercase hex digits of an IPv6 address, or undefined when it is not one. */
export function expandIPv6(ip: string): string | undefined {
  if (!isIPv6(ip)) return undefined;
  let addr = ip.toLowerCase();
  const zone = addr.indexOf("%");
  if (zone >= 0) addr = addr.slice(0, zone);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const lastColon = addr.lastIndexOf(":");
  const tail = addr.slice(lastColon + 1);
  if (tail.includes(".")) {
    const o = tail.split(".").map(Number);
    const g1 = ((o[0]! << 8) | o[1]!).toString(16);
    const g2 = ((o[2]! << 8) | o[3]!).toString(16);
    addr = `${addr.slice(0, lastColon + 1)}${g1}:${g2}`;
  }
  const halves = addr.split("::");
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length > 1 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - rest.length;
  const groups = [...head, ...Array<string>(halves.length > 1 ? missing : 0).fill("0"), ...rest];
  if (groups.length !== 8) return undefined;
  return groups.map((g) => g.padStart(4, "0")).join("");
}

/** `10-244-0-5` for 10.244.0.5; IPv6 colons become dashes (`fd00--5`). */
export function dashedIP(ip: string): string {
  return ip.includes(".") ? ip.replaceAll(".", "-") : ip.replaceAll(":", "-");
}

/**
 * The address a pod label names (`10-244-0-5` → 10.244.0.5), as CoreDNS reads it: three
 * dashes and no `--` make an IPv4 address, anything else is tried as IPv6 with dashes as
 * colons. Undefined when the result is not an address.
 */
export function parseDashedIP(label: string): { ip: string; v6: boolean } | undefined {
  let dashes = 0;
  for (let i = 0; i < label.length; i++) if (label.charCodeAt(i) === 45) dashes++;
  if (dashes === 3 && !label.includes("--")) {
    const ip = label.replaceAll("-", ".");
    return isIPv4(ip) ? { ip, v6: false } : undefined;
  }
  const ip = label.replaceAll("-", ":");
  return isIPv6(ip) ? { ip, v6: true } : undefined;
}

/** True when `name` is `zone` or lies under it (both lowercase, no trailing dot). */
export function isInZone(name: string, zone: string): boolean {
  if (name.length === zone.length) return name === zone;
  return (
    name.length > zone.length && name.endsWith(zone) && name.charCodeAt(name.length - zone.length - 1) === 46
  );
}

/** The reverse zones whose names the index may hold (answered when known, forwarded otherwise). */
export const REVERSE_ZONES = ["in-addr.arpa", "ip6.arpa"] as const;
