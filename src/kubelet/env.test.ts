import assert from "node:assert/strict";
import { test } from "node:test";
import type { ConfigMap, Container, Pod, Secret, Service } from "../api/types/core-v1.ts";
import { ContainerConfigError, mergeEnv, resolveEnv, type EnvContext } from "./env.ts";

const b64 = (s: string): string => Buffer.from(s).toString("base64");

const cm: ConfigMap = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "cfg", namespace: "ns" },
  data: { color: "blue", "bad key": "x", size: "3" },
};
const secret: Secret = {
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "sec", namespace: "ns" },
  data: { password: b64("hunter2") },
};
const kubeSvc: Service = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "kubernetes", namespace: "default" },
  spec: { clusterIP: "10.96.0.1", ports: [{ name: "https", port: 443, protocol: "TCP" }] },
};

function pod(c: Container): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "p",
      namespace: "ns",
      uid: "u-1",
      labels: { app: "web" },
      annotations: { "batch.kubernetes.io/job-completion-index": "4" },
    },
    spec: { nodeName: "n1", serviceAccountName: "sa", containers: [c] },
  };
}

function ctx(warnings: string[] = []): EnvContext {
  return {
    objects: {
      configMap: (ns, n) => (ns === "ns" && n === "cfg" ? cm : undefined),
      secret: (ns, n) => (ns === "ns" && n === "sec" ? secret : undefined),
    },
    services: [kubeSvc],
    podIPs: ["10.244.0.9"],
    hostIPs: ["192.0.2.10"],
    allocatable: { cpu: "2", memory: "4Gi" },
    warn: (_r, m) => warnings.push(m),
  };
}

test("env resolution: values, valueFrom, envFrom, expansion, service links", () => {
  const c: Container = {
    name: "c",
    image: "busybox",
    envFrom: [
      { configMapRef: { name: "cfg" }, prefix: "CFG_" },
      { secretRef: { name: "missing", optional: true } },
    ],
    env: [
      { name: "A", value: "a" },
      { name: "B", value: "$(A)-$(CFG_color)-$(NOPE)-$$(A)" },
      { name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      { name: "UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
      { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
      { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
      { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
      { name: "HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
      { name: "COLOR", valueFrom: { configMapKeyRef: { name: "cfg", key: "color" } } },
      { name: "PW", valueFrom: { secretKeyRef: { name: "sec", key: "password" } } },
      { name: "OPT", valueFrom: { configMapKeyRef: { name: "cfg", key: "nokey", optional: true } } },
      { name: "MEM", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
      { name: "CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu", divisor: "1m" } } },
      { name: "CPU_REQ", valueFrom: { resourceFieldRef: { resource: "requests.cpu" } } },
    ],
    resources: { limits: { memory: "64Mi" }, requests: { cpu: "250m" } },
  };
  const warnings: string[] = [];
  const env = new Map(resolveEnv(pod(c), c, ctx(warnings)));
  const want: Record<string, string> = {
    CFG_color: "blue",
    CFG_size: "3",
    A: "a",
    B: "a-blue-$(NOPE)-$(A)",
    NAME: "p",
    NS: "ns",
    UID: "u-1",
    APP: "web",
    NODE: "n1",
    SA: "sa",
    POD_IP: "10.244.0.9",
    HOST_IP: "192.0.2.10",
    COLOR: "blue",
    PW: "hunter2",
    MEM: "64",
    CPU: "2000",
    CPU_REQ: "1",
    JOB_COMPLETION_INDEX: "4",
    KUBERNETES_SERVICE_HOST: "10.96.0.1",
    KUBERNETES_SERVICE_PORT: "443",
    KUBERNETES_SERVICE_PORT_HTTPS: "443",
    KUBERNETES_PORT: "tcp://10.96.0.1:443",
    KUBERNETES_PORT_443_TCP: "tcp://10.96.0.1:443",
    KUBERNETES_PORT_443_TCP_ADDR: "10.96.0.1",
  };
  for (const [k, v] of Object.entries(want)) assert.equal(env.get(k), v, k);
  assert.equal(env.has("OPT"), false);
  assert.equal(env.has("CFG_bad key"), false);
  assert.deepEqual(warnings, [
    "Keys [CFG_bad key] from the EnvFrom configMap ns/cfg were skipped since they are considered invalid environment variable names.",
  ]);
});

test("missing required sources are CreateContainerConfigErrors with upstream's messages", () => {
  const cases: [Container["env"], Container["envFrom"], string][] = [
    [
      [{ name: "X", valueFrom: { configMapKeyRef: { name: "nope", key: "k" } } }],
      undefined,
      'configmap "nope" not found',
    ],
    [
      [{ name: "X", valueFrom: { configMapKeyRef: { name: "cfg", key: "k" } } }],
      undefined,
      "couldn't find key k in ConfigMap ns/cfg",
    ],
    [
      [{ name: "X", valueFrom: { secretKeyRef: { name: "nope", key: "k" } } }],
      undefined,
      'secret "nope" not found',
    ],
    [
      [{ name: "X", valueFrom: { secretKeyRef: { name: "sec", key: "k" } } }],
      undefined,
      "couldn't find key k in Secret ns/sec",
    ],
    [undefined, [{ configMapRef: { name: "nope" } }], 'configmap "nope" not found'],
  ];
  for (const [env, envFrom, msg] of cases) {
    const c: Container = { name: "c", env, envFrom };
    assert.throws(
      () => resolveEnv(pod(c), c, ctx()),
      (e: unknown) => e instanceof ContainerConfigError && e.message === msg,
      msg,
    );
  }
});

test("pod env overrides image env in place", () => {
  assert.deepEqual(
    mergeEnv(
      ["PATH=/bin", "HOME=/root"],
      [
        ["HOME", "/home/x"],
        ["A", "1"],
      ],
    ),
    ["PATH=/bin", "HOME=/home/x", "A=1"],
  );
});
