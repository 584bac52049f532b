/**
 * @module Deployment helpers, as upstream's `deployment/util`: annotation and reason names,
 * maxSurge/maxUnavailable resolution (percentages: surge rounds up, unavailable down; both
 * zero → unavailable 1), revision annotations, condition get/set/remove with upstream's
 * lastTransitionTime rules, replica counting over ReplicaSets, the ReplicaSet orderings, and
 * template equality ignoring the pod-template-hash label. Pure functions, no I/O.
 */
import { deepEqual, formatTimestamp } from "../../api/meta.ts";
import type {
  Deployment,
  DeploymentCondition,
  DeploymentStatus,
  ReplicaSet,
} from "../../api/types/apps-v1.ts";
import type { PodTemplateSpec } from "../../api/types/core-v1.ts";

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas";
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";
export const DEPRECATED_ROLLBACK_TO = "deprecated.deployment.rollback.to";
/** The label a Deployment adds to its ReplicaSets' selectors and templates. */
export const POD_TEMPLATE_HASH_LABEL = "pod-template-hash";
/** Upstream's MaxRevHistoryLengthInChars. */
export const MAX_REV_HISTORY_LENGTH = 2000;
const MAX_INT32 = 2147483647;

/** Condition reasons, as upstream spells them. */
export const Reason = {
  NewRSAvailable: "NewReplicaSetAvailable",
  TimedOut: "ProgressDeadlineExceeded",
  ReplicaSetUpdated: "ReplicaSetUpdated",
  FailedRSCreate: "ReplicaSetCreateError",
  NewRS: "NewReplicaSetCreated",
  FoundNewRS: "FoundNewReplicaSet",
  Paused: "DeploymentPaused",
  Resumed: "DeploymentResumed",
  MinimumReplicasAvailable: "MinimumReplicasAvailable",
  MinimumReplicasUnavailable: "MinimumReplicasUnavailable",
} as const;

/** Annotations a Deployment never copies onto its ReplicaSets. */
const SKIP_COPY = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  DEPRECATED_ROLLBACK_TO,
]);

/** spec.replicas of a Deployment or ReplicaSet (default 1). */
export function specReplicas(o: Deployment | ReplicaSet): number {
  return o.spec?.replicas ?? 1;
}

/** Whether the Deployment uses the RollingUpdate strategy (the default). */
export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? "RollingUpdate") === "RollingUpdate";
}

/**
 * Upstream's `GetScaledValueFromIntOrPercent`: an int as is; "N%" of `total`, rounded up or
 * down. Throws for a string that is not a percentage.
 */
