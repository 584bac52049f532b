/**
 * @module autoscaling/v1 Scale: the body of the `scale` subresource of Deployments,
 * ReplicaSets, StatefulSets and ReplicationControllers.
 */
import type * as k8s from "kubernetes-types/autoscaling/v1.js";
import type { ApiObject } from "./meta-v1.ts";

export type { ScaleSpec, ScaleStatus } from "kubernetes-types/autoscaling/v1.js";

/** A Scale: desired and observed replicas plus the label selector as a string. */
export type Scale = ApiObject<k8s.Scale, "autoscaling/v1", "Scale">;
