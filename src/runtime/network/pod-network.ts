/**
 * @module One pod's network: a named network namespace (`ip netns add kites-<uid prefix>`,
 * so it lives at `/var/run/netns/<name>` and containers join it by path), `lo` up, a veth
 * pair whose host end (`veth<8 hex>`) is enslaved to the node bridge and whose pod end is
 * `eth0` with the pod's address and a default route via the bridge. Through iproute2 only.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
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

/**
 * Creates the namespace, veth pair, address and route. Cleans up what it made on failure.
 * Three iproute2 processes (the namespace, then one batch on each side of the veth) instead
 * of one per step: on a busy node the process spawns are most of a pod's network set-up.
 */
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
    // A namespace left by an earlier failed attempt is reused, without its half-made eth0.
    if (existsSync(net.netnsPath)) await tryRun(IP, ["-n", netns, "link", "del", "eth0"]);
    else await run(IP, ["netns", "add", netns]);
    await run(IP, ["-batch", "-"], {
      input: [
        `link add ${hostVeth} type veth peer name eth0 netns ${netns}`,
        `link set ${hostVeth} master ${o.bridge} up`,
        // Hairpin: a pod reaching its own Service address may be sent back to itself by the proxy.
        `link set ${hostVeth} type bridge_slave hairpin on`,
        "",
      ].join("\n"),
    });
    await run(IP, ["-n", netns, "-batch", "-"], {
      input: [
        "link set lo up",
        `addr add ${o.ip}/${o.prefix} dev eth0`,
        "link set eth0 up",
        `route replace default via ${o.gateway} dev eth0`,
        "",
      ].join("\n"),
    });
    return net;
  } catch (err) {
    await teardownPodNetwork(net);
    throw err;
  }
}

/**
 * Removes the veth pair and the namespace. Gone is not an error, and costs no process: a
 * pod's teardown may come through here more than once (stop, then remove).
 */
export async function teardownPodNetwork(net: Pick<PodNetwork, "netns" | "hostVeth">): Promise<void> {
  if (net.hostVeth && existsSync(`/sys/class/net/${net.hostVeth}`))
    await tryRun(IP, ["link", "del", net.hostVeth]);
  if (existsSync(netnsPathOf(net.netns))) await tryRun(IP, ["netns", "delete", net.netns]);
}
