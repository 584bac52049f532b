/**
 * @module Strategic-merge-patch metadata for the built-in kinds: for each field, whether it
 * is a list merged by key (upstream's `patchStrategy:"merge"` struct tag), which key
 * (`patchMergeKey`), and whether `retainKeys` applies — transcribed from the k8s.io/api and
 * k8s.io/apimachinery Go types. Fields not listed here have no strategy: lists are replaced
 * wholesale and objects are merged key by key, as in a JSON merge patch.
 */

/** The patch metadata of one field, and the schema below it. */
export interface PatchFieldMeta {
  /** `merge`: the list is merged by `mergeKey` (lists of objects) or unioned (primitives). */
  readonly strategy?: "merge";
  /** The `retainKeys` strategy: `$retainKeys` lists the keys kept (on the value or list items). */
  readonly retainKeys?: boolean;
  /** The key identifying an element of a merged list of objects (`name`, `containerPort`, …). */
  readonly mergeKey?: string;
  /** Schema of the field's value: of the object, or of each list element. */
  readonly schema?: PatchSchema;
}

/** Patch metadata for an object type: its fields that carry metadata (or lead to some). */
export interface PatchSchema {
  readonly fields: Readonly<Record<string, PatchFieldMeta>>;
}

const obj = (fields: Record<string, PatchFieldMeta>): PatchSchema => ({ fields });
const nested = (schema: PatchSchema): PatchFieldMeta => ({ schema });
const mergeBy = (mergeKey: string, schema?: PatchSchema): PatchFieldMeta =>
  schema ? { strategy: "merge", mergeKey, schema } : { strategy: "merge", mergeKey };
const mergeRetainBy = (mergeKey: string): PatchFieldMeta => ({
  strategy: "merge",
  retainKeys: true,
  mergeKey,
});
const primitiveSet: PatchFieldMeta = { strategy: "merge" };
const conditionsByType = mergeBy("type");

/** meta/v1 ObjectMeta: ownerReferences by uid, finalizers as a set of strings. */
export const objectMetaSchema: PatchSchema = obj({
  ownerReferences: mergeBy("uid"),
  finalizers: primitiveSet,
});

const metadata = nested(objectMetaSchema);

/** core/v1 Container (and EphemeralContainer, which shares these lists). */
const containerSchema: PatchSchema = obj({
  ports: mergeBy("containerPort"),
  env: mergeBy("name"),
  volumeMounts: mergeBy("mountPath"),
  volumeDevices: mergeBy("devicePath"),
});

/** core/v1 PodSpec. Untagged lists (`tolerations`, `readinessGates`, …) are replaced. */
export const podSpecSchema: PatchSchema = obj({
  volumes: mergeRetainBy("name"),
  initContainers: mergeBy("name", containerSchema),
  containers: mergeBy("name", containerSchema),
  ephemeralContainers: mergeBy("name", containerSchema),
  imagePullSecrets: mergeBy("name"),
  hostAliases: mergeBy("ip"),
  topologySpreadConstraints: mergeBy("topologyKey"),
  schedulingGates: mergeBy("name"),
  resourceClaims: mergeRetainBy("name"),
});

/** core/v1 PodStatus. `containerStatuses` and friends have no strategy (replaced). */
const podStatusSchema: PatchSchema = obj({
  conditions: conditionsByType,
  podIPs: mergeBy("ip"),
  hostIPs: mergeBy("ip"),
  resourceClaimStatuses: mergeRetainBy("name"),
});

/** core/v1 PodTemplateSpec. */
const podTemplateSpecSchema: PatchSchema = obj({ metadata, spec: nested(podSpecSchema) });
const template = nested(podTemplateSpecSchema);

/** A kind whose only metadata is ObjectMeta and, optionally, `status.conditions` by type. */
const plain: PatchSchema = obj({ metadata });
const withStatusConditions: PatchSchema = obj({
  metadata,
  status: nested(obj({ conditions: conditionsByType })),
});

const podSchema: PatchSchema = obj({
  metadata,
  spec: nested(podSpecSchema),
  status: nested(podStatusSchema),
});

const replicationControllerSchema: PatchSchema = obj({
  metadata,
  spec: nested(obj({ template })),
  status: nested(obj({ conditions: conditionsByType })),
});

const serviceSchema: PatchSchema = obj({
  metadata,
  spec: nested(obj({ ports: mergeBy("port") })),
  status: nested(obj({ conditions: conditionsByType })),
});

