/**
 * @module One pod's network: a named network namespace (`ip netns add kites-<uid prefix>`,
 * so it lives at `/var/run/netns/<name>` and containers join it by path), `lo` up, a veth
 * pair whose host end (`veth<8 hex>`) is enslaved to the node bridge and whose pod end is
 * `eth0` with the pod's address and a default route via the bridge. Through iproute2 only.
 */
import { randomBytes } from "node:crypto";
import { run, tryRun } from "../runc/command.ts";
import { IP } from "./node-network.ts";

/** What was made for a pod, kept in the sandbox record for clean-up and adoption. */
export interface PodNetwork {
  netns: string;
  netnsPath: string;
  hostVeth: string;
  ip: string;
}

/** Network namespace name for a pod uid: `kites-` + the first 16 hex digits of the uid. */
export function netnsName(uid: string): string {
  return `kites-${uid
    .replace(/[^0-9a-zA-Z]/g, "")
    .slice(0, 16)
    .toLowerCase()}`;
}

/** The path runc joins for a named namespace. */
export function netnsPathOf(name: string): string {
  return `/var/run/netns/${name}`;
}

/** Creates the namespace, veth pair, address and route. Cleans up what it made on failure. */
export async function setupPodNetwork(o: {
  uid: string;
  ip: string;
  prefix: number;
  gateway: string;
  bridge: string;
}): Promise<PodNetwork> {
  const netns = netnsName(o.uid);
  const hostVeth = `veth${randomBytes(4).toString("hex")}`;
  const net: PodNetwork = { netns, netnsPath: netnsPathOf(netns), hostVeth, ip: o.ip };
  try {
    if (!(await tryRun(IP, ["netns", "pids", netns]))) await run(IP, ["netns", "add", netns]);
    await run(IP, ["-n", netns, "link", "set", "lo", "up"]);
    // A half-made eth0 from an earlier failed attempt goes first.
    await tryRun(IP, ["-n", netns, "link", "del", "eth0"]);
    await run(IP, ["link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", netns]);
    await run(IP, ["link", "set", hostVeth, "master", o.bridge, "up"]);
    // Hairpin: a pod reaching its own Service address may be sent back to itself by the proxy.
    await run(IP, ["link", "set", hostVeth, "type", "bridge_slave", "hairpin", "on"]);
    await run(IP, ["-n", netns, "addr", "add", `${o.ip}/${o.prefix}`, "dev", "eth0"]);
    await run(IP, ["-n", netns, "link", "set", "eth0", "up"]);
    await run(IP, ["-n", netns, "route", "replace", "default", "via", o.gateway, "dev", "eth0"]);
    return net;
  } catch (err) {
    await teardownPodNetwork(net);
    throw err;
  }
}

/** Removes the veth pair and the namespace. Gone is not an error. */
export async function teardownPodNetwork(net: Pick<PodNetwork, "netns" | "hostVeth">): Promise<void> {
  await tryRun(IP, ["link", "del", net.hostVeth]);
  await tryRun(IP, ["netns", "delete", net.netns]);
}
