import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject } from "../../api/object.ts";
import type { Deployment, DeploymentSpec, ReplicaSet } from "../../api/types/apps-v1.ts";
import type { Pod, PodTemplateSpec } from "../../api/types/core-v1.ts";
import { FakeClient } from "../../client/fake-client.ts";
import { InformerFactory } from "../../client/informer.ts";
import type { Client, ResourceClient } from "../../client/types.ts";
import {
  ago,
  makePod,
  RecordingEvents,
  RecordingQueue,
  template,
  until,
} from "../replicaset/replicaset-testing.ts";
import { computeHash } from "./deployment-hash.ts";
import { DeploymentReconciler } from "./deployment-reconciler.ts";

const NOW = Date.parse("2030-01-01T00:00:00Z");
const D_UID = "web-uid";

function deployment(replicas: number, spec: Partial<DeploymentSpec> = {}, image = "nginx:1"): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", uid: D_UID, generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: "web" } },
      template: template({ app: "web" }, image),
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      ...spec,
    },
  };
}

interface RsOpts {
  replicas: number;
  available?: number;
  revision: number;
  image?: string;
  createdAgo?: number;
  desired?: number;
  maxReplicas?: number;
  statusReplicas?: number;
}

/** A ReplicaSet owned by the Deployment, with the template of `image`. */
function rsFor(d: Deployment, o: RsOpts): ReplicaSet {
  const t: PodTemplateSpec = template({ app: "web" }, o.image ?? "nginx:1");
  const hash = computeHash(t);
  t.metadata!.labels!["pod-template-hash"] = hash;
  const annotations: Record<string, string> = { "deployment.kubernetes.io/revision": String(o.revision) };
  if (o.desired !== undefined) annotations["deployment.kubernetes.io/desired-replicas"] = String(o.desired);
  if (o.maxReplicas !== undefined)
    annotations["deployment.kubernetes.io/max-replicas"] = String(o.maxReplicas);
  const available = o.available ?? o.replicas;
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `web-${hash}`,
      namespace: "default",
      uid: `rs-${hash}`,
      generation: 1,
      creationTimestamp: ago(NOW, o.createdAgo ?? 100),
      labels: { app: "web", "pod-template-hash": hash },
      annotations,
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          name: "web",
          uid: D_UID,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: { app: "web", "pod-template-hash": hash } },
      template: t,
      minReadySeconds: 0,
    },
    status: {
      replicas: o.statusReplicas ?? o.replicas,
      readyReplicas: available,
      availableReplicas: available,
      observedGeneration: 1,
    },
  };
}

/**
 * The real API server keeps a built-in kind's metadata on a status write (upstream's
 * deployment status strategy resets only spec and labels), which is how the revision
 * annotation reaches the Deployment; the FakeClient resets metadata there, so this wrapper
 * carries annotation changes the way the server would.
 */
function serverLikeStatus(fake: FakeClient): Client {
  return {
    userAgent: fake.userAgent,
    resource<T extends KubeObject>(group: string, plural: string): ResourceClient<T> {
      const rc = fake.resource<T>(group, plural);
      if (plural !== "deployments") return rc;
      const wrapped = Object.create(rc) as ResourceClient<T>;
      wrapped.updateStatus = async (obj: T) => {
        const out = await rc.updateStatus(obj);
        const want = obj.metadata.annotations ?? {};
        if (JSON.stringify(out.metadata.annotations ?? {}) === JSON.stringify(want)) return out;
        return rc.patch(out.metadata.namespace, out.metadata.name!, "merge", {
          metadata: { annotations: want, resourceVersion: out.metadata.resourceVersion },
        });
      };
      return wrapped;
    },
  };
}

