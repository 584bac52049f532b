/**
 * @module e2e as root: real pods. `kites server` with its node agent runs pods as runc
 * containers (busybox image built at start), driven by real kubectl: statuses as upstream
 * reports them (Completed, Error, CrashLoopBackOff, OOMKilled, ErrImagePull), pod IPs on the
 * bridge, env from a ConfigMap, an emptyDir shared by two containers, a Deployment through
 * scheduler and controllers. Afterwards nothing is left: no netns, container, mount, bridge.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { kubectlMissing, startServer, type TestServer } from "./harness.ts";
import { cleanNode, lockNode, notRoot } from "./node-harness.ts";

const POD_CIDR = "10.244.200.0/24";
const skip = kubectlMissing() ?? notRoot();

describe("real pods on the local node agent", { skip }, () => {
  let s: TestServer;
  const k = (args: string[], stdin?: string): string => {
    const r = s.kubectl(args, stdin === undefined ? {} : { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (yaml: string): string => k(["apply", "-f", "-"], yaml);
  const jp = (obj: string, path: string): string => k(["get", obj, "-o", `jsonpath={${path}}`]);

  let release: (() => void) | undefined;
  before(async () => {
    release = await lockNode();
    s = await startServer({
      agent: true,
      args: [
        ...["--pod-cidr", POD_CIDR, "--node-name", "e2e-node", "--kubelet-port", "0"],
        ...["--ingress-http-port", "0", "--ingress-https-port", "0"],
      ],
    });
    k(["wait", "--for=condition=Ready", "node/e2e-node", "--timeout=60s"]);
  });
  after(async () => {
    if (!s) return release?.();
    try {
      s.kubectl(["delete", "pods,deployments,configmaps", "--all", "--wait=true", "--timeout=60s"]);
    } finally {
      await s.stop({ keep: true });
      // The agent leaves running containers for a restarted agent to adopt; the test removes them.
      const left = await cleanNode(s.dataDir, POD_CIDR);
      release?.();
      assert.deepEqual(left.containers, [], "containers left after the pods were deleted");
      assert.deepEqual(left.mounts, [], "mounts left after the pods were deleted");
    }
  });

  it("the node reports its runtime, capacity and a pod CIDR", () => {
    assert.equal(jp("node/e2e-node", ".spec.podCIDR"), POD_CIDR);
    assert.match(jp("node/e2e-node", ".status.nodeInfo.containerRuntimeVersion"), /^runc:\/\//);
    assert.equal(jp("node/e2e-node", ".status.capacity.pods"), "110");
  });

  it("a pod that exits 0 is Completed; one that exits 3 is Error", () => {
    apply(`apiVersion: v1
kind: Pod
metadata: {name: ok}
spec:
  restartPolicy: Never
  containers: [{name: c, image: busybox, command: [sh, -c, "echo done"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  restartPolicy: Never
  containers: [{name: c, image: busybox, command: [sh, -c, "exit 3"]}]
`);
    k(["wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/ok", "--timeout=60s"]);
    k(["wait", "--for=jsonpath={.status.phase}=Failed", "pod/bad", "--timeout=60s"]);
    assert.match(k(["get", "pod", "ok", "--no-headers"]), /^ok\s+0\/1\s+Completed\s+0/);
    assert.match(k(["get", "pod", "bad", "--no-headers"]), /^bad\s+0\/1\s+Error\s+0/);
    assert.equal(jp("pod/bad", ".status.containerStatuses[0].state.terminated.exitCode"), "3");
    assert.match(jp("pod/ok", ".status.containerStatuses[0].containerID"), /^runc:\/\//);
    const events = k([
      "get",
      "events",
      "--field-selector",
      "involvedObject.name=ok",
      "-o",
      "jsonpath={.items[*].reason}",
    ]);
    for (const r of ["Pulled", "Created", "Started"]) assert.ok(events.split(" ").includes(r), events);
  });

  it("a crashing container goes CrashLoopBackOff with restarts counted", () => {
    apply(`apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers: [{name: c, image: busybox, command: [sh, -c, "exit 1"]}]
`);
    k([
      "wait",
      "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=CrashLoopBackOff",
      "pod/crash",
      "--timeout=90s",
    ]);
    assert.ok(Number(jp("pod/crash", ".status.containerStatuses[0].restartCount")) >= 1);
    assert.equal(jp("pod/crash", ".status.containerStatuses[0].lastState.terminated.reason"), "Error");
    assert.match(k(["get", "pod", "crash", "--no-headers"]), /CrashLoopBackOff/);
  });

  it("a container over its memory limit is OOMKilled", () => {
    apply(`apiVersion: v1
kind: Pod
metadata: {name: oom}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "x=$(head -c 200000000 /dev/zero | tr '\\\\0' a); echo $x | wc -c"]
    resources: {limits: {memory: 32Mi}}
`);
    k(["wait", "--for=jsonpath={.status.phase}=Failed", "pod/oom", "--timeout=60s"]);
    assert.equal(jp("pod/oom", ".status.containerStatuses[0].state.terminated.reason"), "OOMKilled");
    assert.equal(jp("pod/oom", ".status.containerStatuses[0].state.terminated.exitCode"), "137");
    assert.equal(jp("pod/oom", ".status.qosClass"), "Burstable");
  });

  it("a missing image is ErrImagePull / ImagePullBackOff naming the image", () => {
    apply(`apiVersion: v1
kind: Pod
metadata: {name: noimage}
spec:
  containers: [{name: c, image: "example.invalid/nothing:1.0"}]
`);
    k([
      "wait",
      "--for=jsonpath={.status.containerStatuses[0].state.waiting.message}",
      "pod/noimage",
      "--timeout=60s",
    ]);
    const reason = jp("pod/noimage", ".status.containerStatuses[0].state.waiting.reason");
    assert.ok(["ErrImagePull", "ImagePullBackOff"].includes(reason), reason);
    assert.match(
      jp("pod/noimage", ".status.containerStatuses[0].state.waiting.message"),
      /example\.invalid\/nothing:1\.0/,
    );
  });

  it("env from a ConfigMap, a shared emptyDir, and a pod IP from the node's CIDR", () => {
    apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {greeting: hello}
---
apiVersion: v1
kind: Pod
metadata: {name: pair}
spec:
  restartPolicy: Never
  volumes: [{name: shared, emptyDir: {}}]
  initContainers:
  - name: writer
    image: busybox
    command: [sh, -c, "echo $GREETING-$(hostname) > /data/msg"]
    env: [{name: GREETING, valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}}]
    volumeMounts: [{name: shared, mountPath: /data}]
  containers:
  - name: reader
    image: busybox
    command: [sh, -c, "test \\"$(cat /data/msg)\\" = hello-pair"]
    volumeMounts: [{name: shared, mountPath: /data}]
`);
    k(["wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/pair", "--timeout=60s"]);
    assert.match(jp("pod/pair", ".status.podIP"), /^10\.244\.200\.\d+$/);
    assert.equal(jp("pod/pair", ".status.initContainerStatuses[0].state.terminated.reason"), "Completed");
  });

  it("kubectl logs, exec (WebSocket and SPDY), cp and port-forward reach the container", async () => {
    apply(`apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "mkdir /www && echo served-from-pod > /www/index.html && echo started && httpd -f -p 8080 -h /www"]
`);
    k(["wait", "--for=condition=Ready", "pod/shell", "--timeout=60s"]);
    for (let i = 0; i < 50 && !k(["logs", "shell"]).includes("started"); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(k(["logs", "shell"]), "started\n");
    assert.match(k(["logs", "shell", "--timestamps"]), /^\d{4}-\d\d-\d\dT[\d:.]+Z started\n$/);

    const ex = s.kubectl(["exec", "shell", "--", "sh", "-c", "echo in-$(hostname); exit 3"]);
    assert.equal(ex.code, 3, ex.stderr);
    assert.equal(ex.stdout, "in-shell\n");
    assert.doesNotMatch(ex.stderr, /Unknown stream id/);
    assert.equal(
      s.kubectl(["exec", "-i", "shell", "--", "cat"], { stdin: "through stdin" }).stdout,
      "through stdin",
    );
    // kubectl 1.27 speaks SPDY/3.1 for exec.
    if (!kubectlMissing("1.27")) {
      const old = s.kubectl(["exec", "shell", "--", "cat", "/etc/hostname"], { version: "1.27" });
      assert.equal(old.code, 0, old.stderr);
      assert.equal(old.stdout, "shell\n");
    }
    const local = `${s.dataDir}/to-copy.txt`;
    writeFileSync(local, "copied into the pod\n".repeat(1000));
    k(["cp", local, "shell:/tmp/copied.txt"]);
    assert.equal(k(["exec", "shell", "--", "cat", "/tmp/copied.txt"]), readFileSync(local, "utf8"));

    const pf = s.kubectlAsync(["port-forward", "pod/shell", "18089:8080"]);
    let body = "";
    for (let i = 0; i < 100 && !body; i++) {
      body = await fetch("http://127.0.0.1:18089/").then(
        (r) => r.text(),
        () => "",
      );
      if (!body) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body, "served-from-pod\n");
    execFileSync("pkill", ["-f", "port-forward pod/shell 18089:8080"]);
    await pf;
  });

  it("a Deployment is scheduled onto the node and its pods run with distinct IPs", () => {
    k(["create", "deployment", "web", "--image=busybox", "--replicas=2", "--", "sleep", "3600"]);
    k(["rollout", "status", "deploy/web", "--timeout=90s"]);
    const ips = k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}"]).split(" ");
    assert.equal(new Set(ips).size, 2);
    const nodes = k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.nodeName}"]).split(" ");
    assert.deepEqual(nodes, ["e2e-node", "e2e-node"]);
    k(["delete", "deployment", "web", "--wait=true"]);
    k(["wait", "--for=delete", "pod", "-l", "app=web", "--timeout=60s"]);
  });
});
