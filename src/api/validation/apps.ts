/**
 * @module Validation of the apps/v1 kinds (Deployment, ReplicaSet, DaemonSet, StatefulSet,
 * ControllerRevision) as upstream's pkg/apis/apps/validation and the apps registry
 * strategies do it, with upstream's field paths and messages: replicas and other counts not
 * negative, a selector that is set, non-empty and matches the template's labels, restart
 * policy Always, rolling-update int-or-percent rules, and on update an immutable selector
 * (StatefulSets: only some spec fields may change). Exports `appsRules`, keyed by kind.
 */
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import type { PodTemplateSpec } from "kubernetes-types/core/v1.js";
import {
  type FieldError,
  FieldPath,
  forbidden,
  invalidValue,
  goStringMap,
  notSupported,
  required,
} from "../field-errors.ts";
import { type KindRules, kindRules, type ObjectMeta } from "../object.ts";
import {
  LabelSelectorError,
  type Selector,
  labelSelectorAsSelector,
  validateLabelSelector,
} from "../labels.ts";
import { deepEqual } from "../meta.ts";
import type {
  ControllerRevision,
  DaemonSet,
  DaemonSetSpec,
  DaemonSetUpdateStrategy,
  Deployment,
  DeploymentSpec,
  DeploymentStrategy,
  ReplicaSet,
  ReplicaSetSpec,
  RollingUpdateStatefulSetStrategy,
  StatefulSet,
  StatefulSetSpec,
} from "../types/apps-v1.ts";
import {
  defaultDaemonSet,
  defaultDeployment,
  defaultReplicaSet,
  defaultStatefulSet,
} from "../defaults/apps.ts";
import {
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  regexError,
  validateAnnotations,
  validateLabels,
} from "./names.ts";
import { validateImmutableField, validateObjectMeta, validateObjectMetaUpdate } from "./object-meta.ts";
import { nonNegative, validatePodTemplateSpec } from "./pod-spec.ts";

const META = FieldPath.root("metadata");
const SPEC = FieldPath.root("spec");

/** An int-or-string field as it arrives in JSON. */
export type IntOrString = number | string;

const PERCENT_RE = /^[0-9]+%$/;
const PERCENT_ERR = regexError(
  "a valid percent string must be a numeric string followed by an ending '%'",
  "[0-9]+%",
  "1%",
  "93%",
);

/** Upstream's ValidatePositiveIntOrPercent: a non-negative integer or `N%`. */
export function validatePositiveIntOrPercent(v: IntOrString | undefined, path: FieldPath): FieldError[] {
  if (typeof v === "string") return PERCENT_RE.test(v) ? [] : [invalidValue(path, v, PERCENT_ERR)];
  if (typeof v === "number") return nonNegative(v, path);
  return [invalidValue(path, v ?? null, "must be an integer or percentage (e.g '5%')")];
}

/** The number in an int-or-percent value (`25%` → 25, `3` → 3); junk counts as 0, as upstream. */
export function intOrPercentValue(v: IntOrString | undefined): number {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return 0;
  if (PERCENT_RE.test(v)) return Number(v.slice(0, -1));
  return /^[+-]?[0-9]+$/.test(v) ? Number(v) : 0;
}

/** Upstream's IsNotMoreThan100Percent. */
export function isNotMoreThan100Percent(v: IntOrString | undefined, path: FieldPath): FieldError[] {
  if (typeof v !== "string" || !PERCENT_RE.test(v) || Number(v.slice(0, -1)) <= 100) return [];
  return [invalidValue(path, v, "must not be greater than 100%")];
}

/** The selector a LabelSelector stands for, or undefined when it does not compile. */
export function compileSelector(sel: LabelSelector | undefined | null): Selector | undefined {
  try {
    return labelSelectorAsSelector(sel);
  } catch (e) {
    if (e instanceof LabelSelectorError) return undefined;
    throw e;
  }
}

