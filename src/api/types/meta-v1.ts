/**
 * @module meta/v1 shapes every kind shares — object and list metadata, `List<T>`, `Table`,
 * `Status`, `DeleteOptions`, `WatchEvent` — and `ApiObject`, the helper that turns a
 * `kubernetes-types` interface into one of our kind types with literal `apiVersion` and `kind`.
 * Types only: nothing here exists at run time.
 */
import type * as k8s from "kubernetes-types/meta/v1.js";
import type { RawExtension } from "kubernetes-types/runtime.js";
import type { Status } from "../status-error.ts";
export type { Status, StatusCause, StatusDetails, StatusReason } from "../status-error.ts";
export type { GroupVersionKind } from "../object.ts";
export type {
  APIGroup,
  APIGroupList,
  APIResource,
  APIResourceList,
  APIVersions,
  Condition,
  FieldsV1,
  GroupVersionForDiscovery,
  LabelSelector,
  LabelSelectorRequirement,
  ManagedFieldsEntry,
  MicroTime,
  OwnerReference,
  Preconditions,
  Time,
} from "kubernetes-types/meta/v1.js";
export type { RawExtension };

/** `T` with the top-level `readonly` markers of `kubernetes-types` removed: the server writes them. */
export type Mutable<T> = { -readonly [P in keyof T]: T[P] };

/**
 * Object metadata. Same fields as upstream's `ObjectMeta`; `uid`, `resourceVersion`,
 * `generation`, `creationTimestamp` and the deletion fields are writable here because the
 * apiserver and controllers set them.
 */
export type ObjectMeta = Mutable<k8s.ObjectMeta>;

/** List metadata (`resourceVersion`, `continue`, `remainingItemCount`), writable by the server. */
export type ListMeta = Mutable<k8s.ListMeta>;

/** The `apiVersion` and `kind` pair every serialized object carries. */
export interface TypeMeta {
  apiVersion: string;
  kind: string;
}

/**
 * A kind type built from a `kubernetes-types` interface: its own fields, a literal
 * `apiVersion` and `kind`, required (writable) metadata, and writable top-level fields.
 * Example: `ApiObject<k8s.Pod, "v1", "Pod">`.
 */
export type ApiObject<T, V extends string, K extends string> = Mutable<
  Omit<T, "apiVersion" | "kind" | "metadata">
> & {
  apiVersion: V;
  kind: K;
  metadata: ObjectMeta;
};

/** A list of objects of one kind, as returned by a list request (`PodList`, `ServiceList`, …). */
export interface List<T extends TypeMeta = TypeMeta> {
  apiVersion: T["apiVersion"];
  kind: `${T["kind"]}List`;
  metadata: ListMeta;
  items: T[];
}

/** How a delete is carried out (`propagationPolicy`, grace period, preconditions, dry run). */
export type DeleteOptions = Omit<k8s.DeleteOptions, "kind" | "propagationPolicy"> & {
  kind?: "DeleteOptions";
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
};

/** A watch event as sent on the wire; `ERROR` events carry a `Status`. */
export type WatchEvent<T = TypeMeta> =
  { type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"; object: T } | { type: "ERROR"; object: Status };

/** Object metadata without the body, as served for `as=PartialObjectMetadata`. */
export interface PartialObjectMetadata {
  apiVersion: "meta.k8s.io/v1";
  kind: "PartialObjectMetadata";
  metadata: ObjectMeta;
}

/** A list of `PartialObjectMetadata`. */
export interface PartialObjectMetadataList {
  apiVersion: "meta.k8s.io/v1";
  kind: "PartialObjectMetadataList";
  metadata: ListMeta;
  items: PartialObjectMetadata[];
}

/** One column of a server-side `Table` (what `kubectl get` prints). */
export interface TableColumnDefinition {
  name: string;
  /** OpenAPI type: `string`, `integer`, `number`, `boolean`. */
  type: string;
  /** OpenAPI format, e.g. `name` for the column kubectl uses for the object name, or `date`. */
  format: string;
  description: string;
  /** 0 is shown by default; higher numbers only with `-o wide`. */
  priority: number;
}

/** A condition on a table row; kubectl greys out rows with `Completed: True`. */
export interface TableRowCondition {
  /** `Completed` is the one type kubectl acts on. */
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
}

/** One row of a `Table`: the cells in column order and, as requested, the object itself. */
export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  /** The full object or `PartialObjectMetadata`, per `includeObject`. */
  object?: RawExtension | TypeMeta;
}

/** `meta.k8s.io/v1` Table: the server-side printing format. */
export interface Table {
  apiVersion: "meta.k8s.io/v1";
  kind: "Table";
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}
