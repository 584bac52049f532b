/**
 * @module e2e: the CronJob controller and the node lifecycle controller inside a real `kites
 * server` with simulated nodes, driven by real kubectl as a user would. CronJobs: a Job at
 * the next minute (deterministic name, controller reference, scheduled-timestamp annotation,
 * lastScheduleTime, upstream's `get cronjob` columns), suspend (no run at the boundary; the
 * missed run starts at once on resume, as upstream documents), and successfulJobsHistoryLimit
 * trimming the oldest finished Job. Nodes: a simulated node whose kubelet stops (its
 * `kites.io/simulated` label removed, so the simulated kubelet no longer renews its Lease) goes
 * Ready=Unknown after the grace period (20 s here, set with `--node-monitor-grace-period`), gets the unreachable
 * taints, its pods are marked not ready (NodeNotReady events), a Deployment's pod tolerating
 * `unreachable` for 5 s is evicted (DisruptionTarget, TaintManagerEviction; it stays
 * Terminating, as no kubelet confirms) and replaced on another node, a pod with the default
 * 300 s toleration stays; when the kubelet is back the taints go and the evicted pod finishes.
 * Simulated pods run forever unless annotated `kites.io/sim-exit-code`, so only tidy's Jobs
 * (annotated "0") complete; tick's Job stays active. Both tests run concurrently on one
 * server, so the minute boundary and the grace period overlap; every wait is bounded.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { kites, kubectlMissing, startServer, type TestServer } from "./harness.ts";

const skip = kubectlMissing();

/** A CronJob's pods exit 0 (the simulated kubelet honours the annotation) on kites-sim-1. */
const TIDY = `apiVersion: batch/v1
kind: CronJob
metadata: {name: tidy}
spec:
  schedule: "*/1 * * * *"
  successfulJobsHistoryLimit: 1
  jobTemplate:
    spec:
      template:
        metadata:
          annotations: {kites.io/sim-exit-code: "0"}
        spec:
          restartPolicy: Never
          nodeSelector: {kubernetes.io/hostname: kites-sim-1}
          containers: [{name: c, image: busybox, command: ["true"]}]
`;

/** Two replicas off kites-sim-1 that tolerate an unreachable node for 5 s only. */
const WEB = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: kubernetes.io/hostname, operator: NotIn, values: [kites-sim-1]}
      containers: [{name: c, image: busybox}]
