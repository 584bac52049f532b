import assert from "node:assert/strict";
import { test } from "node:test";
import type { Lease } from "../api/types/coordination-v1.ts";
import type { Node, Pod } from "../api/types/core-v1.ts";
import { FakeRuntime } from "../runtime/fake-runtime.ts";
import { getPod, startHarness, testPod, waitFor } from "./test-harness.ts";

test("registers the node with capacity, nodeInfo, labels, conditions, and a lease", async (t) => {
  const h = await startHarness({ controlPlane: true });
  t.after(() => h.stop());
  const node = (await h.client.resource<Node>("", "nodes").get(undefined, "node-1")) as Node;
  assert.equal(node.metadata.labels?.["kubernetes.io/hostname"], "node-1");
  assert.equal(node.metadata.labels?.["node-role.kubernetes.io/control-plane"], "");
  assert.equal(node.spec?.podCIDR, "10.244.0.0/24");
  assert.equal(node.status?.capacity?.pods, "110");
  assert.match(node.status?.capacity?.memory ?? "", /^\d+Ki$/);
  assert.equal(node.status?.nodeInfo?.kubeletVersion, "v1.33.0-kites");
  assert.equal(node.status?.nodeInfo?.containerRuntimeVersion, "runc://1.0.0-fake");
  assert.deepEqual(node.status?.addresses?.[0], { type: "InternalIP", address: "127.0.0.1" });
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  assert.equal(ready?.status, "True");
  assert.equal(ready?.reason, "KubeletReady");
  const lease = await waitFor("lease", () => h.client.objects<Lease>("coordination.k8s.io", "leases")[0]);
  assert.equal(lease.metadata.namespace, "kube-node-lease");
  assert.equal(lease.spec?.holderIdentity, "node-1");
  assert.equal(lease.spec?.leaseDurationSeconds, 40);
});

test("runs a pod: sandbox, container, status Running/Ready, events", async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  await h.client.resource<Pod>("", "pods").create(
    testPod("web", {
      containers: [
        {
          name: "main",
          image: "busybox",
          imagePullPolicy: "IfNotPresent",
          command: ["echo"],
          args: ["$(GREETING)"],
          env: [{ name: "GREETING", value: "hi" }],
          resources: { limits: { cpu: "500m", memory: "64Mi" } },
        },
      ],
      hostAliases: [{ ip: "192.0.2.1", hostnames: ["alias"] }],
    }),
  );
  const pod = await waitFor("Running", async () => {
    const p = await getPod(h.client, "web");
    return p.status?.phase === "Running" &&
      p.status.conditions?.find((c) => c.type === "Ready")?.status === "True"
      ? p
      : undefined;
  });
  const cs = pod.status?.containerStatuses?.[0];
  assert.ok(cs?.state?.running?.startedAt);
  assert.equal(cs?.ready, true);
  assert.equal(cs?.restartCount, 0);
  assert.match(cs?.containerID ?? "", /^runc:\/\//);
  assert.match(pod.status?.podIP ?? "", /^10\.244\.0\./);
  assert.equal(pod.status?.hostIP, "127.0.0.1");
  assert.equal(pod.status?.qosClass, "Guaranteed");
  const created = h.runtime.created[0]!;
  assert.deepEqual(created.config.argv, ["echo", "hi"]);
  assert.ok(created.config.env.includes("GREETING=hi"));
  assert.equal(created.config.memoryLimitBytes, 64 * 1024 * 1024);
  assert.equal(created.config.cpuQuotaMillis, 500);
  assert.equal(created.config.cpuShares, 512);
  const sb = h.runtime.sandboxConfig(pod.metadata.uid!)!;
  assert.equal(sb.cgroupParent, `/kites/guaranteed/pod${pod.metadata.uid}`);
  assert.equal(sb.hostname, "web");
  const { readFileSync } = await import("node:fs");
  assert.match(
    readFileSync(sb.resolvConf, "utf8"),
    /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\nnameserver 10\.96\.0\.10\noptions ndots:5/,
  );
  assert.match(
    readFileSync(sb.hostsFile, "utf8"),
    new RegExp(`${pod.status!.podIP!.replace(/\./g, "\\.")}\\tweb\\n[\\s\\S]*192\\.0\\.2\\.1\\talias`),
  );
  const reasons = h.events.filter((e) => e.name === "web").map((e) => `${e.reason}: ${e.message}`);
  assert.deepEqual(reasons, [
    'Pulled: Container image "busybox" already present on machine',
    "Created: Created container: main",
    "Started: Started container main",
  ]);
});

