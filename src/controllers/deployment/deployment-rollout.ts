/**
 * @module The Deployment strategies, as upstream's `rolling.go`, `recreate.go` and the
 * proportional scaling of `sync.go`: which ReplicaSet to scale to what, step by step. The
 * reads and writes (finding/creating the new ReplicaSet, scaling, cleanup, status) go
 * through {@link RolloutOps}, which the reconciler implements.
 */
import type { Result } from "../../client/controller.ts";
import type { Deployment, ReplicaSet } from "../../api/types/apps-v1.ts";
import {
  activeReplicaSets,
  availableReplicaCount,
  byCreation,
  bySizeNewer,
  bySizeOlder,
  deploymentComplete,
  isRollingUpdate,
  isSaturated,
  intAnnotation,
  MAX_REPLICAS_ANNOTATION,
  maxSurge,
  maxUnavailable,
  replicaCount,
  scaledValue,
  specReplicas,
} from "./deployment-util.ts";

/** A scale request's outcome: whether spec.replicas changed, and the ReplicaSet as written. */
export interface ScaleResult {
  scaled: boolean;
  rs: ReplicaSet;
}

/** What the strategies need from the reconciler. */
export interface RolloutOps {
  /** The new ReplicaSet (created when `create` and missing) and all old ones. */
  allReplicaSets(
    d: Deployment,
    rsList: readonly ReplicaSet[],
    create: boolean,
  ): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }>;
  /** Scales (and refreshes the replicas annotations); records ScalingReplicaSet when the size changes. */
  scaleReplicaSet(
    rs: ReplicaSet,
    newScale: number,
    d: Deployment,
    op: "up" | "down" | "",
  ): Promise<ScaleResult>;
  /** Deletes old zero-replica ReplicaSets beyond revisionHistoryLimit. */
  cleanupDeployment(oldRSs: readonly ReplicaSet[], d: Deployment): Promise<void>;
  /** Writes status with the Progressing logic; may ask for a later look. */
  syncRolloutStatus(
    allRSs: readonly ReplicaSet[],
    newRS: ReplicaSet | undefined,
    d: Deployment,
  ): Promise<Result | void>;
  /** Writes status without the Progressing logic (paused and scaling syncs). */
  syncDeploymentStatus(
    allRSs: readonly ReplicaSet[],
    newRS: ReplicaSet | undefined,
    d: Deployment,
  ): Promise<void>;
  /** Whether any pod of an old ReplicaSet is still not terminal (Recreate waits for them). */
  oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): boolean;
}

function compact(rss: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((r): r is ReplicaSet => r !== undefined);
}

/** Upstream's `scaleReplicaSetAndRecordEvent`: no write when the size is already right. */
export async function scaleAndRecord(
  ops: RolloutOps,
  rs: ReplicaSet,
  newScale: number,
  d: Deployment,
): Promise<ScaleResult> {
  const cur = specReplicas(rs);
  if (cur === newScale) return { scaled: false, rs };
  return ops.scaleReplicaSet(rs, newScale, d, cur < newScale ? "up" : "down");
}

/** Upstream's `NewRSNewReplicas`: how big the new ReplicaSet may be now. */
export function newRSNewReplicas(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet): number {
  const replicas = specReplicas(d);
  if (!isRollingUpdate(d)) return replicas;
  const surge = scaledValue(d.spec?.strategy?.rollingUpdate?.maxSurge ?? "25%", replicas, true);
  const current = replicaCount(allRSs);
  const maxTotal = replicas + surge;
  if (current >= maxTotal) return specReplicas(newRS);
  const up = Math.min(maxTotal - current, replicas - specReplicas(newRS));
  return specReplicas(newRS) + up;
}