async function setup(t: { after(fn: () => void): void }, objects: KubeObject[]) {
  const fake = new FakeClient(objects);
  const factory = new InformerFactory(fake);
  const ac = new AbortController();
  t.after(() => ac.abort());
  const events = new RecordingEvents();
  const queue = new RecordingQueue();
  const deployments = factory.informer<Deployment>("apps", "deployments");
  const replicaSets = factory.informer<ReplicaSet>("apps", "replicasets");
  const pods = factory.informer<Pod>("", "pods");
  const r = new DeploymentReconciler({
    client: serverLikeStatus(fake),
    deployments,
    replicaSets,
    pods,
    events,
    now: () => NOW,
  });
  r.register(queue);
  factory.start(ac.signal);
  await factory.waitForSync();
  const rsList = () => fake.objects<ReplicaSet>("apps", "replicasets");
  const dep = () => fake.objects<Deployment>("apps", "deployments")[0]!;
  /** Waits until the informers hold what the fake holds. */
  const synced = async () => {
    await until(() => {
      const d = deployments.get("default", "web");
      if (d?.metadata.resourceVersion !== dep().metadata.resourceVersion) return false;
      const all = rsList();
      return (
        all.length === replicaSets.size &&
        all.every(
          (x) =>
            replicaSets.get("default", x.metadata.name!)?.metadata.resourceVersion ===
            x.metadata.resourceVersion,
        )
      );
    });
  };
  const reconcile = async () => {
    await synced();
    const res = await r.reconcile({ namespace: "default", name: "web" });
    await synced();
    return res;
  };
  /** Sets a ReplicaSet's status as its controller would. */
  const setRsStatus = async (name: string, replicas: number, available: number) => {
    const cur = fake.objects<ReplicaSet>("apps", "replicasets").find((x) => x.metadata.name === name)!;
    cur.status = {
      replicas,
      readyReplicas: available,
      availableReplicas: available,
      observedGeneration: cur.metadata.generation ?? 1,
    };
    await fake.resource<ReplicaSet>("apps", "replicasets").updateStatus(cur);
  };
  const updateSpec = async (change: (d: Deployment) => void) => {
    const cur = dep();
    change(cur);
    cur.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    await fake.resource<Deployment>("apps", "deployments").update(cur);
  };
  return { fake, r, events, queue, rsList, dep, reconcile, setRsStatus, updateSpec, synced };
}

const cond = (d: Deployment, type: string) => d.status?.conditions?.find((c) => c.type === type);

test("a new Deployment gets its ReplicaSet <name>-<hash> with revision 1, and reports progress", async (t) => {
  const { rsList, dep, reconcile, events } = await setup(t, [deployment(3)]);
  await reconcile();
  const hash = computeHash(template({ app: "web" }));
  const [rs] = rsList();
  assert.equal(rs?.metadata.name, `web-${hash}`);
  assert.equal(rs.spec?.replicas, 3);
  assert.deepEqual(rs.spec?.selector.matchLabels, { app: "web", "pod-template-hash": hash });
  assert.deepEqual(rs.spec?.template?.metadata?.labels, { app: "web", "pod-template-hash": hash });
  assert.deepEqual(rs.metadata.labels, { app: "web", "pod-template-hash": hash });
  assert.deepEqual(rs.metadata.annotations, {
    "deployment.kubernetes.io/revision": "1",
    "deployment.kubernetes.io/desired-replicas": "3",
    "deployment.kubernetes.io/max-replicas": "4",
  });
  assert.equal(rs.metadata.ownerReferences?.[0]?.uid, D_UID);
  assert.equal(rs.metadata.ownerReferences?.[0]?.controller, true);
  assert.deepEqual(
    events.events.map((e) => e.message),
    [`Scaled up replica set web-${hash} from 0 to 3`],
  );
  const d = dep();
  assert.equal(d.metadata.annotations?.["deployment.kubernetes.io/revision"], "1");
  assert.equal(cond(d, "Progressing")?.reason, "NewReplicaSetCreated");
  assert.equal(cond(d, "Progressing")?.message, `Created new replica set "web-${hash}"`);
  assert.equal(cond(d, "Available")?.status, "False");
  assert.equal(cond(d, "Available")?.reason, "MinimumReplicasUnavailable");
  assert.equal(cond(d, "Available")?.message, "Deployment does not have minimum availability.");
  assert.equal(d.status?.observedGeneration, 1);
});

test("Available and NewReplicaSetAvailable once the ReplicaSet's pods are available", async (t) => {
  const d0 = deployment(3);
  const { dep, reconcile, setRsStatus, rsList } = await setup(t, [d0]);
  await reconcile();
  const name = rsList()[0]!.metadata.name!;
  await setRsStatus(name, 3, 3);
  await reconcile();
  const d = dep();
  assert.deepEqual(
    { ...d.status, conditions: undefined },
    {
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 0,
      conditions: undefined,
    },
  );
  assert.equal(cond(d, "Available")?.status, "True");
  assert.equal(cond(d, "Available")?.reason, "MinimumReplicasAvailable");
  assert.equal(cond(d, "Available")?.message, "Deployment has minimum availability.");
  assert.equal(cond(d, "Progressing")?.status, "True");
  assert.equal(cond(d, "Progressing")?.reason, "NewReplicaSetAvailable");
  assert.equal(cond(d, "Progressing")?.message, `ReplicaSet "${name}" has successfully progressed.`);
});