test("init containers run in order to completion before app containers", async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  h.runtime.script = (_uid, cfg) => (cfg.name.startsWith("init") ? { exitOnStart: 0 } : {});
  await h.client.resource<Pod>("", "pods").create(
    testPod("init", {
      initContainers: [
        { name: "init-1", image: "busybox" },
        { name: "init-2", image: "busybox" },
      ],
    }),
  );
  const pod = await waitFor("Running", async () => {
    const p = await getPod(h.client, "init");
    return p.status?.phase === "Running" ? p : undefined;
  });
  const starts = h.runtime.calls.filter((c) => c.startsWith("startContainer"));
  assert.deepEqual(starts, ["startContainer init-1", "startContainer init-2", "startContainer main"]);
  assert.deepEqual(
    pod.status?.initContainerStatuses?.map((s) => s.state?.terminated?.reason),
    ["Completed", "Completed"],
  );
  assert.equal(pod.status?.conditions?.find((c) => c.type === "Initialized")?.status, "True");
});

test("a failing init container with restartPolicy Never fails the pod", async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  h.runtime.script = (_uid, cfg) => (cfg.name === "init-1" ? { exitOnStart: 3 } : {});
  await h.client
    .resource<Pod>("", "pods")
    .create(
      testPod("initfail", { restartPolicy: "Never", initContainers: [{ name: "init-1", image: "busybox" }] }),
    );
  const pod = await waitFor("Failed", async () => {
    const p = await getPod(h.client, "initfail");
    return p.status?.phase === "Failed" ? p : undefined;
  });
  assert.equal(pod.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode, 3);
  assert.equal(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason, "PodInitializing");
  assert.ok(!h.runtime.calls.includes("startContainer main"));
});

test("restart backoff: immediate first restart, then CrashLoopBackOff 10s, 20s", async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  h.runtime.script = () => ({ exitOnStart: 1 });
  await h.client.resource<Pod>("", "pods").create(testPod("crash"));
  const crashLoop = async (): Promise<Pod | undefined> => {
    const p = await getPod(h.client, "crash");
    return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "CrashLoopBackOff" ? p : undefined;
  };
  const p1 = await waitFor("CrashLoopBackOff", crashLoop);
  const cs = p1.status!.containerStatuses![0]!;
  assert.equal(cs.restartCount, 1);
  assert.equal(cs.lastState?.terminated?.exitCode, 1);
  assert.equal(cs.lastState?.terminated?.reason, "Error");
  assert.equal(
    cs.state?.waiting?.message,
    `back-off 10s restarting failed container=main pod=crash_default(${p1.metadata.uid})`,
  );
  assert.equal(p1.status?.phase, "Running");
  assert.ok(
    h.events.some(
      (e) =>
        e.reason === "BackOff" &&
        e.message === `Back-off restarting failed container main in pod crash_default(${p1.metadata.uid})`,
    ),
  );
  assert.equal(h.runtime.created.length, 2, "no restart during backoff");
  // Advance the clock past the backoff: the next restart happens, and the delay doubles.
  h.clock.now += 11_000;
  h.kubelet.workers.requeue(p1.metadata.uid!);
  const p2 = await waitFor("second CrashLoopBackOff", async () => {
    const p = await crashLoop();
    return p && p.status!.containerStatuses![0]!.restartCount === 2 ? p : undefined;
  });
  assert.match(
    p2.status!.containerStatuses![0]!.state!.waiting!.message!,
    /^back-off 20s restarting failed container=main/,
  );
  assert.equal(h.runtime.created.length, 3);
});

