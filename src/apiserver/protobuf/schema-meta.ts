/**
 * @module Protobuf schemas of meta.k8s.io/v1 messages (ObjectMeta, OwnerReference,
 * ManagedFieldsEntry, LabelSelector, Condition, DeleteOptions…), field numbers as in
 * k8s.io/apimachinery's published definitions. Notation: see `schema-types.ts`.
 */
import type { MessageSpec } from "./schema-types.ts";

/** meta/v1 messages by name. */
export const metaSchemas: Record<string, MessageSpec> = {
  ObjectMeta: {
    1: "name",
    2: "generateName",
    3: "namespace",
    4: "selfLink",
    5: "uid",
    6: "resourceVersion",
    7: "generation:i64",
    8: "creationTimestamp:time",
    9: "deletionTimestamp:time",
    10: "deletionGracePeriodSeconds:i64?",
    11: "labels:{s}",
    12: "annotations:{s}",
    13: "ownerReferences:[]OwnerReference",
    14: "finalizers:[]s",
    17: "managedFields:[]ManagedFieldsEntry",
  },
  OwnerReference: {
    5: "apiVersion!",
    1: "kind!",
    3: "name!",
    4: "uid!",
    6: "controller:b?",
    7: "blockOwnerDeletion:b?",
  },
  ManagedFieldsEntry: {
    1: "manager",
    2: "operation",
    3: "apiVersion",
    4: "time:time",
    6: "fieldsType",
    7: "fieldsV1:raw",
    8: "subresource",
  },
  ListMeta: {
    1: "selfLink",
    2: "resourceVersion",
    3: "continue",
    4: "remainingItemCount:i64?",
  },
  LabelSelector: {
    1: "matchLabels:{s}",
    2: "matchExpressions:[]LabelSelectorRequirement",
  },
  LabelSelectorRequirement: {
    1: "key!",
    2: "operator!",
    3: "values:[]s",
  },
  Condition: {
    1: "type!",
    2: "status!",
    3: "observedGeneration:i64",
    4: "lastTransitionTime:time",
    5: "reason!",
    6: "message!",
  },
  DeleteOptions: {
    1: "gracePeriodSeconds:i64?",
    2: "preconditions:Preconditions",
    3: "orphanDependents:b?",
    4: "propagationPolicy?",
    5: "dryRun:[]s",
    6: "ignoreStoreReadErrorWithClusterBreakingPotential:b?",
  },
  Preconditions: {
    1: "uid?",
    2: "resourceVersion?",
  },
};