/** Upstream's `rolloutRolling`. */
export async function rolloutRolling(
  ops: RolloutOps,
  d: Deployment,
  rsList: readonly ReplicaSet[],
): Promise<Result | void> {
  const got = await ops.allReplicaSets(d, rsList, true);
  const newRS = got.newRS!;
  const oldRSs = got.oldRSs;
  const allRSs = [...oldRSs, newRS];
  // Scale up, if we can. (Status is then computed from the ReplicaSets as read, as upstream
  // does; the ReplicaSet update brings another round with fresh numbers.)
  const up = await reconcileNewReplicaSet(ops, allRSs, newRS, d);
  if (up.scaled) return ops.syncRolloutStatus(allRSs, newRS, d);
  // Scale down, if we can.
  const down = await reconcileOldReplicaSets(ops, allRSs, activeReplicaSets(oldRSs), newRS, d);
  if (down) return ops.syncRolloutStatus(allRSs, newRS, d);
  if (deploymentComplete(d, d.status ?? {})) await ops.cleanupDeployment(oldRSs, d);
  return ops.syncRolloutStatus(allRSs, newRS, d);
}

async function reconcileNewReplicaSet(
  ops: RolloutOps,
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet,
  d: Deployment,
): Promise<ScaleResult> {
  const want = specReplicas(d);
  const have = specReplicas(newRS);
  if (have === want) return { scaled: false, rs: newRS };
  if (have > want) return scaleAndRecord(ops, newRS, want, d);
  return scaleAndRecord(ops, newRS, newRSNewReplicas(d, allRSs, newRS), d);
}

async function reconcileOldReplicaSets(
  ops: RolloutOps,
  allRSs: readonly ReplicaSet[],
  oldRSs: ReplicaSet[],
  newRS: ReplicaSet,
  d: Deployment,
): Promise<boolean> {
  if (replicaCount(oldRSs) === 0) return false;
  const allPods = replicaCount(allRSs);
  const minAvailable = specReplicas(d) - maxUnavailable(d);
  const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  // Unhealthy replicas first, so they cannot block the rollout.
  const cleaned = await cleanupUnhealthyReplicas(ops, oldRSs, d, maxScaledDown);
  const scaledDown = await scaleDownOldForRollingUpdate(ops, [...cleaned.oldRSs, newRS], cleaned.oldRSs, d);
  return cleaned.count + scaledDown > 0;
}

async function cleanupUnhealthyReplicas(
  ops: RolloutOps,
  oldRSs: ReplicaSet[],
  d: Deployment,
  maxCleanup: number,
): Promise<{ oldRSs: ReplicaSet[]; count: number }> {
  const sorted = [...oldRSs].sort(byCreation);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (total >= maxCleanup) break;
    const rs = sorted[i]!;
    const replicas = specReplicas(rs);
    const available = rs.status?.availableReplicas ?? 0;
    if (replicas === 0 || replicas === available) continue;
    const down = Math.min(maxCleanup - total, replicas - available);
    const res = await scaleAndRecord(ops, rs, replicas - down, d);
    total += down;
    sorted[i] = res.rs;
  }
  return { oldRSs: sorted, count: total };
}

async function scaleDownOldForRollingUpdate(
  ops: RolloutOps,
  allRSs: readonly ReplicaSet[],
  oldRSs: readonly ReplicaSet[],
  d: Deployment,
): Promise<number> {
  const minAvailable = specReplicas(d) - maxUnavailable(d);
  const available = availableReplicaCount(allRSs);
  if (available <= minAvailable) return 0;
  const sorted = [...oldRSs].sort(byCreation);
  const target = available - minAvailable;
  let total = 0;
  for (const rs of sorted) {
    if (total >= target) break;
    const replicas = specReplicas(rs);
    if (replicas === 0) continue;
    const down = Math.min(replicas, target - total);
    await scaleAndRecord(ops, rs, replicas - down, d);
    total += down;
  }
  return total;
}

