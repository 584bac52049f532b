/**
 * @module Protobuf schemas of the smaller groups kubectl sends: policy/v1 Eviction and
 * PodDisruptionBudget,
 * authorization/v1 SelfSubjectAccessReview, authentication/v1 TokenRequest and
 * SelfSubjectReview, scheduling/v1 PriorityClass, coordination/v1 Lease and
 * discovery/v1 EndpointSlice. Field numbers follow k8s.io/api's published definitions.
 * Names that collide with core/v1 carry a group prefix. Notation: `schema-types.ts`.
 */
import type { MessageSpec } from "./schema-types.ts";

/** Messages of the smaller API groups by name. */
export const miscSchemas: Record<string, MessageSpec> = {
  Eviction: { 1: "metadata:ObjectMeta", 2: "deleteOptions:DeleteOptions" },
  PodDisruptionBudget: {
    1: "metadata:ObjectMeta",
    2: "spec:PodDisruptionBudgetSpec",
    3: "status:PodDisruptionBudgetStatus",
  },
  PodDisruptionBudgetSpec: {
    1: "minAvailable:ios?",
    2: "selector:LabelSelector",
    3: "maxUnavailable:ios?",
    4: "unhealthyPodEvictionPolicy?",
  },
  PodDisruptionBudgetStatus: {
    1: "observedGeneration:i64",
    2: "disruptedPods:{time}",
    3: "disruptionsAllowed:i32!",
    4: "currentHealthy:i32!",
    5: "desiredHealthy:i32!",
    6: "expectedPods:i32!",
    7: "conditions:[]Condition",
  },
  SelfSubjectAccessReview: {
    1: "metadata:ObjectMeta",
    2: "spec:SelfSubjectAccessReviewSpec",
    3: "status:SubjectAccessReviewStatus",
  },
  SelfSubjectAccessReviewSpec: {
    1: "resourceAttributes:ResourceAttributes",
    2: "nonResourceAttributes:NonResourceAttributes",
  },
  ResourceAttributes: {
    1: "namespace",
    2: "verb",
    3: "group",
    4: "version",
    5: "resource",
    6: "subresource",
    7: "name",
    8: "fieldSelector:FieldSelectorAttributes",
    9: "labelSelector:LabelSelectorAttributes",
  },
  FieldSelectorAttributes: { 1: "rawSelector", 2: "requirements:[]FieldSelectorRequirement" },
  FieldSelectorRequirement: { 1: "key!", 2: "operator!", 3: "values:[]s" },
  LabelSelectorAttributes: { 1: "rawSelector", 2: "requirements:[]LabelSelectorRequirement" },
  NonResourceAttributes: { 1: "path", 2: "verb" },
  SubjectAccessReviewStatus: { 1: "allowed:b!", 4: "denied:b", 2: "reason", 3: "evaluationError" },
  TokenRequest: { 1: "metadata:ObjectMeta", 2: "spec:TokenRequestSpec", 3: "status:TokenRequestStatus" },
  TokenRequestSpec: {
    1: "audiences:[]s",
    4: "expirationSeconds:i64?",
    3: "boundObjectRef:BoundObjectReference",
  },
  BoundObjectReference: { 1: "kind", 2: "apiVersion", 3: "name", 4: "uid" },
  TokenRequestStatus: { 1: "token!", 2: "expirationTimestamp:time" },
  SelfSubjectReview: { 1: "metadata:ObjectMeta", 2: "status:SelfSubjectReviewStatus" },
  SelfSubjectReviewStatus: { 1: "userInfo:UserInfo" },
  UserInfo: { 1: "username", 2: "uid", 3: "groups:[]s", 4: "extra:{strs}" },
  PriorityClass: {
    1: "metadata:ObjectMeta",
    2: "value:i32!",
    3: "globalDefault:b",
    4: "description",
    5: "preemptionPolicy?",
  },
  Lease: { 1: "metadata:ObjectMeta", 2: "spec:LeaseSpec" },
  LeaseSpec: {
    1: "holderIdentity?",
    2: "leaseDurationSeconds:i32?",
    3: "acquireTime:mtime",
    4: "renewTime:mtime",
    5: "leaseTransitions:i32?",
    6: "strategy?",
    7: "preferredHolder?",
  },
  EndpointSlice: {
    1: "metadata:ObjectMeta",
    4: "addressType!",
    2: "endpoints:[]DiscoveryEndpoint",
    3: "ports:[]DiscoveryEndpointPort",
  },
  DiscoveryEndpoint: {
    1: "addresses:[]s",
    2: "conditions:DiscoveryEndpointConditions",
    3: "hostname?",
    4: "targetRef:ObjectReference",
    5: "deprecatedTopology:{s}",
    6: "nodeName?",
    7: "zone?",
    8: "hints:DiscoveryEndpointHints",
  },
  DiscoveryEndpointConditions: { 1: "ready:b?", 2: "serving:b?", 3: "terminating:b?" },
  DiscoveryEndpointHints: { 1: "forZones:[]DiscoveryForZone", 2: "forNodes:[]DiscoveryForNode" },
  DiscoveryForZone: { 1: "name!" },
  DiscoveryForNode: { 1: "name!" },
  DiscoveryEndpointPort: { 1: "name?", 2: "protocol?", 3: "port:i32?", 4: "appProtocol?" },
};