/** `spec.template.metadata.labels: Invalid value: {…}: `selector` does not match template `labels`` when it doesn't. */
export function selectorMatchesTemplate(
  sel: Selector,
  tpl: PodTemplateSpec | undefined,
  tplPath: FieldPath,
): FieldError[] {
  const labels = tpl?.metadata?.labels;
  if (sel.empty() || sel.matches(labels)) return [];
  return [
    invalidValue(
      tplPath.child("metadata", "labels"),
      goStringMap(labels),
      "`selector` does not match template `labels`",
    ),
  ];
}

/**
 * A workload's selector: required, valid, non-empty (`empty selector is invalid for
 * <what>`), and, when it compiles, matching the template labels. Upstream's shared shape
 * for Deployments, ReplicaSets and StatefulSets.
 */
function validateWorkloadSelector(
  sel: LabelSelector | undefined,
  tpl: PodTemplateSpec | undefined,
  emptyMsg: string,
  invalidMsg: string,
): { errs: FieldError[]; selector: Selector | undefined } {
  const errs: FieldError[] = [];
  const selPath = SPEC.child("selector");
  if (!sel) {
    errs.push(required(selPath, ""));
  } else {
    errs.push(...validateLabelSelector(sel, selPath));
    if (Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions?.length ?? 0) === 0) {
      errs.push(invalidValue(selPath, sel, emptyMsg));
    }
  }
  const selector = compileSelector(sel);
  if (!selector) errs.push(invalidValue(selPath, sel ?? null, invalidMsg));
  else errs.push(...selectorMatchesTemplate(selector, tpl, SPEC.child("template")));
  return { errs, selector };
}

/** restartPolicy Always and no activeDeadlineSeconds, for long-running workloads. */
function validateAlwaysRestart(
  tpl: PodTemplateSpec | undefined,
  tplPath: FieldPath,
  kind: string,
): FieldError[] {
  const errs: FieldError[] = [];
  const restartPolicy = tpl?.spec?.restartPolicy ?? "";
  if (restartPolicy !== "Always")
    errs.push(notSupported(tplPath.child("spec", "restartPolicy"), restartPolicy, ["Always"]));
  if (tpl?.spec?.activeDeadlineSeconds !== undefined && tpl.spec.activeDeadlineSeconds !== null) {
    errs.push(
      forbidden(
        tplPath.child("spec", "activeDeadlineSeconds"),
        `activeDeadlineSeconds in ${kind} is not Supported`,
      ),
    );
  }
  return errs;
}

/** A pod template checked as Deployments and ReplicaSets check theirs. */
function validateReplicaSetTemplate(tpl: PodTemplateSpec | undefined, kind: string): FieldError[] {
  const tplPath = SPEC.child("template");
  if (!tpl) return [required(tplPath, "")];
  return [...validatePodTemplateSpec(tpl, tplPath), ...validateAlwaysRestart(tpl, tplPath, kind)];
}

function optionalNonNegative(v: number | undefined | null, path: FieldPath): FieldError[] {
  return v === undefined || v === null ? [] : nonNegative(v, path);
}

// ---- Deployment ---------------------------------------------------------------------------

function validateDeploymentStrategy(strategy: DeploymentStrategy | undefined, path: FieldPath): FieldError[] {
  const s = strategy ?? {};
  switch (s.type) {
    case "Recreate":
      return s.rollingUpdate
        ? [forbidden(path.child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")]
        : [];
    case "RollingUpdate": {
      const ruPath = path.child("rollingUpdate");
      const ru = s.rollingUpdate;
      if (!ru) return [required(ruPath, "this should be defaulted and never be nil")];
      const errs = [
        ...validatePositiveIntOrPercent(ru.maxUnavailable, ruPath.child("maxUnavailable")),
        ...validatePositiveIntOrPercent(ru.maxSurge, ruPath.child("maxSurge")),
      ];
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(
          invalidValue(
            ruPath.child("maxUnavailable"),
            ru.maxUnavailable ?? null,
            "may not be 0 when `maxSurge` is 0",
          ),
        );
      }
      errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, ruPath.child("maxUnavailable")));
      return errs;
    }
    default:
      return [notSupported(path, s, ["Recreate", "RollingUpdate"])];
  }
}

