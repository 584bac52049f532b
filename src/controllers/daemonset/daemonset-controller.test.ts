import assert from "node:assert/strict";
import { test } from "node:test";
import type { DaemonSet } from "../../api/types/apps-v1.ts";
import type { Node, Pod } from "../../api/types/core-v1.ts";
import { Harness } from "../statefulset/statefulset-test-util.ts";
import { DaemonSetController } from "./daemonset-controller.ts";
import { targetNodeName } from "./daemonset-pods.ts";

function ds(spec: Partial<NonNullable<DaemonSet["spec"]>> = {}): DaemonSet {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "agent", namespace: "default", generation: 1 },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
      template: {
        metadata: { labels: { app: "agent" } },
        spec: { containers: [{ name: "c", image: "agent:1" }] },
      },
      ...spec,
    },
  };
}

function node(name: string, labels: Record<string, string> = {}): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name, labels }, spec: {} };
}

async function setup(objs: (DaemonSet | Node | Pod)[]): Promise<{ h: Harness; c: DaemonSetController }> {
  const h = new Harness(objs);
  const c = new DaemonSetController({
    client: h.fake,
    informers: h.informers,
    recorder: h.recorder,
    now: h.clock.now,
  });
  await h.start();
  return { h, c };
}

async function sync(h: Harness, c: DaemonSetController): Promise<void> {
  await h.settle();
  await c.reconcile({ namespace: "default", name: "agent" });
  await h.settle();
}

const nodesOf = (h: Harness): string[] =>
  h
    .pods()
    .map((p) => targetNodeName(p) ?? "?")
    .sort();
const status = (h: Harness) => h.fake.objects<DaemonSet>("apps", "daemonsets")[0]!.status!;

async function readyAll(h: Harness): Promise<void> {
  for (const p of h.pods())
    if (p.status?.phase !== "Running") await h.setPodPhase("default", p.metadata.name!, "Running");
}

async function setImage(
  h: Harness,
  image: string,
  strategy?: NonNullable<DaemonSet["spec"]>["updateStrategy"],
): Promise<void> {
  const client = h.fake.resource<DaemonSet>("apps", "daemonsets");
  const d = await client.get("default", "agent");
  d.spec!.template.spec!.containers[0]!.image = image;
  if (strategy) d.spec!.updateStrategy = strategy;
  await client.update(d);
}

test("one pod per eligible node, pinned by a metadata.name node affinity, with the daemon tolerations", async () => {
  const { h, c } = await setup([
    ds({
      template: {
        metadata: { labels: { app: "agent" } },
        spec: { nodeSelector: { os: "linux" }, containers: [{ name: "c" }] },
      },
    }),
    node("n1", { os: "linux" }),
    node("n2", { os: "linux" }),
    node("n3", { os: "windows" }),
  ]);
  try {
    await sync(h, c);
    // A second sync before the informer saw anything must not double-create (expectations).
    await c.reconcile({ namespace: "default", name: "agent" });
    await h.settle();
    assert.deepEqual(nodesOf(h), ["n1", "n2"]);
    const pod = h.pods()[0]!;
    assert.ok(pod.metadata.name?.startsWith("agent-"));
    assert.deepEqual(pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, {
      nodeSelectorTerms: [
        { matchFields: [{ key: "metadata.name", operator: "In", values: [targetNodeName(pod)] }] },
      ],
    });
    assert.equal(pod.spec?.nodeName, undefined, "the scheduler binds it");
    const tolKeys = pod.spec?.tolerations?.map((t) => `${t.key}:${t.effect}`);
    assert.deepEqual(tolKeys, [
      "node.kubernetes.io/not-ready:NoExecute",
      "node.kubernetes.io/unreachable:NoExecute",
      "node.kubernetes.io/disk-pressure:NoSchedule",
      "node.kubernetes.io/memory-pressure:NoSchedule",
      "node.kubernetes.io/pid-pressure:NoSchedule",
      "node.kubernetes.io/unschedulable:NoSchedule",
    ]);
    assert.ok(pod.metadata.labels?.["controller-revision-hash"]);
    assert.equal(pod.metadata.labels?.["pod-template-generation"], "1");
    assert.equal(h.eventsWith("SuccessfulCreate").length, 2);
    assert.match(h.eventsWith("SuccessfulCreate")[0]!.message, /^Created pod: agent-[a-z0-9]{5}$/);

    await readyAll(h);
    await sync(h, c);
    const st = status(h);
    assert.deepEqual(
      [
        st.desiredNumberScheduled,
        st.currentNumberScheduled,
        st.numberReady,
        st.numberAvailable,
        st.updatedNumberScheduled,
        st.numberMisscheduled,
        st.numberUnavailable,
        st.observedGeneration,
      ],
      [2, 2, 2, 2, 2, 0, undefined, 1],
    );
  } finally {
    h.stop();
  }
});

