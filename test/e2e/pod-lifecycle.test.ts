/**
 * @module e2e as root: the pod lifecycle on the real node agent (runc), driven by real kubectl:
 * init containers in order, start failures (missing executable, failed hostPath check),
 * exec into an exited container, liveness/readiness/startup probes, postStart and preStop
 * hooks, graceful termination and SIGKILL after the grace period, secret/configMap/
 * downwardAPI/projected/memory emptyDir volumes, env from fieldRef and resourceFieldRef,
 * localhost and pod-to-pod traffic, cgroup limits and QoS classes, `logs --previous/--tail/
 * --timestamps`, and a restarted server adopting its running container. One small pod per
 * behaviour; afterwards nothing is left: no netns, container, mount, bridge.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Pod } from "../../src/api/types/core-v1.ts";
import { kubectlMissing, kubectlPath, startServer, type TestServer } from "./harness.ts";
import { cleanNode, lockNode, notRoot, podNetnsList, settled } from "./node-harness.ts";

const POD_CIDR = "10.244.203.0/24";
const NODE = "e2e-life";
const SERVER_ARGS = ["--pod-cidr", POD_CIDR, "--node-name", NODE, "--kubelet-port", "0"];
const skip = kubectlMissing() ?? notRoot();

/** A busybox shell that sleeps and exits 0 at once on SIGTERM (fast deletes). */
const SLEEP = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];

type PodSpec = NonNullable<Pod["spec"]>;

/** A pod manifest (JSON documents, which kubectl apply reads as YAML). */
function pod(name: string, spec: PodSpec, labels?: Record<string, string>): object {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, ...(labels ? { labels } : {}) }, spec };
}

