import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { ConfigMap, Pod, Secret } from "../../api/types/core-v1.ts";
import { checkHostPathType } from "./host-path.ts";
import type { ProjectionContext } from "./projection.ts";
import { VolumeError, VolumeManager } from "./volume-manager.ts";

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), "kites-vol-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test("hostPath type checks", (t) => {
  const d = tmp(t);
  const file = join(d, "f");
  writeFileSync(file, "x");
  checkHostPathType(join(d, "new-dir"), "DirectoryOrCreate");
  assert.ok(statSync(join(d, "new-dir")).isDirectory());
  checkHostPathType(join(d, "new-file"), "FileOrCreate");
  assert.ok(statSync(join(d, "new-file")).isFile());
  checkHostPathType(d, "Directory");
  checkHostPathType(file, "File");
  checkHostPathType("/dev/null", "CharDevice");
  checkHostPathType(join(d, "anything"), undefined);
  const failures: [string, string, string][] = [
    [join(d, "missing"), "Directory", `hostPath type check failed: ${join(d, "missing")} is not a directory`],
    [file, "Directory", `hostPath type check failed: ${file} is not a directory`],
    [file, "DirectoryOrCreate", `hostPath type check failed: ${file} is not a directory`],
    [d, "File", `hostPath type check failed: ${d} is not a file`],
    [file, "Socket", `hostPath type check failed: ${file} is not a socket file`],
    [file, "CharDevice", `hostPath type check failed: ${file} is not a character device`],
    [file, "BlockDevice", `hostPath type check failed: ${file} is not a block device`],
  ];
  for (const [p, type, msg] of failures)
    assert.throws(() => checkHostPathType(p, type), { message: msg }, `${type} ${p}`);
});

