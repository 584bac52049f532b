/**
 * @module Which protobuf message each `apiVersion`/`kind` of a request body decodes as,
 * and the compiled schema table of every group. DeleteOptions is accepted under any
 * version, as upstream registers it in every group.
 */
import { appsSchemas } from "./schema-apps.ts";
import { batchSchemas } from "./schema-batch.ts";
import { coreSchemas } from "./schema-core.ts";
import { metaSchemas } from "./schema-meta.ts";
import { miscSchemas } from "./schema-misc.ts";
import { podSchemas } from "./schema-pod.ts";
import { compileSchemas, type Message } from "./schema-types.ts";

/** Every message schema, parsed and cross-checked once. */
export const messages: ReadonlyMap<string, Message> = compileSchemas([
  metaSchemas,
  coreSchemas,
  podSchemas,
  appsSchemas,
  batchSchemas,
  miscSchemas,
]);

const KINDS: Readonly<Record<string, readonly string[]>> = {
  v1: [
    "Namespace",
    "ConfigMap",
    "Secret",
    "Service",
    "ServiceAccount",
    "Pod",
    "PodTemplate",
    "Endpoints",
    "Event",
    "PersistentVolumeClaim",
  ],
  "apps/v1": ["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"],
  "batch/v1": ["Job", "CronJob"],
  "policy/v1": ["Eviction", "PodDisruptionBudget"],
  "policy/v1beta1": ["Eviction"],
  "authorization.k8s.io/v1": ["SelfSubjectAccessReview"],
  "authentication.k8s.io/v1": ["TokenRequest", "SelfSubjectReview"],
  "autoscaling/v1": ["Scale"],
  "scheduling.k8s.io/v1": ["PriorityClass"],
  "coordination.k8s.io/v1": ["Lease"],
  "discovery.k8s.io/v1": ["EndpointSlice"],
};

/** Kinds decodable under every apiVersion. */
const ANY_VERSION = new Set(["DeleteOptions"]);

/** The message name for a kind in a version, or undefined when it is not registered. */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  if (ANY_VERSION.has(kind)) return kind;
  return KINDS[apiVersion]?.includes(kind) ? kind : undefined;
}
