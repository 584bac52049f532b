/**
 * @module Validation of policy/v1 PodDisruptionBudget as upstream's: minAvailable and
 * maxUnavailable are each a non-negative int or a percent up to 100% and are not both set,
 * the selector is a valid label selector, unhealthyPodEvictionPolicy is IfHealthyBudget or
 * AlwaysAllow. The spec is mutable. Exports `policyRules`, keyed by kind.
 */
import { type FieldError, FieldPath, invalidValue, notSupported } from "../field-errors.ts";
import { validateLabelSelector } from "../labels.ts";
import { type KindRules, kindRules } from "../object.ts";
import type { PodDisruptionBudget } from "../types/policy-v1.ts";
import { isNotMoreThan100Percent, validatePositiveIntOrPercent } from "./apps.ts";
import { nameIsDNSSubdomain } from "./names.ts";
import { validateObjectMeta, validateObjectMetaUpdate } from "./object-meta.ts";

const META = FieldPath.root("metadata");
const SPEC = FieldPath.root("spec");

/** The supported values of spec.unhealthyPodEvictionPolicy. */
export const UNHEALTHY_POD_EVICTION_POLICIES = ["AlwaysAllow", "IfHealthyBudget"] as const;

/** Upstream's ValidatePodDisruptionBudgetSpec. */
export function validatePodDisruptionBudgetSpec(pdb: PodDisruptionBudget): FieldError[] {
  const spec = pdb.spec ?? {};
  const errs: FieldError[] = [];
  const min = spec.minAvailable ?? undefined;
  const max = spec.maxUnavailable ?? undefined;
  if (min !== undefined && max !== undefined) {
    errs.push(invalidValue(SPEC, spec, "minAvailable and maxUnavailable cannot be both set"));
  }
  if (min !== undefined) {
    const p = SPEC.child("minAvailable");
    errs.push(...validatePositiveIntOrPercent(min, p), ...isNotMoreThan100Percent(min, p));
  }
  if (max !== undefined) {
    const p = SPEC.child("maxUnavailable");
    errs.push(...validatePositiveIntOrPercent(max, p), ...isNotMoreThan100Percent(max, p));
  }
  errs.push(...validateLabelSelector(spec.selector, SPEC.child("selector")));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (
    policy !== undefined &&
    policy !== null &&
    !(UNHEALTHY_POD_EVICTION_POLICIES as readonly string[]).includes(policy)
  ) {
    errs.push(
      notSupported(SPEC.child("unhealthyPodEvictionPolicy"), policy, UNHEALTHY_POD_EVICTION_POLICIES),
    );
  }
  return errs;
}

const pdbRules: KindRules<PodDisruptionBudget> = {
  validate(pdb) {
    return [
      ...validateObjectMeta(pdb.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META),
      ...validatePodDisruptionBudgetSpec(pdb),
    ];
  },
  validateUpdate(pdb, old) {
    return [
      ...validateObjectMetaUpdate(pdb.metadata, old.metadata, META),
      ...validatePodDisruptionBudgetSpec(pdb),
    ];
  },
};

/** Rules of the policy/v1 kinds, by kind. */
export const policyRules: Record<string, KindRules> = {
  PodDisruptionBudget: kindRules(pdbRules),
};
