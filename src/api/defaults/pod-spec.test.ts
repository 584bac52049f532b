import { test } from "node:test";
import assert from "node:assert/strict";
import type { PodSpec, PodTemplateSpec } from "../types/core-v1.ts";
import {
  defaultPodOnlyFields,
  defaultPodSpec,
  defaultPodTemplateSpec,
  defaultPullPolicy,
  imageTag,
} from "./pod-spec.ts";

test("imageTag and defaultPullPolicy follow upstream's ParseImageName", () => {
  const cases: [string, string, string][] = [
    ["nginx", "latest", "Always"],
    ["nginx:latest", "latest", "Always"],
    ["nginx:1.25", "1.25", "IfNotPresent"],
    ["localhost:5000/app", "latest", "Always"],
    ["localhost:5000/app:v2", "v2", "IfNotPresent"],
    ["busybox@sha256:abcd", "", "IfNotPresent"],
    ["busybox:1.36@sha256:abcd", "1.36", "IfNotPresent"],
  ];
  for (const [image, tag, policy] of cases) {
    assert.equal(imageTag(image), tag, image);
    assert.equal(defaultPullPolicy(image), policy, image);
  }
});

test("defaultPodSpec fills pod-level defaults", () => {
  const spec: PodSpec = { containers: [{ name: "c", image: "nginx" }] };
  defaultPodSpec(spec);
  assert.equal(spec.restartPolicy, "Always");
  assert.equal(spec.dnsPolicy, "ClusterFirst");
  assert.equal(spec.schedulerName, "default-scheduler");
  assert.equal(spec.terminationGracePeriodSeconds, 30);
  assert.deepEqual(spec.securityContext, {});
  // Template-safe: these are Pod-only in upstream.
  assert.equal(spec.enableServiceLinks, undefined);
});

test("defaultPodSpec keeps explicit values", () => {
  const spec: PodSpec = {
    containers: [{ name: "c", image: "nginx:1", imagePullPolicy: "Never" }],
    restartPolicy: "Never",
    dnsPolicy: "Default",
    terminationGracePeriodSeconds: 0,
  };
  defaultPodSpec(spec);
  assert.equal(spec.restartPolicy, "Never");
  assert.equal(spec.dnsPolicy, "Default");
  assert.equal(spec.terminationGracePeriodSeconds, 0);
  assert.equal(spec.containers[0]!.imagePullPolicy, "Never");
});

test("container defaults: pull policy, termination message, ports, probes, env fieldRef", () => {
  const spec: PodSpec = {
    containers: [
      {
        name: "c",
        image: "nginx:1.25",
        ports: [{ containerPort: 80 }],
        env: [{ name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
        livenessProbe: { httpGet: { port: 80 } },
        readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 },
      },
    ],
    initContainers: [{ name: "i", image: "busybox" }],
  };
  defaultPodSpec(spec);
  const c = spec.containers[0]!;
  assert.equal(c.imagePullPolicy, "IfNotPresent");
  assert.equal(c.terminationMessagePath, "/dev/termination-log");
  assert.equal(c.terminationMessagePolicy, "File");
  assert.equal(c.ports![0]!.protocol, "TCP");
  assert.equal(c.env![0]!.valueFrom!.fieldRef!.apiVersion, "v1");
  assert.deepEqual(c.livenessProbe, {
    httpGet: { port: 80, path: "/", scheme: "HTTP" },
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
  });
  assert.equal(c.readinessProbe!.periodSeconds, 5);
  assert.equal(spec.initContainers![0]!.imagePullPolicy, "Always");
});

test("volume defaults", () => {
  const spec: PodSpec = {
    containers: [],
    volumes: [
      { name: "empty" },
      { name: "s", secret: { secretName: "x" } },
      { name: "cm", configMap: { name: "x", defaultMode: 0o400 } },
      { name: "hp", hostPath: { path: "/data" } },
      { name: "p", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } },
      { name: "d", downwardAPI: { items: [{ path: "n", fieldRef: { fieldPath: "metadata.name" } }] } },
    ],
  };
  defaultPodSpec(spec);
  const [empty, s, cm, hp, p, d] = spec.volumes!;
  assert.deepEqual(empty, { name: "empty", emptyDir: {} });
  assert.equal(s!.secret!.defaultMode, 420);
  assert.equal(cm!.configMap!.defaultMode, 0o400);
  assert.equal(hp!.hostPath!.type, "");
  assert.equal(p!.projected!.defaultMode, 420);
  assert.equal(p!.projected!.sources![0]!.serviceAccountToken!.expirationSeconds, 3600);
  assert.equal(d!.downwardAPI!.items![0]!.fieldRef!.apiVersion, "v1");
});

test("serviceAccount and serviceAccountName are kept in step", () => {
  const a: PodSpec = { containers: [], serviceAccount: "old" };
  defaultPodSpec(a);
  assert.equal(a.serviceAccountName, "old");
  const b: PodSpec = { containers: [], serviceAccountName: "new", serviceAccount: "old" };
  defaultPodSpec(b);
  assert.equal(b.serviceAccount, "new");
});

test("defaultPodTemplateSpec defaults the nested spec", () => {
  const tpl: PodTemplateSpec = {
    metadata: { labels: { app: "x" } },
    spec: { containers: [{ name: "c", image: "nginx" }] },
  };
  defaultPodTemplateSpec(tpl);
  assert.equal(tpl.spec!.containers[0]!.imagePullPolicy, "Always");
  assert.deepEqual(tpl.metadata, { labels: { app: "x" } });
});

test("defaultPodOnlyFields: requests from limits, enableServiceLinks, host network ports", () => {
  const spec: PodSpec = {
    hostNetwork: true,
    containers: [
      {
        name: "c",
        resources: { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: "100m" } },
        ports: [{ containerPort: 8080 }],
      },
    ],
  };
  defaultPodOnlyFields(spec);
  assert.deepEqual(spec.containers[0]!.resources!.requests, { cpu: "100m", memory: "1Gi" });
  assert.equal(spec.enableServiceLinks, true);
  assert.equal(spec.containers[0]!.ports![0]!.hostPort, 8080);
});
