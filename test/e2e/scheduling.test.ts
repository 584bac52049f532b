/**
 * @module e2e: every placement rule of the scheduler, end to end. One `kites server`
 * (control plane only) with three simulated nodes (2 cpu, 4Gi each; kites-sim-1 and -3 in
 * zone-0, kites-sim-2 in zone-1), driven by real kubectl as a user would: cordon, uncordon,
 * drain, taint, label, apply; placements read back with `get pods -o wide`, reasons from the
 * PodScheduled condition, `describe` and FailedScheduling events. One namespace per case;
 * every case puts the nodes back (taints, cordons, labels, extended resources) even when it
 * fails.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { kites, kubectlMissing, startServer, type TestServer } from "./harness.ts";

const skip = kubectlMissing();

const N1 = "kites-sim-1";
const N2 = "kites-sim-2";
const N3 = "kites-sim-3";
const NODES = [N1, N2, N3];
/** Zones as `kites sim nodes --zones 2` assigns them (round robin). */
const ZONE: Record<string, string> = {
  [N1]: "zone-0",
  [N2]: "zone-1",
  [N3]: "zone-0",
  "kites-sim-4": "zone-1",
};
/** Node labels the cases add; removed after each case. */
const CASE_LABELS = ["cores", "tier", "disk"];

/** A bare pod manifest (busybox, no requests unless given). */
function pod(name: string, spec = "", labels: Record<string, string> = {}): string {
  const l = Object.keys(labels).length ? `\n  labels: ${JSON.stringify(labels)}` : "";
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}${l}
spec:
  containers: [{name: c, image: busybox}]