test("emptyDir, configMap (atomic update), secret, downwardAPI volumes and mounts", async (t) => {
  const d = tmp(t);
  const cm: ConfigMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cfg", namespace: "ns" },
    data: { a: "1", b: "2" },
  };
  const secret: Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "s", namespace: "ns" },
    data: { k: Buffer.from("v").toString("base64") },
  };
  const ctx: ProjectionContext = {
    objects: {
      configMap: (ns, n) => (n === "cfg" ? cm : undefined),
      secret: (ns, n) => (n === "s" ? secret : undefined),
    },
    podIPs: ["10.0.0.1"],
    hostIPs: ["127.0.0.1"],
    allocatable: {},
  };
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "ns", uid: "uid1", labels: { x: "y" } },
    spec: {
      containers: [
        {
          name: "c",
          volumeMounts: [
            { name: "scratch", mountPath: "/scratch" },
            { name: "scratch", mountPath: "/sub", subPath: "deep/dir" },
            { name: "cfg", mountPath: "/cfg" },
            { name: "sec", mountPath: "/sec", readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: "scratch", emptyDir: {} },
        { name: "cfg", configMap: { name: "cfg", items: [{ key: "a", path: "dir/a.txt", mode: 0o600 }] } },
        { name: "all", configMap: { name: "cfg" } },
        { name: "sec", secret: { secretName: "s", defaultMode: 0o400 } },
        {
          name: "info",
          downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] },
        },
      ],
    },
  };
  const vm = new VolumeManager(d, false);
  const vols = await vm.setup(pod, ctx);
  const base = join(d, "uid1", "volumes");
  assert.equal(vols.get("scratch")?.path, join(base, "kubernetes.io~empty-dir", "scratch"));
  assert.ok(statSync(vols.get("scratch")!.path).isDirectory());
  const cfgDir = join(base, "kubernetes.io~configmap", "cfg");
  assert.equal(readFileSync(join(cfgDir, "dir", "a.txt"), "utf8"), "1");
  assert.equal(statSync(join(cfgDir, "dir", "a.txt")).mode & 0o777, 0o600);
  assert.ok(lstatSync(join(cfgDir, "dir")).isSymbolicLink());
  assert.equal(readlinkSync(join(cfgDir, "dir")), "..data/dir");
  const allDir = join(base, "kubernetes.io~configmap", "all");
  assert.equal(readFileSync(join(allDir, "b"), "utf8"), "2");
  assert.equal(statSync(join(allDir, "b")).mode & 0o777, 0o644);
  const secDir = join(base, "kubernetes.io~secret", "sec");
  assert.equal(readFileSync(join(secDir, "k"), "utf8"), "v");
  assert.equal(statSync(join(secDir, "k")).mode & 0o777, 0o400);
  assert.equal(readFileSync(join(base, "kubernetes.io~downward-api", "info", "labels"), "utf8"), 'x="y"');

  // ConfigMap update: the ..data symlink swaps to a new directory; stale keys go.
  const before = readlinkSync(join(allDir, "..data"));
  cm.data = { a: "10" };
  await vm.setup(pod, ctx);
  assert.equal(readFileSync(join(allDir, "a"), "utf8"), "10");
  assert.equal(existsSync(join(allDir, "b")), false);
  assert.notEqual(readlinkSync(join(allDir, "..data")), before);
  assert.equal(existsSync(join(allDir, before)), false, "old payload removed");
  // Unchanged payload: no swap.
  const same = readlinkSync(join(allDir, "..data"));
  await vm.setup(pod, ctx);
  assert.equal(readlinkSync(join(allDir, "..data")), same);

  const mounts = vm.containerMounts(pod.spec!.containers[0]!, vols, new Map());
  assert.deepEqual(mounts, [
    {
      hostPath: join(base, "kubernetes.io~empty-dir", "scratch"),
      containerPath: "/scratch",
      readOnly: false,
    },
    {
      hostPath: join(base, "kubernetes.io~empty-dir", "scratch", "deep", "dir"),
      containerPath: "/sub",
      readOnly: false,
    },
    { hostPath: cfgDir, containerPath: "/cfg", readOnly: true },
    { hostPath: secDir, containerPath: "/sec", readOnly: true },
  ]);
  assert.ok(
    statSync(join(base, "kubernetes.io~empty-dir", "scratch", "deep", "dir")).isDirectory(),
    "subPath created",
  );
  assert.throws(
    () =>
      vm.containerMounts(
        { name: "c", volumeMounts: [{ name: "scratch", mountPath: "/x", subPath: "../../etc" }] },
        vols,
        new Map(),
      ),
    /escapes volume/,
  );

  await vm.teardown("uid1");
  assert.equal(existsSync(join(d, "uid1")), false);
});

test("a missing configMap or hostPath fails setup with a FailedMount message", async (t) => {
  const d = tmp(t);
  const ctx: ProjectionContext = {
    objects: { configMap: () => undefined, secret: () => undefined },
    podIPs: [],
    hostIPs: [],
    allocatable: {},
  };
  const mk = (volumes: NonNullable<Pod["spec"]>["volumes"]): Pod => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "ns", uid: "u2" },
    spec: { containers: [], volumes },
  });
  const vm = new VolumeManager(d, false);
  await assert.rejects(vm.setup(mk([{ name: "v", configMap: { name: "gone" } }]), ctx), (e: unknown) => {
    assert.ok(e instanceof VolumeError);
    assert.equal(e.message, 'MountVolume.SetUp failed for volume "v" : configmap "gone" not found');
    return true;
  });
  const missing = join(d, "nope");
  await assert.rejects(vm.setup(mk([{ name: "h", hostPath: { path: missing, type: "Directory" } }]), ctx), {
    message: `MountVolume.SetUp failed for volume "h" : hostPath type check failed: ${missing} is not a directory`,
  });
  const optional = await vm.setup(mk([{ name: "o", configMap: { name: "gone", optional: true } }]), ctx);
  assert.ok(optional.has("o"));
  mkdirSync(join(d, "x"));
});