/** Upstream's ValidateDeploymentSpec. */
export function validateDeploymentSpec(spec: DeploymentSpec | undefined): FieldError[] {
  const s = spec ?? ({} as DeploymentSpec);
  const errs = optionalNonNegative(s.replicas, SPEC.child("replicas"));
  const sel = validateWorkloadSelector(
    s.selector,
    s.template,
    "empty selector is invalid for deployment",
    "invalid label selector",
  );
  errs.push(...sel.errs);
  if (sel.selector) errs.push(...validateReplicaSetTemplate(s.template, "ReplicaSet"));
  errs.push(...validateDeploymentStrategy(s.strategy, SPEC.child("strategy")));
  const minReady = s.minReadySeconds ?? 0;
  errs.push(...nonNegative(minReady, SPEC.child("minReadySeconds")));
  errs.push(...optionalNonNegative(s.revisionHistoryLimit, SPEC.child("revisionHistoryLimit")));
  if (s.progressDeadlineSeconds !== undefined && s.progressDeadlineSeconds !== null) {
    const path = SPEC.child("progressDeadlineSeconds");
    errs.push(...nonNegative(s.progressDeadlineSeconds, path));
    if (s.progressDeadlineSeconds <= minReady) {
      errs.push(invalidValue(path, s.progressDeadlineSeconds, "must be greater than minReadySeconds"));
    }
  }
  return errs;
}

/**
 * The rules of a workload kind whose label selector is immutable: metadata plus `validateSpec`
 * on create; on update, metadata changes, the spec again, and the selector unchanged.
 */
function selectorWorkloadRules<T extends { metadata: ObjectMeta; spec?: { selector?: unknown } }>(
  defaults: (obj: T) => void,
  validateSpec: (spec: T["spec"]) => FieldError[],
): KindRules<T> {
  return {
    defaults,
    validate(obj) {
      return [
        ...validateObjectMeta(obj.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META),
        ...validateSpec(obj.spec),
      ];
    },
    validateUpdate(obj, old) {
      return [
        ...validateObjectMetaUpdate(obj.metadata, old.metadata, META),
        ...validateSpec(obj.spec),
        ...validateImmutableField(
          obj.spec?.selector ?? null,
          old.spec?.selector ?? null,
          SPEC.child("selector"),
        ),
      ];
    },
  };
}

const deploymentRules = selectorWorkloadRules<Deployment>(defaultDeployment, validateDeploymentSpec);

// ---- ReplicaSet ---------------------------------------------------------------------------

/** Upstream's ValidateReplicaSetSpec (its empty-selector message says "deployment", as upstream's does). */
export function validateReplicaSetSpec(spec: ReplicaSetSpec | undefined): FieldError[] {
  const s = spec ?? ({} as ReplicaSetSpec);
  const errs = [
    ...optionalNonNegative(s.replicas, SPEC.child("replicas")),
    ...nonNegative(s.minReadySeconds ?? 0, SPEC.child("minReadySeconds")),
  ];
  const sel = validateWorkloadSelector(
    s.selector,
    s.template,
    "empty selector is invalid for deployment",
    "invalid label selector",
  );
  errs.push(...sel.errs);
  if (sel.selector) errs.push(...validateReplicaSetTemplate(s.template, "ReplicaSet"));
  return errs;
}

const replicaSetRules = selectorWorkloadRules<ReplicaSet>(defaultReplicaSet, validateReplicaSetSpec);

// ---- DaemonSet ----------------------------------------------------------------------------

function validateDaemonSetUpdateStrategy(
  strategy: DaemonSetUpdateStrategy | undefined,
  path: FieldPath,
): FieldError[] {
  const s = strategy ?? {};
  switch (s.type) {
    case "OnDelete":
      return [];
    case "RollingUpdate": {
      const ruPath = path.child("rollingUpdate");
      const ru = s.rollingUpdate;
      if (!ru) return [required(ruPath, "")];
      const errs = [
        ...validatePositiveIntOrPercent(ru.maxUnavailable, ruPath.child("maxUnavailable")),
        ...validatePositiveIntOrPercent(ru.maxSurge, ruPath.child("maxSurge")),
        ...isNotMoreThan100Percent(ru.maxUnavailable, ruPath.child("maxUnavailable")),
        ...isNotMoreThan100Percent(ru.maxSurge, ruPath.child("maxSurge")),
      ];
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) {
        errs.push(
          invalidValue(
            ruPath.child("maxSurge"),
            ru.maxSurge ?? null,
            "may not be set when maxUnavailable is non-zero",
          ),
        );
      } else if (!hasUnavailable && !hasSurge) {
        errs.push(required(ruPath.child("maxUnavailable"), "cannot be 0 when maxSurge is 0"));
      }
      return errs;
    }
    default:
      return [notSupported(path, s, ["RollingUpdate", "OnDelete"])];
  }
}

