/**
 * @module The table of kinds the API serves, with upstream's values: group/version/kind,
 * plural and singular resource names, scope, short names, categories, verbs, subresources,
 * generation semantics, the field-selector fields each kind offers, and where its objects live
 * in storage (upstream's etcd layout: `/registry/<prefix>/[<namespace>/]<name>`). Discovery,
 * routing, the registry and the storage layer all read this one table; lookups are O(1).
 */
import type { GroupVersionKind, KubeObject } from "./object.ts";
import type * as apps from "./types/apps-v1.ts";
import type * as batch from "./types/batch-v1.ts";
import type * as core from "./types/core-v1.ts";
import type * as events from "./types/events-v1.ts";

/** A Kubernetes API verb as listed in discovery. */
export type Verb = "create" | "delete" | "deletecollection" | "get" | "list" | "patch" | "update" | "watch";

/** A subresource as discovery lists it (`pods/log`, `deployments/scale`, …). */
export interface SubresourceInfo {
  /** The part after the slash: `status`, `scale`, `log`, … */
  readonly name: string;
  /** The kind of the subresource's body (`Scale`, `PodExecOptions`, or the parent kind). */
  readonly kind: string;
  /** Set only when the body's group differs from the parent's (e.g. `autoscaling`). */
  readonly group?: string;
  /** Set only when the body's version differs from the parent's. */
  readonly version?: string;
  readonly verbs: readonly Verb[];
}

/**
 * How upstream maintains `metadata.generation` for a kind:
 * - `none`: never set;
 * - `create-only`: 1 on create, never bumped;
 * - `spec`: 1 on create, +1 on any update that changes `spec`;
 * - `spec-or-annotations`: as `spec`, and also when annotations change (Deployment);
 * - `content-or-labels`: 1 on create, +1 when anything outside metadata, or the labels,
 *   change (EndpointSlice).
 */
export type GenerationPolicy = "none" | "create-only" | "spec" | "spec-or-annotations" | "content-or-labels";

/** Everything the API machinery needs to know about one kind. */
export interface KindInfo {
  /** API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** `v1` or `<group>/<version>`, as in the objects' `apiVersion`. */
  readonly apiVersion: string;
  /** The kind of a list of these, e.g. `PodList`. */
  readonly listKind: string;
  /** Plural resource name used in URLs, e.g. `pods`. */
  readonly resource: string;
  readonly singularName: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly Verb[];
  readonly subresources: readonly SubresourceInfo[];
  /** True when the kind has a `status` subresource (main-resource writes ignore status). */
  readonly hasStatusSubresource: boolean;
  readonly generation: GenerationPolicy;
  /** Storage key prefix of all objects of the kind, e.g. `/registry/services/specs/`. */
  readonly storageRoot: string;
  /**
   * Set when upstream stores this kind in another kind's form (events.k8s.io/v1 Event is
   * stored as core/v1 Event under the same keys): the apiserver converts on the way in/out.
   */
  readonly storedAs?: GroupVersionKind;
  /** Field-selector labels the kind accepts (after aliases are applied). */
  readonly fieldLabels: readonly string[];
  /** Legacy field-selector labels and the label each stands for (`spec.host` → `spec.nodeName`). */
  readonly fieldLabelAliases: Readonly<Record<string, string>>;
  /**
   * The values field selectors match against, keyed by label, computed as upstream does
   * (absent fields give "" or the type's zero value, booleans "true"/"false", counts decimal).
   */
  selectableFields(obj: KubeObject): Record<string, string>;
}

/** How upstream words the rejection of an unsupported field label for a kind. */
type LabelMessage = (label: string) => string;

const FULL_VERBS: readonly Verb[] = [
  "create",
  "delete",
  "deletecollection",
  "get",
  "list",
  "patch",
  "update",
  "watch",
];
const META_LABELS = ["metadata.name", "metadata.namespace"] as const;

const defaultMessage: LabelMessage = (label) =>
  `"${label}" is not a known field selector: only "metadata.name", "metadata.namespace"`;
const coreMessage: LabelMessage = (label) => `field label not supported: ${label}`;
const jobMessage: LabelMessage = (label) => `field label "${label}" not supported for batchv1.Job`;

