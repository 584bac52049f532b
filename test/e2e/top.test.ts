/**
 * @module e2e as root: `kubectl top` against kites. `kites server` with its node agent runs a
 * busybox pod that spins (cpu limit 300m) and one that sleeps; real kubectl reads
 * `nodes/proxy/stats/summary` and the built-in `metrics.k8s.io` API through `top node`,
 * `top pod -A` and `top pod --containers`, and the spinning pod shows more cpu than the idle one.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { kubectlMissing, startServer, type TestServer } from "./harness.ts";
import { cleanNode, lockNode, notRoot } from "./node-harness.ts";

const POD_CIDR = "10.244.206.0/24";
const skip = kubectlMissing() ?? notRoot();
if (skip) console.warn(`SKIPPED test/e2e/top.test.ts: ${skip}`);

/** Millicores of a kubectl cpu column (`12m`, `1`). */
function millicores(s: string): number {
  return s.endsWith("m") ? Number(s.slice(0, -1)) : Number(s) * 1000;
}

describe("kubectl top on the local node agent", { skip }, () => {
  let s: TestServer;
  const run = (args: string[], stdin?: string) => s.kubectl(args, stdin === undefined ? {} : { stdin });
  const k = (args: string[], stdin?: string): string => {
    const r = run(args, stdin);
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  /** Runs a `kubectl top` until metrics are there (the agent needs two cpu samples). */
  const top = async (args: string[], ready: (out: string) => boolean): Promise<string> => {
    let last = "";
    for (let i = 0; i < 60; i++) {
      const r = run(["top", ...args]);
      last = `${r.stdout}${r.stderr}`;
      if (r.code === 0 && ready(r.stdout)) return r.stdout;
      await new Promise((res) => setTimeout(res, 1000));
    }
    assert.fail(`kubectl top ${args.join(" ")} never succeeded: ${last}`);
  };

  let release: (() => void) | undefined;
  before(async () => {
    release = await lockNode();
    s = await startServer({
      agent: true,
      args: [
        ...["--pod-cidr", POD_CIDR, "--node-name", "e2e-top", "--kubelet-port", "0"],
        ...["--ingress-http-port", "18982", "--ingress-https-port", "18945"],
      ],
    });
    k(["wait", "--for=condition=Ready", "node/e2e-top", "--timeout=60s"]);
    k(
      ["apply", "-f", "-"],
      `apiVersion: v1
kind: Pod
metadata: {name: burn, labels: {app: burn}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: spin
    image: busybox
    command: [sh, -c, "while :; do :; done"]
    resources: {limits: {cpu: 300m, memory: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: idle, labels: {app: idle}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: a, image: busybox, command: [sleep, "3600"]}
  - {name: b, image: busybox, command: [sleep, "3600"]}
`,
    );
    k(["wait", "--for=condition=Ready", "pod/burn", "pod/idle", "--timeout=90s"]);
  });
  after(async () => {
    if (!s) return release?.();
    try {
      s.kubectl(["delete", "pods", "--all", "--wait=true", "--timeout=60s"]);
    } finally {
      await s.stop({ keep: true });
      const left = await cleanNode(s.dataDir, POD_CIDR);
      release?.();
      assert.deepEqual(left.containers, [], "containers left after the pods were deleted");
      assert.deepEqual(left.mounts, [], "mounts left after the pods were deleted");
    }
  });

  it("nodes/proxy serves the agent's Summary", () => {
    const summary = JSON.parse(k(["get", "--raw", "/api/v1/nodes/e2e-top/proxy/stats/summary"])) as {
      node: { nodeName: string; memory?: { workingSetBytes?: number } };
      pods: { podRef: { name: string } }[];
    };
    assert.equal(summary.node.nodeName, "e2e-top");
    assert.ok((summary.node.memory?.workingSetBytes ?? 0) > 0);
    assert.ok(summary.pods.some((p) => p.podRef.name === "burn"));
  });

  it("metrics.k8s.io is discovered and answers in metrics-server's shapes", () => {
    assert.match(
      k(["api-resources", "--api-group=metrics.k8s.io"]),
      /pods\s+metrics\.k8s\.io\/v1beta1\s+true\s+PodMetrics/,
    );
    const r = run(["get", "--raw", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /podmetrics.metrics.k8s.io "default\/nope" not found/);
  });

  it("kubectl top node prints the node's cpu and memory", async () => {
    const out = await top(["node"], (o) => o.includes("e2e-top"));
    console.log(out);
    const [head, row] = out.trim().split("\n");
    assert.match(head!, /^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)\s*$/);
    assert.match(row!, /^e2e-top\s+\d+m?\s+\d+%\s+\d+Mi\s+\d+%\s*$/);
    const raw = JSON.parse(k(["get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes/e2e-top"])) as Record<
      string,
      unknown
    >;
    console.log(JSON.stringify(raw));
    assert.equal(raw.kind, "NodeMetrics");
    assert.match((raw.usage as { cpu: string }).cpu, /^\d+(n|u|m)?$/);
    assert.match((raw.usage as { memory: string }).memory, /^\d+(Ki|Mi|Gi)?$/);
  });

  it("kubectl top pod shows the spinning pod above the idle one, per container too", async () => {
    const out = await top(["pod"], (o) => o.includes("burn") && o.includes("idle") && /burn\s+[1-9]/.test(o));
    console.log(out);
    const lines = out.trim().split("\n");
    assert.match(lines[0]!, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/);
    const cpu = (name: string): number => {
      const l = lines.find((x) => x.startsWith(`${name} `));
      assert.ok(l, `${name} in ${out}`);
      return millicores(l.split(/\s+/)[1]!);
    };
    assert.ok(cpu("burn") > cpu("idle"), out);
    assert.ok(cpu("burn") >= 50, `burn is limited to 300m and spins: ${out}`);

    const all = k(["top", "pod", "-A"]);
    console.log(all);
    assert.match(all.split("\n")[0]!, /^NAMESPACE\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/);
    assert.match(all, /\ndefault\s+burn\s+\d+m\s+\d+Mi/);

    const containers = k(["top", "pod", "idle", "--containers"]);
    console.log(containers);
    assert.match(containers.split("\n")[0]!, /^POD\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/);
    assert.match(containers, /\nidle\s+a\s+\d+m\s+\d+(Mi|Ki)?/);
    assert.match(containers, /\nidle\s+b\s+\d+m\s+\d+(Mi|Ki)?/);

    const raw = JSON.parse(
      k(["get", "--raw", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/burn"]),
    ) as {
      kind: string;
      metadata: { labels?: Record<string, string> };
      window: string;
      containers: { name: string; usage: { cpu: string; memory: string } }[];
    };
    console.log(JSON.stringify(raw));
    assert.equal(raw.kind, "PodMetrics");
    assert.deepEqual(raw.metadata.labels, { app: "burn" });
    assert.equal(raw.containers[0]?.name, "spin");
    assert.match(raw.containers[0]!.usage.cpu, /^\d+(n|u|m)?$/);

    const sel = k(["top", "pod", "-l", "app=burn", "--no-headers"]);
    assert.match(sel, /^burn\s/);
    assert.doesNotMatch(sel, /idle/);
  });
});