describe("the pod lifecycle on the local node agent", { skip }, () => {
  let s: TestServer;
  let hostDir = "";
  let release: (() => void) | undefined;
  const k = (args: string[], stdin?: string): string => {
    const r = s.kubectl(args, stdin === undefined ? {} : { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (...objects: object[]): string =>
    k(["apply", "-f", "-"], objects.map((o) => JSON.stringify(o)).join("\n---\n"));
  const jp = (obj: string, path: string): string => k(["get", obj, "-o", `jsonpath={${path}}`]);
  const wait = (obj: string, cond: string, timeout = 60): string =>
    k(["wait", `--for=${cond}`, obj, `--timeout=${timeout}s`]);
  /** `reason<TAB>message` lines of the events about object `name`. */
  const events = (name: string): string[] =>
    k([
      "get",
      "events",
      "--field-selector",
      `involvedObject.name=${name}`,
      "-o",
      'jsonpath={range .items[*]}{.reason}{"\\t"}{.message}{"\\n"}{end}',
    ])
      .split("\n")
      .filter(Boolean);
  /** Polls `probe` (bounded: `tries` × `ms`) until it returns a value; fails with `what`. */
  const until = async <T>(what: string, probe: () => T | undefined, tries = 120, ms = 250): Promise<T> => {
    let last: T | undefined;
    for (let i = 0; i < tries; i++) {
      last = probe();
      if (last !== undefined && last !== false) return last;
      await sleep(ms);
    }
    assert.fail(`timed out waiting for ${what}`);
  };
  /** `kubectl exec` output, asserting success. */
  const exec = (podName: string, cmd: string[], container?: string): string =>
    k(["exec", podName, ...(container ? ["-c", container] : []), "--", ...cmd]);

  before(async () => {
    release = await lockNode();
    hostDir = mkdtempSync(join(tmpdir(), "kites-e2e-life-host-"));
    s = await startServer({ agent: true, args: SERVER_ARGS });
    wait(`node/${NODE}`, "condition=Ready");
  });
  after(async () => {
    if (hostDir) rmSync(hostDir, { recursive: true, force: true });
    if (!s) return release?.();
    // A server that failed to restart (the adoption case) cannot delete its pods: then the
    // node is only cleaned, and what was left is not a finding.
    const up = s.process.exitCode === null && s.process.signalCode === null;
    let left: { containers: string[]; mounts: string[] };
    try {
      if (up) {
        s.kubectl(["delete", "pods,configmaps,secrets", "--all", "--wait=true", "--timeout=60s"]);
        await settled(s.dataDir);
      }
    } finally {
      try {
        await s.stop({ keep: true });
        // The agent leaves running containers for a restarted agent to adopt; the test removes
        // them. cleanNode deletes every kites-* netns it lists; one that another test removes
        // meanwhile makes it throw half-way, so it runs once more (it is idempotent).
        left = await cleanNode(s.dataDir, POD_CIDR).catch((e: unknown) => {
          console.warn(`cleanNode failed once (${(e as Error).message}); retrying`);
          return cleanNode(s.dataDir, POD_CIDR);
        });
      } finally {
        release?.();
      }
    }
    if (!up) console.warn(`the server was down at the end; cleaned ${left.containers.length} containers`);
    else {
      assert.deepEqual(left.containers, [], "containers left after the pods were deleted");
      assert.deepEqual(left.mounts, [], "mounts left after the pods were deleted");
    }
  });

  it("init containers run one at a time, in order, before the app container (Init:N/2)", async () => {
    const vol = [{ name: "d", mountPath: "/d" }];
    apply(
      pod("inits", {
        restartPolicy: "Never",
        volumes: [{ name: "d", emptyDir: {} }],
        initContainers: [
          {
            name: "one",
            image: "busybox",
            command: ["sh", "-c", "echo init-1 >> /d/order; sleep 2"],
            volumeMounts: vol,
          },
          {
            name: "two",
            image: "busybox",
            command: ["sh", "-c", "echo init-2 >> /d/order; sleep 1"],
            volumeMounts: vol,
          },
        ],
        containers: [
          {
            name: "app",
            image: "busybox",
            command: ["sh", "-c", "echo app >> /d/order; cat /d/order"],
            volumeMounts: vol,
          },
        ],
      }),
    );
    const seen = new Set<string>();
    await until("pod/inits to complete", () => {
      const status = k(["get", "pod", "inits", "--no-headers"]).split(/\s+/)[2] ?? "";
      seen.add(status);
      return status === "Completed" || status === "Error" || undefined;
    });
    assert.ok(
      [...seen].some((st) => /^Init:[01]\/2$/.test(st)),
      `statuses seen: ${[...seen].join(", ")}`,
    );
    assert.equal(jp("pod/inits", ".status.phase"), "Succeeded");
    assert.equal(k(["logs", "inits"]), "init-1\ninit-2\napp\n");
    assert.equal(
      jp("pod/inits", ".status.initContainerStatuses[*].state.terminated.reason"),
      "Completed Completed",
    );
  });

  it("a command missing from the image: CreateContainerError with runc's message", async () => {
    apply(
      pod("nocmd", {
        restartPolicy: "Never",
        containers: [{ name: "c", image: "busybox", command: ["/no/such/binary"] }],
      }),
    );
    const runcText = 'exec: "/no/such/binary": stat /no/such/binary: no such file or directory';
    await until(
      "pod/nocmd's container to fail",
      () =>
        jp("pod/nocmd", ".status.containerStatuses[0].state.waiting.reason") === "CreateContainerError" ||
        undefined,
    );
    // kites runs `runc create` under conmon, as CRI-O does, so a missing executable fails the
    // create (CRI-O's CreateContainerError, retried; the pod stays Pending). containerd fails
    // the start instead (terminated StartError, exit 128). Either way runc's text is shown.
    assert.equal(
      jp("pod/nocmd", ".status.containerStatuses[0].state.waiting.message"),
      `runc create failed: unable to start container process: ${runcText}`,
    );
    assert.equal(jp("pod/nocmd", ".status.phase"), "Pending");
    assert.match(k(["get", "pod", "nocmd", "--no-headers"]), /^nocmd\s+0\/1\s+CreateContainerError\s+0/);
    const failed = events("nocmd").filter((e) => e.startsWith("Failed\t"));
    assert.ok(
      failed.some((e) => e.includes(runcText)),
      failed.join("\n"),
    );
  });

  it("a hostPath of type Directory that does not exist: FailedMount, pod stays ContainerCreating", async () => {
    const nope = join(hostDir, "nope");
    apply(
      pod("nohost", {
        volumes: [{ name: "x", hostPath: { path: nope, type: "Directory" } }],
        containers: [
          { name: "c", image: "busybox", command: SLEEP, volumeMounts: [{ name: "x", mountPath: "/x" }] },
        ],
      }),
    );
    const uid = jp("pod/nohost", ".metadata.uid");
    const ev = await until("a FailedMount event", () =>
      events("nohost").find((e) => e.startsWith("FailedMount\t")),
    );
    assert.equal(
      ev,
      `FailedMount\tMountVolume.SetUp failed for volume "x" : hostPath type check failed: ${nope} is not a directory`,
    );
    assert.equal(jp("pod/nohost", ".status.phase"), "Pending");
    assert.match(k(["get", "pod", "nohost", "--no-headers"]), /^nohost\s+0\/1\s+ContainerCreating\s+0/);
    assert.equal(existsSync(nope), false, "a Directory hostPath is never created");
    k(["delete", "pod", "nohost", "--wait=true", "--timeout=60s"]);
    // Nothing of the pod is left on the node: no netns, no container, no pod dir.
    const prefix = `kites-${uid.replace(/-/g, "").slice(0, 16)}`;
    assert.ok(!podNetnsList().includes(prefix), `netns ${prefix} left`);
    const left = spawnSync("grep", ["-rl", uid, join(s.dataDir, "runtime")], {
      encoding: "utf8",
    }).stdout.trim();
    assert.equal(left, "", `runtime state left for ${uid}`);
  });

  it("exec into an exited container is refused with a clear error", async () => {
    apply(
      pod("finished", {
        restartPolicy: "Never",
        containers: [{ name: "c", image: "busybox", command: ["true"] }],
      }),
      pod("half", {
        restartPolicy: "Never",
        containers: [
          { name: "quick", image: "busybox", command: ["true"] },
          { name: "main", image: "busybox", command: SLEEP },
        ],
      }),
    );
    wait("pod/finished", "jsonpath={.status.phase}=Succeeded");
    const done = s.kubectl(["exec", "finished", "--", "true"]);
    assert.notEqual(done.code, 0);
    assert.match(done.stderr, /cannot exec into a container in a completed pod; current phase is Succeeded/);
    // The pod still runs (phase Running), so kubectl asks the server, which must refuse.
    wait(
      "pod/half",
      'jsonpath={.status.containerStatuses[?(@.name=="quick")].state.terminated.reason}=Completed',
    );
    const half = s.kubectl(["exec", "half", "-c", "quick", "--", "true"]);
    assert.notEqual(half.code, 0, half.stdout);
    // The kubelet's own words for a container that is not running.
    assert.equal(half.stderr, 'error: unable to upgrade connection: container not found ("quick")\n');
    assert.equal(exec("half", ["echo", "main-ok"], "main"), "main-ok\n");
  });

  it("a failing liveness probe restarts the container, with Unhealthy and Killing events", async () => {
    apply(
      pod("live", {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "c",
            image: "busybox",
            command: SLEEP,
            livenessProbe: {
              exec: { command: ["cat", "/tmp/healthy"] },
              periodSeconds: 1,
              failureThreshold: 1,
            },
          },
        ],
      }),
    );
    await until("a restart", () => Number(jp("pod/live", ".status.containerStatuses[0].restartCount")) > 0);
    const ev = events("live");
    assert.ok(
      ev.some((e) => /^Unhealthy\tLiveness probe failed: .*\/tmp\/healthy/.test(e)),
      ev.join("\n"),
    );
    assert.ok(ev.includes("Killing\tContainer c failed liveness probe, will be restarted"), ev.join("\n"));
    k(["delete", "pod", "live", "--wait=true", "--timeout=60s"]); // it would restart forever
  });

  it("a readiness probe (httpGet) gates Ready until the file it serves exists", async () => {
    apply(
      pod("ready", {
        containers: [
          {
            name: "web",
            image: "busybox",
            command: ["sh", "-c", "mkdir -p /www && exec httpd -f -p 8080 -h /www"],
            readinessProbe: { httpGet: { path: "/ready", port: 8080 }, periodSeconds: 1 },
          },
        ],
      }),
    );
    wait("pod/ready", "jsonpath={.status.phase}=Running");
    await sleep(2000); // a few probe periods, all failing (404)
    assert.equal(jp("pod/ready", '.status.conditions[?(@.type=="Ready")].status'), "False");
    assert.equal(jp("pod/ready", ".status.containerStatuses[0].ready"), "false");
    assert.match(k(["get", "pod", "ready", "--no-headers"]), /^ready\s+0\/1\s+Running\s+0/);
    exec("ready", ["touch", "/www/ready"]);
    wait("pod/ready", "condition=Ready");
    assert.equal(jp("pod/ready", ".status.containerStatuses[0].ready"), "true");
    assert.equal(jp("pod/ready", ".status.containerStatuses[0].restartCount"), "0");
  });

  it("a startup probe holds the liveness probe back until it succeeds", async () => {
    const check = { exec: { command: ["cat", "/tmp/started"] }, periodSeconds: 1 };
    apply(
      pod("startup", {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "c",
            image: "busybox",
            command: SLEEP,
            startupProbe: { ...check, failureThreshold: 60 },
            livenessProbe: { ...check, failureThreshold: 1 },
          },
        ],
      }),
    );
    wait("pod/startup", "jsonpath={.status.phase}=Running");
    await sleep(2000); // a liveness probe this strict would have killed the container by now
    assert.equal(jp("pod/startup", ".status.containerStatuses[0].started"), "false");
    assert.equal(jp("pod/startup", ".status.containerStatuses[0].restartCount"), "0");
    exec("startup", ["touch", "/tmp/started"]);
    wait("pod/startup", "condition=Ready");
    assert.equal(jp("pod/startup", ".status.containerStatuses[0].started"), "true");
    await sleep(2000); // liveness now runs, and passes
    assert.equal(jp("pod/startup", ".status.containerStatuses[0].restartCount"), "0");
    const ev = events("startup");
    assert.ok(
      ev.some((e) => /^Unhealthy\tStartup probe failed: /.test(e)),
      ev.join("\n"),
    );
    assert.ok(
      !ev.some((e) => e.startsWith("Killing\t") || e.startsWith("Unhealthy\tLiveness")),
      ev.join("\n"),
    );
  });

  it("postStart runs before the container is Running, and writes what the container sees", async () => {
    apply(
      pod("poststart", {
        containers: [
          {
            name: "c",
            image: "busybox",
            command: [
              "sh",
              "-c",
              "trap 'exit 0' TERM; while [ ! -f /tmp/ps ]; do sleep 0.1; done; cat /tmp/ps; sleep 3600 & wait",
            ],
            lifecycle: {
              postStart: { exec: { command: ["sh", "-c", "echo hooked-$(hostname) > /tmp/ps"] } },
            },
          },
        ],
      }),
    );
    wait("pod/poststart", "condition=Ready");
    const logs = await until(
      "the container to print the hook's file",
      () => k(["logs", "poststart"]) || undefined,
    );
    assert.equal(logs, "hooked-poststart\n");
  });

  it("preStop runs on delete (it writes to a hostPath dir)", () => {
    const dir = join(hostDir, "prestop");
    mkdirSync(dir);
    apply(
      pod("prestop", {
        volumes: [{ name: "h", hostPath: { path: dir, type: "Directory" } }],
        containers: [
          {
            name: "c",
            image: "busybox",
            command: SLEEP,
            volumeMounts: [{ name: "h", mountPath: "/host" }],
            lifecycle: {
              preStop: { exec: { command: ["sh", "-c", "echo stopped-$(hostname) > /host/prestop"] } },
            },
          },
        ],
      }),
    );
    wait("pod/prestop", "condition=Ready");
    assert.equal(existsSync(join(dir, "prestop")), false);
    k(["delete", "pod", "prestop", "--wait=true", "--timeout=60s"]);
    assert.equal(readFileSync(join(dir, "prestop"), "utf8"), "stopped-prestop\n");
  });

  it("graceful termination: a SIGTERM trap exits by itself; an ignored SIGTERM gets SIGKILL after the grace period", async () => {
    apply(
      pod("trapper", {
        terminationGracePeriodSeconds: 30,
        containers: [
          {
            name: "c",
            image: "busybox",
            command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"],
          },
        ],
      }),
      pod("ignorer", {
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: "c",
            image: "busybox",
            command: ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"],
          },
        ],
      }),
    );
    wait("pod/trapper", "condition=Ready");
    wait("pod/ignorer", "condition=Ready");
    // Watch each pod's last container state until it is gone: the kubelet reports the exit code
    // before the pod object is removed.
    const watch = (name: string) => {
      const c = spawn(
        kubectlPath()!,
        [
          "get",
          "pod",
          name,
          "--watch",
          "-o",
          'jsonpath={.status.containerStatuses[0].state.terminated.exitCode}{"\\n"}',
        ],
        { env: { ...process.env, KUBECONFIG: s.kubeconfig }, stdio: ["ignore", "pipe", "ignore"] },
      );
      let out = "";
      c.stdout.on("data", (d: Buffer) => (out += d.toString()));
      const closed = new Promise((r) => c.once("close", r));
      return {
        /** Resolves once the watch printed the pod's current state (its first line). */
        started: () => until(`the watch on ${name}`, () => out.includes("\n") || undefined),
        stop: async (): Promise<string[]> => {
          c.kill();
          await closed;
          // Each status write repeats the last state: keep the distinct exit codes seen.
          return [...new Set(out.split("\n").filter(Boolean))];
        },
      };
    };
    const wt = watch("trapper");
    const wi = watch("ignorer");
    try {
      await wt.started();
      await wi.started();
      // The trapping container exits well inside its 30 s grace; the other is killed after 2 s.
      const [dt, di] = await Promise.all([
        s.kubectlAsync(["delete", "pod", "trapper", "--wait=true", "--timeout=25s"]),
        s.kubectlAsync(["delete", "pod", "ignorer", "--wait=true", "--timeout=40s"]),
      ]);
      assert.equal(dt.code, 0, dt.stderr);
      assert.equal(di.code, 0, di.stderr);
    } finally {
      const codesT = await wt.stop();
      const codesI = await wi.stop();
      assert.deepEqual(codesT, ["0"], "trapper exits 0 from its trap");
      assert.deepEqual(codesI, ["137"], "ignorer is SIGKILLed (128 + 9)");
    }
  });

  it("secret volume files, updated after the Secret changes", async () => {
    const secret = (v: string) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "sec" },
      stringData: { password: v, user: "admin" },
    });
    apply(
      secret("first"),
      pod("secvol", {
        volumes: [{ name: "s", secret: { secretName: "sec" } }],
        containers: [
          {
            name: "c",
            image: "busybox",
            command: SLEEP,
            volumeMounts: [{ name: "s", mountPath: "/etc/sec" }],
          },
        ],
      }),
    );
    wait("pod/secvol", "condition=Ready");
    assert.equal(exec("secvol", ["cat", "/etc/sec/password"]), "first");
    assert.equal(exec("secvol", ["cat", "/etc/sec/user"]), "admin");
    apply(secret("second"));
    await until(
      "the new secret value in the volume",
      () => exec("secvol", ["cat", "/etc/sec/password"]) === "second" || undefined,
      90,
      1000,
    );
  });

  it("configMap items map a key to a path; downwardAPI gives labels and the pod name", () => {
    apply(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" }, data: { a: "alpha", b: "beta" } },
      pod(
        "cmdown",
        {
          volumes: [
            { name: "cm", configMap: { name: "cm", items: [{ key: "a", path: "dir/a.txt" }] } },
            {
              name: "dw",
              downwardAPI: {
                items: [
                  { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
                  { path: "name", fieldRef: { fieldPath: "metadata.name" } },
                ],
              },
            },
          ],
          containers: [
            {
              name: "c",
              image: "busybox",
              command: SLEEP,
              volumeMounts: [
                { name: "cm", mountPath: "/etc/cm" },
                { name: "dw", mountPath: "/etc/dw" },
              ],
            },
          ],
        },
        { tier: "back", app: "cmdown" },
      ),
    );
    wait("pod/cmdown", "condition=Ready");
    assert.equal(exec("cmdown", ["cat", "/etc/cm/dir/a.txt"]), "alpha");
    assert.equal(exec("cmdown", ["ls", "/etc/cm"]), "dir\n");
    assert.equal(exec("cmdown", ["cat", "/etc/dw/name"]), "cmdown");
    assert.equal(exec("cmdown", ["cat", "/etc/dw/labels"]), 'app="cmdown"\ntier="back"');
  });

  it("a projected volume joins a secret, a configMap and downwardAPI", () => {
    apply(
      { apiVersion: "v1", kind: "Secret", metadata: { name: "psec" }, stringData: { token: "t0k" } },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "pcm" }, data: { mode: "fast" } },
      pod("proj", {
        volumes: [
          {
            name: "all",
            projected: {
              sources: [
                { secret: { name: "psec" } },
                { configMap: { name: "pcm", items: [{ key: "mode", path: "conf/mode" }] } },
                { downwardAPI: { items: [{ path: "ns", fieldRef: { fieldPath: "metadata.namespace" } }] } },
              ],
            },
          },
        ],
        containers: [
          { name: "c", image: "busybox", command: SLEEP, volumeMounts: [{ name: "all", mountPath: "/p" }] },
        ],
      }),
    );
    wait("pod/proj", "condition=Ready");
    assert.equal(exec("proj", ["cat", "/p/token", "/p/conf/mode", "/p/ns"]), "t0kfastdefault");
  });

  it("an emptyDir with medium Memory is a tmpfs", () => {
    apply(
      pod("memdir", {
        volumes: [{ name: "m", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } }],
        containers: [
          { name: "c", image: "busybox", command: SLEEP, volumeMounts: [{ name: "m", mountPath: "/cache" }] },
        ],
      }),
    );
    wait("pod/memdir", "condition=Ready");
    const line = exec("memdir", ["sh", "-c", "mount | grep ' /cache '"]);
    assert.match(line, /^tmpfs on \/cache type tmpfs /);
    exec("memdir", ["sh", "-c", "echo x > /cache/f"]);
  });

  it("env from fieldRef (status.podIP, spec.nodeName) and resourceFieldRef (limits.memory)", () => {
    apply(
      pod("envs", {
        restartPolicy: "Never",
        containers: [
          {
            name: "c",
            image: "busybox",
            command: ["sh", "-c", "echo $POD_IP $NODE $MEM $MEM_MI"],
            resources: { limits: { memory: "64Mi" } },
            env: [
              { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
              { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
              { name: "MEM", valueFrom: { resourceFieldRef: { resource: "limits.memory" } } },
              {
                name: "MEM_MI",
                valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } },
              },
            ],
          },
        ],
      }),
    );
    wait("pod/envs", "jsonpath={.status.phase}=Succeeded");
    const ip = jp("pod/envs", ".status.podIP");
    assert.match(ip, /^10\.244\.203\.\d+$/);
    assert.equal(k(["logs", "envs"]), `${ip} ${NODE} 67108864 64\n`);
  });

  it("two containers of a pod talk over localhost; another pod reaches it by its IP", async () => {
    apply(
      pod("duo", {
        containers: [
          {
            name: "web",
            image: "busybox",
            command: [
              "sh",
              "-c",
              "mkdir -p /www && echo hi-from-web > /www/index.html && exec httpd -f -p 8080 -h /www",
            ],
          },
          {
            name: "client",
            image: "busybox",
            command: [
              "sh",
              "-c",
              "trap 'exit 0' TERM; for i in $(seq 1 100); do wget -qO- http://127.0.0.1:8080/ && break; sleep 0.2; done; sleep 3600 & wait",
            ],
          },
        ],
      }),
    );
    wait("pod/duo", "condition=Ready");
    const got = await until(
      "the client's wget over localhost",
      () => k(["logs", "duo", "-c", "client"]) || undefined,
    );
    assert.equal(got, "hi-from-web\n");
    const ip = jp("pod/duo", ".status.podIP");
    apply(
      pod("caller", {
        restartPolicy: "Never",
        containers: [{ name: "c", image: "busybox", command: ["wget", "-qO-", `http://${ip}:8080/`] }],
      }),
    );
    wait("pod/caller", "jsonpath={.status.phase}=Succeeded");
    assert.equal(k(["logs", "caller"]), "hi-from-web\n");
    assert.notEqual(jp("pod/caller", ".status.podIP"), ip);
  });

  it("resource limits reach the cgroup; QoS classes Guaranteed, Burstable, BestEffort", () => {
    const printLimit = [
      "sh",
      "-c",
      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
    ];
    const res = { cpu: "100m", memory: "48Mi" };
    apply(
      pod("guaranteed", {
        restartPolicy: "Never",
        containers: [
          { name: "c", image: "busybox", command: printLimit, resources: { limits: res, requests: res } },
        ],
      }),
      pod("burstable", {
        restartPolicy: "Never",
        containers: [
          { name: "c", image: "busybox", command: printLimit, resources: { requests: { memory: "16Mi" } } },
        ],
      }),
      pod("besteffort", {
        restartPolicy: "Never",
        containers: [{ name: "c", image: "busybox", command: printLimit }],
      }),
    );
    for (const p of ["guaranteed", "burstable", "besteffort"])
      wait(`pod/${p}`, "jsonpath={.status.phase}=Succeeded");
    assert.equal(k(["logs", "guaranteed"]), `${48 * 1024 * 1024}\n`);
    assert.notEqual(k(["logs", "besteffort"]).trim(), `${48 * 1024 * 1024}`);
    assert.equal(jp("pod/guaranteed", ".status.qosClass"), "Guaranteed");
    assert.equal(jp("pod/burstable", ".status.qosClass"), "Burstable");
    assert.equal(jp("pod/besteffort", ".status.qosClass"), "BestEffort");
  });

  it("kubectl logs --previous after a restart; --tail and --timestamps", async () => {
    const script = [
      "trap 'exit 0' TERM",
      "n=$(cat /d/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /d/n",
      "echo attempt-$n; echo line-a; echo line-b",
      "[ $n -eq 1 ] && exit 1",
      "sleep 3600 & wait",
    ].join("; ");
    apply(
      pod("logger", {
        volumes: [{ name: "d", emptyDir: {} }],
        containers: [
          {
            name: "c",
            image: "busybox",
            command: ["sh", "-c", script],
            volumeMounts: [{ name: "d", mountPath: "/d" }],
          },
        ],
      }),
    );
    await until(
      "the second attempt running",
      () =>
        jp("pod/logger", ".status.containerStatuses[0].restartCount") === "1" &&
        jp("pod/logger", ".status.containerStatuses[0].state.running.startedAt") !== "" &&
        k(["logs", "logger"]).includes("line-b"),
      160,
    );
    assert.equal(k(["logs", "logger", "--previous"]), "attempt-1\nline-a\nline-b\n");
    assert.equal(k(["logs", "logger"]), "attempt-2\nline-a\nline-b\n");
    assert.equal(k(["logs", "logger", "--tail=1"]), "line-b\n");
    assert.equal(k(["logs", "logger", "--previous", "--tail=2"]), "line-a\nline-b\n");
    const stamped = k(["logs", "logger", "--timestamps"]).split("\n").filter(Boolean);
    assert.equal(stamped.length, 3);
    for (const l of stamped)
      assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (attempt-2|line-a|line-b)$/);
  });

  it("kubectl run -i --rm and attach -i: stdin reaches the container and its output comes back", async () => {
    // `run -i --rm` makes a stdin/stdinOnce pod, attaches once it runs, and deletes it after.
    const r = s.kubectl(
      [
        "run",
        "reader",
        "--image=busybox",
        "--restart=Never",
        "-i",
        "--rm",
        "--",
        "sh",
        "-c",
        "read l; echo got:$l",
      ],
      { stdin: "hello-stdin\n" },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /got:hello-stdin/);
    await until("pod/reader deleted by --rm", () => !k(["get", "pods", "-o", "name"]).includes("pod/reader"));
    // attach -i to a running shell that reads its stdin: the input runs, its output comes back
    // through the attach, and the session ends when the container does.
    apply(
      pod("shell", {
        restartPolicy: "Never",
        containers: [{ name: "c", image: "busybox", command: ["sh"], stdin: true }],
      }),
    );
    wait("pod/shell", "condition=Ready");
    const a = s.kubectl(["attach", "-i", "shell"], { stdin: "echo attached-$((40+2)); exit 0\n" });
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /attached-42/);
    await until("pod/shell Succeeded", () => jp("pod/shell", ".status.phase") === "Succeeded");
  });

  it("a restarted server adopts the running container: same process, same logs, no duplicate", async () => {
    apply(
      pod("adopt", {
        containers: [
          {
            name: "c",
            image: "busybox",
            command: [
              "sh",
              "-c",
              "trap 'exit 0' TERM; echo started-$(date +%s)-$$-$RANDOM; sleep 3600 & wait",
            ],
          },
        ],
      }),
    );
    wait("pod/adopt", "condition=Ready");
    const logs = await until("the start line", () => k(["logs", "adopt"]) || undefined);
    const id = jp("pod/adopt", ".status.containerStatuses[0].containerID").replace(/^runc:\/\//, "");
    const startedAt = jp("pod/adopt", ".status.containerStatuses[0].state.running.startedAt");
    const uid = jp("pod/adopt", ".metadata.uid");
    const runcRoot = join(s.dataDir, "runtime", "runc");
    type RuncEntry = { id: string; pid: number; status: string; annotations?: Record<string, string> };
    const runcList = (): RuncEntry[] =>
      (JSON.parse(
        execFileSync("runc", ["--root", runcRoot, "list", "--format", "json"], { encoding: "utf8" }) || "[]",
      ) ?? []) as RuncEntry[];
    const ofPod = () => runcList().filter((c) => c.annotations?.["io.kubernetes.pod.uid"] === uid);
    const before = ofPod();
    assert.deepEqual(
      before.map((c) => [c.id, c.status]),
      [[id, "running"]],
    );

    await s.stop({ keep: true });
    assert.deepEqual(ofPod(), before, "the container outlives the server");
    s = await startServer({ dataDir: s.dataDir, agent: true, args: SERVER_ARGS });
    wait(`node/${NODE}`, "condition=Ready");
    wait("pod/adopt", "condition=Ready");
    await sleep(3000); // a few sync rounds of the new agent
    assert.equal(jp("pod/adopt", ".status.containerStatuses[0].containerID"), `runc://${id}`);
    assert.equal(jp("pod/adopt", ".status.containerStatuses[0].restartCount"), "0");
    assert.equal(jp("pod/adopt", ".status.containerStatuses[0].state.running.startedAt"), startedAt);
    assert.equal(k(["logs", "adopt"]), logs);
    // The same process (same pid), and no second container for the pod.
    assert.deepEqual(ofPod(), before);
    // Every running runc container is the running container of some pod: nothing started twice.
    const current = k([
      "get",
      "pods",
      "-o",
      'jsonpath={range .items[*]}{range .status.containerStatuses[*]}{.containerID}{"\\n"}{end}{end}',
    ])
      .split("\n")
      .filter(Boolean)
      .map((c) => c.replace(/^runc:\/\//, ""));
    for (const c of runcList())
      if (c.status === "running")
        assert.ok(current.includes(c.id), `runc container ${c.id} is no pod's current one`);
    assert.ok(exec("adopt", ["echo", "still-here"]).includes("still-here"));
  });
});
