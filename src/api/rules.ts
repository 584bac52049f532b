/**
 * @module The table of kind rules (defaulting and validation) the registry applies, keyed by
 * group and kind, assembled from the per-group validation modules.
 */
import type { KindInfo } from "./kinds.ts";
import type { KindRules } from "./object.ts";
import { appsRules } from "./validation/apps.ts";
import { batchRules } from "./validation/batch.ts";

const BY_GROUP: Record<string, Record<string, KindRules>> = {
  apps: appsRules,
  batch: batchRules,
};

/** The rules of a kind, or undefined when it has none (it is then stored as sent). */
export function rulesFor(info: KindInfo): KindRules | undefined {
  return BY_GROUP[info.group]?.[info.kind];
}
