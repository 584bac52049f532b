/**
 * @module One import for all typed API objects: each group-version as a namespace
 * (`corev1.Pod`, `appsv1.Deployment`, …), the meta/v1 shapes, and `KnownObject`, the union
 * of every kind the API serves.
 */
import type * as appsv1 from "./apps-v1.ts";
import type * as batchv1 from "./batch-v1.ts";
import type * as coordinationv1 from "./coordination-v1.ts";
import type * as corev1 from "./core-v1.ts";
import type * as discoveryv1 from "./discovery-v1.ts";
import type * as eventsv1 from "./events-v1.ts";
import type * as networkingv1 from "./networking-v1.ts";
import type * as policyv1 from "./policy-v1.ts";
import type * as schedulingv1 from "./scheduling-v1.ts";

export type * as appsv1 from "./apps-v1.ts";
export type * as autoscalingv1 from "./autoscaling-v1.ts";
export type * as batchv1 from "./batch-v1.ts";
export type * as coordinationv1 from "./coordination-v1.ts";
export type * as corev1 from "./core-v1.ts";
export type * as discoveryv1 from "./discovery-v1.ts";
export type * as eventsv1 from "./events-v1.ts";
export type * as metav1 from "./meta-v1.ts";
export type * as networkingv1 from "./networking-v1.ts";
export type * as policyv1 from "./policy-v1.ts";
export type * as schedulingv1 from "./scheduling-v1.ts";

/** Any object of a kind listed in `src/api/kinds.ts`; narrow on `apiVersion` and `kind`. */
export type KnownObject =
  | corev1.Namespace
  | corev1.Node
  | corev1.Pod
  | corev1.Service
  | corev1.Endpoints
  | corev1.ConfigMap
  | corev1.Secret
  | corev1.ServiceAccount
  | corev1.Event
  | corev1.ReplicationController
  | eventsv1.Event
  | coordinationv1.Lease
  | appsv1.Deployment
  | appsv1.ReplicaSet
  | appsv1.DaemonSet
  | appsv1.StatefulSet
  | appsv1.ControllerRevision
  | batchv1.Job
  | batchv1.CronJob
  | discoveryv1.EndpointSlice
  | schedulingv1.PriorityClass
  | networkingv1.Ingress
  | networkingv1.IngressClass
  | policyv1.PodDisruptionBudget;