${spec}
---
`;
}

describe("scheduling on simulated nodes", { skip }, () => {
  let s: TestServer;

  const k = (args: string[], stdin?: string): string => {
    const r = s.kubectl(args, stdin === undefined ? {} : { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (ns: string, yaml: string): string => k(["apply", "-n", ns, "-f", "-"], yaml);
  const jp = (ns: string, obj: string, path: string): string =>
    k(["get", "-n", ns, obj, "-o", `jsonpath={${path}}`]);

  /** Pod name → node (empty when unbound) and status, parsed from `kubectl get pods -o wide`. */
  const placements = (ns: string, selector?: string): Map<string, { node: string; status: string }> => {
    const args = ["get", "pods", "-n", ns, "-o", "wide"];
    if (selector) args.push("-l", selector);
    const lines = k(args)
      .split("\n")
      .filter((l) => l.trim() !== "");
    const out = new Map<string, { node: string; status: string }>();
    const header = lines.shift();
    if (!header) return out;
    const col = (name: string): [number, number] => {
      const start = header.search(new RegExp(`\\b${name}\\b`));
      const rest = header.slice(start + name.length).search(/\S/);
      return [start, rest < 0 ? Infinity : start + name.length + rest];
    };
    const [nodeA, nodeB] = col("NODE");
    const [stA, stB] = col("STATUS");
    for (const l of lines) {
      const name = l.split(/\s+/)[0]!;
      const node = l.slice(nodeA, nodeB).trim();
      out.set(name, { node: node === "<none>" ? "" : node, status: l.slice(stA, stB).trim() });
    }
    return out;
  };
  /** Node → how many of the selected pods run there. */
  const perNode = (ns: string, selector: string): Map<string, number> => {
    const m = new Map<string, number>();
    for (const { node } of placements(ns, selector).values()) if (node) m.set(node, (m.get(node) ?? 0) + 1);
    return m;
  };
  const nodeOf = (ns: string, name: string): string => jp(ns, `pod/${name}`, ".spec.nodeName");

  const waitRunning = (ns: string, target: string[]): void => {
    k(["wait", "-n", ns, "--for=jsonpath={.status.phase}=Running", ...target, "--timeout=60s"]);
  };
  /** Waits for PodScheduled=False and returns the condition's reason and message. */
  const waitUnschedulable = (ns: string, name: string): { reason: string; message: string } => {
    k(["wait", "-n", ns, "--for=condition=PodScheduled=false", `pod/${name}`, "--timeout=60s"]);
    const cond = `.status.conditions[?(@.type=="PodScheduled")]`;
    return {
      reason: jp(ns, `pod/${name}`, `${cond}.reason`),
      message: jp(ns, `pod/${name}`, `${cond}.message`),
    };
  };
  /** Retries `fn` (every 250 ms, at most `tries` times) until it returns a value. */
  const eventually = async <T>(what: string, fn: () => T | undefined, tries = 240): Promise<T> => {
    for (let i = 0; i < tries; i++) {
      const v = fn();
      if (v !== undefined) return v;
      await sleep(250);
    }
    assert.fail(`gave up waiting for ${what}`);
  };
  const events = (ns: string, selector: string): string[] => {
    const out = k([
      "get",
      "events",
      "-n",
      ns,
      "--field-selector",
      selector,
      "-o",
      'jsonpath={range .items[*]}{.message}{"\\n"}{end}',
    ]);
    return out.split("\n").filter((l) => l !== "");
  };
  /** The FailedScheduling messages of a pod, once there is one. */
  const failedScheduling = (ns: string, name: string): Promise<string[]> =>
    eventually(`a FailedScheduling event for ${ns}/${name}`, () => {
      const ev = events(ns, `involvedObject.name=${name},reason=FailedScheduling`);
      return ev.length ? ev : undefined;
    });

  /** Puts every node back as `kites sim nodes` made it: schedulable, untainted, no case labels or extended resources. */
  const resetNodes = (): void => {
    const r = s.kubectl(["get", "nodes", "-o", "name"]);
    for (const n of r.stdout.split("\n").filter((l) => l !== "")) {
      s.kubectl(["patch", n, "--type=merge", "-p", '{"spec":{"unschedulable":null,"taints":null}}']);
      s.kubectl(["label", n, ...CASE_LABELS.map((l) => `${l}-`)]);
      const caps = JSON.parse(
        s.kubectl(["get", n, "-o", "jsonpath={.status.capacity}"]).stdout || "{}",
      ) as Record<string, string>;
      const ops = Object.keys(caps)
        .filter((c) => c.startsWith("example.com/"))
        .flatMap((c) => {
          const p = c.replace("/", "~1");
          return [
            { op: "remove", path: `/status/capacity/${p}` },
            { op: "remove", path: `/status/allocatable/${p}` },
          ];
        });
      if (ops.length)
        s.kubectl(["patch", n, "--subresource=status", "--type=json", "-p", JSON.stringify(ops)]);
    }
  };
  /** Runs one case in its own namespace; afterwards deletes it (waiting, so nodes are free again) and resets the nodes. */
  const inNamespace = async (ns: string, body: (ns: string) => Promise<void> | void): Promise<void> => {
    k(["create", "namespace", ns]);
    try {
      await body(ns);
    } finally {
      s.kubectl(["delete", "namespace", ns, "--ignore-not-found", "--timeout=90s"]);
      resetNodes();
    }
  };

  before(async () => {
    s = await startServer();
    const r = kites(
      ["sim", "nodes", "--count", "3", "--zones", "2", "--cpu", "2", "--memory", "4Gi"],
      s.kubeconfig,
    );
    assert.equal(r.code, 0, r.stderr);
    k(["wait", "--for=condition=Ready", "node", "-l", "kites.io/simulated=true", "--timeout=60s"]);
  });
  after(async () => {
    await s?.stop();
  });

  it("the cluster: three Ready simulated nodes with 2 cpu / 4Gi over two zones", () => {
    const out = k(["get", "nodes", "-L", "topology.kubernetes.io/zone", "--no-headers"]);
    for (const n of NODES) assert.match(out, new RegExp(`${n}\\s+Ready\\s.*${ZONE[n]}`));
    assert.equal(
      k(["get", "node", N2, "-o", "jsonpath={.status.allocatable.cpu}/{.status.allocatable.memory}"]),
      "2/4Gi",
    );
  });

  it("NodeName: a pod naming its node bypasses the scheduler, even on a cordoned, tainted node", () =>
    inNamespace("sched-nodename", (ns) => {
      k(["cordon", N2]);
      k(["taint", "nodes", N2, "dedicated=nodename:NoSchedule"]);
      apply(ns, pod("pinned", `  nodeName: ${N2}`));
      waitRunning(ns, ["pod/pinned"]);
      assert.equal(placements(ns).get("pinned")?.node, N2);
      // No scheduler touched it: no Scheduled event, no PodScheduled condition written by it.
      assert.deepEqual(events(ns, "involvedObject.name=pinned,reason=Scheduled"), []);
      assert.deepEqual(events(ns, "involvedObject.name=pinned,reason=FailedScheduling"), []);
    }));

  it("NodeUnschedulable: cordoned nodes take no new pods; uncordon lets a waiting pod in", () =>
    inNamespace("sched-cordon", async (ns) => {
      assert.match(k(["cordon", N1]), /cordoned/);
      k(["cordon", N2]);
      assert.equal(k(["get", "node", N1, "-o", "jsonpath={.spec.unschedulable}"]), "true");
      assert.match(k(["get", "nodes", "--no-headers"]), new RegExp(`${N1}\\s+Ready,SchedulingDisabled`));
      k(["create", "deployment", "web", "-n", ns, "--image=busybox", "--replicas=4"]);
      k(["rollout", "status", "-n", ns, "deploy/web", "--timeout=60s"]);
      assert.deepEqual([...perNode(ns, "app=web")], [[N3, 4]]);

      // A pod that can only go to a cordoned node waits, with upstream's reason.
      apply(ns, pod("wants-1", `  nodeSelector: {kubernetes.io/hostname: ${N1}}`));
      const c = waitUnschedulable(ns, "wants-1");
      assert.equal(c.reason, "Unschedulable");
      assert.match(
        c.message,
        /^0\/3 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector, 2 node\(s\) were unschedulable\./,
      );
      // Tolerating the unschedulable taint lets a pod onto a cordoned node (as DaemonSet pods do).
      apply(
        ns,
        pod(
          "tolerant",
          `  nodeSelector: {kubernetes.io/hostname: ${N2}}
  tolerations: [{key: node.kubernetes.io/unschedulable, operator: Exists, effect: NoSchedule}]`,
        ),
      );
      waitRunning(ns, ["pod/tolerant"]);
      assert.equal(nodeOf(ns, "tolerant"), N2);

      assert.match(k(["uncordon", N1]), /uncordoned/);
      k(["wait", "-n", ns, `--for=jsonpath={.spec.nodeName}=${N1}`, "pod/wants-1", "--timeout=60s"]);
      waitRunning(ns, ["pod/wants-1"]);
      assert.equal(k(["get", "node", N1, "-o", "jsonpath={.spec.unschedulable}"]), "");
    }));

  it("drain --ignore-daemonsets --force evicts pods through the eviction API and cordons the node", () =>
    inNamespace("sched-drain", (ns) => {
      apply(
        ns,
        `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: c, image: busybox}]}
