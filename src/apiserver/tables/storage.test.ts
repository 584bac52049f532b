import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../../api/object.ts";
import { accessModesString, persistentVolumeClaimPrinter, podDisruptionBudgetPrinter } from "./storage.ts";

const NOW = Date.parse("2026-01-01T01:00:00Z");

test("PDB table: N/A for the unset bound, allowed disruptions as an integer", () => {
  assert.deepEqual(
    podDisruptionBudgetPrinter.columns.map((c) => c.name),
    ["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"],
  );
  const pdb = {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "web", creationTimestamp: "2026-01-01T00:00:00Z" },
    spec: { minAvailable: "50%" },
    status: { disruptionsAllowed: 2 },
  } as unknown as KubeObject;
  assert.deepEqual(podDisruptionBudgetPrinter.cells(pdb, NOW), ["web", "50%", "N/A", 2, "60m"]);
});

test("PVC table: capacity and modes only once bound; <unset> attributes class", () => {
  const pvc = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "data", creationTimestamp: "2026-01-01T00:59:00Z" },
    spec: { accessModes: ["ReadWriteOnce"], storageClassName: "std", volumeMode: "Filesystem" },
    status: { phase: "Pending" },
  } as unknown as KubeObject;
  assert.deepEqual(persistentVolumeClaimPrinter.cells(pvc, NOW), [
    "data", "Pending", "", "", "", "std", "<unset>", "60s", "Filesystem",
  ]);
  assert.equal(accessModesString(["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"]), "RWO,RWX");
});