export function scaledValue(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === "number") return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid value "${v}": not a percentage`);
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/** Upstream's `ResolveFenceposts`: [surge, unavailable], never both zero. */
export function resolveFenceposts(
  maxSurge: number | string | undefined,
  maxUnavailable: number | string | undefined,
  desired: number,
): [number, number] {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}

function fenceposts(d: Deployment): [number, number] {
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge ?? "25%", ru?.maxUnavailable ?? "25%", specReplicas(d));
}

/** Upstream's `MaxSurge`: 0 unless RollingUpdate. */
export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? fenceposts(d)[0] : 0;
}

/** Upstream's `MaxUnavailable`: 0 unless RollingUpdate with replicas > 0; at most replicas. */
export function maxUnavailable(d: Deployment): number {
  const replicas = specReplicas(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(fenceposts(d)[1], replicas);
}

/** Whether progressDeadlineSeconds is set (and not MaxInt32). */
export function hasProgressDeadline(d: Deployment): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return p !== undefined && p !== null && p !== MAX_INT32;
}

/** Whether revisionHistoryLimit is set (and not MaxInt32). */
export function hasRevisionHistoryLimit(d: Deployment): boolean {
  const l = d.spec?.revisionHistoryLimit;
  return l !== undefined && l !== null && l !== MAX_INT32;
}

/** The revision annotation of an object as a number (0 when absent or unparsable). */
export function revisionOf(o: { metadata: { annotations?: Record<string, string> } }): number {
  const v = o.metadata.annotations?.[REVISION_ANNOTATION];
  if (!v || !/^\d+$/.test(v)) return 0;
  return Number(v);
}

/** The highest revision among `rss`. */
export function maxRevision(rss: readonly ReplicaSet[]): number {
  let max = 0;
  for (const rs of rss) max = Math.max(max, revisionOf(rs));
  return max;
}

/** Sets the Deployment's revision annotation; true when it changed. */
export function setDeploymentRevision(d: Deployment, revision: string): boolean {
  const ann = (d.metadata.annotations ??= {});
  if (ann[REVISION_ANNOTATION] === revision) return false;
  ann[REVISION_ANNOTATION] = revision;
  return true;
}

/** Sets desired-replicas and max-replicas on a ReplicaSet; true when either changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const ann = (rs.metadata.annotations ??= {});
  const d = String(desired);
  const m = String(max);
  if (ann[DESIRED_REPLICAS_ANNOTATION] === d && ann[MAX_REPLICAS_ANNOTATION] === m) return false;
  ann[DESIRED_REPLICAS_ANNOTATION] = d;
  ann[MAX_REPLICAS_ANNOTATION] = m;
  return true;
}

/** Whether the replicas annotations differ from these values. */
export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const ann = rs.metadata.annotations;
  return (
    ann?.[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || ann[MAX_REPLICAS_ANNOTATION] !== String(max)
  );
}

/** An int32 annotation of a ReplicaSet, or undefined. */
export function intAnnotation(rs: ReplicaSet, name: string): number | undefined {
  const v = rs.metadata.annotations?.[name];
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

/**
 * Upstream's `SetNewReplicaSetAnnotations`: copy the Deployment's annotations (but the
 * skipped ones), raise the revision to `newRevision` if lower (recording the old one in
 * revision-history when rolling back to this ReplicaSet), and for a ReplicaSet about to be
 * created set the replicas annotations. Mutates `rs`; true when anything changed.
 */
export function setNewReplicaSetAnnotations(
  d: Deployment,
  rs: ReplicaSet,
  newRevision: string,
  exists: boolean,
): boolean {
  let changed = false;
  const ann = (rs.metadata.annotations ??= {});
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (SKIP_COPY.has(k) || ann[k] === v) continue;
    ann[k] = v;
    changed = true;
  }
  const had = Object.hasOwn(ann, REVISION_ANNOTATION);
  const oldRevision = ann[REVISION_ANNOTATION] ?? "";
  let oldInt = 0;
  if (oldRevision !== "") {
    if (!/^-?\d+$/.test(oldRevision)) return changed;
    oldInt = Number(oldRevision);
  }
  const newInt = Number(newRevision);
  if (oldInt < newInt) {
    ann[REVISION_ANNOTATION] = newRevision;
    changed = true;
    if (had) {
      const history = ann[REVISION_HISTORY_ANNOTATION] ?? "";
      const old = history.split(",");
      if (old[0] === "") {
        ann[REVISION_HISTORY_ANNOTATION] = oldRevision;
      } else {
        let total = history.length + oldRevision.length + 1;
        let start = 0;
        while (total > MAX_REV_HISTORY_LENGTH && start < old.length) {
          total -= old[start]!.length + 1;
          start++;
        }
        if (total <= MAX_REV_HISTORY_LENGTH) {
          ann[REVISION_HISTORY_ANNOTATION] = [...old.slice(start), oldRevision].join(",");
        }
      }
    }
  }
  if (!exists && setReplicasAnnotations(rs, specReplicas(d), specReplicas(d) + maxSurge(d))) changed = true;
  return changed;
}

/** The condition of `type`, if present. */
export function getCondition(
  status: DeploymentStatus | undefined,
  type: string,
): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** A new condition stamped `nowMs` (both update and transition time). */
export function newCondition(
  type: string,
  status: string,
  reason: string,
  message: string,
  nowMs: number,
): DeploymentCondition {
  const t = formatTimestamp(new Date(nowMs));
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/**
 * Upstream's `SetDeploymentCondition`: no change when status and reason are the same; keep
 * lastTransitionTime when only the reason changes; the condition moves to the end.
 */
export function setCondition(status: DeploymentStatus, cond: DeploymentCondition): void {
  const cur = getCondition(status, cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  const next = { ...cond };
  if (cur && cur.status === cond.status) next.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), next];
}

/** Removes the condition of `type`. */
export function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
}

/** Sum of spec.replicas. */
export function replicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) if (rs) n += specReplicas(rs);
  return n;
}

/** Sum of status.replicas. */
export function actualReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) if (rs) n += rs.status?.replicas ?? 0;
  return n;
}

/** Sum of status.readyReplicas. */
export function readyReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) if (rs) n += rs.status?.readyReplicas ?? 0;
  return n;
}

/** Sum of status.availableReplicas. */
export function availableReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) if (rs) n += rs.status?.availableReplicas ?? 0;
  return n;
}

/** ReplicaSets with spec.replicas > 0. */
export function activeReplicaSets(rss: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  const out: ReplicaSet[] = [];
  for (const rs of rss) if (rs && specReplicas(rs) > 0) out.push(rs);
  return out;
}

function created(rs: ReplicaSet): number {
  const t = rs.metadata.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** Upstream's ReplicaSetsByCreationTimestamp: older first, then by name. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const d = created(a) - created(b);
  if (d !== 0) return d;
  const an = a.metadata.name ?? "";
  const bn = b.metadata.name ?? "";
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/** Upstream's ReplicaSetsByRevision: lower revision first, then by creation. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const d = revisionOf(a) - revisionOf(b);
  return d !== 0 ? d : byCreation(a, b);
}

/** Larger first; equal sizes older first (upstream's ReplicaSetsBySizeOlder). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  const d = specReplicas(b) - specReplicas(a);
  return d !== 0 ? d : byCreation(a, b);
}

/** Larger first; equal sizes newer first (upstream's ReplicaSetsBySizeNewer). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  const d = specReplicas(b) - specReplicas(a);
  return d !== 0 ? d : byCreation(b, a);
}

function withoutHash(t: PodTemplateSpec | undefined): PodTemplateSpec | undefined {
  const labels = t?.metadata?.labels;
  if (!labels || !Object.hasOwn(labels, POD_TEMPLATE_HASH_LABEL)) return t;
  const rest = { ...labels };
  delete rest[POD_TEMPLATE_HASH_LABEL];
  return { ...t, metadata: { ...t.metadata, labels: rest } };
}

/** Upstream's `EqualIgnoreHash`: templates equal once the pod-template-hash label is dropped. */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  const x = withoutHash(a);
  const y = withoutHash(b);
  // An empty label map equals an absent one (Go's DeepEqual after deleting the only key).
  const norm = (t: PodTemplateSpec | undefined) =>
    t?.metadata?.labels && Object.keys(t.metadata.labels).length === 0
      ? { ...t, metadata: { ...t.metadata, labels: undefined } }
      : t;
  return deepEqual(norm(x), norm(y));
}

/** Upstream's `FindNewReplicaSet`: the oldest ReplicaSet whose template equals the Deployment's. */
export function findNewReplicaSet(d: Deployment, rss: readonly ReplicaSet[]): ReplicaSet | undefined {
  const sorted = [...rss].sort(byCreation);
  return sorted.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** Upstream's `DeploymentComplete`: every replica updated and available, generation observed. */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const r = specReplicas(d);
  return (
    (s.updatedReplicas ?? 0) === r &&
    (s.replicas ?? 0) === r &&
    (s.availableReplicas ?? 0) === r &&
    (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

/** Upstream's `DeploymentProgressing`: more updated, fewer old, more ready or more available. */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** Upstream's `DeploymentTimedOut`: no progress reported for progressDeadlineSeconds. */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, "Progressing");
  if (!c) return false;
  if (c.reason === Reason.NewRSAvailable) return false;
  if (c.reason === Reason.TimedOut) return true;
  const from = c.lastUpdateTime ? Date.parse(c.lastUpdateTime) : 0;
  return from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < nowMs;
}

/** Upstream's `IsSaturated`: the ReplicaSet runs exactly the Deployment's replicas, all available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
  if (desired === undefined) return false;
  const r = specReplicas(d);
  return specReplicas(rs) === r && desired === r && (rs.status?.availableReplicas ?? 0) === r;
}
