/**
 * @module Validation of the batch/v1 kinds (Job, CronJob) as upstream's
 * pkg/apis/batch/validation and the batch registry strategies do it, with upstream's field
 * paths and messages: counts not negative, restart policy OnFailure or Never, the generated
 * selector and pod labels, Indexed-mode rules, pod failure and success policies, an
 * immutable pod template once a Job has started, and for CronJobs the schedule (parsed by
 * cron-schedule.ts), time zone, concurrency policy and the 52-character name limit.
 * Exports `batchRules`, keyed by kind.
 */
import {
  type FieldError,
  FieldPath,
  duplicate,
  invalidValue,
  goStringMap,
  notSupported,
  required,
  tooLong,
  tooMany,
} from "../field-errors.ts";
import { type KindRules, kindRules } from "../object.ts";
import { validateLabelSelector } from "../labels.ts";
import type {
  CronJob,
  CronJobSpec,
  Job,
  JobSpec,
  JobTemplateSpec,
  PodFailurePolicyRule,
  SuccessPolicyRule,
} from "../types/batch-v1.ts";
import {
  CONTROLLER_UID_LABEL,
  JOB_NAME_LABEL,
  LEGACY_CONTROLLER_UID_LABEL,
  LEGACY_JOB_NAME_LABEL,
  defaultCronJob,
  defaultJob,
} from "../defaults/batch.ts";
import { compileSelector } from "./apps.ts";
import { parseCronSchedule, timeZoneError } from "./cron-schedule.ts";
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  nameIsDNSSubdomain,
  regexError,
} from "./names.ts";
import { validateImmutableField, validateObjectMeta, validateObjectMetaUpdate } from "./object-meta.ts";
import { nonNegative, validatePodTemplateSpec } from "./pod-spec.ts";

const META = FieldPath.root("metadata");
const SPEC = FieldPath.root("spec");

/** Most parallelism an Indexed Job may have. */
const MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000;
/** Most failed indexes an Indexed Job may tolerate. */
const MAX_FAILED_INDEXES_FOR_INDEXED_JOB = 100_000;
const COMPLETIONS_SOFT_LIMIT = 100_000;
const PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS = 10_000;
const MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS = 10_000;
const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_ON_EXIT_CODES_VALUES = 255;
const MAX_ON_POD_CONDITIONS_PATTERNS = 20;
const MAX_MANAGED_BY_LENGTH = 63;
const MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024;
const MAX_SUCCESS_POLICY_RULES = 20;
/** Longest CronJob name: Job names get an 11-character `-<timestamp>` suffix. */
export const MAX_CRONJOB_NAME_LENGTH = 52;

const POD_FAILURE_ACTIONS = ["Count", "FailIndex", "FailJob", "Ignore"];
const ON_EXIT_CODES_OPERATORS = ["In", "NotIn"];
const CONDITION_STATUSES = ["False", "True", "Unknown"];

function isSet<T>(v: T | undefined | null): v is T {
  return v !== undefined && v !== null;
}

function optionalNonNegative(v: number | undefined | null, path: FieldPath): FieldError[] {
  return isSet(v) ? nonNegative(v, path) : [];
}

const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const HTTP_PATH_RE = new RegExp(`^${HTTP_PATH_FMT}$`);

