/**
 * @module e2e: the control plane (scheduler and controller manager inside `kites server`)
 * with simulated nodes, driven by real kubectl as a user would: deployments with scale,
 * self-healing, rollout/undo; a job; a statefulset and a daemonset; placement failures with
 * upstream's message; cascading deletes; namespace termination.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { kites, kubectlMissing, startServer, type TestServer } from "./harness.ts";

const skip = kubectlMissing();

describe("workloads on simulated nodes", { skip }, () => {
  let s: TestServer;
  const k = (args: string[], stdin?: string): string => {
    const r = s.kubectl(args, stdin === undefined ? {} : { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (yaml: string): string => k(["apply", "-f", "-"], yaml);

  before(async () => {
    s = await startServer();
    const r = kites(["sim", "nodes", "--count", "3", "--zones", "2"], s.kubeconfig);
    assert.equal(r.code, 0, r.stderr);
    k(["wait", "--for=condition=Ready", "node", "-l", "kites.io/simulated=true", "--timeout=60s"]);
  });
  after(async () => {
    await s?.stop();
  });

  it("simulated nodes are Ready with zones and leases", () => {
    const out = k(["get", "nodes", "-L", "topology.kubernetes.io/zone", "--no-headers"]);
    assert.equal(out.trim().split("\n").length, 3);
    assert.match(out, /kites-sim-1\s+Ready.*zone-0/);
    assert.match(out, /kites-sim-2\s+Ready.*zone-1/);
    const leases = k(["get", "leases", "-n", "kube-node-lease", "-o", "name"]);
    assert.match(leases, /lease.coordination.k8s.io\/kites-sim-3/);
  });

  it("a deployment rolls out, scales, heals, updates and rolls back", () => {
    k(["create", "deployment", "web", "--image=busybox", "--replicas=3"]);
    assert.match(k(["rollout", "status", "deploy/web", "--timeout=60s"]), /successfully rolled out/);
    const pods = k(["get", "pods", "-l", "app=web", "-o", "wide", "--no-headers"]).trim().split("\n");
    assert.equal(pods.length, 3);
    for (const p of pods) assert.match(p, /1\/1\s+Running.*kites-sim-\d/);

    k(["scale", "deploy/web", "--replicas=5"]);
    k(["rollout", "status", "deploy/web", "--timeout=60s"]);
    assert.equal(k(["get", "pods", "-l", "app=web", "--no-headers"]).trim().split("\n").length, 5);

    // Delete a pod: the ReplicaSet replaces it.
    const victim = k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}"]);
    k(["delete", "pod", victim, "--wait=true"]);
    k(["wait", "--for=jsonpath={.status.availableReplicas}=5", "deploy/web", "--timeout=60s"]);
    const names = k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"]).split(" ");
    assert.equal(names.length, 5);
    assert.ok(!names.includes(victim));

    k(["set", "image", "deploy/web", "busybox=busybox:1.36"]);
    k(["rollout", "status", "deploy/web", "--timeout=90s"]);
    assert.equal(
      k([
        "get",
        "deploy/web",
        "-o",
        "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
      ]),
      "2",
    );
    assert.match(k(["rollout", "history", "deploy/web"]), /1\s+<none>\n2\s+<none>/);
    k(["rollout", "undo", "deploy/web"]);
    k(["rollout", "status", "deploy/web", "--timeout=90s"]);
    assert.equal(
      k(["get", "deploy/web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]),
      "busybox",
    );
    const rs = k(["get", "rs", "-l", "app=web", "--no-headers"]).trim().split("\n");
    assert.equal(rs.length, 2);
    assert.ok(
      rs.some((l) => /\s5\s+5\s+5\s/.test(l)),
      rs.join("\n"),
    );
    const conds = k([
      "get",
      "deploy/web",
      "-o",
      "jsonpath={range .status.conditions[*]}{.type}={.status};{end}",
    ]);
    assert.match(conds, /Available=True/);
    assert.match(conds, /Progressing=True/);
    assert.match(
      k(["describe", "deploy/web"]),
      /ScalingReplicaSet\s+.*deployment-controller\s+Scaled (up|down) replica set web-/,
    );
  });

  it("a job runs to completion", () => {
    apply(`apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  completions: 2
  parallelism: 1
  template:
    metadata:
      annotations: {kites.io/sim-exit-code: "0"}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
`);
    k(["wait", "--for=condition=complete", "job/once", "--timeout=60s"]);
    assert.equal(k(["get", "job/once", "-o", "jsonpath={.status.succeeded}"]), "2");
    assert.match(k(["get", "job/once", "--no-headers"]), /once\s+Complete\s+2\/2/);
  });

  it("a statefulset creates ordered stable names; a daemonset one pod per node", () => {
    apply(`apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: c, image: busybox}]}
`);
    k(["rollout", "status", "sts/db", "--timeout=90s"]);
    assert.equal(
      k(["get", "pods", "-l", "app=db", "-o", "jsonpath={.items[*].metadata.name}"]),
      "db-0 db-1 db-2",
    );
    k(["rollout", "status", "ds/agent", "--timeout=60s"]);
    const nodes = k(["get", "pods", "-l", "app=agent", "-o", "jsonpath={.items[*].spec.nodeName}"])
      .split(" ")
      .sort();
    assert.deepEqual(nodes, ["kites-sim-1", "kites-sim-2", "kites-sim-3"]);
  });

  it("a pod that fits nowhere stays Pending with upstream's FailedScheduling message", () => {
    apply(`apiVersion: v1
kind: Pod
metadata: {name: nowhere}
spec:
  nodeSelector: {disk: ssd}
  containers: [{name: c, image: busybox}]
`);
    k([
      "wait",
      "--for=jsonpath={.status.conditions[0].reason}=Unschedulable",
      "pod/nowhere",
      "--timeout=30s",
    ]);
    const events = k([
      "get",
      "events",
      "--field-selector",
      "involvedObject.name=nowhere,reason=FailedScheduling",
      "-o",
      "jsonpath={.items[*].message}",
    ]);
    assert.match(events, /0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector/);
    // Labelling a node makes it fit: the scheduler retries on the node change.
    k(["label", "node", "kites-sim-2", "disk=ssd"]);
    k(["wait", "--for=jsonpath={.spec.nodeName}=kites-sim-2", "pod/nowhere", "--timeout=60s"]);
    k(["delete", "pod", "nowhere"]);
  });

  it("cascading deletes: orphan keeps the pods, foreground removes owner last", () => {
    k(["create", "deployment", "keep", "--image=busybox", "--replicas=2"]);
    k(["rollout", "status", "deploy/keep", "--timeout=60s"]);
    k(["delete", "deploy/keep", "--cascade=orphan"]);
    assert.equal(k(["get", "rs", "-l", "app=keep", "--no-headers"]).trim().split("\n").length, 1);
    const rs = k(["get", "rs", "-l", "app=keep", "-o", "jsonpath={.items[0].metadata.name}"]);
    assert.equal(k(["get", "rs", rs, "-o", "jsonpath={.metadata.ownerReferences}"]), "");
    k(["delete", "rs", rs, "--cascade=foreground", "--timeout=60s"]);
    assert.equal(k(["get", "pods", "-l", "app=keep", "--no-headers", "--ignore-not-found"]).trim(), "");
  });

  it("deleting a namespace empties it, shows Terminating, then removes it", () => {
    k(["create", "namespace", "doomed"]);
    k(["create", "deployment", "d", "--image=busybox", "--replicas=2", "-n", "doomed"]);
    k(["rollout", "status", "deploy/d", "-n", "doomed", "--timeout=60s"]);
    assert.match(
      k(["get", "serviceaccount", "default", "-n", "doomed", "-o", "name"]),
      /serviceaccount\/default/,
    );
    k(["delete", "namespace", "doomed", "--timeout=90s"]);
    const r = s.kubectl(["get", "namespace", "doomed"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NotFound/);
    assert.equal(k(["get", "pods", "-n", "doomed", "--no-headers", "--ignore-not-found"]).trim(), "");
  });
});
