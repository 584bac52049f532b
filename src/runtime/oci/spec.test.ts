import { test } from "node:test";
import assert from "node:assert/strict";
import type { ContainerConfig, SandboxConfig } from "../types.ts";
import { buildSpec, DEFAULT_CAPABILITIES, milliCpuToQuota, type SpecInput } from "./spec.ts";
import { resolveUser } from "./user.ts";

function container(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    name: "app",
    image: "docker.io/library/busybox:latest",
    argv: ["sh", "-c", "true"],
    env: ["PATH=/bin", "A=1"],
    workingDir: "",
    user: "",
    tty: false,
    stdin: false,
    mounts: [],
    logPath: "/var/log/pods/x/app/0.log",
    attempt: 0,
    ...over,
  };
}

function sandbox(over: Partial<SandboxConfig> = {}): SandboxConfig {
  return {
    uid: "u1",
    namespace: "default",
    name: "p",
    hostname: "p",
    hostNetwork: false,
    cgroupParent: "/kites/podu1",
    hostsFile: "/s/hosts",
    resolvConf: "/s/resolv.conf",
    ...over,
  };
}

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    containerId: "c1",
    container: container(),
    sandbox: sandbox(),
    paths: {
      rootfs: "/snap/c1/rootfs",
      netnsPath: "/var/run/netns/kites-u1",
      utsPath: "/state/sb/u1/uts",
      ipcPath: "/state/sb/u1/ipc",
      hostsFile: "/s/hosts",
      resolvConf: "/s/resolv.conf",
      hostnameFile: "/s/hostname",
    },
    user: { uid: 0, gid: 0 },
    ...over,
  };
}

test("buildSpec: namespaces, process and cgroup path", () => {
  const s = buildSpec(input());
  assert.deepEqual(s.linux.namespaces, [
    { type: "pid" },
    { type: "mount" },
    { type: "ipc", path: "/state/sb/u1/ipc" },
    { type: "uts", path: "/state/sb/u1/uts" },
    { type: "network", path: "/var/run/netns/kites-u1" },
  ]);
  assert.equal(s.hostname, undefined, "hostname is set in the shared UTS namespace, not per container");
  assert.equal(s.linux.cgroupsPath, "/kites/podu1/c1");
  assert.deepEqual(s.process.args, ["sh", "-c", "true"]);
  assert.deepEqual(s.process.env, ["HOSTNAME=p", "PATH=/bin", "A=1"]);
  assert.equal(s.process.cwd, "/");
  assert.deepEqual(s.process.rlimits, [{ type: "RLIMIT_NOFILE", hard: 1048576, soft: 1048576 }]);
  assert.equal(s.process.capabilities.bounding.length, 14);
  assert.deepEqual(s.process.capabilities.effective, [...DEFAULT_CAPABILITIES]);
  assert.equal(s.root.path, "/snap/c1/rootfs");
  assert.ok(s.linux.maskedPaths.includes("/proc/kcore"));
  assert.ok(s.linux.readonlyPaths.includes("/proc/sys"));
  assert.equal(s.annotations?.["io.kubernetes.container.name"], "app");
});

test("buildSpec: own UTS namespace with hostname when no sandbox UTS; host network joins no netns", () => {
  const base = input();
  const s = buildSpec({ ...base, paths: { ...base.paths, utsPath: "", ipcPath: "" } });
  assert.equal(s.hostname, "p");
  assert.deepEqual(
    s.linux.namespaces.map((n) => n.type),
    ["pid", "mount", "ipc", "uts", "network"],
  );
  const h = buildSpec({
    ...base,
    sandbox: sandbox({ hostNetwork: true }),
    paths: { ...base.paths, netnsPath: "", utsPath: "", ipcPath: "" },
  });
  assert.equal(h.hostname, undefined);
  assert.deepEqual(
    h.linux.namespaces.map((n) => n.type),
    ["pid", "mount", "ipc"],
  );
});

