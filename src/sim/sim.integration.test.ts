/**
 * @module Simulated nodes against a real `kites server`: `kites sim nodes` registers and
 * removes nodes, the SimKubelet inside `kites server` heartbeats them and runs pods bound to them, and real kubectl sees the result.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kubectlMissing, startServer, type TestServer } from "../../test/e2e/harness.ts";
import { RestClient } from "../client/rest-client.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `kites sim …` (through bin/kites once main.ts knows `sim`, else the module directly). */
function kitesSim(args: string[]): Promise<Run> {
  const wired = readFileSync(`${ROOT}src/cli/main.ts`, "utf8").includes("simCommand");
  const argv = wired
    ? [`${ROOT}bin/kites`, "sim", ...args]
    : [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `const { simCommand } = await import(${JSON.stringify(`${ROOT}src/cli/sim.ts`)}); await simCommand(process.argv.slice(1));`,
        ...args,
      ];
  const child = spawn(process.execPath, argv, {
    stdio: ["ignore", "pipe", "pipe"],
    cwd: ROOT,
    timeout: 60_000,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test(
  "kites sim nodes + SimKubelet against a real server, seen by kubectl",
  { timeout: 180_000 },
  async (t) => {
    if (kubectlMissing()) return t.skip("kubectl missing");
    const server: TestServer = await startServer();
    const ac = new AbortController();
    const client = RestClient.fromKubeconfig(server.kubeconfig, "kites-sim-kubelet");
    t.after(async () => {
      ac.abort();
      client.close();
      await server.stop();
    });
    const kc = (args: string[]) => server.kubectlAsync(args);

    // 1. three simulated nodes over two zones
    const up = await kitesSim(["nodes", "--count", "3", "--zones", "2", "--kubeconfig", server.kubeconfig]);
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(up.stdout.trim().split("\n").sort(), [
      "node/kites-sim-1 created",
      "node/kites-sim-2 created",
      "node/kites-sim-3 created",
    ]);
    const zones = await kc([
      "get",
      "nodes",
      "-l",
      "kites.io/simulated=true",
      "-L",
      "topology.kubernetes.io/zone",
      "--no-headers",
    ]);
    assert.equal(zones.code, 0, zones.stderr);
    assert.match(zones.stdout, /kites-sim-1 .* zone-0/);
    assert.match(zones.stdout, /kites-sim-2 .* zone-1/);

    // 2. the simulated kubelet inside `kites server` takes them over
    await until("3 nodes Ready", async () => {
      const r = await kc(["get", "nodes", "-l", "kites.io/simulated=true", "--no-headers"]);
      return (
        r.stdout
          .trim()
          .split("\n")
          .filter((l) => / Ready /.test(l)).length === 3
      );
    });
    const leases = await kc([
      "get",
      "leases",
      "-n",
      "kube-node-lease",
      "-o",
      "jsonpath={.items[*].spec.holderIdentity}",
    ]);
    assert.deepEqual(leases.stdout.split(" ").sort(), ["kites-sim-1", "kites-sim-2", "kites-sim-3"]);

    // 3. a pod bound to a simulated node runs and becomes ready
    const manifest = (name: string, node: string, extra = "") => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
${extra}spec:
  nodeName: ${node}
  containers:
  - name: app
    image: nginx:1.27
`;
    const apply = server.kubectl(["apply", "-f", "-"], { stdin: manifest("web", "kites-sim-2") });
    assert.equal(apply.code, 0, apply.stderr);
    await until("web Running 1/1", async () => {
      const r = await kc(["get", "pod", "web", "--no-headers"]);
      return /^web\s+1\/1\s+Running\s+0\s/.test(r.stdout);
    });
    const ips = await kc([
      "get",
      "pod",
      "web",
      "-o",
      "jsonpath={.status.podIP} {.status.hostIP} {.status.containerStatuses[0].containerID}",
    ]);
    const [podIP, hostIP, cid] = ips.stdout.split(" ");
    const nodeCidr = (await kc(["get", "node", "kites-sim-2", "-o", "jsonpath={.spec.podCIDR}"])).stdout;
    assert.equal(podIP, nodeCidr.replace(/0\/24$/, "2"), `pod IP from ${nodeCidr}`);
    assert.equal(
      hostIP,
      (await kc(["get", "node", "kites-sim-2", "-o", "jsonpath={.status.addresses[0].address}"])).stdout,
    );
    assert.match(cid ?? "", /^kites-sim:\/\/[0-9a-f-]+-app$/);

    // 4. a Job-style pod that exits 0 shows Completed
    const job = server.kubectl(["apply", "-f", "-"], {
      stdin: manifest("once", "kites-sim-1", `  annotations:\n    kites.io/sim-exit-code: "0"\n`).replace(
        "spec:\n",
        "spec:\n  restartPolicy: Never\n",
      ),
    });
    assert.equal(job.code, 0, job.stderr);
    await until("once Completed", async () =>
      /^once\s+0\/1\s+Completed\s/.test((await kc(["get", "pod", "once", "--no-headers"])).stdout),
    );

    // 5. graceful delete (30 s grace) finishes at once on a simulated node
    const del = await kc(["delete", "pod", "web", "--timeout=20s"]);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /pod "web" deleted/);

    // 6. scale down to one node: kites-sim-3 and kites-sim-2 go, with their Leases
    const down = await kitesSim(["nodes", "--count", "1", "--kubeconfig", server.kubeconfig]);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(down.stdout.trim().split("\n").sort(), [
      "node/kites-sim-2 deleted",
      "node/kites-sim-3 deleted",
    ]);
    const nodes = await kc(["get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"]);
    assert.equal(nodes.stdout, "kites-sim-1");
    await until("leases of removed nodes gone", async () => {
      const r = await kc([
        "get",
        "leases",
        "-n",
        "kube-node-lease",
        "-o",
        "jsonpath={.items[*].metadata.name}",
      ]);
      return r.stdout === "kites-sim-1";
    });
    // still true a few renewals later: nothing re-creates them
    await new Promise((r) => setTimeout(r, 1000));
    const again = await kc([
      "get",
      "leases",
      "-n",
      "kube-node-lease",
      "-o",
      "jsonpath={.items[*].metadata.name}",
    ]);
    assert.equal(again.stdout, "kites-sim-1");

    // 7. errors: a bad flag and an unreachable server
    const bad = await kitesSim(["nodes", "--count", "x", "--kubeconfig", server.kubeconfig]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /kites sim: flag --count: "x" is not a number/);
    const deadConfig = join(server.dataDir, "dead.kubeconfig");
    writeFileSync(
      deadConfig,
      readFileSync(server.kubeconfig, "utf8").replace(
        /server: https:\/\/127\.0\.0\.1:\d+/,
        "server: https://127.0.0.1:1",
      ),
    );
    const dead = await kitesSim(["nodes", "--count", "1", "--kubeconfig", deadConfig]);
    assert.equal(dead.code, 1);
    assert.match(dead.stderr, /kites sim: .*ECONNREFUSED.*cannot reach the API server/);
  },
);