test("follows nodes: a new node gets a pod, a removed node's unscheduled pod goes, an evicting taint removes it", async () => {
  const { h, c } = await setup([ds(), node("n1")]);
  try {
    await sync(h, c);
    assert.deepEqual(nodesOf(h), ["n1"]);
    await h.fake.resource<Node>("", "nodes").create(node("n2"));
    await sync(h, c);
    assert.deepEqual(nodesOf(h), ["n1", "n2"]);
    await h.fake.resource<Node>("", "nodes").delete(undefined, "n2");
    await sync(h, c);
    assert.deepEqual(nodesOf(h), ["n1"]);
    const nodes = h.fake.resource<Node>("", "nodes");
    const n1 = await nodes.get(undefined, "n1");
    n1.spec = { taints: [{ key: "maintenance", effect: "NoExecute" }] };
    await nodes.update(n1);
    await sync(h, c);
    assert.deepEqual(nodesOf(h), []);
    assert.equal(status(h).desiredNumberScheduled, 0);
  } finally {
    h.stop();
  }
});

test("rolling update with maxUnavailable 1 replaces one node at a time", async () => {
  const { h, c } = await setup([ds(), node("n1"), node("n2"), node("n3")]);
  try {
    await sync(h, c);
    await readyAll(h);
    await setImage(h, "agent:2");
    await sync(h, c);
    assert.equal(h.pods().length, 2, "one old pod deleted");
    await sync(h, c);
    assert.equal(h.pods().length, 3, "its replacement created");
    assert.equal(h.pods().filter((p) => p.spec?.containers[0]?.image === "agent:2").length, 1);
    await sync(h, c);
    assert.equal(h.pods().length, 3, "no further deletion while the new pod is unavailable");
    for (let i = 0; i < 6; i++) {
      await readyAll(h);
      await sync(h, c);
    }
    assert.deepEqual(
      h.pods().map((p) => p.spec?.containers[0]?.image),
      ["agent:2", "agent:2", "agent:2"],
    );
    assert.deepEqual(nodesOf(h), ["n1", "n2", "n3"]);
    assert.equal(status(h).updatedNumberScheduled, 3);
  } finally {
    h.stop();
  }
});

test("rolling update with maxSurge starts the new pod beside the old one, then removes the old", async () => {
  const { h, c } = await setup([ds(), node("n1")]);
  try {
    await sync(h, c);
    await readyAll(h);
    await setImage(h, "agent:2", {
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
    await sync(h, c);
    assert.deepEqual(
      h
        .pods()
        .map((p) => p.spec?.containers[0]?.image)
        .sort(),
      ["agent:1", "agent:2"],
    );
    await sync(h, c);
    assert.equal(h.pods().length, 2, "the old pod stays until the new one is available");
    await readyAll(h);
    await sync(h, c);
    assert.deepEqual(
      h.pods().map((p) => p.spec?.containers[0]?.image),
      ["agent:2"],
    );
  } finally {
    h.stop();
  }
});

test("OnDelete: the template change waits for the user to delete the pod", async () => {
  const { h, c } = await setup([ds({ updateStrategy: { type: "OnDelete" } }), node("n1")]);
  try {
    await sync(h, c);
    await readyAll(h);
    await setImage(h, "agent:2");
    await sync(h, c);
    assert.deepEqual(
      h.pods().map((p) => p.spec?.containers[0]?.image),
      ["agent:1"],
    );
    assert.equal(status(h).updatedNumberScheduled, undefined);
    await h.fake.resource<Pod>("", "pods").delete("default", h.pods()[0]!.metadata.name!);
    await sync(h, c);
    assert.deepEqual(
      h.pods().map((p) => p.spec?.containers[0]?.image),
      ["agent:2"],
    );
  } finally {
    h.stop();
  }
});

test("a failed daemon pod is killed and replaced", async () => {
  const { h, c } = await setup([ds(), node("n1")]);
  try {
    await sync(h, c);
    const name = h.pods()[0]!.metadata.name!;
    await h.setPodPhase("default", name, "Failed");
    await sync(h, c);
    assert.equal(h.pods().length, 0);
    assert.equal(
      h.eventsWith("FailedDaemonPod")[0]?.message,
      `Found failed daemon pod default/${name} on node n1, will try to kill it`,
    );
    await sync(h, c);
    assert.equal(h.pods().length, 1);
    assert.notEqual(h.pods()[0]!.metadata.name, name);
  } finally {
    h.stop();
  }
});
