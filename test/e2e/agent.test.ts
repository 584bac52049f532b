/**
 * @module e2e as root: `kites agent` joining a server that runs without its own agent, as a
 * second machine would: it trusts the server's CA through the node token, registers its
 * Node, runs the pods scheduled to it, and serves `kubectl logs` and `kubectl exec` through
 * the API server with its own self-signed certificate. A wrong token is refused clearly.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { kubectlMissing, startServer, type TestServer } from "./harness.ts";
import { cleanNode, lockNode, notRoot } from "./node-harness.ts";

const POD_CIDR = "10.244.202.0/24";
const KITES = new URL("../../bin/kites", import.meta.url).pathname;
const skip = kubectlMissing() ?? notRoot();

describe("kites agent joins a remote server", { skip }, () => {
  let s: TestServer;
  let agent: ChildProcess | undefined;
  let agentDir = "";
  let agentLog = "";
  let release: (() => void) | undefined;
  const k = (args: string[], stdin?: string): string => {
    const r = s.kubectl(args, stdin === undefined ? {} : { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}\nagent: ${agentLog}`);
    return r.stdout;
  };

  before(async () => {
    release = await lockNode();
    s = await startServer();
    agentDir = mkdtempSync(join(tmpdir(), "kites-e2e-agent-"));
    agent = spawn(
      KITES,
      [
        "agent",
        "--server",
        `https://127.0.0.1:${s.port}`,
        "--token-file",
        join(s.dataDir, "node-token"),
        "--data-dir",
        agentDir,
        "--node-name",
        "e2e-remote",
        "--pod-cidr",
        POD_CIDR,
        "--kubelet-port",
        "0",
        "--ingress-http-port",
        "0",
        "--ingress-https-port",
        "0",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    agent.stderr!.on("data", (d: Buffer) => (agentLog += d.toString()));
    // The Node appears once the agent registers it (bounded wait), then becomes Ready.
    for (let i = 0; i < 120 && s.kubectl(["get", "node", "e2e-remote"]).code !== 0; i++) {
      if (agent.exitCode !== null) break;
      await sleep(500);
    }
    k(["wait", "--for=condition=Ready", "node/e2e-remote", "--timeout=90s"]);
  });
  after(async () => {
    try {
      if (s) s.kubectl(["delete", "pods", "--all", "--wait=true", "--timeout=60s"]);
    } finally {
      if (agent && agent.exitCode === null) {
        const gone = new Promise((r) => agent!.once("exit", r));
        agent.kill("SIGTERM");
        await gone;
      }
      await s?.stop();
      if (agentDir) await cleanNode(agentDir, POD_CIDR);
      release?.();
    }
  });

  it("the joined node is a worker with the agent's runtime", () => {
    const out = k(["get", "node", "e2e-remote", "-o", "wide", "--no-headers"]);
    assert.match(out, /^e2e-remote\s+Ready\s+<none>/);
    assert.match(out, /runc:\/\//);
  });

  it("a pod runs there; logs and exec go through the API server to the agent", () => {
    k([
      "run",
      "hello",
      "--image=busybox",
      "--restart=Never",
      "--",
      "sh",
      "-c",
      "echo hello from the agent; sleep 3600",
    ]);
    k(["wait", "--for=condition=Ready", "pod/hello", "--timeout=60s"]);
    assert.equal(k(["get", "pod", "hello", "-o", "jsonpath={.spec.nodeName}"]), "e2e-remote");
    assert.match(k(["get", "pod", "hello", "-o", "jsonpath={.status.podIP}"]), /^10\.244\.202\./);
    assert.equal(k(["logs", "hello"]), "hello from the agent\n");
    assert.equal(k(["exec", "hello", "--", "cat", "/etc/hostname"]).trim(), "hello");
  });

  it("a token whose CA hash does not match is refused before anything is sent", () => {
    const token = readFileSync(join(s.dataDir, "node-token"), "utf8").trim();
    const wrong = token.replace(/^K10(.)/, (_m, c: string) => `K10${c === "0" ? "1" : "0"}`);
    const r = spawnSync(
      KITES,
      [
        "agent",
        "--server",
        `https://127.0.0.1:${s.port}`,
        "--token",
        wrong,
        "--data-dir",
        join(agentDir, "never"),
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /does not match the token's hash: refusing to trust it/);
  });
});