/** Upstream's `rolloutRecreate`: old ReplicaSets to zero, wait for their pods, then the new one up. */
export async function rolloutRecreate(
  ops: RolloutOps,
  d: Deployment,
  rsList: readonly ReplicaSet[],
): Promise<Result | void> {
  let { newRS, oldRSs } = await ops.allReplicaSets(d, rsList, false);
  let allRSs = compact([...oldRSs, newRS]);
  let scaledDown = false;
  for (const rs of oldRSs) {
    if (specReplicas(rs) === 0) continue;
    if ((await scaleAndRecord(ops, rs, 0, d)).scaled) scaledDown = true;
  }
  if (scaledDown) return ops.syncRolloutStatus(allRSs, newRS, d);
  if (ops.oldPodsRunning(newRS, oldRSs)) return ops.syncRolloutStatus(allRSs, newRS, d);
  if (!newRS) {
    ({ newRS, oldRSs } = await ops.allReplicaSets(d, rsList, true));
    allRSs = compact([...oldRSs, newRS]);
  }
  if (newRS) await scaleAndRecord(ops, newRS, specReplicas(d), d);
  if (deploymentComplete(d, d.status ?? {})) await ops.cleanupDeployment(oldRSs, d);
  return ops.syncRolloutStatus(allRSs, newRS, d);
}

/** Upstream's `FindActiveOrLatest`: the one active ReplicaSet, or the newest when none is active. */
function activeOrLatest(
  newRS: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const olds = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = activeReplicaSets([...olds, newRS]);
  if (active.length === 0) return newRS ?? olds[0];
  return active.length === 1 ? active[0] : undefined;
}

/** Upstream's `getReplicaSetFraction`: this ReplicaSet's share of a resize. */
function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (specReplicas(d) === 0) return -specReplicas(rs);
  const maxReplicas = specReplicas(d) + maxSurge(d);
  let before = intAnnotation(rs, MAX_REPLICAS_ANNOTATION);
  if (before === undefined || before === 0) {
    before = d.status?.replicas ?? 0;
    if (before === 0) return 0;
  }
  const size = (specReplicas(rs) * maxReplicas) / before;
  return roundHalfAway(size) - specReplicas(rs);
}

function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Upstream's `GetReplicaSetProportion`. */
function replicaSetProportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/**
 * Upstream's `scale`: after spec.replicas changed (or while paused), resize the one active
 * ReplicaSet, or — mid-rollout — every active ReplicaSet in proportion to its size, the
 * rounding leftover going to the largest.
 */
export async function scaleDeployment(
  ops: RolloutOps,
  d: Deployment,
  newRS: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
): Promise<void> {
  const target = activeOrLatest(newRS, oldRSs);
  if (target) {
    if (specReplicas(target) === specReplicas(d)) return;
    await scaleAndRecord(ops, target, specReplicas(d), d);
    return;
  }
  if (isSaturated(d, newRS)) {
    for (const old of activeReplicaSets(oldRSs)) await scaleAndRecord(ops, old, 0, d);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const all = activeReplicaSets([...oldRSs, newRS]);
  const current = replicaCount(all);
  const allowed = specReplicas(d) > 0 ? specReplicas(d) + maxSurge(d) : 0;
  const toAdd = allowed - current;
  let op: "up" | "down" | "" = "";
  if (toAdd > 0) {
    all.sort(bySizeNewer);
    op = "up";
  } else if (toAdd < 0) {
    all.sort(bySizeOlder);
    op = "down";
  }
  let added = 0;
  const sizes = new Map<string, number>();
  for (const rs of all) {
    const name = rs.metadata.name ?? "";
    if (toAdd !== 0) {
      const p = replicaSetProportion(rs, d, toAdd, added);
      sizes.set(name, specReplicas(rs) + p);
      added += p;
    } else {
      sizes.set(name, specReplicas(rs));
    }
  }
  for (let i = 0; i < all.length; i++) {
    const rs = all[i]!;
    const name = rs.metadata.name ?? "";
    if (i === 0 && toAdd !== 0) sizes.set(name, Math.max(0, sizes.get(name)! + toAdd - added));
    await ops.scaleReplicaSet(rs, sizes.get(name)!, d, op);
  }
}

/** Whether the Deployment's ReplicaSets were sized for a different spec.replicas (upstream's `isScalingEvent`). */
export function isScalingEvent(
  d: Deployment,
  newRS: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
): boolean {
  for (const rs of activeReplicaSets([...oldRSs, newRS])) {
    const desired = intAnnotation(rs, "deployment.kubernetes.io/desired-replicas");
    if (desired === undefined) continue;
    if (desired !== specReplicas(d)) return true;
  }
  return false;
}