/** Upstream's IsDomainPrefixedPath (`acme.io/foo`). */
function validateDomainPrefixedPath(path: FieldPath, value: string): FieldError[] {
  if (value.length === 0) return [required(path, "")];
  const slash = value.indexOf("/");
  if (slash <= 0 || slash === value.length - 1) {
    return [invalidValue(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  }
  const host = value.slice(0, slash);
  const rest = value.slice(slash + 1);
  const errs = isDNS1123Subdomain(host).map((m) => invalidValue(path, host, m));
  if (!HTTP_PATH_RE.test(rest))
    errs.push(invalidValue(path, rest, regexError("Invalid path", HTTP_PATH_FMT)));
  return errs;
}

/**
 * Parses an index list (`1,3-5,7`) as upstream's validateIndexesFormat: increasing, each
 * below `completions`. Returns how many indexes it names, or the error text.
 */
export function parseIndexes(s: string, completions: number): { total: number } | { error: string } {
  if (s.length === 0) return { total: 0 };
  let last: number | undefined;
  let total = 0;
  const toInt = (x: string): number | undefined => (/^[+-]?[0-9]+$/.test(x) ? Number(x) : undefined);
  for (const interval of s.split(",")) {
    const limits = interval.split("-");
    if (limits.length > 2) {
      return {
        error: `the fragment ${JSON.stringify(interval)} violates the requirement that an index interval can have at most two parts separated by '-'`,
      };
    }
    const x = toInt(limits[0]!);
    if (x === undefined)
      return { error: `cannot convert string to integer for index: ${JSON.stringify(limits[0])}` };
    if (x >= completions) return { error: `too large index: ${JSON.stringify(limits[0])}` };
    if (last !== undefined && last >= x)
      return { error: `non-increasing order, previous: ${last}, current: ${x}` };
    total++;
    last = x;
    if (limits.length > 1) {
      const y = toInt(limits[1]!);
      if (y === undefined)
        return { error: `cannot convert string to integer for index: ${JSON.stringify(limits[1])}` };
      if (y >= completions) return { error: `too large index: ${JSON.stringify(limits[1])}` };
      if (last >= y) return { error: `non-increasing order, previous: ${last}, current: ${y}` };
      total += y - x;
      last = y;
    }
  }
  return { total };
}

function validatePodFailurePolicyRule(
  spec: JobSpec,
  rule: PodFailurePolicyRule,
  path: FieldPath,
  containers: Set<string>,
): FieldError[] {
  const errs: FieldError[] = [];
  const actionPath = path.child("action");
  const action = rule.action ?? "";
  if (action === "") {
    errs.push(
      required(actionPath, `valid values: [${POD_FAILURE_ACTIONS.map((a) => JSON.stringify(a)).join(" ")}]`),
    );
  } else if (action === "FailIndex") {
    if (!isSet(spec.backoffLimitPerIndex))
      errs.push(invalidValue(actionPath, action, "requires the backoffLimitPerIndex to be set"));
  } else if (!POD_FAILURE_ACTIONS.includes(action)) {
    errs.push(notSupported(actionPath, action, POD_FAILURE_ACTIONS));
  }
  const onExit = rule.onExitCodes;
  if (onExit) {
    const p = path.child("onExitCodes");
    const opPath = p.child("operator");
    const op = onExit.operator ?? "";
    if (op === "")
      errs.push(
        required(
          opPath,
          `valid values: [${ON_EXIT_CODES_OPERATORS.map((o) => JSON.stringify(o)).join(" ")}]`,
        ),
      );
    else if (!ON_EXIT_CODES_OPERATORS.includes(op))
      errs.push(notSupported(opPath, op, ON_EXIT_CODES_OPERATORS));
    if (isSet(onExit.containerName) && !containers.has(onExit.containerName)) {
      errs.push(
        invalidValue(
          p.child("containerName"),
          onExit.containerName,
          "must be one of the container or initContainer names in the pod template",
        ),
      );
    }
    const values = onExit.values ?? [];
    const vPath = p.child("values");
    if (values.length === 0) errs.push(invalidValue(vPath, values, "at least one value is required"));
    else if (values.length > MAX_ON_EXIT_CODES_VALUES)
      errs.push(tooMany(vPath, values.length, MAX_ON_EXIT_CODES_VALUES));
    const seen = new Set<number>();
    let ordered = true;
    values.forEach((v, j) => {
      if (op === "In" && v === 0)
        errs.push(invalidValue(vPath.index(j), v, "must not be 0 for the In operator"));
      if (seen.has(v)) errs.push(duplicate(vPath.index(j), v));
      else seen.add(v);
      if (j > 0 && values[j - 1]! > v) ordered = false;
    });
    if (!ordered) errs.push(invalidValue(vPath, values, "must be ordered"));
  }
  const patterns = rule.onPodConditions ?? [];
  if (patterns.length > 0) {
    const p = path.child("onPodConditions");
    if (patterns.length > MAX_ON_POD_CONDITIONS_PATTERNS)
      errs.push(tooMany(p, patterns.length, MAX_ON_POD_CONDITIONS_PATTERNS));
    patterns.forEach((pattern, j) => {
      const pp = p.index(j);
      for (const m of isQualifiedName(pattern.type ?? ""))
        errs.push(invalidValue(pp.child("type"), pattern.type ?? "", m));
      const status = pattern.status ?? "";
      if (status === "")
        errs.push(
          required(
            pp.child("status"),
            `valid values: [${CONDITION_STATUSES.map((s) => JSON.stringify(s)).join(" ")}]`,
          ),
        );
      else if (!CONDITION_STATUSES.includes(status))
        errs.push(notSupported(pp.child("status"), status, CONDITION_STATUSES));
    });
  }
  if (onExit && patterns.length > 0) {
    errs.push(invalidValue(path, null, "specifying both OnExitCodes and OnPodConditions is not supported"));
  }
  if (!onExit && patterns.length === 0) {
    errs.push(invalidValue(path, null, "specifying one of OnExitCodes and OnPodConditions is required"));
  }
  return errs;
}

function validateSuccessPolicyRule(spec: JobSpec, rule: SuccessPolicyRule, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const completions = spec.completions ?? 0;
  if (!isSet(rule.succeededCount) && !isSet(rule.succeededIndexes)) {
    errs.push(required(path, "at least one of succeededCount or succeededIndexes must be specified"));
  }
  let totalIndexes = 0;
  if (isSet(rule.succeededIndexes)) {
    const p = path.child("succeededIndexes");
    if (rule.succeededIndexes.length > MAX_SUCCEEDED_INDEXES_LENGTH) {
      errs.push(tooLong(p, rule.succeededIndexes, MAX_SUCCEEDED_INDEXES_LENGTH));
    }
    const parsed = parseIndexes(rule.succeededIndexes, completions);
    if ("error" in parsed)
      errs.push(invalidValue(p, rule.succeededIndexes, `error parsing succeededIndexes: ${parsed.error}`));
    else totalIndexes = parsed.total;
  }
  if (isSet(rule.succeededCount)) {
    const p = path.child("succeededCount");
    errs.push(...nonNegative(rule.succeededCount, p));
    if (rule.succeededCount > completions) {
      errs.push(
        invalidValue(
          p,
          rule.succeededCount,
          `must be less than or equal to ${completions} (the number of specified completions)`,
        ),
      );
    }
    if (isSet(rule.succeededIndexes) && rule.succeededCount > totalIndexes) {
      errs.push(
        invalidValue(
          p,
          rule.succeededCount,
          `must be less than or equal to ${totalIndexes} (the number of indexes in the specified succeededIndexes field)`,
        ),
      );
    }
  }
  return errs;
}

function validateIndexedMode(spec: JobSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!isSet(spec.completions))
    errs.push(required(path.child("completions"), "when completion mode is Indexed"));
  if (isSet(spec.parallelism) && spec.parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB) {
    errs.push(
      invalidValue(
        path.child("parallelism"),
        spec.parallelism,
        `must be less than or equal to ${MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed`,
      ),
    );
  }
  const maxFailed = spec.maxFailedIndexes;
  if (isSet(spec.completions) && isSet(maxFailed) && maxFailed > spec.completions) {
    errs.push(
      invalidValue(path.child("maxFailedIndexes"), maxFailed, "must be less than or equal to completions"),
    );
  }
  if (isSet(maxFailed) && maxFailed > MAX_FAILED_INDEXES_FOR_INDEXED_JOB) {
    errs.push(
      invalidValue(
        path.child("maxFailedIndexes"),
        maxFailed,
        `must be less than or equal to ${MAX_FAILED_INDEXES_FOR_INDEXED_JOB}`,
      ),
    );
  }
  if (
    isSet(spec.completions) &&
    spec.completions > COMPLETIONS_SOFT_LIMIT &&
    isSet(spec.backoffLimitPerIndex)
  ) {
    const suffix = `when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`;
    if (!isSet(maxFailed)) {
      errs.push(
        required(
          path.child("maxFailedIndexes"),
          `must be specified when completions is above ${COMPLETIONS_SOFT_LIMIT}`,
        ),
      );
    }
    if (isSet(spec.parallelism) && spec.parallelism > PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS) {
      errs.push(
        invalidValue(
          path.child("parallelism"),
          spec.parallelism,
          `must be less than or equal to ${PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS} ${suffix}`,
        ),
      );
    }
    if (isSet(maxFailed) && maxFailed > MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS) {
      errs.push(
        invalidValue(
          path.child("maxFailedIndexes"),
          maxFailed,
          `must be less than or equal to ${MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS} ${suffix}`,
        ),
      );
    }
  }
  return errs;
}

/**
 * Upstream's validateJobSpec: what a Job's spec and a CronJob's job template share. `path`
 * is where the JobSpec sits (`spec`, or `spec.jobTemplate.spec`).
 */
export function validateJobSpecFields(spec: JobSpec, path: FieldPath): FieldError[] {
  const errs = [
    ...optionalNonNegative(spec.parallelism, path.child("parallelism")),
    ...optionalNonNegative(spec.completions, path.child("completions")),
    ...optionalNonNegative(spec.activeDeadlineSeconds, path.child("activeDeadlineSeconds")),
    ...optionalNonNegative(spec.backoffLimit, path.child("backoffLimit")),
    ...optionalNonNegative(spec.ttlSecondsAfterFinished, path.child("ttlSecondsAfterFinished")),
    ...optionalNonNegative(spec.backoffLimitPerIndex, path.child("backoffLimitPerIndex")),
  ];
  if (isSet(spec.maxFailedIndexes)) {
    errs.push(...nonNegative(spec.maxFailedIndexes, path.child("maxFailedIndexes")));
    if (!isSet(spec.backoffLimitPerIndex))
      errs.push(required(path.child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"));
  }
  if (isSet(spec.managedBy)) {
    errs.push(...validateDomainPrefixedPath(path.child("managedBy"), spec.managedBy));
    if (spec.managedBy.length > MAX_MANAGED_BY_LENGTH)
      errs.push(tooLong(path.child("managedBy"), spec.managedBy, MAX_MANAGED_BY_LENGTH));
  }
  const mode = spec.completionMode;
  if (isSet(mode)) {
    if (mode !== "NonIndexed" && mode !== "Indexed")
      errs.push(notSupported(path.child("completionMode"), mode, ["NonIndexed", "Indexed"]));
    if (mode === "Indexed") errs.push(...validateIndexedMode(spec, path));
  }
  if (!isSet(mode) || mode === "NonIndexed") {
    if (isSet(spec.backoffLimitPerIndex)) {
      errs.push(
        invalidValue(
          path.child("backoffLimitPerIndex"),
          spec.backoffLimitPerIndex,
          "requires indexed completion mode",
        ),
      );
    }
    if (isSet(spec.maxFailedIndexes)) {
      errs.push(
        invalidValue(
          path.child("maxFailedIndexes"),
          spec.maxFailedIndexes,
          "requires indexed completion mode",
        ),
      );
    }
  }
  const podSpec = spec.template?.spec;
  if (spec.podFailurePolicy) {
    const rulesPath = path.child("podFailurePolicy", "rules");
    const rules = spec.podFailurePolicy.rules ?? [];
    if (rules.length > MAX_POD_FAILURE_POLICY_RULES)
      errs.push(tooMany(rulesPath, rules.length, MAX_POD_FAILURE_POLICY_RULES));
    const containers = new Set(
      [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])].map((c) => c.name),
    );
    rules.forEach((rule, i) =>
      errs.push(...validatePodFailurePolicyRule(spec, rule, rulesPath.index(i), containers)),
    );
  }
  if (spec.successPolicy) {
    const spPath = path.child("successPolicy");
    if (mode !== "Indexed") {
      errs.push(invalidValue(spPath, spec.successPolicy, "requires indexed completion mode"));
    } else {
      const rules = spec.successPolicy.rules ?? [];
      const rulesPath = spPath.child("rules");
      if (rules.length === 0)
        errs.push(
          required(rulesPath, "at least one rules must be specified when the successPolicy is specified"),
        );
      if (rules.length > MAX_SUCCESS_POLICY_RULES)
        errs.push(tooMany(rulesPath, rules.length, MAX_SUCCESS_POLICY_RULES));
      rules.forEach((rule, i) => errs.push(...validateSuccessPolicyRule(spec, rule, rulesPath.index(i))));
    }
  }
  if (isSet(spec.podReplacementPolicy)) {
    const p = path.child("podReplacementPolicy");
    const allowed = spec.podFailurePolicy ? ["Failed"] : ["Failed", "TerminatingOrFailed"];
    if (!allowed.includes(spec.podReplacementPolicy))
      errs.push(notSupported(p, spec.podReplacementPolicy, allowed));
  }
  const tplPath = path.child("template");
  errs.push(...validatePodTemplateSpec(spec.template ?? {}, tplPath));
  const restartPath = tplPath.child("spec", "restartPolicy");
  const restartPolicy = podSpec?.restartPolicy ?? "";
  if (restartPolicy === "Always" || restartPolicy === "") {
    errs.push(required(restartPath, 'valid values: "OnFailure", "Never"'));
  } else if (restartPolicy !== "OnFailure" && restartPolicy !== "Never") {
    errs.push(notSupported(restartPath, restartPolicy, ["OnFailure", "Never"]));
  } else if (spec.podFailurePolicy && restartPolicy !== "Never") {
    errs.push(
      invalidValue(
        restartPath,
        restartPolicy,
        'only "Never" is supported when podFailurePolicy is specified',
      ),
    );
  }
  return errs;
}

/** `spec.template.metadata.labels[<key>]` must be `expected` (upstream's ValidateHasLabel). */
function hasLabel(labels: Record<string, string> | undefined, key: string, expected: string): FieldError[] {
  const path = SPEC.child("template", "metadata", "labels").key(key);
  const actual = labels?.[key];
  if (actual === undefined) return [required(path, `must be '${expected}'`)];
  if (actual !== expected) return [invalidValue(path, labels, `must be '${expected}'`)];
  return [];
}

/** Upstream's validateGeneratedSelector: the generated labels and selector are intact. */
function validateGeneratedSelector(job: Job, requirePrefixedLabels: boolean): FieldError[] {
  const spec = job.spec;
  if (!spec || spec.manualSelector === true || !spec.selector) return [];
  const errs: FieldError[] = [];
  const uid = job.metadata.uid ?? "";
  const name = job.metadata.name ?? "";
  if (uid === "") errs.push(required(META.child("uid"), ""));
  const labels = spec.template?.metadata?.labels;
  errs.push(
    ...hasLabel(labels, LEGACY_CONTROLLER_UID_LABEL, uid),
    ...hasLabel(labels, LEGACY_JOB_NAME_LABEL, name),
  );
  const expected: Record<string, string> = {
    [LEGACY_CONTROLLER_UID_LABEL]: uid,
    [LEGACY_JOB_NAME_LABEL]: name,
  };
  if (requirePrefixedLabels) {
    errs.push(...hasLabel(labels, CONTROLLER_UID_LABEL, uid), ...hasLabel(labels, JOB_NAME_LABEL, name));
    expected[CONTROLLER_UID_LABEL] = uid;
    expected[JOB_NAME_LABEL] = name;
  }
  const selector = compileSelector(spec.selector);
  if (selector && !selector.matches(expected)) {
    errs.push(invalidValue(SPEC.child("selector"), spec.selector, "`selector` not auto-generated"));
  }
  return errs;
}

/** Upstream's ValidateJob: metadata, generated selector, spec, and the Indexed pod-hostname limit. */
export function validateJob(job: Job, requirePrefixedLabels = true): FieldError[] {
  const spec = job.spec ?? ({} as JobSpec);
  const errs = validateObjectMeta(job.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META);
  errs.push(...validateGeneratedSelector(job, requirePrefixedLabels));
  errs.push(...validateJobSpecFields(spec, SPEC));
  const selPath = SPEC.child("selector");
  if (!spec.selector) errs.push(required(selPath, ""));
  else errs.push(...validateLabelSelector(spec.selector, selPath));
  const selector = compileSelector(spec.selector);
  const labels = spec.template?.metadata?.labels;
  if (selector && !selector.matches(labels)) {
    errs.push(
      invalidValue(
        SPEC.child("template", "metadata", "labels"),
        goStringMap(labels),
        "`selector` does not match template `labels`",
      ),
    );
  }
  if (spec.completionMode === "Indexed" && isSet(spec.completions) && spec.completions > 0) {
    const name = job.metadata.name ?? "";
    const hostname = `${name}-${spec.completions - 1}`;
    if (isDNS1123Label(hostname).length > 0) {
      errs.push(
        invalidValue(
          META.child("name"),
          name,
          `will not able to create pod with invalid DNS label: ${hostname}`,
        ),
      );
    }
  }
  return errs;
}

/** The old template with the scheduling directives of a suspended, never-started Job taken from the new one. */
function comparableOldTemplate(spec: JobSpec, old: Job): JobSpec["template"] | undefined {
  const oldTpl = old.spec?.template;
  const suspended = old.spec?.suspend === true;
  const notStarted = !isSet(old.status?.startTime);
  if (!oldTpl || !suspended || !notStarted) return oldTpl;
  const tpl = structuredClone(oldTpl);
  const next = spec.template;
  const meta = (tpl.metadata ??= {});
  meta.labels = next?.metadata?.labels;
  meta.annotations = next?.metadata?.annotations;
  const podSpec = (tpl.spec ??= { containers: [] });
  podSpec.nodeSelector = next?.spec?.nodeSelector;
  podSpec.tolerations = next?.spec?.tolerations;
  podSpec.schedulingGates = next?.spec?.schedulingGates;
  const newAffinity = next?.spec?.affinity;
  if (!newAffinity && podSpec.affinity) {
    // The affinity may be cleared when node affinity was all it had.
    const rest = { ...podSpec.affinity, nodeAffinity: undefined };
    podSpec.affinity = Object.values(rest).every((v) => v === undefined) ? undefined : rest;
  } else if (newAffinity) {
    podSpec.affinity = { ...(podSpec.affinity ?? {}), nodeAffinity: newAffinity.nodeAffinity };
  }
  return tpl;
}

/** Upstream's ValidateJobSpecUpdate minus the spec checks `validateJob` already made. */
function validateJobSpecUpdate(job: Job, old: Job): FieldError[] {
  const spec = job.spec ?? ({} as JobSpec);
  const oldSpec = old.spec ?? ({} as JobSpec);
  const errs: FieldError[] = [];
  const completionsPath = SPEC.child("completions");
  if (spec.completionMode === "Indexed") {
    // Elastic Indexed Jobs: completions may change, in tandem with parallelism.
    if (
      isSet(spec.completions) &&
      spec.completions !== oldSpec.completions &&
      spec.completions !== spec.parallelism
    ) {
      errs.push(
        invalidValue(
          completionsPath,
          spec.completions,
          "can only be modified in tandem with spec.parallelism",
        ),
      );
    }
  } else {
    errs.push(
      ...validateImmutableField(spec.completions ?? null, oldSpec.completions ?? null, completionsPath),
    );
  }
  errs.push(
    ...validateImmutableField(spec.selector ?? null, oldSpec.selector ?? null, SPEC.child("selector")),
  );
  errs.push(
    ...validateImmutableField(
      spec.template ?? null,
      comparableOldTemplate(spec, old) ?? null,
      SPEC.child("template"),
    ),
  );
  const immutable = [
    "completionMode",
    "podFailurePolicy",
    "backoffLimitPerIndex",
    "managedBy",
    "successPolicy",
  ] as const;
  for (const f of immutable)
    errs.push(...validateImmutableField(spec[f] ?? null, oldSpec[f] ?? null, SPEC.child(f)));
  return errs;
}

const jobRules: KindRules<Job> = {
  defaults: defaultJob,
  validate: (job) => validateJob(job, true),
  validateUpdate(job, old) {
    // Jobs created before the prefixed labels existed are not failed for lacking them.
    const oldLabels = old.spec?.template?.metadata?.labels ?? {};
    const requirePrefixed = JOB_NAME_LABEL in oldLabels && CONTROLLER_UID_LABEL in oldLabels;
    return [
      ...validateJob(job, requirePrefixed),
      ...validateObjectMetaUpdate(job.metadata, old.metadata, META),
      ...validateJobSpecUpdate(job, old),
    ];
  },
};

// ---- CronJob ------------------------------------------------------------------------------

const TIME_ZONE_PART_RE = /^[A-Za-z.\-_0-9+]{1,14}$/;

/** Upstream's validateTimeZone: nil, or an explicit IANA zone this machine knows. */
export function validateTimeZone(tz: string | undefined | null, path: FieldPath): FieldError[] {
  if (!isSet(tz)) return [];
  if (tz.length === 0) return [invalidValue(path, tz, "timeZone must be nil or non-empty string")];
  for (const part of tz.split("/")) {
    if (part === "." || part === ".." || part.startsWith("-") || !TIME_ZONE_PART_RE.test(part)) {
      return [invalidValue(path, tz, `unknown time zone ${tz}`)];
    }
  }
  const errs: FieldError[] = [];
  if (tz.toLowerCase() === "local") {
    errs.push(
      invalidValue(
        path,
        tz,
        "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
      ),
    );
  }
  const err = timeZoneError(tz);
  if (err) errs.push(invalidValue(path, tz, err));
  return errs;
}

/** Upstream's validateScheduleFormat: parses, and refuses `TZ`/`CRON_TZ` in the schedule. */
export function validateSchedule(
  schedule: string,
  allowTZ: boolean,
  timeZone: string | undefined | null,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const parsed = parseCronSchedule(schedule);
  if (!parsed.ok) errs.push(invalidValue(path, schedule, parsed.error));
  if (allowTZ && schedule.includes("TZ") && isSet(timeZone)) {
    errs.push(invalidValue(path, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"));
  } else if (!allowTZ && schedule.includes("TZ")) {
    errs.push(
      invalidValue(path, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"),
    );
  }
  return errs;
}

/** Upstream's ValidateJobTemplateSpec: the job spec, with a selector left to the controller. */
function validateJobTemplate(tpl: JobTemplateSpec | undefined, path: FieldPath): FieldError[] {
  const spec = tpl?.spec ?? ({} as JobSpec);
  const specPath = path.child("spec");
  const errs = validateJobSpecFields(spec, specPath);
  if (spec.selector)
    errs.push(invalidValue(specPath.child("selector"), spec.selector, "`selector` will be auto-generated"));
  if (spec.manualSelector === true)
    errs.push(notSupported(specPath.child("manualSelector"), true, ["nil", "false"]));
  return errs;
}

function validateCronJobSpec(spec: CronJobSpec | undefined, old: CronJobSpec | undefined): FieldError[] {
  const s = spec ?? ({} as CronJobSpec);
  const errs: FieldError[] = [];
  const schedule = s.schedule ?? "";
  if (schedule.length === 0) errs.push(required(SPEC.child("schedule"), ""));
  else
    errs.push(
      ...validateSchedule(
        schedule,
        old ? (old.schedule ?? "").includes("TZ") : false,
        s.timeZone,
        SPEC.child("schedule"),
      ),
    );
  errs.push(...optionalNonNegative(s.startingDeadlineSeconds, SPEC.child("startingDeadlineSeconds")));
  if (!old || (old.timeZone ?? null) !== (s.timeZone ?? null))
    errs.push(...validateTimeZone(s.timeZone, SPEC.child("timeZone")));
  const policy = s.concurrencyPolicy ?? "";
  const policyPath = SPEC.child("concurrencyPolicy");
  if (policy === "") errs.push(required(policyPath, ""));
  else if (!["Allow", "Forbid", "Replace"].includes(policy))
    errs.push(notSupported(policyPath, policy, ["Allow", "Forbid", "Replace"]));
  errs.push(...validateJobTemplate(s.jobTemplate, SPEC.child("jobTemplate")));
  errs.push(...optionalNonNegative(s.successfulJobsHistoryLimit, SPEC.child("successfulJobsHistoryLimit")));
  errs.push(...optionalNonNegative(s.failedJobsHistoryLimit, SPEC.child("failedJobsHistoryLimit")));
  return errs;
}

const cronJobRules: KindRules<CronJob> = {
  defaults: defaultCronJob,
  validate(obj) {
    const errs = [
      ...validateObjectMeta(obj.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META),
      ...validateCronJobSpec(obj.spec, undefined),
    ];
    const name = obj.metadata.name ?? "";
    if (name.length > MAX_CRONJOB_NAME_LENGTH) {
      errs.push(
        invalidValue(META.child("name"), name, `must be no more than ${MAX_CRONJOB_NAME_LENGTH} characters`),
      );
    }
    return errs;
  },
  validateUpdate(obj, old) {
    // No 52-character name check on update, so older long-named CronJobs stay editable.
    return [
      ...validateObjectMetaUpdate(obj.metadata, old.metadata, META),
      ...validateCronJobSpec(obj.spec, old.spec ?? ({} as CronJobSpec)),
    ];
  },
};

/** Defaulting and validation for the batch/v1 kinds, keyed by kind. */
export const batchRules: Record<string, KindRules> = {
  Job: kindRules(jobRules),
  CronJob: kindRules(cronJobRules),
};