test("restartPolicy OnFailure: a clean exit completes the pod", async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  h.runtime.script = () => ({ exitOnStart: 0 });
  await h.client.resource<Pod>("", "pods").create(testPod("job", { restartPolicy: "OnFailure" }));
  const pod = await waitFor("Succeeded", async () => {
    const p = await getPod(h.client, "job");
    return p.status?.phase === "Succeeded" ? p : undefined;
  });
  assert.equal(pod.status?.containerStatuses?.[0]?.state?.terminated?.reason, "Completed");
  assert.equal(pod.status?.conditions?.find((c) => c.type === "Ready")?.reason, "PodCompleted");
  assert.equal(h.runtime.created.length, 1);
});

test("missing image: ErrImagePull then ImagePullBackOff; Never: ErrImageNeverPull", async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  const pods = h.client.resource<Pod>("", "pods");
  await pods.create(testPod("noimg", { containers: [{ name: "main", image: "nginx:1.25" }] }));
  const msg =
    'Failed to pull image "nginx:1.25": image not found in the local store; import it with "kites image import FILE"';
  const p1 = await waitFor("ErrImagePull", async () => {
    const p = await getPod(h.client, "noimg");
    return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ErrImagePull" ? p : undefined;
  });
  assert.equal(p1.status!.containerStatuses![0]!.state!.waiting!.message, msg);
  assert.equal(p1.status?.phase, "Pending");
  h.kubelet.workers.requeue(p1.metadata.uid!);
  const p2 = await waitFor("ImagePullBackOff", async () => {
    const p = await getPod(h.client, "noimg");
    return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ImagePullBackOff" ? p : undefined;
  });
  assert.equal(
    p2.status!.containerStatuses![0]!.state!.waiting!.message,
    `Back-off pulling image "nginx:1.25": ErrImagePull: ${msg}`,
  );
  assert.ok(h.events.some((e) => e.type === "Warning" && e.reason === "Failed" && e.message === msg));

  await pods.create(
    testPod("never", { containers: [{ name: "main", image: "nginx:1.25", imagePullPolicy: "Never" }] }),
  );
  const p3 = await waitFor("ErrImageNeverPull", async () => {
    const p = await getPod(h.client, "never");
    return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ErrImageNeverPull" ? p : undefined;
  });
  assert.equal(
    p3.status!.containerStatuses![0]!.state!.waiting!.message,
    'Container image "nginx:1.25" is not present with pull policy of Never',
  );
});

test("CreateContainerConfigError for a missing ConfigMap; FailedMount keeps ContainerCreating", async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  const pods = h.client.resource<Pod>("", "pods");
  await pods.create(
    testPod("cfgerr", {
      containers: [
        {
          name: "main",
          image: "busybox",
          env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "nope", key: "k" } } }],
        },
      ],
    }),
  );
  const p = await waitFor("CreateContainerConfigError", async () => {
    const x = await getPod(h.client, "cfgerr");
    return x.status?.containerStatuses?.[0]?.state?.waiting?.reason === "CreateContainerConfigError"
      ? x
      : undefined;
  });
  assert.equal(p.status!.containerStatuses![0]!.state!.waiting!.message, 'configmap "nope" not found');
  await pods.create(
    testPod("mountfail", {
      volumes: [{ name: "h", hostPath: { path: "/definitely/not/here", type: "Directory" } }],
    }),
  );
  const ev = await waitFor("FailedMount", () =>
    h.events.find((e) => e.name === "mountfail" && e.reason === "FailedMount"),
  );
  assert.equal(
    ev.message,
    'MountVolume.SetUp failed for volume "h" : hostPath type check failed: /definitely/not/here is not a directory',
  );
  const m = await getPod(h.client, "mountfail");
  assert.equal(m.status?.containerStatuses?.[0]?.state?.waiting?.reason, "ContainerCreating");
  assert.equal(m.status?.phase, "Pending");
});