/** One RollingUpdate step: sizes after a single reconcile of a template change. */
const rollingSteps: {
  name: string;
  replicas: number;
  surge: number | string;
  unavailable: number | string;
  old: { replicas: number; available: number };
  newRS?: { replicas: number; available: number };
  want: { new: number; old: number };
}[] = [
  {
    name: "first step: surge 1 up, unavailable 1 down",
    replicas: 4,
    surge: 1,
    unavailable: 1,
    old: { replicas: 4, available: 4 },
    want: { new: 1, old: 3 },
  },
  {
    name: "25%/25% of 10: new to 3, old to 8",
    replicas: 10,
    surge: "25%",
    unavailable: "25%",
    old: { replicas: 10, available: 10 },
    want: { new: 3, old: 8 },
  },
  {
    name: "maxUnavailable 0: only surge",
    replicas: 4,
    surge: 2,
    unavailable: 0,
    old: { replicas: 4, available: 4 },
    want: { new: 2, old: 4 },
  },
  {
    name: "maxSurge 0: old goes down first",
    replicas: 4,
    surge: 0,
    unavailable: 2,
    old: { replicas: 4, available: 4 },
    want: { new: 0, old: 2 },
  },
  {
    name: "new pods not yet available hold the old ones",
    replicas: 4,
    surge: 1,
    unavailable: 0,
    old: { replicas: 4, available: 4 },
    newRS: { replicas: 1, available: 0 },
    want: { new: 1, old: 4 },
  },
  {
    name: "new pods available let old ones go",
    replicas: 4,
    surge: 1,
    unavailable: 0,
    old: { replicas: 4, available: 4 },
    newRS: { replicas: 1, available: 1 },
    want: { new: 1, old: 3 },
  },
  {
    name: "room after scale down: new grows",
    replicas: 4,
    surge: 1,
    unavailable: 0,
    old: { replicas: 3, available: 3 },
    newRS: { replicas: 1, available: 1 },
    want: { new: 2, old: 3 },
  },
  {
    name: "unhealthy old replicas are removed first",
    replicas: 4,
    surge: 0,
    unavailable: 1,
    old: { replicas: 4, available: 2 },
    newRS: { replicas: 0, available: 0 },
    want: { new: 0, old: 3 },
  },
];

for (const c of rollingSteps) {
  test(`RollingUpdate step: ${c.name}`, async (t) => {
    const d = deployment(
      c.replicas,
      {
        strategy: {
          type: "RollingUpdate",
          rollingUpdate: { maxSurge: c.surge, maxUnavailable: c.unavailable },
        },
      },
      "nginx:2",
    );
    const objs: KubeObject[] = [d, rsFor(d, { ...c.old, revision: 1, image: "nginx:1", createdAgo: 1000 })];
    if (c.newRS) objs.push(rsFor(d, { ...c.newRS, revision: 2, image: "nginx:2", createdAgo: 10 }));
    const { rsList, reconcile } = await setup(t, objs);
    await reconcile();
    const newHash = computeHash(template({ app: "web" }, "nginx:2"));
    const sizes = new Map(rsList().map((x) => [x.metadata.name, x.spec?.replicas]));
    assert.equal(sizes.get(`web-${newHash}`), c.want.new, "new ReplicaSet size");
    assert.equal(
      sizes.get(`web-${computeHash(template({ app: "web" }, "nginx:1"))}`),
      c.want.old,
      "old ReplicaSet size",
    );
  });
}

test("a rolling update runs to completion and cleans up past revisionHistoryLimit", async (t) => {
  const d = deployment(
    4,
    {
      revisionHistoryLimit: 0,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
    },
    "nginx:2",
  );
  const old = rsFor(d, { replicas: 4, revision: 1, image: "nginx:1", createdAgo: 1000 });
  const { rsList, dep, reconcile, setRsStatus, events } = await setup(t, [d, old]);
  const newName = `web-${computeHash(template({ app: "web" }, "nginx:2"))}`;
  for (let i = 0; i < 20; i++) {
    await reconcile();
    // Play the ReplicaSet controller: every pod comes up available at once.
    for (const rs of rsList()) {
      if (rs.status?.replicas !== rs.spec?.replicas)
        await setRsStatus(rs.metadata.name!, rs.spec!.replicas!, rs.spec!.replicas!);
    }
    if (rsList().length === 1 && cond(dep(), "Progressing")?.reason === "NewReplicaSetAvailable") break;
  }
  assert.deepEqual(
    rsList().map((x) => x.metadata.name),
    [newName],
    "the old ReplicaSet was deleted (limit 0)",
  );
  const fin = dep();
  assert.equal(fin.metadata.annotations?.["deployment.kubernetes.io/revision"], "2");
  assert.equal(fin.status?.updatedReplicas, 4);
  assert.equal(fin.status?.availableReplicas, 4);
  assert.ok(
    events.events.some((e) => e.message === `Scaled down replica set ${old.metadata.name} from 1 to 0`),
  );
});