const statusSub = (kind: string): SubresourceInfo => ({
  name: "status",
  kind,
  verbs: ["get", "patch", "update"],
});
const scaleSub: SubresourceInfo = {
  name: "scale",
  kind: "Scale",
  group: "autoscaling",
  version: "v1",
  verbs: ["get", "patch", "update"],
};
const proxySub = (kind: string): SubresourceInfo => ({
  name: "proxy",
  kind,
  verbs: ["create", "delete", "get", "patch", "update"],
});

/** `metadata.name`, plus `metadata.namespace` for namespaced kinds, as upstream adds them. */
function metaFields(obj: KubeObject, namespaced: boolean): Record<string, string> {
  const fields: Record<string, string> = { "metadata.name": obj.metadata?.name ?? "" };
  if (namespaced) fields["metadata.namespace"] = obj.metadata?.namespace ?? "";
  return fields;
}

/** Reads a kind's own selectable fields from the object viewed as its typed form. */
function typed<T>(fn: (obj: T) => Record<string, string>): (obj: KubeObject) => Record<string, string> {
  return (obj) => fn(obj as unknown as T);
}

const podFields = typed<core.Pod>((p) => {
  const ips = p.status?.podIPs;
  return {
    "spec.nodeName": p.spec?.nodeName ?? "",
    "spec.restartPolicy": p.spec?.restartPolicy ?? "",
    "spec.schedulerName": p.spec?.schedulerName ?? "",
    "spec.serviceAccountName": p.spec?.serviceAccountName ?? "",
    "spec.hostNetwork": String(p.spec?.hostNetwork === true),
    "status.phase": p.status?.phase ?? "",
    "status.podIP": ips && ips.length > 0 ? (ips[0]?.ip ?? "") : (p.status?.podIP ?? ""),
    "status.nominatedNodeName": p.status?.nominatedNodeName ?? "",
  };
});

const coreEventFields = typed<core.Event>((e) => ({
  "involvedObject.kind": e.involvedObject?.kind ?? "",
  "involvedObject.namespace": e.involvedObject?.namespace ?? "",
  "involvedObject.name": e.involvedObject?.name ?? "",
  "involvedObject.uid": e.involvedObject?.uid ?? "",
  "involvedObject.apiVersion": e.involvedObject?.apiVersion ?? "",
  "involvedObject.resourceVersion": e.involvedObject?.resourceVersion ?? "",
  "involvedObject.fieldPath": e.involvedObject?.fieldPath ?? "",
  reason: e.reason ?? "",
  reportingComponent: e.reportingComponent ?? "",
  source: e.source?.component || e.reportingComponent || "",
  type: e.type ?? "",
}));

const eventsV1Fields = typed<events.Event>((e) => ({
  "regarding.kind": e.regarding?.kind ?? "",
  "regarding.namespace": e.regarding?.namespace ?? "",
  "regarding.name": e.regarding?.name ?? "",
  "regarding.uid": e.regarding?.uid ?? "",
  "regarding.apiVersion": e.regarding?.apiVersion ?? "",
  "regarding.resourceVersion": e.regarding?.resourceVersion ?? "",
  "regarding.fieldPath": e.regarding?.fieldPath ?? "",
  reason: e.reason ?? "",
  reportingController: e.reportingController ?? "",
  type: e.type ?? "",
}));

const replicasField = typed<apps.ReplicaSet | core.ReplicationController>((r) => ({
  "status.replicas": String(r.status?.replicas ?? 0),
}));

/** What one table row states; everything else is derived. */
interface KindSpec extends KindExtras {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespaced: boolean;
}

/** The optional part of a table row. */
interface KindExtras {
  shortNames?: string[];
  categories?: string[];
  verbs?: Verb[];
  subresources?: SubresourceInfo[];
  generation?: GenerationPolicy;
  /** The `<prefix>` in `/registry/<prefix>/`; defaults to the resource name. */
  storagePrefix?: string;
  storedAs?: GroupVersionKind;
  /** Kind-specific selectable fields; metadata fields are added for every kind. */
  fields?: (obj: KubeObject) => Record<string, string>;
  /** Accepted field labels; defaults to `metadata.name`, `metadata.namespace`. */
  labels?: readonly string[];
  aliases?: Record<string, string>;
  labelMessage?: LabelMessage;
}

/** One table row: `apiVersion` as objects carry it, then kind, plural resource and scope. */
function def(
  apiVersion: string,
  kind: string,
  resource: string,
  namespaced: boolean,
  extras: KindExtras = {},
): KindSpec {
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  return { ...extras, group, version, kind, resource, namespaced };
}