test("graceful termination: preStop, stop with the deletion's grace period, teardown, API delete", async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  const pods = h.client.resource<Pod>("", "pods");
  await pods.create(
    testPod("bye", {
      containers: [
        { name: "main", image: "busybox", lifecycle: { preStop: { exec: { command: ["/bin/cleanup"] } } } },
      ],
    }),
  );
  const running = await waitFor("Running", async () => {
    const p = await getPod(h.client, "bye");
    return p.status?.phase === "Running" ? p : undefined;
  });
  const uid = running.metadata.uid!;
  // What the API server's graceful delete produces.
  const deleting: Pod = {
    ...structuredClone(running),
    metadata: {
      ...running.metadata,
      deletionTimestamp: new Date().toISOString(),
      deletionGracePeriodSeconds: 7,
    },
  };
  h.kubelet.workers.update(deleting);
  await waitFor("pod deleted", async () =>
    (await pods.list("default")).items.every((p) => p.metadata.name !== "bye"),
  );
  const relevant = h.runtime.calls.filter(
    (c) =>
      /^(exec|stopContainer|removeContainer|stopSandbox|removeSandbox)/.test(c) && !c.includes("undefined"),
  );
  const i = (s: string): number => relevant.findIndex((c) => c.startsWith(s));
  assert.ok(
    i("exec main /bin/cleanup") >= 0 && i("exec main /bin/cleanup") < i("stopContainer main"),
    relevant.join(", "),
  );
  assert.match(relevant[i("stopContainer main")]!, /^stopContainer main [2-7]$/);
  assert.ok(i("stopSandbox") > i("stopContainer main"));
  assert.ok(i("removeContainer main") > i("stopContainer main"));
  assert.ok(i(`removeSandbox ${uid}`) > i("removeContainer main"));
  assert.deepEqual(h.runtime.counts, { sandboxes: 0, containers: 0 });
  assert.ok(h.events.some((e) => e.reason === "Killing" && e.message === "Stopping container main"));
  const del = h.client.actions.find((a) => a.verb === "delete" && a.name === "bye");
  assert.ok(del, "the kubelet deleted the API object");
});

test("adoption: a restarted agent reuses running containers and removes orphans", async (t) => {
  const runtime = new FakeRuntime();
  runtime.addImage("docker.io/library/busybox:latest");
  const h1 = await startHarness({ runtime });
  await h1.client.resource<Pod>("", "pods").create(testPod("keep"));
  await waitFor("Running", async () => (await getPod(h1.client, "keep")).status?.phase === "Running");
  // An orphan: a sandbox + container of a pod the API does not know.
  await runtime.runSandbox({
    uid: "ghost",
    namespace: "default",
    name: "ghost",
    hostname: "ghost",
    hostNetwork: false,
    cgroupParent: "",
    hostsFile: "",
    resolvConf: "",
  });
  await runtime.createContainer("ghost", {
    name: "g",
    image: "docker.io/library/busybox:latest",
    argv: ["sh"],
    env: [],
    workingDir: "/",
    user: "",
    tty: false,
    stdin: false,
    mounts: [],
    logPath: "/dev/null",
    attempt: 0,
  });
  h1.abort.abort();
  await h1.kubelet.workers.idle();
  const createdBefore = runtime.created.length;

  const h2 = await startHarness({ runtime, client: h1.client, dataDir: h1.dataDir });
  t.after(async () => {
    await h2.stop();
    const { rmSync } = await import("node:fs");
    rmSync(h1.dataDir, { recursive: true, force: true });
  });
  await waitFor("orphan removed", async () =>
    (await runtime.listSandboxes()).every((s) => s.uid !== "ghost"),
  );
  const p = await getPod(h2.client, "keep");
  await h2.kubelet.workers.idle();
  assert.equal(runtime.created.length, createdBefore, "no new container for the adopted pod");
  assert.equal((await runtime.listContainers(p.metadata.uid)).filter((c) => c.state === "running").length, 1);
  assert.equal(p.status?.phase, "Running");
});