`;

describe("cronjobs and node lifecycle on simulated nodes", { skip, concurrency: true }, () => {
  let s: TestServer;
  const k = (args: string[], stdin?: string): string => {
    const r = s.kubectl(args, stdin === undefined ? {} : { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  /** The same without blocking the event loop (the two tests run side by side). */
  const ka = async (args: string[]): Promise<string> => {
    const r = await s.kubectlAsync(args);
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  /** Polls `probe` every second until it returns a value, for at most `ms`. */
  const until = async <T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) assert.fail(`timed out after ${ms / 1000} s waiting for ${what}`);
      await sleep(1000);
    }
  };
  const jobExists = async (name: string): Promise<true | undefined> =>
    (await ka(["get", "job", name, "--ignore-not-found", "-o", "name"])).trim() ? true : undefined;

  before(async () => {
    s = await startServer({ args: ["--node-monitor-grace-period", "20s"] });
    const r = kites(["sim", "nodes", "--count", "4"], s.kubeconfig);
    assert.equal(r.code, 0, r.stderr);
    k(["wait", "--for=condition=Ready", "node", "-l", "kites.io/simulated=true", "--timeout=60s"]);
  });
  after(async () => {
    await s?.stop();
  });

  it("cronjobs run at the minute, honour suspend and trim history", async () => {
    // Leave room before the next minute boundary for the setup below (at most ~10 s).
    const toBoundary = 60_000 - (Date.now() % 60_000);
    if (toBoundary < 10_000) await sleep(toBoundary + 1000);

    k(["create", "cronjob", "tick", "--image=busybox", "--schedule=*/1 * * * *", "--", "true"]);
    k(["create", "cronjob", "paused", "--image=busybox", "--schedule=*/1 * * * *", "--", "true"]);
    k(["patch", "cronjob", "paused", "-p", '{"spec":{"suspend":true}}']);
    k(["apply", "-f", "-"], TIDY);
    const table = k(["get", "cronjobs"]).trim().split("\n");
    assert.match(table[0]!, /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE$/);
    assert.match(
      k(["get", "cronjob", "tick", "--no-headers"]),
      /^tick\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+0\s+<none>\s+\d+s\s*$/,
    );
    assert.match(
      k(["get", "cronjob", "paused", "--no-headers"]),
      /^paused\s+\S+ \S+ \S+ \S+ \S+\s+<none>\s+True\s+0\s+<none>\s/,
    );
    // A Job started by hand from tidy's template (owned by tidy: kubectl sets the reference).
    k(["create", "job", "tidy-manual", "--from=cronjob/tidy"]);
    await ka(["wait", "--for=condition=complete", "job/tidy-manual", "--timeout=30s"]);
    assert.equal(
      k([
        "get",
        "job",
        "tidy-manual",
        "-o",
        "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}",
      ]),
      "CronJob/tidy",
    );

    // The next start: the first whole minute after creation.
    const created = Date.parse(k(["get", "cronjob", "tick", "-o", "jsonpath={.metadata.creationTimestamp}"]));
    const minute = Math.floor(created / 60_000) + 1;
    const scheduled = new Date(minute * 60_000).toISOString().replace(".000Z", "Z");
    const wait = minute * 60_000 - Date.now() + 20_000;
    await until(`job tick-${minute}`, wait, () => jobExists(`tick-${minute}`));

    const uid = k(["get", "cronjob", "tick", "-o", "jsonpath={.metadata.uid}"]);
    const owner = JSON.parse(
      k(["get", "job", `tick-${minute}`, "-o", "jsonpath={.metadata.ownerReferences}"]),
    );
    assert.deepEqual(owner, [
      {
        apiVersion: "batch/v1",
        kind: "CronJob",
        name: "tick",
        uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.equal(
      k([
        "get",
        "job",
        `tick-${minute}`,
        "-o",
        "jsonpath={.metadata.annotations.batch\\.kubernetes\\.io/cronjob-scheduled-timestamp}",
      ]),
      scheduled,
    );
    await until("tick's status to show the run", 15_000, async () =>
      (await ka(["get", "cronjob", "tick", "-o", "jsonpath={.status.lastScheduleTime}"])) === scheduled
        ? true
        : undefined,
    );
    assert.equal(k(["get", "cronjob", "tick", "-o", "jsonpath={.status.active[*].name}"]), `tick-${minute}`);
    assert.match(
      k(["get", "cronjob", "tick", "--no-headers"]),
      /^tick\s+\S+ \S+ \S+ \S+ \S+\s+<none>\s+False\s+1\s+\d+s\s+\d+s\s*$/,
    );
    // `true` never "exits" on a simulated node without kites.io/sim-exit-code: the Job stays active.
    await ka(["wait", "--for=jsonpath={.status.active}=1", `job/tick-${minute}`, "--timeout=30s"]);
    assert.match(
      k(["get", "job", `tick-${minute}`, "--no-headers"]),
      new RegExp(`^tick-${minute}\\s+Running\\s+0/1\\s`),
    );

    // Suspended at the boundary: no Job. Resumed: the missed start runs at once.
    assert.equal(k(["get", "job", `paused-${minute}`, "--ignore-not-found", "-o", "name"]), "");
    assert.equal(k(["get", "cronjob", "paused", "-o", "jsonpath={.status.lastScheduleTime}"]), "");
    k(["patch", "cronjob", "paused", "-p", '{"spec":{"suspend":false}}']);
    await until(`job paused-${minute} after resuming`, 15_000, () => jobExists(`paused-${minute}`));

    // Suspending stops the schedule: SUSPEND shows True, the running Job is left alone.
    k(["patch", "cronjob", "tick", "--type=merge", "-p", '{"spec":{"suspend":true}}']);
    assert.match(
      k(["get", "cronjob", "tick", "--no-headers"]),
      /^tick\s+\S+ \S+ \S+ \S+ \S+\s+<none>\s+True\s+1\s/,
    );

    // tidy's run completes; with successfulJobsHistoryLimit 1 the older manual Job goes.
    await ka(["wait", "--for=condition=complete", `job/tidy-${minute}`, "--timeout=30s"]);
    await ka(["wait", "--for=delete", "job/tidy-manual", "--timeout=30s"]);
    assert.equal(k(["get", "job", `tidy-${minute}`, "-o", "name"]).trim(), `job.batch/tidy-${minute}`);
    await until(
      "tidy's lastSuccessfulTime",
      15_000,
      async () =>
        (await ka(["get", "cronjob", "tidy", "-o", "jsonpath={.status.lastSuccessfulTime}"])) || undefined,
    );
    const events = k([
      "get",
      "events",
      "--field-selector",
      "involvedObject.name=tidy",
      "-o",
      "jsonpath={range .items[*]}{.reason}: {.message}{'\\n'}{end}",
    ]);
    assert.match(events, new RegExp(`SuccessfulCreate: Created job tidy-${minute}`));
    assert.match(events, /SuccessfulDelete: Deleted job tidy-manual/);
  });

  it("a silent node goes Unknown, is tainted, and its pods are evicted and replaced", async () => {
    k(["apply", "-f", "-"], WEB);
    await ka(["rollout", "status", "deploy/web", "--timeout=60s"]);
    const [victimPod, victim] = k([
      "get",
      "pods",
      "-l",
      "app=web",
      "-o",
      "jsonpath={.items[0].metadata.name} {.items[0].spec.nodeName}",
    ]).split(" ") as [string, string];
    assert.match(victim, /^kites-sim-[234]$/);
    // A pod with only the default tolerations (unreachable for 300 s) on the same node.
    k(
      ["apply", "-f", "-"],
      `apiVersion: v1
kind: Pod
metadata: {name: stay}
spec:
  nodeSelector: {kubernetes.io/hostname: ${victim}}
  containers: [{name: c, image: busybox}]
