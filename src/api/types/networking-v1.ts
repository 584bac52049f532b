/**
 * @module networking.k8s.io/v1 kinds: Ingress (HTTP routing into Services, served by the
 * node's Ingress controller) and IngressClass (which controller serves which Ingresses).
 */
import type * as k8s from "kubernetes-types/networking/v1.js";
import type { ApiObject, List } from "./meta-v1.ts";

export type {
  HTTPIngressPath,
  HTTPIngressRuleValue,
  IngressBackend,
  IngressClassSpec,
  IngressRule,
  IngressServiceBackend,
  IngressSpec,
  IngressStatus,
  IngressTLS,
  ServiceBackendPort,
} from "kubernetes-types/networking/v1.js";

/** An Ingress. */
export type Ingress = ApiObject<k8s.Ingress, "networking.k8s.io/v1", "Ingress">;
/** A list of Ingresses. */
export type IngressList = List<Ingress>;
/** An IngressClass (cluster-scoped). */
export type IngressClass = ApiObject<k8s.IngressClass, "networking.k8s.io/v1", "IngressClass">;
/** A list of IngressClasses. */
export type IngressClassList = List<IngressClass>;
