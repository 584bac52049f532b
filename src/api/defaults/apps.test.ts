import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from "../types/apps-v1.ts";
import { defaultDaemonSet, defaultDeployment, defaultReplicaSet, defaultStatefulSet } from "./apps.ts";

const template = () => ({
  metadata: { labels: { app: "web" } },
  spec: { containers: [{ name: "c", image: "nginx:1.25" }] },
});

describe("defaultDeployment", () => {
  it("fills replicas, RollingUpdate 25%/25%, history limit, progress deadline and the template", () => {
    const d: Deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: { selector: { matchLabels: { app: "web" } }, template: template() },
    };
    defaultDeployment(d);
    assert.equal(d.spec?.replicas, 1);
    assert.deepEqual(d.spec?.strategy, {
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" },
    });
    assert.equal(d.spec?.revisionHistoryLimit, 10);
    assert.equal(d.spec?.progressDeadlineSeconds, 600);
    assert.equal(d.spec?.template.spec?.restartPolicy, "Always");
    assert.equal(d.spec?.template.spec?.containers[0]?.imagePullPolicy, "IfNotPresent");
  });

  it("keeps what the user set, including replicas 0 and Recreate without rollingUpdate", () => {
    const d: Deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 0,
        revisionHistoryLimit: 0,
        strategy: { type: "Recreate" },
        selector: { matchLabels: { app: "web" } },
        template: template(),
      },
    };
    defaultDeployment(d);
    assert.equal(d.spec?.replicas, 0);
    assert.equal(d.spec?.revisionHistoryLimit, 0);
    assert.deepEqual(d.spec?.strategy, { type: "Recreate" });
  });

  it("fills only the missing half of a partial rollingUpdate", () => {
    const d: Deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: { strategy: { rollingUpdate: { maxSurge: 2 } }, selector: {}, template: template() },
    };
    defaultDeployment(d);
    assert.deepEqual(d.spec?.strategy?.rollingUpdate, { maxSurge: 2, maxUnavailable: "25%" });
  });

  it("creates a missing spec without inventing a selector", () => {
    const d = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" } } as Deployment;
    defaultDeployment(d);
    assert.equal(d.spec?.selector, undefined);
    assert.equal(d.spec?.template.spec?.restartPolicy, "Always");
  });
});

describe("defaultReplicaSet", () => {
  it("fills replicas 1", () => {
    const rs: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "r" },
      spec: { selector: {}, template: template() },
    };
    defaultReplicaSet(rs);
    assert.equal(rs.spec?.replicas, 1);
    assert.equal(rs.spec?.template?.spec?.dnsPolicy, "ClusterFirst");
  });
});

describe("defaultDaemonSet", () => {
  it("fills RollingUpdate maxUnavailable 1 maxSurge 0 and history limit 10", () => {
    const ds: DaemonSet = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "d" },
      spec: { selector: {}, template: template() },
    };
    defaultDaemonSet(ds);
    assert.deepEqual(ds.spec?.updateStrategy, {
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    });
    assert.equal(ds.spec?.revisionHistoryLimit, 10);
  });

  it("leaves OnDelete alone", () => {
    const ds: DaemonSet = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "d" },
      spec: { selector: {}, template: template(), updateStrategy: { type: "OnDelete" } },
    };
    defaultDaemonSet(ds);
    assert.deepEqual(ds.spec?.updateStrategy, { type: "OnDelete" });
  });
});

describe("defaultStatefulSet", () => {
  it("fills policy, strategy with partition 0, retention, replicas and history limit", () => {
    const ss: StatefulSet = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "s" },
      spec: { serviceName: "s", selector: {}, template: template() },
    };
    defaultStatefulSet(ss);
    assert.equal(ss.spec?.podManagementPolicy, "OrderedReady");
    assert.deepEqual(ss.spec?.updateStrategy, { type: "RollingUpdate", rollingUpdate: { partition: 0 } });
    assert.deepEqual(ss.spec?.persistentVolumeClaimRetentionPolicy, {
      whenDeleted: "Retain",
      whenScaled: "Retain",
    });
    assert.equal(ss.spec?.replicas, 1);
    assert.equal(ss.spec?.revisionHistoryLimit, 10);
  });

  it("does not add rollingUpdate to an explicit RollingUpdate type, but defaults a given partition", () => {
    const a: StatefulSet = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "s" },
      spec: {
        serviceName: "s",
        selector: {},
        template: template(),
        updateStrategy: { type: "RollingUpdate" },
      },
    };
    defaultStatefulSet(a);
    assert.deepEqual(a.spec?.updateStrategy, { type: "RollingUpdate" });
    const b: StatefulSet = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "s" },
      spec: {
        serviceName: "s",
        selector: {},
        template: template(),
        updateStrategy: { type: "RollingUpdate", rollingUpdate: {} },
      },
    };
    defaultStatefulSet(b);
    assert.deepEqual(b.spec?.updateStrategy?.rollingUpdate, { partition: 0 });
  });
});