`,
    );
    await ka(["wait", "--for=condition=Ready", "pod/stay", "--timeout=30s"]);
    assert.match(
      k(["get", "pod", "stay", "-o", "jsonpath={.spec.tolerations[*].key}"]),
      /node\.kubernetes\.io\/unreachable/,
    );

    // The kubelet goes away: nobody renews the node's Lease any more.
    k(["label", "node", victim, "kites.io/simulated-"]);
    await ka(["wait", "--for=condition=Ready=Unknown", `node/${victim}`, "--timeout=75s"]);
    assert.match(k(["get", "node", victim, "--no-headers"]), new RegExp(`^${victim}\\s+NotReady\\s`));
    const conditions = k([
      "get",
      "node",
      victim,
      "-o",
      "jsonpath={range .status.conditions[*]}{.type}={.status}/{.reason}/{.message};{end}",
    ]);
    for (const type of ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]) {
      assert.ok(
        conditions.includes(`${type}=Unknown/NodeStatusUnknown/Kubelet stopped posting node status.;`),
        conditions,
      );
    }
    const taints = await until("the unreachable taints", 15_000, async () => {
      const t = await ka([
        "get",
        "node",
        victim,
        "-o",
        "jsonpath={range .spec.taints[*]}{.key}:{.effect};{end}",
      ]);
      return t.includes("unreachable:NoExecute") && t.includes("unreachable:NoSchedule") ? t : undefined;
    });
    assert.equal(
      taints.split(";").filter(Boolean).sort().join(";"),
      "node.kubernetes.io/unreachable:NoExecute;node.kubernetes.io/unreachable:NoSchedule",
    );
    assert.match(
      k(["get", "node", victim, "-o", 'jsonpath={.spec.taints[?(@.effect=="NoExecute")].timeAdded}']),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );

    // The node controller marks the node's pods not ready, as upstream's MarkPodsNotReady.
    await until("pod stay to be marked not ready", 15_000, async () =>
      (await ka(["get", "pod", "stay", "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) ===
      "False"
        ? true
        : undefined,
    );
    assert.match(
      k([
        "get",
        "events",
        "--field-selector",
        `involvedObject.name=${victim},reason=NodeNotReady`,
        "-o",
        "jsonpath={.items[*].message}",
      ]),
      new RegExp(`Node ${victim} status is now: NodeNotReady`),
    );

    // 5 s later the web pod is evicted (it stays Terminating: no kubelet confirms) and replaced.
    await until(
      `pod ${victimPod} to be evicted`,
      30_000,
      async () =>
        (await ka(["get", "pod", victimPod, "-o", "jsonpath={.metadata.deletionTimestamp}"])) || undefined,
    );
    assert.equal(
      k([
        "get",
        "pod",
        victimPod,
        "-o",
        'jsonpath={.status.conditions[?(@.type=="DisruptionTarget")].reason}',
      ]),
      "DeletionByTaintManager",
    );
    assert.match(k(["get", "pod", victimPod, "--no-headers"]), /\sTerminating\s/);
    assert.match(
      k([
        "get",
        "events",
        "--field-selector",
        `involvedObject.name=${victimPod},reason=TaintManagerEviction`,
        "-o",
        "jsonpath={.items[*].message}",
      ]),
      new RegExp(`Marking for deletion Pod default/${victimPod}`),
    );
    interface PodItem {
      metadata: { name: string; deletionTimestamp?: string };
      spec: { nodeName?: string };
      status?: { phase?: string };
    }
    const live = await until("a replacement web pod running on another node", 45_000, async () => {
      const items = (
        JSON.parse(await ka(["get", "pods", "-l", "app=web", "-o", "json"])) as { items: PodItem[] }
      ).items;
      const up = items.filter((p) => !p.metadata.deletionTimestamp);
      return up.length === 2 && up.every((p) => p.status?.phase === "Running") ? up : undefined;
    });
    for (const p of live) assert.notEqual(p.spec.nodeName, victim, `${p.metadata.name} on the silent node`);
    await ka(["wait", "--for=jsonpath={.status.availableReplicas}=2", "deploy/web", "--timeout=30s"]);
    // The pod tolerating unreachable for 300 s is still bound there, not deleted.
    assert.equal(k(["get", "pod", "stay", "-o", "jsonpath={.metadata.deletionTimestamp}"]), "");
    assert.equal(k(["get", "pod", "stay", "-o", "jsonpath={.spec.nodeName}"]), victim);

    // The kubelet comes back: Ready again, taints gone, the evicted pod finished.
    k(["label", "node", victim, "kites.io/simulated=true"]);
    await ka(["wait", "--for=condition=Ready", `node/${victim}`, "--timeout=30s"]);
    await until("the taints to go", 15_000, async () =>
      (await ka(["get", "node", victim, "-o", "jsonpath={.spec.taints}"])) === "" ? true : undefined,
    );
    await ka(["wait", "--for=delete", `pod/${victimPod}`, "--timeout=30s"]);
    await ka(["wait", "--for=condition=Ready", "pod/stay", "--timeout=30s"]);
  });
});
