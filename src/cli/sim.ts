/**
 * @module `kites sim nodes --count N [--zones Z] …`: creates or deletes simulated nodes
 * (KWOK-style, labelled `kites.io/simulated=true`) on a running server until exactly N
 * exist. The server's simulated kubelet then heartbeats them and runs the pods bound to them.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseQuantity } from "../api/quantity.ts";
import { RestClient } from "../client/rest-client.ts";
import { DEFAULT_SIM_CAPACITY, DEFAULT_SIM_PREFIX } from "../sim/sim-node.ts";
import { syncSimNodes } from "../sim/sim-nodes.ts";
import { flagHelp, parseFlags, type FlagSpec, type FlagValues } from "./flags.ts";

const FLAGS: FlagSpec = {
  count: { type: "number", help: "how many simulated nodes should exist (required)" },
  zones: {
    type: "number",
    help: "spread new nodes over this many zones, topology.kubernetes.io/zone=zone-0 … zone-<Z-1>, round robin (default 1)",
  },
  kubeconfig: {
    type: "string",
    help: "kubeconfig of the server (default $KUBECONFIG, else ~/.kites/kubeconfig.yaml)",
  },
  cpu: { type: "string", help: `cpu capacity of each new node (default ${DEFAULT_SIM_CAPACITY.cpu})` },
  memory: {
    type: "string",
    help: `memory capacity of each new node (default ${DEFAULT_SIM_CAPACITY.memory})`,
  },
  pods: { type: "number", help: `pod capacity of each new node (default ${DEFAULT_SIM_CAPACITY.pods})` },
  "ephemeral-storage": {
    type: "string",
    help: `ephemeral-storage capacity of each new node (default ${DEFAULT_SIM_CAPACITY.ephemeralStorage})`,
  },
  "name-prefix": {
    type: "string",
    help: `node names are <prefix><n>, n from 1 (default ${DEFAULT_SIM_PREFIX})`,
  },
  help: { type: "boolean", help: "show this help" },
};

const USAGE = `Usage: kites sim nodes --count N [flags]

Creates or deletes simulated nodes until exactly N named <prefix><n> exist: missing ones are
added with the lowest free numbers, surplus ones are deleted highest number first (with their
Leases). Simulated nodes carry kites.io/simulated=true; the server's simulated kubelet marks
them Ready and runs the pods bound to them without starting containers. A pod annotated
kites.io/sim-exit-code: "N" has its containers exit with code N (Succeeded/Failed when its
restartPolicy is Never).`;

/** The kubeconfig to use: the flag, else the first file of $KUBECONFIG, else ~/.kites/kubeconfig.yaml. */
export function resolveKubeconfig(flag: string | undefined, env = process.env): string {
  if (flag) return flag;
  const fromEnv = (env.KUBECONFIG ?? "").split(":").filter((p) => p !== "");
  const existing = fromEnv.find((p) => existsSync(p));
  if (existing) return existing;
  if (fromEnv[0]) return fromEnv[0];
  return join(homedir(), ".kites", "kubeconfig.yaml");
}

function quantityFlag(flags: FlagValues, name: string, fallback: string): string {
  const v = flags[name];
  if (v === undefined) return fallback;
  const s = String(v);
  try {
    const q = parseQuantity(s);
    if (q.sign() <= 0) throw new Error("must be positive");
  } catch {
    throw new Error(`--${name}: "${s}" is not a positive quantity (e.g. 32, 500m, 256Gi)`);
  }
  return s;
}

function fail(message: string, code = 1): never {
  console.error(`kites sim: ${message}`);
  process.exit(code);
}

/** `kites sim <subcommand> …` */
export async function simCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "help" || sub === "--help" || sub === "-h") {
    console.log(`${USAGE}\n\nFlags:\n${flagHelp(FLAGS)}`);
    return;
  }
  if (sub !== "nodes") fail(`unknown subcommand "${sub}" (known: nodes)\n\n${USAGE}`, 2);

  let flags: FlagValues;
  let capacity;
  try {
    flags = parseFlags(rest, FLAGS);
    if (flags.help) {
      console.log(`${USAGE}\n\nFlags:\n${flagHelp(FLAGS)}`);
      return;
    }
    if (flags.count === undefined) throw new Error("--count is required");
    const pods = flags.pods ?? Number(DEFAULT_SIM_CAPACITY.pods);
    if (!Number.isInteger(pods) || (pods as number) < 1)
      throw new Error(`--pods must be a whole number ≥ 1, not ${pods}`);
    capacity = {
      cpu: quantityFlag(flags, "cpu", DEFAULT_SIM_CAPACITY.cpu),
      memory: quantityFlag(flags, "memory", DEFAULT_SIM_CAPACITY.memory),
      pods: String(pods),
      ephemeralStorage: quantityFlag(flags, "ephemeral-storage", DEFAULT_SIM_CAPACITY.ephemeralStorage),
    };
  } catch (e) {
    fail(`${(e as Error).message}\n\nFlags:\n${flagHelp(FLAGS)}`, 2);
  }

  const kubeconfig = resolveKubeconfig(flags.kubeconfig as string | undefined);
  if (!existsSync(kubeconfig))
    fail(`kubeconfig ${kubeconfig} not found (is \`kites server\` running? pass --kubeconfig)`);
  let client: RestClient;
  try {
    client = RestClient.fromKubeconfig(kubeconfig, "kites-sim");
  } catch (e) {
    fail(`cannot read kubeconfig ${kubeconfig}: ${(e as Error).message}`);
  }
  const prefix = String(flags["name-prefix"] ?? DEFAULT_SIM_PREFIX);
  const started = performance.now();
  try {
    const r = await syncSimNodes(
      client,
      {
        count: flags.count as number,
        zones: (flags.zones as number | undefined) ?? 1,
        prefix,
        capacity,
      },
      (line) => console.log(line),
    );
    const total = r.unchanged + r.created.length;
    console.error(
      `kites sim: ${total} simulated node(s) ${prefix}* (${r.created.length} created, ${r.deleted.length} deleted, ${r.unchanged} unchanged) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  } catch (e) {
    const err = e as Error & { code?: unknown };
    const reach = typeof err.code === "string" ? ` (cannot reach the API server in ${kubeconfig})` : "";
    fail(`${err.message}${reach}`);
  } finally {
    client.close();
  }
}
