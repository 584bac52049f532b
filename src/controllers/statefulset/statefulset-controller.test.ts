import assert from "node:assert/strict";
import { test } from "node:test";
import type { ControllerRevision, StatefulSet } from "../../api/types/apps-v1.ts";
import type { Pod } from "../../api/types/core-v1.ts";
import { StatefulSetController } from "./statefulset-controller.ts";
import { Harness } from "./statefulset-test-util.ts";

function sts(name: string, spec: Partial<NonNullable<StatefulSet["spec"]>> = {}): StatefulSet {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace: "default", generation: 1 },
    spec: {
      replicas: 3,
      serviceName: "nginx",
      selector: { matchLabels: { app: name } },
      podManagementPolicy: "OrderedReady",
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "c", image: "nginx:1" }] },
      },
      ...spec,
    },
  };
}

async function setup(set: StatefulSet): Promise<{ h: Harness; c: StatefulSetController }> {
  const h = new Harness([set]);
  const c = new StatefulSetController({
    client: h.fake,
    informers: h.informers,
    recorder: h.recorder,
    now: h.clock.now,
  });
  await h.start();
  return { h, c };
}

async function sync(h: Harness, c: StatefulSetController, name = "web"): Promise<void> {
  await h.settle();
  await c.reconcile({ namespace: "default", name });
  await h.settle();
}

async function readyAll(h: Harness): Promise<void> {
  for (const p of h.pods()) {
    if (p.status?.phase !== "Running") await h.setPodPhase("default", p.metadata.name!, "Running");
  }
}

function getSet(h: Harness, name = "web"): StatefulSet {
  return h.fake.objects<StatefulSet>("apps", "statefulsets").find((s) => s.metadata.name === name)!;
}

async function updateTemplate(
  h: Harness,
  image: string,
  extra: Partial<NonNullable<StatefulSet["spec"]>> = {},
): Promise<void> {
  const client = h.fake.resource<StatefulSet>("apps", "statefulsets");
  const s = await client.get("default", "web");
  s.spec!.template.spec!.containers[0]!.image = image;
  Object.assign(s.spec!, extra);
  await client.update(s);
}

test("OrderedReady creates web-0..2 one at a time, each after the previous is Running and Ready", async () => {
  const { h, c } = await setup(sts("web"));
  try {
    await sync(h, c);
    assert.deepEqual(
      h.pods().map((p) => p.metadata.name),
      ["web-0"],
    );
    await sync(h, c);
    assert.equal(h.pods().length, 1, "waits while web-0 is not ready");
    await h.setPodPhase("default", "web-0", "Running");
    await sync(h, c);
    assert.deepEqual(
      h.pods().map((p) => p.metadata.name),
      ["web-0", "web-1"],
    );
    await h.setPodPhase("default", "web-1", "Running");
    await sync(h, c);
    await h.setPodPhase("default", "web-2", "Running");
    await sync(h, c);

    const pod = h.pods()[2]!;
    assert.equal(pod.metadata.name, "web-2");
    assert.equal(pod.metadata.labels?.["statefulset.kubernetes.io/pod-name"], "web-2");
    assert.equal(pod.metadata.labels?.["apps.kubernetes.io/pod-index"], "2");
    assert.equal(pod.metadata.labels?.app, "web");
    assert.equal(pod.spec?.hostname, "web-2");
    assert.equal(pod.spec?.subdomain, "nginx");
    assert.deepEqual(
      pod.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.controller, r.blockOwnerDeletion]),
      [["StatefulSet", "web", true, true]],
    );
    const revs = h.fake.objects<ControllerRevision>("apps", "controllerrevisions");
    assert.equal(revs.length, 1);
    assert.equal(revs[0]!.revision, 1);
    assert.equal(pod.metadata.labels?.["controller-revision-hash"], revs[0]!.metadata.name);
    assert.match(revs[0]!.metadata.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);

    const st = getSet(h).status!;
    assert.deepEqual(
      [
        st.replicas,
        st.readyReplicas,
        st.currentReplicas,
        st.updatedReplicas,
        st.availableReplicas,
        st.observedGeneration,
      ],
      [3, 3, 3, 3, 3, 1],
    );
    assert.equal(st.currentRevision, revs[0]!.metadata.name);
    assert.equal(st.updateRevision, revs[0]!.metadata.name);
    assert.deepEqual(
      h.eventsWith("SuccessfulCreate").map((e) => e.message),
      [0, 1, 2].map((i) => `create Pod web-${i} in StatefulSet web successful`),
    );
  } finally {
    h.stop();
  }
});