---
` + pod("bare", `  nodeSelector: {kubernetes.io/hostname: ${N3}}`),
      );
      k(["create", "deployment", "web", "-n", ns, "--image=busybox", "--replicas=6"]);
      k(["rollout", "status", "-n", ns, "deploy/web", "--timeout=60s"]);
      k(["rollout", "status", "-n", ns, "ds/agent", "--timeout=60s"]);
      waitRunning(ns, ["pod/bare"]);
      const before = placements(ns);
      const onN3 = [...before].filter(([, p]) => p.node === N3).map(([n]) => n);
      const webOnN3 = onN3.filter((n) => n.startsWith("web-"));
      assert.ok(webOnN3.length > 0, `no web pod on ${N3}: ${JSON.stringify([...before])}`);
      const dsPod = onN3.find((n) => n.startsWith("agent-"));
      assert.ok(dsPod, "the daemonset has a pod on the node");

      const r = s.kubectl(["drain", N3, "--ignore-daemonsets", "--force", "--timeout=60s"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`node/${N3} cordoned`));
      assert.match(r.stdout, new RegExp(`node/${N3} drained`));
      // Evictions, not deletes: kubectl prints "evicting pod" / "evicted" only for the eviction subresource.
      for (const name of [...webOnN3, "bare"]) {
        assert.match(r.stdout + r.stderr, new RegExp(`evicting pod ${ns}/${name}`));
        assert.match(r.stdout, new RegExp(`pod/${name} evicted`));
      }
      assert.match(r.stderr, new RegExp(`ignoring DaemonSet-managed Pods: ${ns}/${dsPod}`));
      assert.match(r.stderr, new RegExp(`deleting Pods that declare no controller: ${ns}/bare`));
      assert.equal(k(["get", "node", N3, "-o", "jsonpath={.spec.unschedulable}"]), "true");

      // The ReplicaSet replaces the evicted pods on the other nodes; only the DaemonSet pod stays.
      k(["wait", "-n", ns, "--for=jsonpath={.status.availableReplicas}=6", "deploy/web", "--timeout=60s"]);
      const afterDrain = placements(ns);
      assert.equal(afterDrain.has("bare"), false);
      for (const n of webOnN3) assert.equal(afterDrain.has(n), false, `${n} still exists`);
      assert.deepEqual(
        [...afterDrain].filter(([, p]) => p.node === N3).map(([n]) => n),
        [dsPod],
      );
      const web = perNode(ns, "app=web");
      assert.equal((web.get(N1) ?? 0) + (web.get(N2) ?? 0), 6);
      k(["uncordon", N3]);
    }));

  it("NodeSelector and NodeAffinity: In, NotIn, Exists, DoesNotExist, Gt, Lt and a preferred term", () =>
    inNamespace("sched-affinity", (ns) => {
      k(["label", "nodes", N1, "cores=4", "tier=gold"]);
      k(["label", "nodes", N2, "cores=8", "tier=silver"]);
      k(["label", "nodes", N3, "cores=16"]);
      const required = (exprs: string): string => `  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: ${exprs}`;
      const want: [string, string, string][] = [
        ["selector", `  nodeSelector: {tier: gold}`, N1],
        ["in", required(`[{key: tier, operator: In, values: [silver]}]`), N2],
        ["notin", required(`[{key: tier, operator: NotIn, values: [gold, silver]}]`), N3],
        [
          "exists",
          required(`[{key: tier, operator: Exists}, {key: cores, operator: Gt, values: ["4"]}]`),
          N2,
        ],
        ["doesnotexist", required(`[{key: tier, operator: DoesNotExist}]`), N3],
        ["gt", required(`[{key: cores, operator: Gt, values: ["8"]}]`), N3],
        ["lt", required(`[{key: cores, operator: Lt, values: ["8"]}]`), N1],
        // Terms are ORed: the second term matches only kites-sim-2.
        [
          "terms",
          required(`[{key: cores, operator: Gt, values: ["100"]}]
        - matchExpressions: [{key: tier, operator: In, values: [silver]}]`),
          N2,
        ],
        [
          "preferred",
          `  affinity:
    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        preference:
          matchExpressions: [{key: cores, operator: Gt, values: ["10"]}]`,
          N3,
        ],
        [
          "preferred-and-required",
          required(`[{key: tier, operator: Exists}]`).replace(
            "    nodeAffinity:\n",
            `    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 50
        preference: {matchExpressions: [{key: tier, operator: In, values: [gold]}]}
