/**
 * @module The networking.k8s.io/v1 types the Ingress controller reads (re-exported from
 * `src/api/types/networking-v1.ts`) and the names it answers to: its IngressClass, controller
 * name, and the annotations upstream defines.
 */
export type {
  HTTPIngressPath,
  Ingress,
  IngressBackend,
  IngressClass,
  IngressRule,
  IngressServiceBackend,
  IngressTLS,
  ServiceBackendPort,
} from "../api/types/networking-v1.ts";
export type { IngressLoadBalancerIngress } from "kubernetes-types/networking/v1.js";

/** API group of both kinds. */
export const NETWORKING_GROUP = "networking.k8s.io";

/** The IngressClass kites creates and serves. */
export const KITES_INGRESS_CLASS = "kites";

/** `spec.controller` of the IngressClasses this controller serves. */
export const KITES_INGRESS_CONTROLLER = "kites.io/ingress-controller";

/** Marks the cluster's default IngressClass (value "true"). */
export const DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class";

/** The class annotation that predates `spec.ingressClassName` (still honoured upstream). */
export const LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class";

/** Type of the Secrets that hold a certificate (`tls.crt`) and its key (`tls.key`). */
export const TLS_SECRET_TYPE = "kubernetes.io/tls";
