/**
 * @module The table of kind rules (defaulting and validation) the registry applies, keyed by
 * group and kind, assembled from the per-group validation modules.
 */
import type { KindInfo } from "./kinds.ts";
import type { KindRules } from "./object.ts";
import { appsRules } from "./validation/apps.ts";
import { batchRules } from "./validation/batch.ts";
import { coreRules } from "./validation/core.ts";
import { networkingRules } from "./validation/networking.ts";
import { otherRules } from "./validation/other.ts";
import { policyRules } from "./validation/policy.ts";
import { storageRules } from "./validation/storage.ts";

const BY_GROUP: Record<string, Record<string, KindRules>> = {
  "": { ...coreRules, ...storageRules },
  apps: appsRules,
  batch: batchRules,
  "discovery.k8s.io": otherRules,
  "coordination.k8s.io": otherRules,
  "scheduling.k8s.io": otherRules,
  "events.k8s.io": otherRules,
  "networking.k8s.io": networkingRules,
  policy: policyRules,
};

/** The rules of a kind, or undefined when it has none (it is then stored as sent). */
export function rulesFor(info: KindInfo): KindRules | undefined {
  return BY_GROUP[info.group]?.[info.kind];
}
