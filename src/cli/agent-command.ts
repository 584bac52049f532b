/**
 * @module `kites agent --server URL --token …`: the node agent alone, joining a server that
 * runs elsewhere (k3s's `k3s agent`). It trusts the server's CA through the node token's hash
 * (see node-token.ts), serves logs/exec/port-forward with a self-signed certificate of its own
 * (the API server does not verify agents, as upstream by default), registers its Node and
 * runs the pods bound to it until SIGTERM/SIGINT. Containers keep running when it stops and
 * are adopted when it starts again.
 */
import { execFileSync } from "node:child_process";
import { setMaxListeners } from "node:events";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { ConnectionConfig } from "../client/rest-client.ts";
import { AGENT_FLAGS, agentSettingsFrom, agentUnavailable } from "./components.ts";
import { flagHelp, parseFlags, type FlagSpec } from "./flags.ts";
import { fetchClusterCA, parseNodeToken } from "./node-token.ts";

const FLAGS: FlagSpec = {
  server: { type: "string", help: "the API server, e.g. https://10.0.0.1:6443 (required)" },
  token: { type: "string", help: "the server's node token (DIR/node-token on the server)" },
  "token-file": { type: "string", help: "a file holding the node token" },
  "ca-file": { type: "string", help: "the cluster CA, when the token is a bare secret without its hash" },
  "data-dir": { type: "string", help: "where images, containers and state live (default ~/.kites-agent)" },
  ...AGENT_FLAGS,
  help: { type: "boolean", help: "show this help" },
};

function fail(msg: string, code = 1): never {
  console.error(`kites agent: ${msg}`);
  process.exit(code);
}

/** A self-signed serving certificate for the agent's streaming server, made once. */
function servingCert(dir: string, nodeName: string, nodeIP: string): { cert: string; key: string } {
  const cert = join(dir, "kubelet.crt");
  const key = join(dir, "kubelet.key");
  if (!existsSync(cert) || !existsSync(key)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "3650",
        "-subj",
        `/CN=${nodeName}`,
        "-addext",
        `subjectAltName=DNS:${nodeName},IP:${nodeIP}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
  }
  return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

export async function agentCommand(args: string[]): Promise<void> {
  let flags;
  try {
    flags = parseFlags(args, FLAGS);
  } catch (e) {
    fail(`${(e as Error).message}\n\nFlags:\n${flagHelp(FLAGS)}`, 2);
  }
  if (flags.help) {
    console.log(
      `Usage: kites agent --server URL (--token T | --token-file F) [flags]\n\nFlags:\n${flagHelp(FLAGS)}`,
    );
    return;
  }
  const server = flags.server ? String(flags.server) : fail("--server is required", 2);
  const raw = flags.token
    ? String(flags.token)
    : flags["token-file"]
      ? readFileSync(String(flags["token-file"]), "utf8").trim()
      : fail("--token or --token-file is required", 2);
  const why = agentUnavailable();
  if (why) fail(why);
  const token = parseNodeToken(raw);
  let ca: string;
  try {
    if (flags["ca-file"]) ca = readFileSync(String(flags["ca-file"]), "utf8");
    else if (token.caHash) ca = await fetchClusterCA(server, token.caHash);
    else fail("the token carries no CA hash: give the cluster CA with --ca-file", 2);
  } catch (e) {
    fail(`cannot get the cluster CA from ${server}: ${(e as Error).message}`);
  }
  const dataDir = resolve(String(flags["data-dir"] ?? join(homedir(), ".kites-agent")));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const settings = agentSettingsFrom(flags, false);
  const connection: ConnectionConfig = { server, ca, token: token.secret };
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  try {
    const tls = { ca, ...servingCert(join(dataDir, "tls"), settings.nodeName, settings.nodeIP) };
    const { startAgent } = await import("./agent.ts");
    await startAgent(connection, dataDir, settings, tls, stop.signal);
  } catch (e) {
    fail(`the node agent did not start: ${(e as Error).message}`);
  }
  console.error(`kites agent: node ${settings.nodeName} ready, serving pods for ${server}`);
  const shutdown = (sig: string): void => {
    console.error(`kites agent: ${sig}, shutting down (containers keep running)`);
    stop.abort();
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}
