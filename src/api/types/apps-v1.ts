/**
 * @module apps/v1 kinds: Deployment, ReplicaSet, DaemonSet, StatefulSet, ControllerRevision,
 * with literal `apiVersion: "apps/v1"`, and the spec/status types the workload controllers use.
 */
import type * as k8s from "kubernetes-types/apps/v1.js";
import type { ApiObject, List } from "./meta-v1.ts";

export type {
  DaemonSetCondition,
  DaemonSetSpec,
  DaemonSetStatus,
  DaemonSetUpdateStrategy,
  DeploymentCondition,
  DeploymentSpec,
  DeploymentStatus,
  DeploymentStrategy,
  ReplicaSetCondition,
  ReplicaSetSpec,
  ReplicaSetStatus,
  RollingUpdateDaemonSet,
  RollingUpdateDeployment,
  RollingUpdateStatefulSetStrategy,
  StatefulSetCondition,
  StatefulSetOrdinals,
  StatefulSetPersistentVolumeClaimRetentionPolicy,
  StatefulSetSpec,
  StatefulSetStatus,
  StatefulSetUpdateStrategy,
} from "kubernetes-types/apps/v1.js";

/** A Deployment. */
export type Deployment = ApiObject<k8s.Deployment, "apps/v1", "Deployment">;
/** A ReplicaSet. */
export type ReplicaSet = ApiObject<k8s.ReplicaSet, "apps/v1", "ReplicaSet">;
/** A DaemonSet. */
export type DaemonSet = ApiObject<k8s.DaemonSet, "apps/v1", "DaemonSet">;
/** A StatefulSet. */
export type StatefulSet = ApiObject<k8s.StatefulSet, "apps/v1", "StatefulSet">;
/** A ControllerRevision: an immutable snapshot of a DaemonSet's or StatefulSet's template. */
export type ControllerRevision = ApiObject<k8s.ControllerRevision, "apps/v1", "ControllerRevision">;

/** A list of Deployments. */
export type DeploymentList = List<Deployment>;
/** A list of ReplicaSets. */
export type ReplicaSetList = List<ReplicaSet>;
/** A list of DaemonSets. */
export type DaemonSetList = List<DaemonSet>;
/** A list of StatefulSets. */
export type StatefulSetList = List<StatefulSet>;
/** A list of ControllerRevisions. */
export type ControllerRevisionList = List<ControllerRevision>;
