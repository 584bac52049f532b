/**
 * @module The node side of the pod network: a Linux bridge (`kites0`) carrying the gateway
 * address of the node's pod CIDR, IPv4 forwarding on, and masquerading for traffic that
 * leaves the pod CIDR (iptables nat chain `KITES-POSTROUTING`, jumped to from POSTROUTING)
 * plus FORWARD accepts for the bridge (chain `KITES-FORWARD`). Everything goes through
 * iproute2 and iptables; setting up twice changes nothing, and `teardownNodeNetwork` removes
 * what this CIDR/bridge added (the chains go when their last rule does).
 */
import { writeFile } from "node:fs/promises";
import { run, tryRun } from "../runc/command.ts";
import { formatCidr, gatewayOf, parseCidr } from "./cidr.ts";

export const IP = "ip";
export const IPTABLES = "iptables";
/** The chains kites owns. */
export const NAT_CHAIN = "KITES-POSTROUTING";
export const FORWARD_CHAIN = "KITES-FORWARD";

/** Which bridge and CIDR. */
export interface NodeNetworkOptions {
  podCIDR: string;
  /** Bridge name; `kites0` by default. */
  bridge?: string;
}

function masqRule(cidr: string): string[] {
  return [
    "-s",
    cidr,
    "!",
    "-d",
    cidr,
    "-m",
    "comment",
    "--comment",
    `kites pods ${cidr}`,
    "-j",
    "MASQUERADE",
  ];
}

function forwardRules(bridge: string): string[][] {
  return [
    ["-i", bridge, "-m", "comment", "--comment", `kites bridge ${bridge}`, "-j", "ACCEPT"],
    ["-o", bridge, "-m", "comment", "--comment", `kites bridge ${bridge}`, "-j", "ACCEPT"],
  ];
}

async function ensureChain(table: string, chain: string, parent: string): Promise<void> {
  await tryRun(IPTABLES, ["-w", "-t", table, "-N", chain]);
  const jump = ["-j", chain];
  if (!(await tryRun(IPTABLES, ["-w", "-t", table, "-C", parent, ...jump]))) {
    await run(IPTABLES, ["-w", "-t", table, "-A", parent, ...jump]);
  }
}

async function ensureRule(table: string, chain: string, rule: string[]): Promise<void> {
  if (!(await tryRun(IPTABLES, ["-w", "-t", table, "-C", chain, ...rule]))) {
    await run(IPTABLES, ["-w", "-t", table, "-A", chain, ...rule]);
  }
}

/** Deletes every copy of `rule`, then the chain and its jump if the chain is now empty. */
async function removeRule(table: string, chain: string, parent: string, rule: string[]): Promise<void> {
  while (await tryRun(IPTABLES, ["-w", "-t", table, "-D", chain, ...rule])) {
    /* delete duplicates too */
  }
  const listed = await tryRun(IPTABLES, ["-w", "-t", table, "-S", chain]);
  if (!listed) return;
  const rules = listed.stdout.split("\n").filter((l) => l.startsWith("-A "));
  if (rules.length > 0) return;
  while (await tryRun(IPTABLES, ["-w", "-t", table, "-D", parent, "-j", chain])) {
    /* remove every jump */
  }
  await tryRun(IPTABLES, ["-w", "-t", table, "-X", chain]);
}

/** Creates (or confirms) the bridge, its gateway address, forwarding and NAT. Idempotent. */
export async function setupNodeNetwork(o: NodeNetworkOptions): Promise<{ bridge: string; gateway: string }> {
  const bridge = o.bridge ?? "kites0";
  const cidr = parseCidr(o.podCIDR);
  const gateway = gatewayOf(cidr);
  const text = formatCidr(cidr);
  if (!(await tryRun(IP, ["link", "show", "dev", bridge]))) {
    await run(IP, ["link", "add", bridge, "type", "bridge"]);
  }
  await run(IP, ["addr", "replace", `${gateway}/${cidr.prefix}`, "dev", bridge]);
  await run(IP, ["link", "set", bridge, "up"]);
  await writeFile("/proc/sys/net/ipv4/ip_forward", "1");
  await ensureChain("nat", NAT_CHAIN, "POSTROUTING");
  await ensureRule("nat", NAT_CHAIN, masqRule(text));
  await ensureChain("filter", FORWARD_CHAIN, "FORWARD");
  for (const r of forwardRules(bridge)) await ensureRule("filter", FORWARD_CHAIN, r);
  return { bridge, gateway };
}

/** Removes the bridge and this CIDR's iptables rules (chains too once empty). Idempotent. */
export async function teardownNodeNetwork(o: NodeNetworkOptions): Promise<void> {
  const bridge = o.bridge ?? "kites0";
  const text = formatCidr(parseCidr(o.podCIDR));
  await removeRule("nat", NAT_CHAIN, "POSTROUTING", masqRule(text));
  for (const r of forwardRules(bridge)) await removeRule("filter", FORWARD_CHAIN, "FORWARD", r);
  await tryRun(IP, ["link", "del", bridge]);
}