const SPECS: readonly KindSpec[] = [
  // core/v1
  def("v1", "Namespace", "namespaces", false, {
    shortNames: ["ns"],
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    subresources: [{ name: "finalize", kind: "Namespace", verbs: ["update"] }, statusSub("Namespace")],
    // "name" is upstream's backward-compatibility alias of metadata.name (unreachable via v1).
    fields: typed<core.Namespace>((n) => ({
      "status.phase": n.status?.phase ?? "",
      name: n.metadata?.name ?? "",
    })),
    labels: ["status.phase", "metadata.name"],
    labelMessage: coreMessage,
  }),
  def("v1", "Node", "nodes", false, {
    shortNames: ["no"],
    subresources: [proxySub("NodeProxyOptions"), statusSub("Node")],
    storagePrefix: "minions",
    fields: typed<core.Node>((n) => ({ "spec.unschedulable": String(n.spec?.unschedulable === true) })),
    labels: ["metadata.name", "spec.unschedulable"],
    labelMessage: coreMessage,
  }),
  def("v1", "Pod", "pods", true, {
    shortNames: ["po"],
    categories: ["all"],
    subresources: [
      { name: "attach", kind: "PodAttachOptions", verbs: ["create", "get"] },
      { name: "binding", kind: "Binding", verbs: ["create"] },
      { name: "ephemeralcontainers", kind: "Pod", verbs: ["get", "patch", "update"] },
      { name: "eviction", kind: "Eviction", group: "policy", version: "v1", verbs: ["create"] },
      { name: "exec", kind: "PodExecOptions", verbs: ["create", "get"] },
      { name: "log", kind: "Pod", verbs: ["get"] },
      { name: "portforward", kind: "PodPortForwardOptions", verbs: ["create", "get"] },
      proxySub("PodProxyOptions"),
      statusSub("Pod"),
    ],
    fields: podFields,
    labels: [
      ...META_LABELS,
      "spec.nodeName",
      "spec.restartPolicy",
      "spec.schedulerName",
      "spec.serviceAccountName",
      "spec.hostNetwork",
      "status.phase",
      "status.podIP",
      "status.podIPs",
      "status.nominatedNodeName",
    ],
    aliases: { "spec.host": "spec.nodeName" },
    labelMessage: coreMessage,
  }),
  def("v1", "Service", "services", true, {
    shortNames: ["svc"],
    categories: ["all"],
    subresources: [proxySub("ServiceProxyOptions"), statusSub("Service")],
    storagePrefix: "services/specs",
    fields: typed<core.Service>((s) => ({
      "spec.clusterIP": s.spec?.clusterIP ?? "",
      "spec.type": s.spec?.type ?? "",
    })),
    labels: [...META_LABELS, "spec.clusterIP", "spec.type"],
    labelMessage: coreMessage,
  }),
  def("v1", "Endpoints", "endpoints", true, {
    shortNames: ["ep"],
    storagePrefix: "services/endpoints",
  }),
  def("v1", "PersistentVolume", "persistentvolumes", false, {
    shortNames: ["pv"],
    subresources: [statusSub("PersistentVolume")],
  }),
  def("v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, {
    shortNames: ["pvc"],
    subresources: [statusSub("PersistentVolumeClaim")],
  }),
  def("v1", "ConfigMap", "configmaps", true, {
    shortNames: ["cm"],
  }),
  def("v1", "Secret", "secrets", true, {
    fields: typed<core.Secret>((s) => ({ type: s.type ?? "" })),
    labels: ["type", ...META_LABELS],
    labelMessage: coreMessage,
  }),
  def("v1", "ServiceAccount", "serviceaccounts", true, {
    shortNames: ["sa"],
    subresources: [
      {
        name: "token",
        kind: "TokenRequest",
        group: "authentication.k8s.io",
        version: "v1",
        verbs: ["create"],
      },
    ],
  }),
  def("v1", "Event", "events", true, {
    shortNames: ["ev"],
    fields: coreEventFields,
    labels: [
      "involvedObject.kind",
      "involvedObject.namespace",
      "involvedObject.name",
      "involvedObject.uid",
      "involvedObject.apiVersion",
      "involvedObject.resourceVersion",
      "involvedObject.fieldPath",
      "reason",
      "reportingComponent",
      "source",
      "type",
      ...META_LABELS,
    ],
    labelMessage: coreMessage,
  }),
  def("v1", "ReplicationController", "replicationcontrollers", true, {
    shortNames: ["rc"],
    categories: ["all"],
    subresources: [scaleSub, statusSub("ReplicationController")],
    generation: "spec",
    storagePrefix: "controllers",
    fields: replicasField,
    labels: [...META_LABELS, "status.replicas"],
    labelMessage: coreMessage,
  }),
  // events.k8s.io/v1
  def("events.k8s.io/v1", "Event", "events", true, {
    shortNames: ["ev"],
    storedAs: { group: "", version: "v1", kind: "Event" },
    fields: eventsV1Fields,
    labels: [
      "reason",
      "regarding.kind",
      "regarding.namespace",
      "regarding.name",
      "regarding.uid",
      "regarding.apiVersion",
      "regarding.resourceVersion",
      "regarding.fieldPath",
      "reportingController",
      "type",
      ...META_LABELS,
    ],
    labelMessage: coreMessage,
  }),
  // coordination.k8s.io/v1
  def("coordination.k8s.io/v1", "Lease", "leases", true),
  // apps/v1
  def("apps/v1", "Deployment", "deployments", true, {
    shortNames: ["deploy"],
    categories: ["all"],
    subresources: [scaleSub, statusSub("Deployment")],
    generation: "spec-or-annotations",
  }),
  def("apps/v1", "ReplicaSet", "replicasets", true, {
    shortNames: ["rs"],
    categories: ["all"],
    subresources: [scaleSub, statusSub("ReplicaSet")],
    generation: "spec",
    // Upstream computes status.replicas but apps/v1 registers no label conversion for it,
    // so a request selecting on it is rejected with the default message.
    fields: replicasField,
  }),
  def("apps/v1", "DaemonSet", "daemonsets", true, {
    shortNames: ["ds"],
    categories: ["all"],
    subresources: [statusSub("DaemonSet")],
    generation: "spec",
  }),
  def("apps/v1", "StatefulSet", "statefulsets", true, {
    shortNames: ["sts"],
    categories: ["all"],
    subresources: [scaleSub, statusSub("StatefulSet")],
    generation: "spec",
  }),
  def("apps/v1", "ControllerRevision", "controllerrevisions", true),
  // batch/v1
  def("batch/v1", "Job", "jobs", true, {
    categories: ["all"],
    subresources: [statusSub("Job")],
    generation: "spec",
    fields: typed<batch.Job>((j) => ({ "status.successful": String(j.status?.succeeded ?? 0) })),
    labels: [...META_LABELS, "status.successful"],
    labelMessage: jobMessage,
  }),
  def("batch/v1", "CronJob", "cronjobs", true, {
    shortNames: ["cj"],
    categories: ["all"],
    subresources: [statusSub("CronJob")],
    generation: "spec",
  }),
  // discovery.k8s.io/v1
  def("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", true, {
    generation: "content-or-labels",
  }),
  // networking.k8s.io/v1
  def("networking.k8s.io/v1", "Ingress", "ingresses", true, {
    shortNames: ["ing"],
    storagePrefix: "ingress",
    subresources: [statusSub("Ingress")],
    generation: "spec",
  }),
  def("networking.k8s.io/v1", "IngressClass", "ingressclasses", false, { generation: "spec" }),
  // policy/v1
  def("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true, {
    shortNames: ["pdb"],
    subresources: [statusSub("PodDisruptionBudget")],
    generation: "spec",
  }),
  // scheduling.k8s.io/v1
  def("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", false, {
    shortNames: ["pc"],
    generation: "create-only",
  }),
];