`,
          ),
          N1,
        ],
      ];
      apply(ns, want.map(([name, spec]) => pod(name, spec)).join(""));
      waitRunning(
        ns,
        want.map(([name]) => `pod/${name}`),
      );
      const got = placements(ns);
      for (const [name, , node] of want) assert.equal(got.get(name)?.node, node, `pod ${name}`);

      // A preference nothing satisfies is only a preference: the pod still runs.
      apply(
        ns,
        pod(
          "preferred-impossible",
          `  affinity:
    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - {weight: 100, preference: {matchExpressions: [{key: tier, operator: In, values: [platinum]}]}}`,
        ),
      );
      waitRunning(ns, ["pod/preferred-impossible"]);
      assert.ok(NODES.includes(nodeOf(ns, "preferred-impossible")));

      // A requirement nothing satisfies: Pending with upstream's reason on every node.
      apply(ns, pod("impossible", required(`[{key: cores, operator: Gt, values: ["100"]}]`)));
      const c = waitUnschedulable(ns, "impossible");
      assert.equal(c.reason, "Unschedulable");
      assert.match(
        c.message,
        /^0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector\./,
      );
      assert.equal(nodeOf(ns, "impossible"), "");
    }));

  it("TaintToleration: NoSchedule keeps out pods that do not tolerate it; PreferNoSchedule is avoided when others fit", () =>
    inNamespace("sched-taints", async (ns) => {
      k(["taint", "nodes", N1, "dedicated=gpu:NoSchedule"]);
      k(["taint", "nodes", N2, "dedicated=gpu:NoSchedule"]);
      k(["create", "deployment", "plain", "-n", ns, "--image=busybox", "--replicas=3"]);
      k(["rollout", "status", "-n", ns, "deploy/plain", "--timeout=60s"]);
      assert.deepEqual([...perNode(ns, "app=plain")], [[N3, 3]]);

      apply(
        ns,
        pod(
          "tolerates",
          `  nodeSelector: {kubernetes.io/hostname: ${N1}}
  tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]`,
        ) +
          pod("intolerant", `  nodeSelector: {kubernetes.io/hostname: ${N1}}`) +
          // A toleration of another value does not tolerate the taint.
          pod(
            "wrong-value",
            `  nodeSelector: {kubernetes.io/hostname: ${N1}}
  tolerations: [{key: dedicated, operator: Equal, value: cpu, effect: NoSchedule}]`,
          ),
      );
      waitRunning(ns, ["pod/tolerates"]);
      assert.equal(nodeOf(ns, "tolerates"), N1);
      for (const name of ["intolerant", "wrong-value"]) {
        const c = waitUnschedulable(ns, name);
        assert.match(
          c.message,
          /^0\/3 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector, 2 node\(s\) had untolerated taint \{dedicated: gpu\}\./,
        );
      }
      const ev = await failedScheduling(ns, "intolerant");
      assert.match(ev[0]!, /2 node\(s\) had untolerated taint \{dedicated: gpu\}/);
      assert.match(
        k(["describe", "pod", "-n", ns, "intolerant"]),
        /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector, 2 node\(s\) had untolerated taint \{dedicated: gpu\}/,
      );

      // Removing the taint lets the waiting pods in.
      k(["taint", "nodes", N1, "dedicated-"]);
      waitRunning(ns, ["pod/intolerant", "pod/wrong-value"]);
      assert.equal(nodeOf(ns, "intolerant"), N1);

      // PreferNoSchedule: avoided while an untainted node fits...
      k(["taint", "nodes", N2, "dedicated-"]);
      k(["taint", "nodes", N1, "spot=true:PreferNoSchedule"]);
      k(["taint", "nodes", N3, "spot=true:PreferNoSchedule"]);
      k(["create", "deployment", "soft", "-n", ns, "--image=busybox", "--replicas=3"]);
      k(["rollout", "status", "-n", ns, "deploy/soft", "--timeout=60s"]);
      assert.deepEqual([...perNode(ns, "app=soft")], [[N2, 3]]);
      // ...but only a preference: with every node tainted, pods still run.
      k(["taint", "nodes", N2, "spot=true:PreferNoSchedule"]);
      k(["scale", "-n", ns, "deploy/soft", "--replicas=5"]);
      k(["rollout", "status", "-n", ns, "deploy/soft", "--timeout=60s"]);
      const soft = perNode(ns, "app=soft");
      assert.equal(
        [...soft.values()].reduce((a, b) => a + b, 0),
        5,
      );
    }));

  it("TaintToleration: a NoExecute taint evicts running pods that do not tolerate it (tolerationSeconds too)", () =>
    inNamespace("sched-noexecute", async (ns) => {
      const on2 = `  nodeSelector: {kubernetes.io/hostname: ${N2}}`;
      apply(
        ns,
        pod("intolerant", on2) +
          pod("forever", `${on2}\n  tolerations: [{key: maintenance, operator: Exists, effect: NoExecute}]`) +
          pod(
            "for-3s",
            `${on2}\n  tolerations: [{key: maintenance, operator: Exists, effect: NoExecute, tolerationSeconds: 3}]`,
          ) +
          pod("elsewhere", `  nodeSelector: {kubernetes.io/hostname: ${N1}}`),
      );
      waitRunning(ns, ["pod/intolerant", "pod/forever", "pod/for-3s", "pod/elsewhere"]);
      k(["taint", "nodes", N2, "maintenance=now:NoExecute"]);
      k(["wait", "-n", ns, "--for=delete", "pod/intolerant", "--timeout=60s"]);
      k(["wait", "-n", ns, "--for=delete", "pod/for-3s", "--timeout=60s"]);
      const left = placements(ns);
      assert.deepEqual([...left].map(([n, p]) => `${n}@${p.node}:${p.status}`).sort(), [
        `elsewhere@${N1}:Running`,
        `forever@${N2}:Running`,
      ]);
      const ev = await eventually("TaintManagerEviction events", () => {
        const e = events(ns, "reason=TaintManagerEviction");
        return e.length >= 2 ? e : undefined;
      });
      assert.ok(ev.includes(`Marking for deletion Pod ${ns}/intolerant`), ev.join("\n"));
      assert.ok(ev.includes(`Marking for deletion Pod ${ns}/for-3s`), ev.join("\n"));
      // New pods keep off the node too (NoExecute implies NoSchedule).
      apply(ns, pod("new", on2));
      assert.match(
        waitUnschedulable(ns, "new").message,
        /1 node\(s\) had untolerated taint \{maintenance: now\}/,
      );
    }));

  it("NodeResourcesFit: requests beyond every node stay Pending with upstream's reasons; extended resources count", () =>
    inNamespace("sched-resources", async (ns) => {
      const req = (r: string): string => `  containers:
  - name: c
    image: busybox
    resources: {requests: ${r}, limits: ${r}}`;
      const big = (name: string, r: string): string =>
        pod(name).replace("  containers: [{name: c, image: busybox}]\n", `${req(r)}\n`);
      // Two 1-cpu pods fill a 2-cpu node: six fill the cluster exactly, one per cpu.
      apply(ns, Array.from({ length: 6 }, (_, i) => big(`one-cpu-${i}`, `{cpu: "1"}`)).join(""));
      waitRunning(
        ns,
        Array.from({ length: 6 }, (_, i) => `pod/one-cpu-${i}`),
      );
      assert.deepEqual(
        [...perNode(ns, "")].map(([, c]) => c),
        [2, 2, 2],
      );
      apply(ns, big("one-more", `{cpu: "1"}`));
      const full = waitUnschedulable(ns, "one-more");
      assert.equal(full.reason, "Unschedulable");
      assert.match(full.message, /^0\/3 nodes are available: 3 Insufficient cpu\./);
      k(["delete", "pod", "-n", ns, "one-more"]);
      k(["delete", "pod", "-n", ns, ...Array.from({ length: 6 }, (_, i) => `one-cpu-${i}`)]);

      apply(ns, big("huge-cpu", `{cpu: "3"}`) + big("huge-both", `{cpu: "3", memory: 5Gi}`));
      const c = waitUnschedulable(ns, "huge-cpu");
      assert.equal(c.reason, "Unschedulable");
      assert.match(c.message, /^0\/3 nodes are available: 3 Insufficient cpu\./);
      assert.match(
        waitUnschedulable(ns, "huge-both").message,
        /^0\/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory\./,
      );
      const ev = await failedScheduling(ns, "huge-cpu");
      assert.match(ev[0]!, /^0\/3 nodes are available: 3 Insufficient cpu\./);
      const described = k(["describe", "pod", "-n", ns, "huge-cpu"]);
      assert.match(described, /Status:\s+Pending/);
      assert.match(described, /PodScheduled\s+False/);
      assert.match(
        described,
        /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available: 3 Insufficient cpu\./,
      );
      assert.equal(nodeOf(ns, "huge-cpu"), "");

      // Extended resources: a node advertises them in status (as a device plugin makes the kubelet do).
      k([
        "patch",
        "node",
        N3,
        "--subresource=status",
        "--type=json",
        "-p",
        JSON.stringify([
          { op: "add", path: "/status/capacity/example.com~1dongle", value: "2" },
          { op: "add", path: "/status/allocatable/example.com~1dongle", value: "2" },
        ]),
      ]);
      apply(ns, big("dongle-a", `{example.com/dongle: "1"}`) + big("dongle-b", `{example.com/dongle: "1"}`));
      waitRunning(ns, ["pod/dongle-a", "pod/dongle-b"]);
      assert.equal(nodeOf(ns, "dongle-a"), N3);
      assert.equal(nodeOf(ns, "dongle-b"), N3);
      apply(ns, big("dongle-c", `{example.com/dongle: "1"}`));
      assert.match(
        waitUnschedulable(ns, "dongle-c").message,
        /^0\/3 nodes are available: 3 Insufficient example\.com\/dongle\./,
      );
      // Freeing one lets the waiting pod in.
      k(["delete", "pod", "-n", ns, "dongle-a"]);
      waitRunning(ns, ["pod/dongle-c"]);
      assert.equal(nodeOf(ns, "dongle-c"), N3);
    }));

  it("PodTopologySpread: maxSkew 1 over zones balances; DoNotSchedule leaves extras Pending", () =>
    inNamespace("sched-spread", async (ns) => {
      const deployment = (name: string, replicas: number): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: c, image: busybox}]
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: DoNotSchedule
        labelSelector: {matchLabels: {app: ${name}}}
`;
      apply(ns, deployment("even", 6));
      k(["rollout", "status", "-n", ns, "deploy/even", "--timeout=60s"]);
      const zones = new Map<string, number>();
      for (const [node, c] of perNode(ns, "app=even"))
        zones.set(ZONE[node]!, (zones.get(ZONE[node]!) ?? 0) + c);
      // zone-0 has two nodes and zone-1 one, yet the zones get three each.
      assert.deepEqual(Object.fromEntries(zones), { "zone-0": 3, "zone-1": 3 });
      assert.equal(perNode(ns, "app=even").get(N2), 3);

      // zone-1's only node is tainted: it still counts as a domain (nodeTaintsPolicy Ignore), with
      // no pods, so zone-0 may take one pod and no more.
      k(["taint", "nodes", N2, "dedicated=spread:NoSchedule"]);
      apply(ns, deployment("strict", 3));
      const cond = `{.status.conditions[?(@.type=="PodScheduled")].status}`;
      const rows = await eventually("one strict pod bound and two unschedulable", () => {
        const out = k([
          "get",
          "pods",
          "-n",
          ns,
          "-l",
          "app=strict",
          "-o",
          `jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} ${cond}{"\\n"}{end}`,
        ]);
        const r = out
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => l.split(" "));
        const bound = r.filter(([, node]) => node !== "");
        const waiting = r.filter(([, node, st]) => node === "" && st === "False");
        return r.length === 3 && bound.length === 1 && waiting.length === 2 ? r : undefined;
      });
      for (const [name, node] of rows) {
        if (node) continue;
        assert.match(
          jp(ns, `pod/${name}`, `.status.conditions[?(@.type=="PodScheduled")].message`),
          /^0\/3 nodes are available: 1 node\(s\) had untolerated taint \{dedicated: spread\}, 2 node\(s\) didn't match pod topology spread constraints\./,
        );
      }
      const running = placements(ns, "app=strict");
      const placed = [...running.values()].filter((p) => p.node);
      assert.equal(placed.length, 1);
      assert.equal(ZONE[placed[0]!.node], "zone-0");
      // Untainting zone-1 lets the two waiting pods in: 2 and 1 (skew 1), whichever way.
      k(["taint", "nodes", N2, "dedicated-"]);
      k(["rollout", "status", "-n", ns, "deploy/strict", "--timeout=60s"]);
      const z = new Map<string, number>();
      for (const [node, c] of perNode(ns, "app=strict")) z.set(ZONE[node]!, (z.get(ZONE[node]!) ?? 0) + c);
      assert.equal(z.get("zone-0")! + z.get("zone-1")!, 3);
      assert.ok(Math.abs(z.get("zone-0")! - z.get("zone-1")!) <= 1, JSON.stringify([...z]));
    }));

  it("InterPodAffinity: required anti-affinity puts one per node; required affinity co-locates", () =>
    inNamespace("sched-podaffinity", (ns) => {
      const anti = `  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: anti}}
        topologyKey: kubernetes.io/hostname`;
      apply(ns, [1, 2, 3].map((i) => pod(`anti-${i}`, anti, { app: "anti" })).join(""));
      waitRunning(ns, ["pod/anti-1", "pod/anti-2", "pod/anti-3"]);
      assert.deepEqual(
        [...perNode(ns, "app=anti")].sort(),
        NODES.map((n) => [n, 1]),
      );
      apply(ns, pod("anti-4", anti, { app: "anti" }));
      const c = waitUnschedulable(ns, "anti-4");
      assert.match(
        c.message,
        /^0\/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules\./,
      );

      // Affinity: follow the pod labelled app=anchor to its node, or to its zone.
      apply(ns, pod("anchor", `  nodeSelector: {kubernetes.io/hostname: ${N3}}`, { app: "anchor" }));
      waitRunning(ns, ["pod/anchor"]);
      const affinity = (key: string, app = "anchor"): string => `  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchExpressions: [{key: app, operator: In, values: [${app}]}]}
        topologyKey: ${key}`;
      apply(
        ns,
        [1, 2, 3].map((i) => pod(`with-anchor-${i}`, affinity("kubernetes.io/hostname"))).join("") +
          [1, 2, 3].map((i) => pod(`same-zone-${i}`, affinity("topology.kubernetes.io/zone"))).join(""),
      );
      waitRunning(
        ns,
        [1, 2, 3].flatMap((i) => [`pod/with-anchor-${i}`, `pod/same-zone-${i}`]),
      );
      const got = placements(ns);
      for (const i of [1, 2, 3]) {
        assert.equal(got.get(`with-anchor-${i}`)?.node, N3);
        assert.equal(ZONE[got.get(`same-zone-${i}`)!.node], "zone-0");
      }
      apply(ns, pod("lonely", affinity("kubernetes.io/hostname", "nobody")));
      assert.match(
        waitUnschedulable(ns, "lonely").message,
        /^0\/3 nodes are available: 3 node\(s\) didn't match pod affinity rules\./,
      );
    }));

  it("NodePorts: pods asking for the same hostPort go to different nodes, then wait", () =>
    inNamespace("sched-ports", (ns) => {
      const port = (p: number, proto = "TCP"): string =>
        pod("x").replace(
          "  containers: [{name: c, image: busybox}]\n",
          `  containers: [{name: c, image: busybox, ports: [{containerPort: 80, hostPort: ${p}, protocol: ${proto}}]}]\n`,
        );
      const named = (name: string, yaml: string): string => yaml.replace("name: x", `name: ${name}`);
      apply(ns, [1, 2, 3].map((i) => named(`hp-${i}`, port(8080))).join(""));
      waitRunning(ns, ["pod/hp-1", "pod/hp-2", "pod/hp-3"]);
      assert.deepEqual(
        [...perNode(ns, "")].sort(),
        NODES.map((n) => [n, 1]),
      );
      apply(ns, named("hp-4", port(8080)));
      const c = waitUnschedulable(ns, "hp-4");
      assert.match(
        c.message,
        /^0\/3 nodes are available: 3 node\(s\) didn't have free ports for the requested pod ports\./,
      );
      // Another port, or the same port over UDP, still fits.
      apply(ns, named("hp-other", port(8081)) + named("hp-udp", port(8080, "UDP")));
      waitRunning(ns, ["pod/hp-other", "pod/hp-udp"]);
      // Deleting one holder frees its node for the waiting pod.
      const freed = nodeOf(ns, "hp-2");
      k(["delete", "pod", "-n", ns, "hp-2"]);
      k(["wait", "-n", ns, `--for=jsonpath={.spec.nodeName}=${freed}`, "pod/hp-4", "--timeout=60s"]);
    }));

  /** PriorityClasses for the preemption cases, removed afterwards. */
  const withPriorityClasses = async (body: () => Promise<void> | void): Promise<void> => {
    k(
      ["apply", "-f", "-"],
      `apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-low}
value: 100
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-high}
value: 1000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-high-never}
value: 1000
preemptionPolicy: Never
`,
    );
    try {
      await body();
    } finally {
      s.kubectl(["delete", "priorityclass", "e2e-low", "e2e-high", "e2e-high-never", "--ignore-not-found"]);
    }
  };
  /** A pod of a PriorityClass asking for 1500m of a node's 2 cpu: one per node fills the cluster. */
  const cpuPod = (name: string, pc: string): string =>
    pod(name).replace(
      "  containers: [{name: c, image: busybox}]\n",
      `  priorityClassName: ${pc}
  containers: [{name: c, image: busybox, resources: {requests: {cpu: 1500m}}}]
`,
    );
  const fillWithLowPods = (ns: string): void => {
    apply(ns, [1, 2, 3].map((i) => cpuPod(`low-${i}`, "e2e-low")).join(""));
    waitRunning(ns, ["pod/low-1", "pod/low-2", "pod/low-3"]);
    assert.deepEqual(
      [...perNode(ns, "")].sort(),
      NODES.map((n) => [n, 1]),
    );
  };

  it("Priority and preemption: a high-priority pod evicts a lower one and takes its node", () =>
    withPriorityClasses(() =>
      inNamespace("sched-preempt", async (ns) => {
        assert.match(k(["get", "priorityclass", "e2e-high", "--no-headers"]), /e2e-high\s+1000\s+false/);
        fillWithLowPods(ns);
        apply(ns, cpuPod("high", "e2e-high"));
        waitRunning(ns, ["pod/high"]);
        const node = nodeOf(ns, "high");
        const uid = jp(ns, "pod/high", ".metadata.uid");
        // The Preempted event names the preemptor and the node; the victim there is gone.
        const preempted = await eventually("a Preempted event", () => {
          const e = events(ns, "reason=Preempted");
          return e.length ? e : undefined;
        });
        assert.deepEqual(preempted, [`Preempted by pod ${uid} on node ${node}`]);
        const left = placements(ns);
        assert.equal(left.size, 3, JSON.stringify([...left]));
        assert.equal(left.get("high")?.node, node);
        const survivors = [...left].filter(([n]) => n.startsWith("low-"));
        assert.equal(survivors.length, 2);
        for (const [, p] of survivors) {
          assert.notEqual(p.node, node);
          assert.equal(p.status, "Running");
        }
        // The nomination was recorded on the preemptor (and, as upstream, kept after binding).
        assert.equal(jp(ns, "pod/high", ".status.nominatedNodeName"), node);
        assert.match(
          k(["get", "pod", "-n", ns, "high", "-o", "wide", "--no-headers"]),
          new RegExp(`${node}\\s+${node}`),
        );
        // The preemptor's attempt that failed says why it had to preempt.
        const ev = await failedScheduling(ns, "high");
        assert.match(ev[0]!, /^0\/3 nodes are available: 3 Insufficient cpu\./);
      }),
    ));

  it("Priority and preemption: a pod whose PriorityClass says preemptionPolicy Never does not preempt", () =>
    withPriorityClasses(() =>
      inNamespace("sched-preempt-never", async (ns) => {
        fillWithLowPods(ns);
        apply(ns, cpuPod("never", "e2e-high-never"));
        const c = waitUnschedulable(ns, "never");
        assert.match(
          c.message,
          /^0\/3 nodes are available: 3 Insufficient cpu\. preemption: not eligible due to preemptionPolicy=Never\./,
        );
        await failedScheduling(ns, "never");
        // The attempt (and its preemption step) is over once the event exists: nobody was evicted.
        assert.deepEqual(events(ns, "reason=Preempted"), []);
        assert.equal(placements(ns).size, 4, "no low pod was preempted for the Never pod");
        assert.equal(nodeOf(ns, "never"), "");
        assert.equal(jp(ns, "pod/never", ".status.nominatedNodeName"), "");
      }),
    ));

  it("Priority admission: priorityClassName resolves into spec.priority and spec.preemptionPolicy; unknown classes are refused", () =>
    withPriorityClasses(() =>
      inNamespace("sched-priority", (ns) => {
        apply(ns, cpuPod("p", "e2e-high-never") + pod("plain"));
        assert.equal(jp(ns, "pod/p", ".spec.priority"), "1000");
        assert.equal(jp(ns, "pod/p", ".spec.preemptionPolicy"), "Never");
        assert.equal(jp(ns, "pod/plain", ".spec.priority"), "0");
        assert.equal(jp(ns, "pod/plain", ".spec.preemptionPolicy"), "PreemptLowerPriority");
        const r = s.kubectl(["apply", "-n", ns, "-f", "-"], { stdin: cpuPod("ghost", "no-such-class") });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /no PriorityClass with name no-such-class was found/);
        assert.match(k(["get", "priorityclass", "--no-headers"]), /system-node-critical\s+2000001000/);
      }),
    ));

  it("schedulerName: a pod for another scheduler stays Pending, unbound, untouched by ours", () =>
    inNamespace("sched-name", (ns) => {
      apply(ns, pod("other", "  schedulerName: my-scheduler"));
      // Created after it, a pod for our scheduler shows the scheduler has seen both.
      apply(ns, pod("ours", ""));
      waitRunning(ns, ["pod/ours"]);
      assert.equal(jp(ns, "pod/ours", ".spec.schedulerName"), "default-scheduler");
      assert.equal(jp(ns, "pod/other", ".status.phase"), "Pending");
      assert.equal(nodeOf(ns, "other"), "");
      assert.equal(jp(ns, "pod/other", ".status.conditions"), "");
      assert.deepEqual(events(ns, "involvedObject.name=other"), []);
      assert.match(k(["get", "pods", "-n", ns, "other", "--no-headers"]), /other\s+0\/1\s+Pending/);
    }));

  it("Retry: a Pending pod is scheduled once a node that fits joins, or once a node gets the label", () =>
    inNamespace("sched-retry", async (ns) => {
      try {
        apply(
          ns,
          pod("big").replace(
            "  containers: [{name: c, image: busybox}]\n",
            '  containers: [{name: c, image: busybox, resources: {requests: {cpu: "3"}}}]\n',
          ) + pod("ssd", "  nodeSelector: {disk: ssd}"),
        );
        assert.match(waitUnschedulable(ns, "big").message, /^0\/3 nodes are available: 3 Insufficient cpu\./);
        assert.match(
          waitUnschedulable(ns, "ssd").message,
          /^0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector\./,
        );
        const r = kites(
          ["sim", "nodes", "--count", "4", "--zones", "2", "--cpu", "4", "--memory", "8Gi"],
          s.kubeconfig,
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /node\/kites-sim-4 created/);
        k(["wait", "-n", ns, "--for=jsonpath={.spec.nodeName}=kites-sim-4", "pod/big", "--timeout=60s"]);
        waitRunning(ns, ["pod/big"]);
        assert.equal(nodeOf(ns, "ssd"), "");
        k(["label", "nodes", N2, "disk=ssd"]);
        k(["wait", "-n", ns, `--for=jsonpath={.spec.nodeName}=${N2}`, "pod/ssd", "--timeout=60s"]);
        waitRunning(ns, ["pod/ssd"]);
        assert.match(
          events(ns, "involvedObject.name=big,reason=Scheduled").join("\n"),
          new RegExp(`Successfully assigned ${ns}/big to kites-sim-4`),
        );
      } finally {
        // Pods of a deleted node are left to the pod GC: delete them with the namespace first.
        s.kubectl(["delete", "namespace", ns, "--timeout=90s"]);
        const r = kites(["sim", "nodes", "--count", "3"], s.kubeconfig);
        assert.equal(r.code, 0, r.stderr);
      }
    }));
});
