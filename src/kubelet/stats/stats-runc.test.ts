/**
 * The stats provider over the real runc runtime: a busy busybox container in a host-network
 * sandbox whose cgroup parent is the agent's own pod cgroup path, read twice. Root, runc,
 * conmon and busybox-static needed; skipped loudly otherwise. Removes the container, the
 * sandbox, the cgroups it made and its temp dir even on failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { copyFile, cp, mkdir, mkdtemp, rm, rmdir, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "../../api/types/core-v1.ts";
import { RuncRuntime } from "../../runtime/runc-runtime.ts";
import type { ImageInfo } from "../../runtime/types.ts";
import { podCgroupParent, podQOS } from "../qos.ts";
import { StatsProvider } from "./stats-provider.ts";

const BUSYBOX = "/bin/busybox";
const missing = [
  process.getuid?.() !== 0 ? "root" : "",
  existsSync("/usr/sbin/runc") ? "" : "runc",
  existsSync("/usr/bin/conmon") ? "" : "conmon",
  existsSync(BUSYBOX) ? "" : "busybox-static",
].filter((m) => m !== "");
if (missing.length > 0) console.warn(`SKIPPED stats-runc test: missing ${missing.join(", ")}`);

const IMAGE: ImageInfo = {
  ref: "docker.io/library/busybox:latest",
  digest: "sha256:" + "0".repeat(64),
  id: "sha256:" + "1".repeat(64),
  size: 0,
  entrypoint: [],
  cmd: ["sh"],
  env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  workingDir: "",
  user: "",
};

async function makeRootfs(dir: string): Promise<void> {
  await mkdir(join(dir, "bin"), { recursive: true });
  await copyFile(BUSYBOX, join(dir, "bin/busybox"));
  for (const a of ["sh", "head", "tr"]) await symlink("busybox", join(dir, "bin", a));
  for (const d of ["proc", "sys", "dev", "etc", "tmp"]) await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  await writeFile(join(dir, "etc/group"), "root:x:0:\n");
}

test(
  "stats of a real runc container: cpu rate, memory, pod cgroup, node",
  { skip: missing.length > 0 },
  async (t) => {
    const base = await mkdtemp(join(tmpdir(), "kites-stats-runc-"));
    const template = join(base, "template");
    await makeRootfs(template);
    const uid = randomUUID();
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "busy", namespace: "default", uid },
      spec: { containers: [{ name: "spin", image: "busybox" }] },
    };
    const cgroupParent = podCgroupParent(pod, podQOS(pod));
    const hierarchies = readdirSync("/sys/fs/cgroup");
    // Parents of the pod cgroup that exist already are left alone at the end.
    const preexisting = new Set(
      ["/kites/besteffort", "/kites"].filter((d) =>
        hierarchies.some((h) => existsSync(join("/sys/fs/cgroup", h, d))),
      ),
    );
    const rt = new RuncRuntime({
      stateDir: join(base, "state"),
      images: { get: async (r) => (r === IMAGE.ref ? IMAGE : undefined), list: async () => [IMAGE] },
      snapshots: {
        prepare: async (id) => {
          await cp(template, join(base, "snap", id), { recursive: true, verbatimSymlinks: true });
          return join(base, "snap", id);
        },
        remove: (id) => rm(join(base, "snap", id), { recursive: true, force: true }),
      },
      network: { podCIDR: "10.244.251.0/24", bridge: "kitest1", nodeIP: "127.0.0.1" },
    });
    t.after(async () => {
      await rt.stopSandbox(uid).catch(() => undefined);
      await rt.removeSandbox(uid).catch((e: unknown) => console.warn("cleanup", e));
      for (const c of await rt.runc.list().catch(() => [])) {
        await rt.runc.kill(c.id, "KILL", true).catch(() => undefined);
        await rt.runc.delete(c.id).catch(() => undefined);
      }
      for (const d of [cgroupParent, "/kites/besteffort", "/kites"]) {
        if (preexisting.has(d)) continue;
        for (const h of hierarchies) await rmdir(join("/sys/fs/cgroup", h, d)).catch(() => undefined);
      }
      await rm(base, { recursive: true, force: true });
    });

    await rt.runSandbox({
      uid,
      namespace: "default",
      name: "busy",
      hostname: "busy",
      hostNetwork: true,
      cgroupParent,
      hostsFile: "",
      resolvConf: "",
    });
    const id = await rt.createContainer(uid, {
      name: "spin",
      image: IMAGE.ref,
      // Keeps 8 MiB of anonymous memory (a shell variable) and spins until killed.
      argv: ["sh", "-c", 'x=$(head -c 8388608 /dev/zero | tr "\\0" a); while :; do :; done'],
      env: IMAGE.env,
      workingDir: "/",
      user: "",
      tty: false,
      stdin: false,
      mounts: [],
      logPath: join(base, "spin.log"),
      attempt: 0,
    });
    await rt.startContainer(id);

    const provider = new StatsProvider({
      runtime: rt,
      nodeName: "stats-node",
      podByUid: (u) => (u === uid ? pod : undefined),
      dataDir: base,
    });
    await provider.sample();
    await new Promise((r) => setTimeout(r, 1500));
    const s = await provider.summary();
    assert.equal(s.node.nodeName, "stats-node");
    const n0 = (x: number | undefined): number => x ?? 0;
    assert.ok(s.node.cpu?.usageNanoCores !== undefined && n0(s.node.cpu.usageCoreNanoSeconds) > 0);
    assert.ok(n0(s.node.memory?.workingSetBytes) > 0 && n0(s.node.fs?.capacityBytes) > 0);
    const ps = s.pods.find((p) => p.podRef.uid === uid);
    assert.ok(ps, JSON.stringify(s.pods));
    assert.deepEqual(ps.podRef, { name: "busy", namespace: "default", uid });
    assert.equal(ps.containers.length, 1);
    const c = ps.containers[0]!;
    assert.equal(c.name, "spin");
    assert.ok(n0(c.cpu?.usageCoreNanoSeconds) > 0, JSON.stringify(c));
    assert.ok(n0(c.cpu?.usageNanoCores) > 0, "the shell spun between the two samples");
    assert.ok(n0(c.memory?.usageBytes) > 0 && n0(c.memory?.workingSetBytes) <= n0(c.memory?.usageBytes));
    assert.ok(c.memory?.rssBytes !== undefined && n0(c.memory.pageFaults) > 0, JSON.stringify(c.memory));
    // The pod cgroup holds the container: at least as much cpu and memory as it.
    assert.ok(n0(ps.cpu?.usageCoreNanoSeconds) >= n0(c.cpu?.usageCoreNanoSeconds), JSON.stringify(ps.cpu));
    assert.ok(n0(ps.memory?.usageBytes) >= n0(c.memory?.usageBytes));
  },
);