const nodeSchema: PatchSchema = obj({
  metadata,
  spec: nested(obj({ podCIDRs: primitiveSet })),
  status: nested(obj({ conditions: conditionsByType, addresses: mergeBy("type") })),
});

const serviceAccountSchema: PatchSchema = obj({ metadata, secrets: mergeBy("name") });

const persistentVolumeClaimSchema: PatchSchema = withStatusConditions;

const deploymentSchema: PatchSchema = obj({
  metadata,
  spec: nested(obj({ template, strategy: { retainKeys: true } })),
  status: nested(obj({ conditions: conditionsByType })),
});

/** ReplicaSet, DaemonSet: a pod template and conditions by type. */
const templatedWithConditions: PatchSchema = obj({
  metadata,
  spec: nested(obj({ template })),
  status: nested(obj({ conditions: conditionsByType })),
});

const statefulSetSchema: PatchSchema = obj({
  metadata,
  spec: nested(obj({ template, volumeClaimTemplates: nested(persistentVolumeClaimSchema) })),
  status: nested(obj({ conditions: conditionsByType })),
});

const jobSpecSchema: PatchSchema = obj({ template });
const jobSchema: PatchSchema = obj({
  metadata,
  spec: nested(jobSpecSchema),
  status: nested(obj({ conditions: conditionsByType })),
});

const cronJobSchema: PatchSchema = obj({
  metadata,
  spec: nested(obj({ jobTemplate: nested(obj({ metadata, spec: nested(jobSpecSchema) })) })),
});

/** Schemas by `group/version/kind` (the core group is the empty string). */
const schemas: ReadonlyMap<string, PatchSchema> = new Map<string, PatchSchema>([
  ["/v1/Pod", podSchema],
  ["/v1/PodTemplate", obj({ metadata, template })],
  ["/v1/ReplicationController", replicationControllerSchema],
  ["/v1/Service", serviceSchema],
  ["/v1/Node", nodeSchema],
  ["/v1/Namespace", withStatusConditions],
  ["/v1/ServiceAccount", serviceAccountSchema],
  ["/v1/PersistentVolumeClaim", persistentVolumeClaimSchema],
  ["/v1/ComponentStatus", obj({ metadata, conditions: conditionsByType })],
  ["/v1/ConfigMap", plain],
  ["/v1/Secret", plain],
  ["/v1/Endpoints", plain],
  ["/v1/Event", plain],
  ["/v1/LimitRange", plain],
  ["/v1/ResourceQuota", plain],
  ["/v1/PersistentVolume", plain],
  ["apps/v1/Deployment", deploymentSchema],
  ["apps/v1/ReplicaSet", templatedWithConditions],
  ["apps/v1/DaemonSet", templatedWithConditions],
  ["apps/v1/StatefulSet", statefulSetSchema],
  ["apps/v1/ControllerRevision", plain],
  ["batch/v1/Job", jobSchema],
  ["batch/v1/CronJob", cronJobSchema],
  ["discovery.k8s.io/v1/EndpointSlice", plain],
  ["coordination.k8s.io/v1/Lease", plain],
  ["networking.k8s.io/v1/Ingress", plain],
  ["networking.k8s.io/v1/IngressClass", plain],
  ["networking.k8s.io/v1/NetworkPolicy", plain],
  ["policy/v1/PodDisruptionBudget", withStatusConditions],
  ["rbac.authorization.k8s.io/v1/Role", plain],
  ["rbac.authorization.k8s.io/v1/ClusterRole", plain],
  ["rbac.authorization.k8s.io/v1/RoleBinding", plain],
  ["rbac.authorization.k8s.io/v1/ClusterRoleBinding", plain],
  ["scheduling.k8s.io/v1/PriorityClass", plain],
  ["storage.k8s.io/v1/StorageClass", plain],
  ["node.k8s.io/v1/RuntimeClass", plain],
  ["autoscaling/v2/HorizontalPodAutoscaler", plain],
  ["autoscaling/v1/HorizontalPodAutoscaler", plain],
]);

/**
 * The strategic-merge-patch schema of a built-in kind, or `undefined` for kinds that have none
 * (custom resources), for which upstream refuses strategic merge patches.
 */
export function patchSchemaFor(group: string, version: string, kind: string): PatchSchema | undefined {
  return schemas.get(`${group}/${version}/${kind}`);
}
