import { test } from "node:test";
import assert from "node:assert/strict";
import { MetricsApi, cpuQuantity, memoryQuantity, windowString } from "./metrics-api.ts";
import type { Node, Pod } from "../../api/types/core-v1.ts";
import type { Summary } from "../../kubelet/stats/summary-types.ts";
import { StatusError } from "../../api/status-error.ts";

const T0 = "2026-01-01T00:00:00Z";
const T1 = "2026-01-01T00:00:10Z";

function node(name: string, ready = true, labels: Record<string, string> = {}): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels },
    status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

function pod(ns: string, name: string, nodeName: string, labels: Record<string, string> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: ns, name, labels, uid: `${ns}-${name}` },
    spec: { nodeName, containers: [{ name: "c" }] },
    status: { phase: "Running" },
  };
}

function summary(nodeName: string, time: string, opts: { rate?: boolean; total: number }): Summary {
  const cpu = (nanos: number, rate: number) =>
    opts.rate ? { time, usageCoreNanoSeconds: nanos, usageNanoCores: rate } : { time, usageCoreNanoSeconds: nanos };
  return {
    node: { nodeName, startTime: T0, cpu: cpu(opts.total, 52336), memory: { time, workingSetBytes: 12345 * 1024 } },
    pods: [
      {
        podRef: { namespace: "default", name: "busy", uid: "default-busy" },
        startTime: T0,
        containers: [
          { name: "c", startTime: T0, cpu: cpu(opts.total / 2, 5e8), memory: { time, workingSetBytes: 2 * 1024 * 1024 } },
        ],
      },
      {
        podRef: { namespace: "other", name: "idle", uid: "other-idle" },
        startTime: T0,
        containers: [{ name: "c", startTime: T0, cpu: cpu(0, 0), memory: { time, workingSetBytes: 1000 } }],
      },
    ],
  };
}

function api(summaries: Summary[], nodes: Node[], pods: Pod[], clock = { t: 0 }): MetricsApi {
  let i = 0;
  return new MetricsApi({
    listNodes: () => Promise.resolve(nodes),
    listPods: (ns) => Promise.resolve(pods.filter((p) => !ns || p.metadata.namespace === ns)),
    fetchSummary: () => Promise.resolve(summaries[Math.min(i++, summaries.length - 1)]!),
    now: () => clock.t,
  });
}

test("quantities are printed in canonical form as metrics-server does", () => {
  assert.equal(cpuQuantity(52336), "52336n");
  assert.equal(cpuQuantity(5_000_000), "5m");
  assert.equal(cpuQuantity(2e9), "2");
  assert.equal(cpuQuantity(0), "0");
  assert.equal(memoryQuantity(12345 * 1024), "12345Ki");
  assert.equal(memoryQuantity(2 * 1024 * 1024), "2Mi");
  assert.equal(memoryQuantity(1000), "1000");
  assert.equal(windowString(10_000), "10s");
  assert.equal(windowString(1500), "1.5s");
});

test("NodeMetricsList from the agent's rate, labels copied, not-ready nodes left out", async () => {
  const a = api([summary("n1", T1, { rate: true, total: 1e9 })], [node("n1", true, { a: "b" }), node("n2", false)], []);
  const out = await a.serve("GET", "/apis/metrics.k8s.io/v1beta1/nodes", new URLSearchParams());
  assert.equal(out?.kind, "NodeMetricsList");
  assert.equal(out?.apiVersion, "metrics.k8s.io/v1beta1");
  const items = out?.items as Record<string, unknown>[];
  assert.equal(items.length, 1);
  assert.deepEqual(items[0], {
    metadata: { name: "n1", creationTimestamp: "1970-01-01T00:00:00Z", labels: { a: "b" } },
    timestamp: T1,
    window: "10s",
    usage: { cpu: "52336n", memory: "12345Ki" },
  });
  const one = await a.serve("GET", "/apis/metrics.k8s.io/v1beta1/nodes/n1", new URLSearchParams());
  assert.equal(one?.kind, "NodeMetrics");
  await assert.rejects(
    a.serve("GET", "/apis/metrics.k8s.io/v1beta1/nodes/nope", new URLSearchParams()),
    (e: unknown) => e instanceof StatusError && e.code === 404 && /nodemetrics.metrics.k8s.io "nope" not found/.test(e.message),
  );
});

test("without an agent rate, cpu comes from two scrapes of cumulative usage", async () => {
  const clock = { t: 0 };
  const a = api(
    [summary("n1", T0, { total: 1e9 }), summary("n1", T1, { total: 6e9 })],
    [node("n1")],
    [pod("default", "busy", "n1")],
    clock,
  );
  const first = await a.serve("GET", "/apis/metrics.k8s.io/v1beta1/nodes", new URLSearchParams());
  assert.equal((first?.items as unknown[]).length, 0, "one point is not a rate");
  clock.t = 10_000; // past the cache
  const second = await a.serve("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy", new URLSearchParams());
  assert.equal(second?.kind, "PodMetrics");
  assert.equal(second?.window, "10s");
  // (3e9 - 0.5e9) core-ns over 10 s = 0.25 cores
  assert.deepEqual(second?.containers, [{ name: "c", usage: { cpu: "250m", memory: "2Mi" } }]);
});

test("PodMetricsList: all namespaces, one namespace, label selector, 404 text", async () => {
  const pods = [pod("default", "busy", "n1", { app: "busy" }), pod("other", "idle", "n1", { app: "idle" })];
  const a = api([summary("n1", T1, { rate: true, total: 1e9 })], [node("n1")], pods);
  const all = await a.serve("GET", "/apis/metrics.k8s.io/v1beta1/pods", new URLSearchParams());
  assert.equal(all?.kind, "PodMetricsList");
  const items = all?.items as { metadata: { name: string; namespace: string; labels: unknown }; containers: unknown }[];
  assert.deepEqual(items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`), ["default/busy", "other/idle"]);
  assert.deepEqual(items[0]!.metadata.labels, { app: "busy" });
  assert.deepEqual(items[0]!.containers, [{ name: "c", usage: { cpu: "500m", memory: "2Mi" } }]);
  const ns = await a.serve("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/other/pods", new URLSearchParams());
  assert.equal((ns?.items as unknown[]).length, 1);
  const sel = await a.serve("GET", "/apis/metrics.k8s.io/v1beta1/pods", new URLSearchParams("labelSelector=app%3Dbusy"));
  assert.deepEqual((sel?.items as typeof items).map((i) => i.metadata.name), ["busy"]);
  await assert.rejects(
    a.serve("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/x", new URLSearchParams()),
    (e: unknown) => e instanceof StatusError && e.code === 404 && e.message === 'podmetrics.metrics.k8s.io "default/x" not found',
  );
  assert.equal(await a.serve("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/x/nodes", new URLSearchParams()), undefined);
});

test("a node's Summary is scraped once per cache period", async () => {
  let calls = 0;
  const clock = { t: 0 };
  const a = new MetricsApi({
    listNodes: () => Promise.resolve([node("n1")]),
    listPods: () => Promise.resolve([]),
    fetchSummary: () => {
      calls++;
      return Promise.resolve(summary("n1", T1, { rate: true, total: 1 }));
    },
    now: () => clock.t,
  });
  await a.nodeMetrics("", undefined);
  await a.nodeMetrics("", undefined);
  assert.equal(calls, 1);
  clock.t = 60_000;
  await a.nodeMetrics("", undefined);
  assert.equal(calls, 2);
});