test("Parallel creates every replica at once and deletes surplus ones at once", async () => {
  const { h, c } = await setup(sts("web", { podManagementPolicy: "Parallel", replicas: 4 }));
  try {
    await sync(h, c);
    assert.deepEqual(
      h.pods().map((p) => p.metadata.name),
      ["web-0", "web-1", "web-2", "web-3"],
    );
    const client = h.fake.resource<StatefulSet>("apps", "statefulsets");
    const s = await client.get("default", "web");
    s.spec!.replicas = 1;
    await client.update(s);
    await sync(h, c);
    assert.deepEqual(
      h.pods().map((p) => p.metadata.name),
      ["web-0"],
    );
  } finally {
    h.stop();
  }
});

test("OrderedReady scales down from the highest ordinal, one at a time", async () => {
  const { h, c } = await setup(sts("web", { podManagementPolicy: "Parallel" }));
  try {
    await sync(h, c);
    await readyAll(h);
    const client = h.fake.resource<StatefulSet>("apps", "statefulsets");
    const s = await client.get("default", "web");
    s.spec!.replicas = 1;
    s.spec!.podManagementPolicy = "OrderedReady";
    await client.update(s);
    await sync(h, c);
    assert.deepEqual(
      h.pods().map((p) => p.metadata.name),
      ["web-0", "web-1"],
    );
    await sync(h, c);
    assert.deepEqual(
      h.pods().map((p) => p.metadata.name),
      ["web-0"],
    );
    assert.deepEqual(
      h.eventsWith("SuccessfulDelete").map((e) => e.message),
      ["delete Pod web-2 in StatefulSet web successful", "delete Pod web-1 in StatefulSet web successful"],
    );
  } finally {
    h.stop();
  }
});

test("RollingUpdate with a partition updates from the highest ordinal down to the partition", async () => {
  const { h, c } = await setup(sts("web", { podManagementPolicy: "Parallel" }));
  try {
    await sync(h, c);
    await readyAll(h);
    await sync(h, c);
    const oldRev = getSet(h).status!.currentRevision!;
    await updateTemplate(h, "nginx:2", {
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } },
    });
    await sync(h, c);
    // web-2 deleted first, then recreated at the new revision.
    assert.deepEqual(
      h.pods().map((p) => p.metadata.name),
      ["web-0", "web-1"],
    );
    await sync(h, c);
    const newRev = getSet(h).status!.updateRevision!;
    assert.notEqual(newRev, oldRev);
    let web2 = h.pods().find((p) => p.metadata.name === "web-2")!;
    assert.equal(web2.spec?.containers[0]?.image, "nginx:2");
    assert.equal(web2.metadata.labels?.["controller-revision-hash"], newRev);
    // web-1 waits until web-2 is ready.
    await sync(h, c);
    assert.ok(h.pods().some((p) => p.metadata.name === "web-1"));
    await h.setPodPhase("default", "web-2", "Running");
    await sync(h, c);
    assert.ok(!h.pods().some((p) => p.metadata.name === "web-1"), "web-1 is replaced next");
    await sync(h, c);
    await h.setPodPhase("default", "web-1", "Running");
    await sync(h, c);
    const pods = h.pods();
    assert.deepEqual(
      pods.map((p) => p.spec?.containers[0]?.image),
      ["nginx:1", "nginx:2", "nginx:2"],
      "web-0 is below the partition and keeps the old template",
    );
    web2 = pods[2]!;
    const st = getSet(h).status!;
    assert.equal(st.currentRevision, oldRev, "the rollout is not complete while the partition holds");
    assert.equal(st.updateRevision, newRev);
    assert.equal(st.updatedReplicas, 2);
    assert.equal(st.currentReplicas, 1);
    assert.equal(h.fake.objects<ControllerRevision>("apps", "controllerrevisions").length, 2);

    // Dropping the partition finishes the rollout; currentRevision then moves.
    const client = h.fake.resource<StatefulSet>("apps", "statefulsets");
    const s = await client.get("default", "web");
    s.spec!.updateStrategy = { type: "RollingUpdate", rollingUpdate: { partition: 0 } };
    await client.update(s);
    await sync(h, c);
    await sync(h, c);
    await h.setPodPhase("default", "web-0", "Running");
    await sync(h, c);
    const done = getSet(h).status!;
    assert.equal(done.currentRevision, newRev);
    assert.equal(done.updatedReplicas, 3);
    assert.equal(done.currentReplicas, 3);
  } finally {
    h.stop();
  }
});

