/**
 * @module The two kinds the replica reconciler drives: apps/v1 ReplicaSet (selector is a
 * `LabelSelector`) and v1 ReplicationController (selector is a plain label map). Upstream
 * runs the ReplicationController through the ReplicaSet controller by converting it; here one
 * reconciler reads either kind through a small adapter.
 */
import { labelSelectorAsSelector, selectorFromSet, type Selector } from "../../api/labels.ts";
import type { KubeObject } from "../../api/object.ts";
import type { ReplicaSet } from "../../api/types/apps-v1.ts";
import type { PodTemplateSpec, ReplicationController } from "../../api/types/core-v1.ts";

/** A status condition as both kinds carry them. */
export interface ReplicaCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** The status fields both kinds share. */
export interface ReplicaStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: ReplicaCondition[];
}

/** How the reconciler reads one owner kind. */
export interface ReplicaOwnerAdapter<T extends KubeObject> {
  readonly kind: "ReplicaSet" | "ReplicationController";
  readonly apiVersion: string;
  readonly group: string;
  readonly plural: string;
  /** Event source component (upstream's controller names). */
  readonly component: string;
  /** The compiled selector; throws `LabelSelectorError` when it is invalid. */
  selector(obj: T): Selector;
  /** spec.replicas (default 1). */
  replicas(obj: T): number;
  minReadySeconds(obj: T): number;
  template(obj: T): PodTemplateSpec | undefined;
  status(obj: T): ReplicaStatus | undefined;
}

/** apps/v1 ReplicaSet. */
export const replicaSetAdapter: ReplicaOwnerAdapter<ReplicaSet> = {
  kind: "ReplicaSet",
  apiVersion: "apps/v1",
  group: "apps",
  plural: "replicasets",
  component: "replicaset-controller",
  selector: (rs) => labelSelectorAsSelector(rs.spec?.selector),
  replicas: (rs) => rs.spec?.replicas ?? 1,
  minReadySeconds: (rs) => rs.spec?.minReadySeconds ?? 0,
  template: (rs) => rs.spec?.template,
  status: (rs) => rs.status,
};

/** v1 ReplicationController: the selector is a map (absent: the template's labels, as defaulted). */
export const replicationControllerAdapter: ReplicaOwnerAdapter<ReplicationController> = {
  kind: "ReplicationController",
  apiVersion: "v1",
  group: "",
  plural: "replicationcontrollers",
  component: "replication-controller",
  selector: (rc) => selectorFromSet(rc.spec?.selector ?? rc.spec?.template?.metadata?.labels),
  replicas: (rc) => rc.spec?.replicas ?? 1,
  minReadySeconds: (rc) => rc.spec?.minReadySeconds ?? 0,
  template: (rc) => rc.spec?.template,
  status: (rc) => rc.status,
};
