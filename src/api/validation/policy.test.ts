import assert from "node:assert/strict";
import { test } from "node:test";
import type { PodDisruptionBudget } from "../types/policy-v1.ts";
import { policyRules } from "./policy.ts";
import { storageRules } from "./storage.ts";
import type { KubeObject } from "../object.ts";

function pdb(spec: PodDisruptionBudget["spec"]): KubeObject {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "web", namespace: "default" },
    spec,
  } as unknown as KubeObject;
}

test("PDB: minAvailable and maxUnavailable may not both be set", () => {
  const errs = policyRules["PodDisruptionBudget"]!.validate(pdb({ minAvailable: 1, maxUnavailable: 1 }));
  assert.equal(errs.length, 1);
  assert.match(JSON.stringify(errs[0]), /minAvailable and maxUnavailable cannot be both set/);
});

test("PDB: percent over 100%, bad policy rejected; a valid one passes", () => {
  const rules = policyRules["PodDisruptionBudget"]!;
  assert.ok(rules.validate(pdb({ maxUnavailable: "150%" })).length > 0);
  assert.ok(rules.validate(pdb({ minAvailable: 1, unhealthyPodEvictionPolicy: "Never" })).length > 0);
  assert.deepEqual(
    rules.validate(
      pdb({
        minAvailable: "50%",
        selector: { matchLabels: { app: "x" } },
        unhealthyPodEvictionPolicy: "AlwaysAllow",
      }),
    ),
    [],
  );
});

test("PVC: defaults volumeMode and phase; requires access modes and storage", () => {
  const rules = storageRules["PersistentVolumeClaim"]!;
  const pvc = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "d", namespace: "default" },
    spec: {},
  } as unknown as KubeObject & { spec: { volumeMode?: string }; status?: { phase?: string } };
  rules.defaults?.(pvc);
  assert.equal(pvc.spec.volumeMode, "Filesystem");
  assert.equal(pvc.status?.phase, "Pending");
  assert.equal(rules.validate(pvc).length, 2);
});