/** Upstream's ValidateDaemonSetSpec (a missing selector shows up as a template mismatch, as upstream). */
export function validateDaemonSetSpec(spec: DaemonSetSpec | undefined): FieldError[] {
  const s = spec ?? ({} as DaemonSetSpec);
  const errs = validateLabelSelector(s.selector, SPEC.child("selector"));
  const selector = compileSelector(s.selector);
  if (selector && !selector.matches(s.template?.metadata?.labels)) {
    errs.push(
      invalidValue(
        SPEC.child("template", "metadata", "labels"),
        goStringMap(s.template?.metadata?.labels),
        "`selector` does not match template `labels`",
      ),
    );
  }
  if (
    s.selector &&
    Object.keys(s.selector.matchLabels ?? {}).length + (s.selector.matchExpressions?.length ?? 0) === 0
  ) {
    errs.push(invalidValue(SPEC.child("selector"), s.selector, "empty selector is invalid for daemonset"));
  }
  const tplPath = SPEC.child("template");
  errs.push(...validatePodTemplateSpec(s.template ?? {}, tplPath));
  errs.push(...validateAlwaysRestart(s.template, tplPath, "DaemonSet"));
  errs.push(...nonNegative(s.minReadySeconds ?? 0, SPEC.child("minReadySeconds")));
  errs.push(...validateDaemonSetUpdateStrategy(s.updateStrategy, SPEC.child("updateStrategy")));
  errs.push(...optionalNonNegative(s.revisionHistoryLimit, SPEC.child("revisionHistoryLimit")));
  return errs;
}

const daemonSetRules = selectorWorkloadRules<DaemonSet>(defaultDaemonSet, validateDaemonSetSpec);

// ---- StatefulSet --------------------------------------------------------------------------

function validateRollingUpdateStatefulSet(
  ru: RollingUpdateStatefulSetStrategy,
  path: FieldPath,
): FieldError[] {
  const errs = nonNegative(ru.partition ?? 0, path.child("partition"));
  if (ru.maxUnavailable !== undefined && ru.maxUnavailable !== null) {
    const p = path.child("maxUnavailable");
    errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, p));
    if (intOrPercentValue(ru.maxUnavailable) === 0)
      errs.push(invalidValue(p, ru.maxUnavailable, "cannot be 0"));
    errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, p));
  }
  return errs;
}

const RETENTION_POLICIES = ["Retain", "Delete"];