test("OnDelete leaves pods alone until the user deletes one; the replacement gets the new template", async () => {
  const { h, c } = await setup(
    sts("web", { podManagementPolicy: "Parallel", updateStrategy: { type: "OnDelete" } }),
  );
  try {
    await sync(h, c);
    await readyAll(h);
    await updateTemplate(h, "nginx:2");
    await sync(h, c);
    assert.deepEqual(
      h.pods().map((p) => p.spec?.containers[0]?.image),
      ["nginx:1", "nginx:1", "nginx:1"],
    );
    await h.fake.resource<Pod>("", "pods").delete("default", "web-1");
    await sync(h, c);
    assert.deepEqual(
      h.pods().map((p) => p.spec?.containers[0]?.image),
      ["nginx:1", "nginx:2", "nginx:1"],
    );
  } finally {
    h.stop();
  }
});

test("a failed replica is deleted and recreated under the same name", async () => {
  const { h, c } = await setup(sts("web", { podManagementPolicy: "Parallel", replicas: 2 }));
  try {
    await sync(h, c);
    await readyAll(h);
    const uid = h.pods()[1]!.metadata.uid;
    await h.setPodPhase("default", "web-1", "Failed");
    await sync(h, c);
    await sync(h, c);
    const web1 = h.pods().find((p) => p.metadata.name === "web-1")!;
    assert.notEqual(web1.metadata.uid, uid);
    assert.equal(
      h.eventsWith("RecreatingFailedPod")[0]?.message,
      "StatefulSet default/web is recreating failed Pod web-1",
    );
  } finally {
    h.stop();
  }
});

test("a rollback to an earlier template renumbers its revision instead of creating another", async () => {
  const { h, c } = await setup(sts("web", { podManagementPolicy: "Parallel", replicas: 1 }));
  try {
    await sync(h, c);
    await updateTemplate(h, "nginx:2");
    await sync(h, c);
    await updateTemplate(h, "nginx:1");
    await sync(h, c);
    const revs = h.fake
      .objects<ControllerRevision>("apps", "controllerrevisions")
      .sort((a, b) => a.revision - b.revision);
    assert.equal(revs.length, 2);
    const images = revs.map(
      (r) =>
        (r.data as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec
          .containers[0]!.image,
    );
    assert.deepEqual(images, ["nginx:2", "nginx:1"]);
    assert.deepEqual(
      revs.map((r) => r.revision),
      [2, 3],
    );
    assert.equal(
      (revs[1]!.data as { spec: { template: { $patch: string } } }).spec.template.$patch,
      "replace",
    );
  } finally {
    h.stop();
  }
});

test("orphans with a member name are adopted; volume claim templates become emptyDir stand-ins", async () => {
  const orphan: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web-0", namespace: "default", labels: { app: "web" } },
    spec: { containers: [{ name: "c", image: "nginx:1" }] },
  };
  const set = sts("web", {
    podManagementPolicy: "Parallel",
    replicas: 2,
    volumeClaimTemplates: [{ metadata: { name: "www" }, spec: { accessModes: ["ReadWriteOnce"] } }],
  });
  const h = new Harness([set, orphan]);
  const c = new StatefulSetController({
    client: h.fake,
    informers: h.informers,
    recorder: h.recorder,
    now: h.clock.now,
  });
  await h.start();
  try {
    await sync(h, c);
    const pods = h.pods();
    assert.equal(pods[0]!.metadata.ownerReferences?.[0]?.name, "web");
    assert.deepEqual(pods[1]!.spec?.volumes, [{ name: "www", emptyDir: {} }]);
  } finally {
    h.stop();
  }
});
