import { test } from "node:test";
import assert from "node:assert/strict";
import type { Deployment, ReplicaSet } from "../../api/types/apps-v1.ts";
import { template } from "../replicaset/replicaset-testing.ts";
import { computeHash, safeEncode, stableStringify } from "./deployment-hash.ts";
import {
  equalIgnoreHash,
  resolveFenceposts,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  setCondition,
  setNewReplicaSetAnnotations,
} from "./deployment-util.ts";

const fenceposts: {
  surge: number | string;
  unavailable: number | string;
  replicas: number;
  want: [number, number];
}[] = [
  { surge: "25%", unavailable: "25%", replicas: 10, want: [3, 2] },
  { surge: "25%", unavailable: "25%", replicas: 1, want: [1, 0] },
  { surge: "25%", unavailable: "25%", replicas: 4, want: [1, 1] },
  { surge: "0%", unavailable: "0%", replicas: 10, want: [0, 1] },
  { surge: 0, unavailable: "10%", replicas: 5, want: [0, 1] },
  { surge: 2, unavailable: 1, replicas: 10, want: [2, 1] },
  { surge: "50%", unavailable: "50%", replicas: 3, want: [2, 1] },
];
for (const c of fenceposts) {
  test(`resolveFenceposts(${c.surge}, ${c.unavailable}, ${c.replicas}) = ${c.want.join(",")}`, () => {
    assert.deepEqual(resolveFenceposts(c.surge, c.unavailable, c.replicas), c.want);
  });
}

test("pod-template-hash: stable over key order, safe alphabet, changes with collisionCount", () => {
  const a = template({ app: "web", tier: "fe" });
  const b = {
    spec: { containers: [{ image: "nginx:1", name: "app" }] },
    metadata: { labels: { tier: "fe", app: "web" } },
  };
  assert.equal(stableStringify(a), stableStringify(b));
  const h = computeHash(a);
  assert.equal(h, computeHash(b));
  assert.match(h, /^[456789bcdf]{1,10}$/);
  assert.notEqual(computeHash(a, 1), h);
  assert.notEqual(computeHash(template({ app: "web", tier: "fe" }, "nginx:2")), h);
  // Upstream's SafeEncodeString maps each character by its code modulo 27: digits → 456789bcdf.
  assert.equal(safeEncode("0123456789"), "456789bcdf");
});

test("equalIgnoreHash ignores only the pod-template-hash label", () => {
  const t = template({ app: "web" });
  const hashed = template({ app: "web", "pod-template-hash": "abc" });
  assert.ok(equalIgnoreHash(t, hashed));
  assert.ok(!equalIgnoreHash(t, template({ app: "web", x: "y" })));
  assert.ok(!equalIgnoreHash(t, template({ app: "web" }, "nginx:2")));
});

test("setCondition keeps lastTransitionTime when only the reason changes, and is a no-op for the same reason", () => {
  const status = {
    conditions: [
      { type: "Progressing", status: "True", reason: "A", lastTransitionTime: "T0", lastUpdateTime: "T0" },
    ],
  };
  setCondition(status, {
    type: "Progressing",
    status: "True",
    reason: "A",
    lastTransitionTime: "T1",
    lastUpdateTime: "T1",
  });
  assert.equal(status.conditions[0]!.lastUpdateTime, "T0");
  setCondition(status, {
    type: "Progressing",
    status: "True",
    reason: "B",
    lastTransitionTime: "T2",
    lastUpdateTime: "T2",
  });
  assert.equal(status.conditions[0]!.lastTransitionTime, "T0");
  assert.equal(status.conditions[0]!.lastUpdateTime, "T2");
  setCondition(status, {
    type: "Progressing",
    status: "False",
    reason: "C",
    lastTransitionTime: "T3",
    lastUpdateTime: "T3",
  });
  assert.equal(status.conditions[0]!.lastTransitionTime, "T3");
});

test("setNewReplicaSetAnnotations: copies annotations, raises revision and records history", () => {
  const d = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "web",
      annotations: { "kubernetes.io/change-cause": "v2", [REVISION_ANNOTATION]: "9" },
    },
    spec: { replicas: 4, selector: {}, template: template({ app: "web" }) },
  } as Deployment;
  const rs = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "web-a", annotations: { [REVISION_ANNOTATION]: "1" } },
  } as ReplicaSet;
  assert.ok(setNewReplicaSetAnnotations(d, rs, "3", true));
  assert.equal(rs.metadata.annotations![REVISION_ANNOTATION], "3");
  assert.equal(rs.metadata.annotations![REVISION_HISTORY_ANNOTATION], "1");
  assert.equal(rs.metadata.annotations!["kubernetes.io/change-cause"], "v2");
  assert.ok(setNewReplicaSetAnnotations(d, rs, "5", true));
  assert.equal(rs.metadata.annotations![REVISION_HISTORY_ANNOTATION], "1,3");
  assert.ok(!setNewReplicaSetAnnotations(d, rs, "4", true), "a lower revision changes nothing");
  const fresh = { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "web-b" } } as ReplicaSet;
  setNewReplicaSetAnnotations(d, fresh, "1", false);
  assert.equal(fresh.metadata.annotations!["deployment.kubernetes.io/desired-replicas"], "4");
  assert.equal(fresh.metadata.annotations!["deployment.kubernetes.io/max-replicas"], "5");
});
