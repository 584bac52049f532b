/**
 * @module `kites server`: opens the datastore, creates the cluster's certificates on first
 * start, starts the API server, writes the admin kubeconfig, and shuts down on SIGTERM/SIGINT.
 */
import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ensurePki, adminKubeconfig } from "../apiserver/pki.ts";
import { ApiServer } from "../apiserver/server.ts";
import { ensureSystemNamespaces, ensureSystemServices } from "../apiserver/bootstrap.ts";
import { openBackend } from "../storage/open.ts";
import type { ConnectionConfig } from "../client/rest-client.ts";
import { AGENT_FLAGS, agentSettingsFrom, agentUnavailable, startControlPlane } from "./components.ts";
import { flagHelp, parseFlags, type FlagSpec } from "./flags.ts";
import { ensureNodeToken, NODE_TOKEN_USER } from "./node-token.ts";
import { parseGoDuration } from "../api/validation/cron-schedule.ts";

/** Linux's limit on a unix socket's path (sun_path), its terminating NUL included. */
const UNIX_PATH_MAX = 108;

const FLAGS: FlagSpec = {
  "data-dir": {
    type: "string",
    help: "where state, certificates and the kubeconfig live (default ~/.kites)",
  },
  port: { type: "number", help: "HTTPS port of the API server (default 6443)" },
  "bind-address": { type: "string", help: "address to listen on (default 127.0.0.1)" },
  datastore: {
    type: "string",
    help: "sqlite:///path/state.db (default: DIR/state.db), etcd://host:port[,host:port], memory://",
  },
  "disable-agent": { type: "boolean", help: "run the control plane only, no node agent on this machine" },
  "disable-scheduler": { type: "boolean", help: "do not run the scheduler (as k3s; e.g. to run your own)" },
  "disable-controller-manager": { type: "boolean", help: "do not run the controllers (as k3s)" },
  "node-monitor-grace-period": {
    type: "string",
    help: "how long a node may be silent before it is NotReady (Go duration, default 40s; kube-controller-manager's flag)",
  },
  ...AGENT_FLAGS,
  help: { type: "boolean", help: "show this help" },
};

/** Reads or creates the static admin bearer token (for agents and scripts). */
function adminToken(dataDir: string): string {
  const f = join(dataDir, "token");
  if (existsSync(f)) return readFileSync(f, "utf8").trim();
  const t = randomBytes(24).toString("hex");
  writeFileSync(f, `${t}\n`, { mode: 0o600 });
  return t;
}

export async function serverCommand(args: string[]): Promise<void> {
  const started = performance.now();
  let flags;
  try {
    flags = parseFlags(args, FLAGS);
  } catch (e) {
    console.error(`kites server: ${(e as Error).message}\n\nFlags:\n${flagHelp(FLAGS)}`);
    process.exit(2);
  }
  if (flags.help) {
    console.log(`Usage: kites server [flags]\n\nFlags:\n${flagHelp(FLAGS)}`);
    return;
  }
  const dataDir = resolve(String(flags["data-dir"] ?? join(homedir(), ".kites")));
  const host = String(flags["bind-address"] ?? "127.0.0.1");
  const port = Number(flags.port ?? 6443);
  const datastore = String(flags.datastore ?? `sqlite://${join(dataDir, "state.db")}`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  let backend;
  try {
    backend = await openBackend(datastore);
  } catch (e) {
    console.error(`kites server: ${(e as Error).message}`);
    process.exit(1);
  }
  const pki = ensurePki(dataDir, host === "0.0.0.0" ? [] : [host]);
  const token = adminToken(dataDir);
  // The in-process components' credentials, valid for this run only (upstream's loopback client).
  const loopbackToken = randomBytes(24).toString("hex");
  const nodeToken = ensureNodeToken(dataDir, pki.caCert);
  const tokens = new Map([
    [token, "kites-admin"],
    [loopbackToken, "system:kites-loopback"],
    [nodeToken.secret, NODE_TOKEN_USER],
  ]);
  // The in-process components' plain-HTTP loopback, where a unix socket path can hold it.
  const loopbackSocket = join(dataDir, "apiserver.sock");
  const useLoopback = Buffer.byteLength(loopbackSocket) < UNIX_PATH_MAX;
  const server = new ApiServer({
    backend,
    pki,
    tokens,
    host,
    port,
    ...(useLoopback ? { loopbackSocket } : {}),
  });
  try {
    await server.start();
  } catch (e) {
    console.error(`kites server: cannot listen on ${host}:${port}: ${(e as Error).message}`);
    await backend.close();
    process.exit(1);
  }
  await ensureSystemNamespaces(server);
  const settings = agentSettingsFrom(flags, true);
  await ensureSystemServices(
    server,
    host === "0.0.0.0" || host === "::" ? settings.nodeIP : host,
    server.port,
  );
  const kubeconfig = join(dataDir, "kubeconfig.yaml");
  const urlHost = host === "0.0.0.0" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  writeFileSync(kubeconfig, adminKubeconfig(pki, `https://${urlHost}:${server.port}`), { mode: 0o600 });
  const stopComponents = new AbortController();
  setMaxListeners(0, stopComponents.signal);
  const connection: ConnectionConfig = {
    server: `https://${urlHost}:${server.port}`,
    ca: pki.caCert,
    token: loopbackToken,
    ...(useLoopback ? { socketPath: loopbackSocket } : {}),
  };
  let nodeMonitorGracePeriodMs: number | undefined;
  if (flags["node-monitor-grace-period"] !== undefined) {
    try {
      nodeMonitorGracePeriodMs = parseGoDuration(String(flags["node-monitor-grace-period"]));
    } catch (e) {
      console.error(`kites server: --node-monitor-grace-period: ${(e as Error).message}`);
      process.exit(2);
    }
  }
  await startControlPlane(connection, stopComponents.signal, {
    scheduler: !flags["disable-scheduler"],
    controllers: !flags["disable-controller-manager"],
    ...(nodeMonitorGracePeriodMs !== undefined ? { controllerOptions: { nodeMonitorGracePeriodMs } } : {}),
  });
  if (!flags["disable-agent"]) {
    const why = agentUnavailable();
    if (why) console.error(`kites server: not running the node agent: ${why}`);
    else {
      try {
        const { startAgent } = await import("./agent.ts");
        await startAgent(
          connection,
          dataDir,
          settings,
          { ca: pki.caCert, cert: pki.kubeletCert, key: pki.kubeletKey },
          stopComponents.signal,
        );
      } catch (e) {
        console.error(`kites server: the node agent did not start: ${(e as Error).message}`);
      }
    }
  }
  console.error(
    `kites server: ready on https://${urlHost}:${server.port} (datastore ${backend.name}) in ${Math.round(performance.now() - started)} ms`,
  );
  console.error(
    `kites server: other machines join with: kites agent --server https://<this-address>:${server.port} --token-file ${join(dataDir, "node-token")} (a copy of it)`,
  );
  console.log(`export KUBECONFIG=${kubeconfig}`);

  let stopping = false;
  const stop = async (sig: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.error(`kites server: ${sig}, shutting down`);
    stopComponents.abort();
    await server.stop();
    await backend.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