test("Recreate: old ReplicaSets go to zero, and the new one comes only after their pods are gone", async (t) => {
  const d = deployment(3, { strategy: { type: "Recreate" } }, "nginx:2");
  const old = rsFor(d, { replicas: 3, revision: 1, image: "nginx:1", createdAgo: 1000 });
  const pod = makePod("old-pod", {
    owner: old,
    labels: { app: "web", "pod-template-hash": old.metadata.labels!["pod-template-hash"]! },
  });
  const { fake, rsList, reconcile, setRsStatus } = await setup(t, [d, old, pod]);
  await reconcile();
  assert.equal(rsList().length, 1, "no new ReplicaSet while scaling down");
  assert.equal(rsList()[0]!.spec?.replicas, 0);
  await setRsStatus(old.metadata.name!, 0, 0);
  await reconcile();
  assert.equal(rsList().length, 1, "still waiting: an old pod is running");
  await fake.resource("", "pods").delete("default", "old-pod");
  await until(() => true);
  await reconcile();
  const fresh = rsList().find((x) => x.metadata.name !== old.metadata.name);
  assert.equal(fresh?.spec?.replicas, 3);
  assert.equal(fresh?.metadata.annotations?.["deployment.kubernetes.io/revision"], "2");
});

test("rollback: a template equal to an old ReplicaSet reuses it and raises its revision", async (t) => {
  const d = deployment(2, {}, "nginx:1");
  const v1 = rsFor(d, { replicas: 0, revision: 1, image: "nginx:1", createdAgo: 1000 });
  const v2 = rsFor(d, { replicas: 2, revision: 2, image: "nginx:2", createdAgo: 500 });
  d.metadata.annotations = { "deployment.kubernetes.io/revision": "2" };
  const { rsList, dep, reconcile } = await setup(t, [d, v1, v2]);
  await reconcile();
  assert.equal(rsList().length, 2, "no new ReplicaSet");
  const back = rsList().find((x) => x.metadata.name === v1.metadata.name)!;
  assert.equal(back.metadata.annotations?.["deployment.kubernetes.io/revision"], "3");
  assert.equal(back.metadata.annotations?.["deployment.kubernetes.io/revision-history"], "1");
  await reconcile();
  assert.equal(dep().metadata.annotations?.["deployment.kubernetes.io/revision"], "3");
  assert.ok(
    (rsList().find((x) => x.metadata.name === v1.metadata.name)!.spec?.replicas ?? 0) > 0,
    "the old ReplicaSet scales up again",
  );
});

test("pause: no rollout, Progressing Unknown DeploymentPaused; resume: DeploymentResumed and the rollout starts", async (t) => {
  const d = deployment(2, { paused: true }, "nginx:2");
  const old = rsFor(d, { replicas: 2, revision: 1, image: "nginx:1" });
  const { rsList, dep, reconcile, updateSpec } = await setup(t, [d, old]);
  await reconcile();
  assert.equal(rsList().length, 1);
  let c = cond(dep(), "Progressing");
  assert.deepEqual(
    [c?.status, c?.reason, c?.message],
    ["Unknown", "DeploymentPaused", "Deployment is paused"],
  );
  await updateSpec((x) => (x.spec!.paused = false));
  await reconcile();
  c = cond(dep(), "Progressing");
  assert.equal(rsList().length, 2, "new ReplicaSet created after resume");
  assert.equal(c?.reason, "NewReplicaSetCreated");
});

test("paused scaling resizes the active ReplicaSet", async (t) => {
  const d = deployment(5, { paused: true });
  const rs = rsFor(d, { replicas: 3, revision: 1, desired: 3, maxReplicas: 4 });
  const { rsList, reconcile, events } = await setup(t, [d, rs]);
  await reconcile();
  assert.equal(rsList()[0]!.spec?.replicas, 5);
  assert.equal(rsList()[0]!.metadata.annotations?.["deployment.kubernetes.io/desired-replicas"], "5");
  assert.deepEqual(
    events.events.map((e) => e.message),
    [`Scaled up replica set ${rs.metadata.name} from 3 to 5`],
  );
});