/** Upstream's ValidateStatefulSetSpec. Like upstream, the pod spec itself is not validated here. */
export function validateStatefulSetSpec(spec: StatefulSetSpec | undefined): FieldError[] {
  const s = spec ?? ({} as StatefulSetSpec);
  const errs: FieldError[] = [];
  const pmp = s.podManagementPolicy ?? "";
  if (pmp === "") errs.push(required(SPEC.child("podManagementPolicy"), ""));
  else if (pmp !== "OrderedReady" && pmp !== "Parallel") {
    errs.push(invalidValue(SPEC.child("podManagementPolicy"), pmp, "must be 'OrderedReady' or 'Parallel'"));
  }
  const us = s.updateStrategy ?? {};
  const usPath = SPEC.child("updateStrategy");
  switch (us.type ?? "") {
    case "":
      errs.push(required(usPath, ""));
      break;
    case "OnDelete":
      if (us.rollingUpdate) {
        errs.push(
          invalidValue(
            usPath.child("rollingUpdate"),
            us.rollingUpdate,
            "only allowed for updateStrategy 'RollingUpdate'",
          ),
        );
      }
      break;
    case "RollingUpdate":
      if (us.rollingUpdate)
        errs.push(...validateRollingUpdateStatefulSet(us.rollingUpdate, usPath.child("rollingUpdate")));
      break;
    default:
      errs.push(invalidValue(usPath, us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = s.persistentVolumeClaimRetentionPolicy;
  if (retention) {
    const rPath = SPEC.child("persistentVolumeClaimRetentionPolicy");
    for (const f of ["whenDeleted", "whenScaled"] as const) {
      const v = retention[f] ?? "";
      if (!RETENTION_POLICIES.includes(v)) errs.push(notSupported(rPath.child(f), v, RETENTION_POLICIES));
    }
  }
  errs.push(...optionalNonNegative(s.replicas, SPEC.child("replicas")));
  errs.push(...nonNegative(s.minReadySeconds ?? 0, SPEC.child("minReadySeconds")));
  if (s.ordinals) errs.push(...nonNegative(s.ordinals.start ?? 0, SPEC.child("ordinals.start")));
  const sel = validateWorkloadSelector(
    s.selector,
    s.template,
    "empty selector is invalid for statefulset",
    "",
  );
  errs.push(...sel.errs);
  const tplPath = SPEC.child("template");
  if (sel.selector) {
    errs.push(...validateLabels(s.template?.metadata?.labels, tplPath.child("labels")));
    errs.push(...validateAnnotations(s.template?.metadata?.annotations, tplPath.child("annotations")));
  }
  errs.push(...validateAlwaysRestart(s.template, tplPath, "StatefulSet"));
  return errs;
}

/** The StatefulSet spec fields an update may change; the rest are frozen. */
const STATEFULSET_MUTABLE = [
  "replicas",
  "template",
  "updateStrategy",
  "minReadySeconds",
  "ordinals",
  "persistentVolumeClaimRetentionPolicy",
] as const;

function validateStatefulSetSpecUpdate(
  spec: StatefulSetSpec | undefined,
  old: StatefulSetSpec | undefined,
): FieldError[] {
  const frozen = (s: StatefulSetSpec | undefined): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...(s ?? {}) };
    for (const f of STATEFULSET_MUTABLE) delete copy[f];
    return copy;
  };
  if (deepEqual(frozen(spec), frozen(old))) return [];
  return [
    forbidden(
      SPEC,
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
  ];
}

const statefulSetRules: KindRules<StatefulSet> = {
  defaults: defaultStatefulSet,
  validate(obj) {
    return [
      ...validateObjectMeta(obj.metadata, { namespaced: true, nameFn: nameIsDNSLabel }, META),
      ...validateStatefulSetSpec(obj.spec),
    ];
  },
  validateUpdate(obj, old) {
    // The name is not re-validated on update: older clusters allowed subdomain names.
    return [
      ...validateObjectMetaUpdate(obj.metadata, old.metadata, META),
      ...validateStatefulSetSpec(obj.spec),
      ...validateStatefulSetSpecUpdate(obj.spec, old.spec),
    ];
  },
};

// ---- ControllerRevision -------------------------------------------------------------------

function validateControllerRevision(obj: ControllerRevision): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META);
  if (obj.data === undefined || obj.data === null)
    errs.push(required(FieldPath.root("data"), "data is mandatory"));
  errs.push(...nonNegative(obj.revision ?? 0, FieldPath.root("revision")));
  return errs;
}

const controllerRevisionRules: KindRules<ControllerRevision> = {
  validate: validateControllerRevision,
  validateUpdate(obj, old) {
    return [
      ...validateObjectMetaUpdate(obj.metadata, old.metadata, META),
      ...validateControllerRevision(obj),
      ...validateImmutableField(obj.data ?? null, old.data ?? null, FieldPath.root("data")),
    ];
  },
};

/** Defaulting and validation for the apps/v1 kinds, keyed by kind. */
export const appsRules: Record<string, KindRules> = {
  Deployment: kindRules(deploymentRules),
  ReplicaSet: kindRules(replicaSetRules),
  DaemonSet: kindRules(daemonSetRules),
  StatefulSet: kindRules(statefulSetRules),
  ControllerRevision: kindRules(controllerRevisionRules),
};