const resourceCases: { name: string; over: Partial<ContainerConfig>; want: unknown }[] = [
  { name: "unlimited", over: {}, want: { devices: [{ allow: false, access: "rwm" }] } },
  {
    name: "memory",
    over: { memoryLimitBytes: 8 << 20 },
    want: { devices: [{ allow: false, access: "rwm" }], memory: { limit: 8 << 20, swap: 8 << 20 } },
  },
  {
    name: "cpu 500m + shares",
    over: { cpuQuotaMillis: 500, cpuShares: 512 },
    want: { devices: [{ allow: false, access: "rwm" }], cpu: { shares: 512, quota: 50000, period: 100000 } },
  },
  {
    name: "tiny cpu clamps to the minimum quota",
    over: { cpuQuotaMillis: 1 },
    want: { devices: [{ allow: false, access: "rwm" }], cpu: { quota: 1000, period: 100000 } },
  },
  {
    name: "pids",
    over: { pidsLimit: 64 },
    want: { devices: [{ allow: false, access: "rwm" }], pids: { limit: 64 } },
  },
];

for (const c of resourceCases) {
  test(`buildSpec resources: ${c.name}`, () => {
    assert.deepEqual(buildSpec(input({ container: container(c.over) })).linux.resources, c.want);
  });
}

test("milliCpuToQuota", () => {
  assert.equal(milliCpuToQuota(0), 0);
  assert.equal(milliCpuToQuota(1000), 100000);
  assert.equal(milliCpuToQuota(2500), 250000);
});

test("buildSpec mounts: defaults, sandbox files, volumes by depth; a volume overrides a default", () => {
  const s = buildSpec(
    input({
      container: container({
        mounts: [
          { hostPath: "/v/deep", containerPath: "/data/sub/", readOnly: true },
          { hostPath: "/v/data", containerPath: "/data", readOnly: false },
          { hostPath: "/v/shm", containerPath: "/dev/shm", readOnly: false },
        ],
      }),
    }),
  );
  const dests = s.mounts.map((m) => m.destination);
  assert.deepEqual(dests, [
    "/proc",
    "/dev",
    "/dev/pts",
    "/dev/mqueue",
    "/sys",
    "/sys/fs/cgroup",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/hostname",
    "/data",
    "/data/sub",
    "/dev/shm",
  ]);
  const sub = s.mounts.find((m) => m.destination === "/data/sub");
  assert.deepEqual(sub, {
    destination: "/data/sub",
    type: "bind",
    source: "/v/deep",
    options: ["rbind", "rprivate", "ro"],
  });
  assert.ok(s.mounts.find((m) => m.destination === "/sys")?.options?.includes("ro"));
  assert.equal(s.mounts.find((m) => m.destination === "/etc/hosts")?.source, "/s/hosts");
});

test("buildSpec: user, cwd, tty, oomScoreAdj, env keeps an explicit PATH", () => {
  const s = buildSpec(
    input({
      container: container({ tty: true, workingDir: "/work", env: ["X=1"] }),
      user: { uid: 1000, gid: 100, additionalGids: [10] },
      oomScoreAdj: 1000,
    }),
  );
  assert.equal(s.process.terminal, true);
  assert.equal(s.process.cwd, "/work");
  assert.deepEqual(s.process.user, { uid: 1000, gid: 100, additionalGids: [10] });
  assert.equal(s.process.oomScoreAdj, 1000);
  assert.equal(s.process.env[0], "HOSTNAME=p");
  assert.ok(s.process.env[1]?.startsWith("PATH=/usr/local/sbin"), "default PATH added when missing");
});

const passwd =
  "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1001::/home/app:/bin/sh\n";
const group = "root:x:0:\nwheel:x:10:app\napp:x:1001:\nnogroup:x:65534:\n";

const userCases: { user: string; want: unknown }[] = [
  { user: "", want: { uid: 0, gid: 0 } },
  { user: "1000", want: { uid: 1000, gid: 1001, additionalGids: [10] } },
  { user: "1000:5", want: { uid: 1000, gid: 5, additionalGids: [10] } },
  { user: "4242", want: { uid: 4242, gid: 0 } },
  { user: "nobody", want: { uid: 65534, gid: 65534 } },
  { user: "app:nogroup", want: { uid: 1000, gid: 65534, additionalGids: [10] } },
];

for (const c of userCases) {
  test(`resolveUser ${JSON.stringify(c.user)}`, () => {
    assert.deepEqual(resolveUser(c.user, passwd, group), c.want);
  });
}

test("resolveUser: unknown names fail with runc's wording", () => {
  assert.throws(() => resolveUser("ghost", passwd, group), /unable to find user ghost/);
  assert.throws(() => resolveUser("0:ghosts", passwd, group), /unable to find group ghosts/);
});
