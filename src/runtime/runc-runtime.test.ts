/**
 * Integration tests of `RuncRuntime` against the real runc, conmon, plain-directory rootfs
 * copies of Debian's static busybox, iproute2 and iptables. Root only; skipped loudly
 * otherwise. Uses its own bridge (`kitest0`), CIDR (10.244.250.0/24), cgroup parent and
 * state directory, and removes all of them at the end even on failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, rmdir, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import type { ContainerConfig, ContainerStatus, ImageInfo, SandboxConfig } from "./types.ts";
import { RuncRuntime, type RuntimeImages, type RuntimeSnapshots } from "./runc-runtime.ts";
import { teardownNodeNetwork } from "./network/node-network.ts";

const BUSYBOX = "/bin/busybox";
const missing = [
  process.getuid?.() !== 0 ? "root" : "",
  existsSync("/usr/sbin/runc") ? "" : "runc",
  existsSync("/usr/bin/conmon") ? "" : "conmon",
  existsSync(BUSYBOX) ? "" : "busybox-static",
].filter((m) => m !== "");
if (missing.length > 0) console.warn(`SKIPPED runc-runtime tests: missing ${missing.join(", ")}`);

const BRIDGE = "kitest0";
const CIDR = "10.244.250.0/24";
const IMAGE_REF = "docker.io/library/busybox:latest";
const IMAGE: ImageInfo = {
  ref: IMAGE_REF,
  digest: "sha256:" + "0".repeat(64),
  id: "sha256:" + "1".repeat(64),
  size: 0,
  entrypoint: [],
  cmd: ["sh"],
  env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  workingDir: "",
  user: "",
};

/** A busybox root filesystem template: the binary, its applet links, /etc files. */
async function makeTemplate(dir: string): Promise<void> {
  await mkdir(join(dir, "bin"), { recursive: true });
  await copyFile(BUSYBOX, join(dir, "bin/busybox"));
  const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n");
  await Promise.all(
    applets
      .filter((a) => a && a !== "busybox")
      .map((a) => symlink("busybox", join(dir, "bin", a)).catch(() => undefined)),
  );
  for (const d of ["proc", "sys", "dev", "etc", "tmp", "root"])
    await mkdir(join(dir, d), { recursive: true });
  await writeFile(
    join(dir, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
  );
  await writeFile(join(dir, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
}

/** Test image store: one busybox image. */
const images: RuntimeImages = {
  get: async (ref) => (ref === IMAGE_REF ? IMAGE : undefined),
  list: async () => [IMAGE],
};

/** Test snapshotter: a plain copy of the template per container (no mounts to leak). */
function copySnapshots(root: string, template: string): RuntimeSnapshots {
  return {
    prepare: async (id) => {
      const dir = join(root, id);
      await cp(template, dir, { recursive: true, verbatimSymlinks: true });
      return dir;
    },
    remove: async (id) => rm(join(root, id), { recursive: true, force: true }),
  };
}

function sh(cmd: string): string[] {
  return ["sh", "-c", cmd];
}

async function waitFor(
  rt: RuncRuntime,
  id: string,
  pred: (s: ContainerStatus) => boolean,
  timeoutMs = 20_000,
): Promise<ContainerStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await rt.containerStatus(id);
    if (s && pred(s)) return s;
    if (Date.now() > deadline)
      throw new Error(`container ${id} never reached the wanted state: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("RuncRuntime on runc + conmon", { skip: missing.length > 0 }, async (t) => {
  const base = await mkdtemp(join(tmpdir(), "kites-runc-"));
  const stateDir = join(base, "state");
  const logDir = join(base, "logs");
  const template = join(base, "template");
  await makeTemplate(template);
  const cgroupTop = `/kites-test-${randomUUID().slice(0, 8)}`;
  const opts = {
    stateDir,
    images,
    snapshots: copySnapshots(join(base, "snapshots"), template),
    network: { podCIDR: CIDR, bridge: BRIDGE, nodeIP: "127.0.0.1" },
  };
  const rt = new RuncRuntime(opts);
  const uids: string[] = [];

  t.after(async () => {
    for (const uid of uids) await rt.removeSandbox(uid).catch((e: unknown) => console.warn("cleanup", e));
    // Anything that escaped removeSandbox: runc containers in our root.
    for (const c of await rt.runc.list().catch(() => [])) await rt.runc.delete(c.id).catch(() => undefined);
    await teardownNodeNetwork({ podCIDR: CIDR, bridge: BRIDGE });
    for (const h of readdirSync("/sys/fs/cgroup"))
      await rmdir(join("/sys/fs/cgroup", h, cgroupTop)).catch(() => undefined);
    await rm(base, { recursive: true, force: true });
  });

  async function pod(name: string): Promise<{ uid: string; ip: string; config: SandboxConfig }> {
    const uid = randomUUID();
    uids.push(uid);
    const config: SandboxConfig = {
      uid,
      namespace: "default",
      name,
      hostname: name,
      hostNetwork: false,
      cgroupParent: `${cgroupTop}/pod${uid}`,
      hostsFile: "",
      resolvConf: "",
    };
    const st = await rt.runSandbox(config);
    assert.equal(st.ready, true);
    return { uid, ip: st.ip, config };
  }

  function ctr(name: string, argv: string[], over: Partial<ContainerConfig> = {}): ContainerConfig {
    return {
      name,
      image: IMAGE_REF,
      argv,
      env: [...IMAGE.env, "GREETING=hello"],
      workingDir: "",
      user: "",
      tty: false,
      stdin: false,
      mounts: [],
      logPath: join(logDir, name, "0.log"),
      attempt: 0,
      labels: { "io.kubernetes.container.name": name },
      ...over,
    };
  }

  const a = await pod("pod-a");
  const b = await pod("pod-b");

  await t.test("two pods get different IPs in the CIDR and reach each other through the bridge", async () => {
    assert.notEqual(a.ip, b.ip);
    assert.match(a.ip, /^10\.244\.250\.\d+$/);
    assert.match(b.ip, /^10\.244\.250\.\d+$/);
    const loop = sh('trap "exit 0" TERM; while true; do sleep 0.2; done');
    const ida = await rt.createContainer(a.uid, ctr("server", loop));
    await rt.startContainer(ida);
    const idb = await rt.createContainer(b.uid, ctr("client", loop));
    await rt.startContainer(idb);
    const ping = await rt.execSync(idb, ["ping", "-c", "1", "-W", "5", a.ip], 15_000);
    assert.equal(ping.exitCode, 0, ping.stdout + ping.stderr);
    assert.match(ping.stdout, /1 packets received/);
    const ifc = await rt.execSync(ida, ["ip", "-4", "addr", "show", "eth0"], 10_000);
    assert.match(ifc.stdout, new RegExp(`inet ${a.ip.replace(/\./g, "\\.")}/24`));
    const host = await rt.execSync(ida, sh("hostname; cat /etc/hostname; echo $GREETING"), 10_000);
    assert.deepEqual(host.stdout.trim().split("\n"), ["pod-a", "pod-a", "hello"]);
    const stats = await rt.containerStats(ida);
    assert.ok(
      stats && stats.memoryUsageBytes > 0 && stats.cpuUsageCoreNanoSeconds > 0,
      JSON.stringify(stats),
    );
  });

  await t.test("exec with streams: pipes without a tty, a real terminal with one", async () => {
    const id = (await rt.listContainers(a.uid)).find((c) => c.name === "server")?.id;
    assert.ok(id);
    const p = await rt.exec(id, ["cat"], { tty: false, stdin: true });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stdin?.end("ping-pong\n");
    assert.equal(await p.exited, 0);
    assert.equal(out, "ping-pong\n");
    const tty = await rt.exec(id, sh("[ -t 0 ] && [ -t 1 ] && echo is-a-tty; tty; exit 4"), {
      tty: true,
      stdin: false,
    });
    let tout = "";
    tty.stdout.on("data", (d: Buffer) => (tout += d.toString()));
    assert.equal(await tty.exited, 4);
    // Whether the pty turns \n into \r\n depends on the terminal settings `script` inherits.
    assert.match(tout, /is-a-tty\r*\n\/dev\/pts\/\d+/, `stdio is a terminal: ${JSON.stringify(tout)}`);
    assert.ok(!tout.includes("^"), JSON.stringify(tout));
    assert.match(tout, /\/dev\/pts\/\d+/);
    assert.equal(tty.stderr, null);
    // Resize: the window size reaches the process (stty size reads TIOCGWINSZ).
    const r = await rt.exec(id, sh("while read x; do stty size; done"), { tty: true, stdin: true });
    let rout = "";
    r.stdout.on("data", (d: Buffer) => (rout += d.toString()));
    r.resize(100, 40);
    for (let i = 0; i < 100 && !rout.includes("40 100"); i++) {
      r.stdin?.write("\n");
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.match(rout, /40 100/);
    r.stdin?.end("\x04");
    r.kill("SIGTERM");
    await r.exited;
  });

  await t.test("a container that writes both streams and exits 3", async () => {
    const cfg = ctr("fail", sh("echo to-out; echo to-err >&2; exit 3"));
    const id = await rt.createContainer(a.uid, cfg);
    assert.equal((await rt.containerStatus(id))?.state, "created");
    await rt.startContainer(id);
    const s = await waitFor(rt, id, (x) => x.state === "exited");
    assert.equal(s.exitCode, 3);
    assert.equal(s.reason, "Error");
    assert.equal(s.name, "fail");
    assert.equal(s.imageId, IMAGE.id);
    assert.ok(s.startedAt && s.finishedAt);
    const log = await readFile(cfg.logPath, "utf8");
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stdout F to-out$/m);
    assert.match(log, /^\S+ stderr F to-err$/m);
  });

  await t.test("a sleeping container stops gracefully on SIGTERM", async () => {
    const id = await rt.createContainer(
      a.uid,
      ctr("sleeper", sh('trap "exit 0" TERM; while true; do sleep 0.1; done')),
    );
    await rt.startContainer(id);
    assert.equal((await rt.containerStatus(id))?.state, "running");
    await rt.stopContainer(id, 10);
    const s = await waitFor(rt, id, (x) => x.state === "exited");
    assert.equal(s.exitCode, 0);
    assert.equal(s.reason, "Completed");
  });

  await t.test("a container ignoring SIGTERM is killed after the grace period", async () => {
    const id = await rt.createContainer(
      a.uid,
      ctr("stubborn", sh('trap "" TERM; while true; do sleep 0.1; done')),
    );
    await rt.startContainer(id);
    await rt.stopContainer(id, 1);
    const s = await waitFor(rt, id, (x) => x.state === "exited");
    assert.equal(s.exitCode, 137);
    assert.equal(s.reason, "Error");
  });

  await t.test("a memory-limited container that allocates more is OOMKilled", async () => {
    const id = await rt.createContainer(
      a.uid,
      ctr("hog", sh('x=$(head -c 67108864 /dev/zero | tr "\\0" a); echo survived'), {
        memoryLimitBytes: 8 << 20,
      }),
    );
    await rt.startContainer(id);
    const s = await waitFor(rt, id, (x) => x.state === "exited", 60_000);
    assert.equal(s.reason, "OOMKilled");
    assert.equal(s.exitCode, 137);
  });

  await t.test(
    "a command missing from the image makes createContainer reject with runc's message",
    async () => {
      const before = (await rt.listContainers(a.uid)).length;
      await assert.rejects(
        rt.createContainer(a.uid, ctr("ghost", ["/no/such/binary"])),
        /no such file or directory|not found/,
      );
      assert.equal((await rt.listContainers(a.uid)).length, before, "nothing left behind");
    },
  );

  await t.test(
    "a new runtime over the same state directory adopts running containers and sandboxes",
    async () => {
      const rt2 = new RuncRuntime(opts);
      const all = await rt2.listContainers();
      const server = all.find((c) => c.name === "server");
      assert.equal(server?.state, "running");
      assert.equal(server?.podUid, a.uid);
      assert.equal(server?.labels["io.kubernetes.container.name"], "server");
      const fail = all.find((c) => c.name === "fail");
      assert.equal(fail?.exitCode, 3);
      const sbs = await rt2.listSandboxes();
      assert.deepEqual(
        sbs.find((s) => s.uid === b.uid),
        { uid: b.uid, ip: b.ip, netnsPath: sbs.find((s) => s.uid === b.uid)?.netnsPath, ready: true },
      );
      const r = await rt2.execSync(server.id, ["echo", "adopted"], 10_000);
      assert.equal(r.stdout, "adopted\n");
    },
  );

  await t.test("conmon reopens its log file after rotation renamed it away", async () => {
    const logPath = join(logDir, "rot", "0.log");
    const id = await rt.createContainer(
      b.uid,
      ctr("rot", sh('trap "exit 0" TERM; i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.1; done'), {
        logPath,
      }),
    );
    await rt.startContainer(id);
    const until = async (ok: () => Promise<boolean>, what: string) => {
      for (let i = 0; i < 100 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(await ok(), what);
    };
    const text = (p: string) => readFile(p, "utf8").catch(() => "");
    await until(async () => (await text(logPath)).includes("line-1"), "first lines logged");
    const { rotateContainerLog } = await import("../kubelet/log-rotation.ts");
    const rotated = await rotateContainerLog(logPath, { maxSize: 1, maxFiles: 5, reopen: () => rt.reopenContainerLog(id) });
    assert.ok(rotated);
    assert.match(await text(rotated), / stdout F line-0$/m);
    // conmon writes new lines to a fresh file at the original path.
    await until(async () => / stdout F line-\d+$/m.test(await text(logPath)), "new file gets new lines");
    assert.doesNotMatch(await text(logPath), / stdout F line-0$/m);
    await rt.stopContainer(id, 5);
    await rt.removeContainer(id);
  });

  await t.test("attach: stdin reaches a stdin container's shell through conmon's socket", async () => {
    const logPath = join(logDir, "att", "0.log");
    const id = await rt.createContainer(a.uid, ctr("att", ["sh"], { logPath, stdin: true, stdinOnce: false }));
    await rt.startContainer(id);
    const text = () => readFile(logPath, "utf8").catch(() => "");
    const s1 = await rt.attach(id);
    s1.stdin.write("echo hello-$((40+2))\n");
    for (let i = 0; i < 100 && !/stdout F hello-42$/m.test(await text()); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(await text(), / stdout F hello-42$/m);
    // Without stdinOnce a detach leaves stdin open: a second attach still reaches the shell.
    s1.close();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await rt.containerStatus(id))?.state, "running");
    const s2 = await rt.attach(id);
    s2.stdin.write("exit 7\n");
    const st = await waitFor(rt, id, (x) => x.state === "exited");
    assert.equal(st.exitCode, 7);
    s2.close();
    await rt.removeContainer(id);
  });

  await t.test("attach with tty: a real terminal that resizes", async () => {
    const logPath = join(logDir, "atty", "0.log");
    const id = await rt.createContainer(
      a.uid,
      ctr("atty", ["sh"], { logPath, stdin: true, stdinOnce: true, tty: true }),
    );
    await rt.startContainer(id);
    const text = () => readFile(logPath, "utf8").catch(() => "");
    const s = await rt.attach(id);
    s.resize(91, 33);
    await new Promise((r) => setTimeout(r, 300));
    s.stdin.write("stty size; [ -t 0 ] && echo is-tty\n");
    for (let i = 0; i < 100 && !/ stdout [FP] is-tty\r?$/m.test(await text()); i++)
      await new Promise((r) => setTimeout(r, 100));
    const out = await text();
    assert.match(out, / stdout [FP] 33 91\r?$/m);
    assert.match(out, / stdout [FP] is-tty\r?$/m);
    s.stdin.write("exit 0\n");
    s.close();
    const st = await waitFor(rt, id, (x) => x.state === "exited");
    assert.equal(st.exitCode, 0);
    await rt.removeContainer(id);
  });

  await t.test("removing the sandboxes leaves no container, netns, veth, conmon or IP behind", async () => {
    const vethsBefore = execFileSync("ip", ["-o", "link", "show", "master", BRIDGE], { encoding: "utf8" });
    assert.equal(vethsBefore.trim().split("\n").length, 2, "one veth per pod on the bridge");
    for (const uid of uids) {
      await rt.stopSandbox(uid);
      await rt.removeSandbox(uid);
    }
    assert.deepEqual(await rt.listContainers(), []);
    assert.deepEqual(await rt.listSandboxes(), []);
    assert.deepEqual(await rt.runc.list(), []);
    const netns = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    for (const uid of uids) assert.ok(!netns.includes(uid.replace(/-/g, "").slice(0, 16)), netns);
    assert.equal(
      execFileSync("ip", ["-o", "link", "show", "master", BRIDGE], { encoding: "utf8" }).trim(),
      "",
    );
    const conmons = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.includes("conmon") && l.includes(stateDir));
    assert.deepEqual(conmons, []);
    assert.ok(
      !readFileSync("/proc/self/mountinfo", "utf8").includes(stateDir),
      "no mounts left under the state dir",
    );
    const ipam = JSON.parse(await readFile(join(stateDir, "ipam.json"), "utf8")) as { allocations: object };
    assert.deepEqual(ipam.allocations, {});
  });
});

test(
  "RuncRuntime with the real image store and overlayfs snapshotter",
  { skip: missing.length > 0 },
  async (t) => {
    const { ImageStore } = await import("./images/image-store.ts");
    const { Snapshotter } = await import("./snapshots/snapshotter.ts");
    const { ensureBusyboxImage } = await import("./images/busybox-image.ts");
    const base = await mkdtemp(join(tmpdir(), "kites-runc-img-"));
    const store = new ImageStore(join(base, "images"));
    const snapshots = new Snapshotter(join(base, "snapshots"), store);
    const image = await ensureBusyboxImage(store);
    const network = { podCIDR: "10.244.251.0/24", bridge: "kitest1" };
    const rt = new RuncRuntime({ stateDir: join(base, "state"), images: store, snapshots, network });
    const uid = randomUUID();
    const cgroupTop = `/kites-test-${randomUUID().slice(0, 8)}`;
    t.after(async () => {
      await rt.removeSandbox(uid).catch((e: unknown) => console.warn("cleanup", e));
      await teardownNodeNetwork(network);
      for (const h of readdirSync("/sys/fs/cgroup"))
        await rmdir(join("/sys/fs/cgroup", h, cgroupTop)).catch(() => undefined);
      await rm(base, { recursive: true, force: true });
    });
    await rt.runSandbox({
      uid,
      namespace: "default",
      name: "img",
      hostname: "img",
      hostNetwork: false,
      cgroupParent: `${cgroupTop}/pod${uid}`,
      hostsFile: "",
      resolvConf: "",
    });
    const logPath = join(base, "logs", "c", "0.log");
    const id = await rt.createContainer(uid, {
      name: "c",
      image: image.ref,
      argv: ["sh", "-c", "echo from-overlay > /tmp/f; cat /tmp/f"],
      env: image.env,
      workingDir: "",
      user: "",
      tty: false,
      stdin: false,
      mounts: [],
      logPath,
      attempt: 0,
    });
    await rt.startContainer(id);
    const s = await waitFor(rt, id, (x) => x.state === "exited");
    assert.equal(s.exitCode, 0);
    assert.equal(s.reason, "Completed");
    assert.equal(s.imageId, image.id);
    assert.match(await readFile(logPath, "utf8"), / stdout F from-overlay$/m);
    await rt.removeContainer(id);
    assert.equal(await rt.containerStatus(id), undefined);
    assert.ok(
      !readFileSync("/proc/self/mountinfo", "utf8").includes(join(base, "snapshots")),
      "snapshot unmounted",
    );
  },
);