interface BuiltKind {
  info: KindInfo;
  labelMessage: LabelMessage;
}

function build(spec: KindSpec): BuiltKind {
  const subresources = Object.freeze((spec.subresources ?? []).map((s) => Object.freeze({ ...s })));
  const own = spec.fields;
  const info: KindInfo = {
    group: spec.group,
    version: spec.version,
    kind: spec.kind,
    apiVersion: spec.group === "" ? spec.version : `${spec.group}/${spec.version}`,
    listKind: `${spec.kind}List`,
    resource: spec.resource,
    // Upstream derives the singular name from the kind.
    singularName: spec.kind.toLowerCase(),
    namespaced: spec.namespaced,
    shortNames: Object.freeze([...(spec.shortNames ?? [])]),
    categories: Object.freeze([...(spec.categories ?? [])]),
    verbs: Object.freeze([...(spec.verbs ?? FULL_VERBS)]),
    subresources,
    hasStatusSubresource: subresources.some((s) => s.name === "status"),
    generation: spec.generation ?? "none",
    storageRoot: `/registry/${spec.storagePrefix ?? spec.resource}/`,
    ...(spec.storedAs ? { storedAs: Object.freeze({ ...spec.storedAs }) } : {}),
    fieldLabels: Object.freeze([...(spec.labels ?? META_LABELS)]),
    fieldLabelAliases: Object.freeze({ ...(spec.aliases ?? {}) }),
    selectableFields: (obj) => ({ ...(own ? own(obj) : {}), ...metaFields(obj, spec.namespaced) }),
  };
  return { info: Object.freeze(info), labelMessage: spec.labelMessage ?? defaultMessage };
}

