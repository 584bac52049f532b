import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { patchSchemaFor, type PatchFieldMeta, type PatchSchema } from "./strategies.ts";

/** The metadata at a dotted field path (list elements are stepped through implicitly). */
function metaAt(schema: PatchSchema | undefined, path: string): PatchFieldMeta | undefined {
  let cur: PatchSchema | undefined = schema;
  let meta: PatchFieldMeta | undefined;
  for (const name of path.split(".")) {
    meta = cur?.fields[name];
    cur = meta?.schema;
  }
  return meta;
}

const summary = (m: PatchFieldMeta | undefined): string =>
  m?.strategy
    ? `${m.strategy}${m.retainKeys ? ",retainKeys" : ""}${m.mergeKey ? ` by ${m.mergeKey}` : ""}`
    : m?.retainKeys
      ? "retainKeys"
      : "none";

describe("patchSchemaFor: upstream's patchStrategy / patchMergeKey tags", () => {
  const cases: [group: string, version: string, kind: string, path: string, want: string][] = [
    ["", "v1", "Pod", "metadata.ownerReferences", "merge by uid"],
    ["", "v1", "Pod", "metadata.finalizers", "merge"],
    ["", "v1", "Pod", "metadata.labels", "none"],
    ["", "v1", "Pod", "spec.containers", "merge by name"],
    ["", "v1", "Pod", "spec.initContainers", "merge by name"],
    ["", "v1", "Pod", "spec.ephemeralContainers", "merge by name"],
    ["", "v1", "Pod", "spec.volumes", "merge,retainKeys by name"],
    ["", "v1", "Pod", "spec.containers.ports", "merge by containerPort"],
    ["", "v1", "Pod", "spec.containers.env", "merge by name"],
    ["", "v1", "Pod", "spec.containers.volumeMounts", "merge by mountPath"],
    ["", "v1", "Pod", "spec.containers.volumeDevices", "merge by devicePath"],
    ["", "v1", "Pod", "spec.initContainers.env", "merge by name"],
    ["", "v1", "Pod", "spec.imagePullSecrets", "merge by name"],
    ["", "v1", "Pod", "spec.hostAliases", "merge by ip"],
    ["", "v1", "Pod", "spec.topologySpreadConstraints", "merge by topologyKey"],
    ["", "v1", "Pod", "spec.tolerations", "none"],
    ["", "v1", "Pod", "spec.readinessGates", "none"],
    ["", "v1", "Pod", "status.conditions", "merge by type"],
    ["", "v1", "Pod", "status.podIPs", "merge by ip"],
    ["", "v1", "Pod", "status.containerStatuses", "none"],
    ["", "v1", "Service", "spec.ports", "merge by port"],
    ["", "v1", "Node", "spec.taints", "none"],
    ["", "v1", "Node", "spec.podCIDRs", "merge"],
    ["", "v1", "Node", "status.conditions", "merge by type"],
    ["", "v1", "Node", "status.addresses", "merge by type"],
    ["", "v1", "Endpoints", "subsets", "none"],
    ["", "v1", "ConfigMap", "data", "none"],
    ["", "v1", "Secret", "metadata.finalizers", "merge"],
    ["", "v1", "ServiceAccount", "secrets", "merge by name"],
    ["", "v1", "ReplicationController", "spec.template.spec.containers", "merge by name"],
    ["apps", "v1", "Deployment", "spec.template.spec.containers.env", "merge by name"],
    ["apps", "v1", "Deployment", "spec.template.metadata.finalizers", "merge"],
    ["apps", "v1", "Deployment", "spec.strategy", "retainKeys"],
    ["apps", "v1", "Deployment", "status.conditions", "merge by type"],
    ["apps", "v1", "ReplicaSet", "spec.template.spec.volumes", "merge,retainKeys by name"],
    ["apps", "v1", "DaemonSet", "spec.template.spec.containers", "merge by name"],
    ["apps", "v1", "StatefulSet", "spec.template.spec.containers.ports", "merge by containerPort"],
    ["apps", "v1", "StatefulSet", "spec.volumeClaimTemplates.metadata.ownerReferences", "merge by uid"],
    ["batch", "v1", "Job", "spec.template.spec.containers", "merge by name"],
    ["batch", "v1", "Job", "status.conditions", "merge by type"],
    ["batch", "v1", "CronJob", "spec.jobTemplate.spec.template.spec.containers.env", "merge by name"],
    ["batch", "v1", "CronJob", "status.active", "none"],
    ["discovery.k8s.io", "v1", "EndpointSlice", "endpoints", "none"],
    ["discovery.k8s.io", "v1", "EndpointSlice", "metadata.ownerReferences", "merge by uid"],
  ];
  for (const [group, version, kind, path, want] of cases) {
    it(`${group || "core"}/${version} ${kind} ${path}: ${want}`, () => {
      const schema = patchSchemaFor(group, version, kind);
      assert.ok(schema, "built-in kinds have a schema");
      assert.equal(summary(metaAt(schema, path)), want);
    });
  }

  const unknown: [string, string, string][] = [
    ["example.com", "v1", "Widget"],
    ["apps", "v1beta1", "Deployment"],
    ["", "v1", "Deployment"],
  ];
  for (const [group, version, kind] of unknown) {
    it(`${group}/${version} ${kind} has no schema`, () =>
      assert.equal(patchSchemaFor(group, version, kind), undefined));
  }
});