test("proportional scaling mid-rollout splits new replicas by size", async (t) => {
  const d = deployment(
    15,
    { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } },
    "nginx:2",
  );
  const old = rsFor(d, {
    replicas: 8,
    available: 8,
    revision: 1,
    image: "nginx:1",
    createdAgo: 1000,
    desired: 10,
    maxReplicas: 13,
  });
  const cur = rsFor(d, {
    replicas: 5,
    available: 0,
    revision: 2,
    image: "nginx:2",
    createdAgo: 10,
    desired: 10,
    maxReplicas: 13,
  });
  const { rsList, reconcile } = await setup(t, [d, old, cur]);
  await reconcile();
  const sizes = new Map(rsList().map((x) => [x.metadata.name, x.spec?.replicas]));
  assert.equal(sizes.get(old.metadata.name), 11);
  assert.equal(sizes.get(cur.metadata.name), 7);
  for (const rs of rsList()) {
    assert.equal(rs.metadata.annotations?.["deployment.kubernetes.io/desired-replicas"], "15");
    assert.equal(rs.metadata.annotations?.["deployment.kubernetes.io/max-replicas"], "18");
  }
});

test("progress deadline: no progress for progressDeadlineSeconds → ProgressDeadlineExceeded", async (t) => {
  const d = deployment(2, { progressDeadlineSeconds: 10 });
  const rs = rsFor(d, { replicas: 2, available: 0, revision: 1, desired: 2, maxReplicas: 3 });
  d.metadata.annotations = { "deployment.kubernetes.io/revision": "1" };
  d.status = {
    observedGeneration: 1,
    replicas: 2,
    updatedReplicas: 2,
    readyReplicas: 0,
    availableReplicas: 0,
    unavailableReplicas: 2,
    conditions: [
      {
        type: "Available",
        status: "False",
        reason: "MinimumReplicasUnavailable",
        message: "Deployment does not have minimum availability.",
        lastUpdateTime: ago(NOW, 60),
        lastTransitionTime: ago(NOW, 60),
      },
      {
        type: "Progressing",
        status: "True",
        reason: "ReplicaSetUpdated",
        message: `ReplicaSet "${rs.metadata.name}" is progressing.`,
        lastUpdateTime: ago(NOW, 60),
        lastTransitionTime: ago(NOW, 60),
      },
    ],
  };
  const { dep, reconcile } = await setup(t, [d, rs]);
  await reconcile();
  const c = cond(dep(), "Progressing");
  assert.deepEqual(
    [c?.status, c?.reason, c?.message],
    ["False", "ProgressDeadlineExceeded", `ReplicaSet "${rs.metadata.name}" has timed out progressing.`],
  );
});

test("an incomplete rollout within its deadline asks to be looked at when the deadline passes", async (t) => {
  const d = deployment(2, { progressDeadlineSeconds: 30 });
  const rs = rsFor(d, { replicas: 2, available: 0, revision: 1, desired: 2, maxReplicas: 3 });
  d.metadata.annotations = { "deployment.kubernetes.io/revision": "1" };
  const { reconcile } = await setup(t, [d, rs]);
  await reconcile();
  const res = await reconcile();
  assert.ok(res && res.requeueAfterMs !== undefined, "requeued");
  assert.ok(res.requeueAfterMs >= 30_000 && res.requeueAfterMs <= 31_000, `requeue ${res.requeueAfterMs}`);
});

test("adopts an orphan ReplicaSet that matches the selector", async (t) => {
  const d = deployment(2);
  const rs = rsFor(d, { replicas: 2, revision: 1 });
  delete rs.metadata.ownerReferences;
  const { rsList, reconcile } = await setup(t, [d, rs]);
  await reconcile();
  assert.equal(rsList().length, 1, "no second ReplicaSet");
  assert.equal(rsList()[0]!.metadata.ownerReferences?.[0]?.uid, D_UID);
});

test("ReplicaSet and pod events enqueue the owning Deployment", async (t) => {
  const d = deployment(1, { strategy: { type: "Recreate" } });
  const rs = rsFor(d, { replicas: 1, revision: 1 });
  const { fake, queue } = await setup(t, [d, rs, makePod("p", { owner: rs })]);
  queue.keys.length = 0;
  await fake.resource("", "pods").delete("default", "p");
  await until(() => queue.keys.length > 0);
  assert.deepEqual(queue.keys, ["default/web"]);
});