const BUILT: readonly BuiltKind[] = SPECS.map(build);
const ALL: readonly KindInfo[] = Object.freeze(BUILT.map((b) => b.info));
const LABEL_MESSAGES = new Map<KindInfo, LabelMessage>(BUILT.map((b) => [b.info, b.labelMessage]));
const BY_GVR = new Map<string, KindInfo>();
const BY_GVK = new Map<string, KindInfo>();
const BY_GR = new Map<string, KindInfo>();
const BY_SHORT = new Map<string, KindInfo>();
for (const info of ALL) {
  BY_GVR.set(`${info.group}/${info.version}/${info.resource}`, info);
  BY_GVK.set(`${info.group}/${info.version}/${info.kind}`, info);
  BY_GR.set(`${info.group}/${info.resource}`, info);
  // The core group comes first in the table, so a short name shared across groups ("ev")
  // resolves to the core kind, as kubectl's group priority does.
  for (const short of info.shortNames) if (!BY_SHORT.has(short)) BY_SHORT.set(short, info);
}

/** Every kind the API serves, in table order (core first). */
export function allKinds(): readonly KindInfo[] {
  return ALL;
}

/** The kind served at `group/version/resource` (plural), if any. Group is "" for core. */
export function kindByResource(group: string, version: string, resource: string): KindInfo | undefined {
  return BY_GVR.get(`${group}/${version}/${resource}`);
}

/** The kind with this group, version and kind name, if any. */
export function kindByGVK(group: string, version: string, kind: string): KindInfo | undefined {
  return BY_GVK.get(`${group}/${version}/${kind}`);
}

/** The kind of a group and plural resource, whatever the version (each is served at one). */
export function kindByGroupResource(group: string, resource: string): KindInfo | undefined {
  return BY_GR.get(`${group}/${resource}`);
}

/** The kind a short name (`po`, `svc`, `deploy`, …) stands for; `ev` is core/v1 Event. */
export function kindByShortName(shortName: string): KindInfo | undefined {
  return BY_SHORT.get(shortName);
}

/**
 * Checks a field-selector label against what the kind accepts, mapping legacy aliases.
 * On rejection `message` is worded as upstream's (the apiserver wraps it in a 400).
 */
export function convertFieldLabel(
  info: KindInfo,
  label: string,
): { ok: true; label: string } | { ok: false; message: string } {
  const mapped = info.fieldLabelAliases[label] ?? label;
  if (info.fieldLabels.includes(mapped)) return { ok: true, label: mapped };
  const message = LABEL_MESSAGES.get(info) ?? defaultMessage;
  return { ok: false, message: message(label) };
}

/**
 * Storage key of one object: `<root><namespace>/<name>` for namespaced kinds, `<root><name>`
 * for cluster-scoped ones (where `namespace` is ignored, as upstream's key function does).
 * Throws on an empty name, or an empty namespace for a namespaced kind: a caller bug.
 */
export function storageKey(info: KindInfo, namespace: string, name: string): string {
  if (name === "") throw new Error(`storageKey: empty name for ${info.resource}`);
  if (!info.namespaced) return `${info.storageRoot}${name}`;
  if (namespace === "")
    throw new Error(`storageKey: ${info.resource} is namespaced but no namespace was given`);
  return `${info.storageRoot}${namespace}/${name}`;
}

/**
 * Prefix under which to list or watch a kind: every object of the kind, or only those in
 * `namespace` when it is given for a namespaced kind. Always ends with "/".
 */
export function storagePrefix(info: KindInfo, namespace?: string): string {
  if (info.namespaced && namespace) return `${info.storageRoot}${namespace}/`;
  return info.storageRoot;
}
