/**
 * @module What e2e tests with a real node agent share: one machine has one pod network
 * (bridge `kites0`, the `kites-*` netns, kites' iptables/nftables rules), so those tests take
 * a lock and run one at a time, and each leaves the node clean afterwards: containers the
 * agent left for adoption, netns, mounts under its data dir, the bridge and its rules, the
 * service proxy's nftables table.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { teardownNodeNetwork } from "../../src/runtime/network/node-network.ts";
import { teardownNodeRoutes } from "../../src/runtime/network/node-routes.ts";
import { netnsName } from "../../src/runtime/network/pod-network.ts";

const LOCK = "/tmp/kites-e2e-node.lock";

/** Why real-pod tests cannot run here (not root), or undefined. Printed loudly. */
export function notRoot(): string | undefined {
  if (process.getuid?.() === 0) return undefined;
  const msg = "SKIPPED: real pods need root (runc, netns, mounts)";
  console.warn(`\n*** ${msg} ***\n`);
  return msg;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (up to 15 min, bounded) for the machine's pod network; returns the release. */
export async function lockNode(): Promise<() => void> {
  for (let i = 0; i < 1800; i++) {
    try {
      mkdirSync(LOCK);
      writeFileSync(`${LOCK}/pid`, String(process.pid));
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch {
      // Held: by a live test process, or left by one that died.
      let holder = 0;
      try {
        holder = Number(readFileSync(`${LOCK}/pid`, "utf8"));
      } catch {
        // being created or removed right now
      }
      if (holder && !alive(holder)) rmSync(LOCK, { recursive: true, force: true });
      else await sleep(500);
    }
  }
  throw new Error(`the node lock ${LOCK} stayed held for 15 minutes`);
}

/** The `kites-*` network namespaces on this machine. */
export const podNetnsList = (): string[] =>
  execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter((n) => n.startsWith("kites-"));

/** Mount points under `dir`. */
export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(dir));
}

/**
 * Waits (bounded: 30 s) until the agent with data dir `dataDir` has unmounted everything: a
 * pod that ended is deleted from the API at once (as upstream does for terminal pods), and
 * its agent tears it down just after.
 */
export async function settled(dataDir: string): Promise<void> {
  for (let i = 0; i < 60 && mountsUnder(dataDir).length > 0; i++) await sleep(500);
}

/**
 * Removes what an agent with data dir `dataDir` left: its runc containers, the pod netns,
 * mounts under the dir, the bridge and its rules, then the dir. Returns what had been left
 * (containers and mounts), for the test to assert on after cleaning.
 */
export async function cleanNode(
  dataDir: string,
  podCIDR: string,
): Promise<{ containers: string[]; mounts: string[] }> {
  const runcRoot = `${dataDir}/runtime/runc`;
  let containers: string[] = [];
  try {
    const out = execFileSync("runc", ["--root", runcRoot, "list", "-q"], { encoding: "utf8" }).trim();
    containers = out ? out.split("\n") : [];
  } catch {
    // no runc state: nothing ran
  }
  for (const id of containers) execFileSync("runc", ["--root", runcRoot, "delete", "-f", id]);
  // Only this agent's pods' namespaces (`kites-<uid prefix>`): other tests' stay.
  const sandboxes = `${dataDir}/runtime/sandboxes`;
  const mine = existsSync(sandboxes) ? readdirSync(sandboxes).map((uid) => netnsName(uid)) : [];
  for (const ns of podNetnsList().filter((n) => mine.includes(n))) {
    spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  }
  const mounts = mountsUnder(dataDir).reverse();
  for (const m of mounts) execFileSync("umount", ["-l", m]);
  // Peer routes first: their RETURN rules would keep the nat chain from going.
  await teardownNodeRoutes();
  await teardownNodeNetwork({ podCIDR });
  // The service proxy's rules stay when an agent stops (pods keep working, as kube-proxy's do).
  spawnSync("nft", ["delete", "table", "ip", "kites-proxy"], { stdio: "ignore" });
  rmSync(dataDir, { recursive: true, force: true });
  return { containers, mounts };
}
