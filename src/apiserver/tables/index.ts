/**
 * @module Server-side printing: turns objects of one kind into the `meta.k8s.io/v1` Table the
 * API server returns for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, with
 * upstream's columns and cells per kind and its default table (Name, Created At) for the rest.
 * Pure: the caller passes the clock.
 */
import type { KubeObject } from "../../api/object.ts";
import type { PartialObjectMetadata, Table, TableRow } from "../../api/types/meta-v1.ts";
import {
  configMapPrinter,
  leasePrinter,
  namespacePrinter,
  nodePrinter,
  priorityClassPrinter,
  secretPrinter,
  serviceAccountPrinter,
} from "./core.ts";
import { eventPrinter, eventsV1Printer } from "./events.ts";
import {
  endpointSlicePrinter,
  ingressPrinter,
  ingressClassPrinter,
  endpointsPrinter,
  servicePrinter,
} from "./network.ts";
import { podPrinter } from "./pods.ts";
import {
  persistentVolumeClaimPrinter,
  persistentVolumePrinter,
  podDisruptionBudgetPrinter,
} from "./storage.ts";
import { defaultPrinter, type TablePrinter } from "./table.ts";
import {
  controllerRevisionPrinter,
  cronJobPrinter,
  daemonSetPrinter,
  deploymentPrinter,
  jobPrinter,
  replicaSetPrinter,
  replicationControllerPrinter,
  statefulSetPrinter,
} from "./workloads.ts";

export type { TablePrinter } from "./table.ts";
export { humanDuration, shortHumanDuration } from "./age.ts";

/** What each row carries besides its cells (`?includeObject=`): nothing, metadata, or the object. */
export type IncludeObject = "None" | "Metadata" | "Object";

/** Options of {@link toTable}. */
export interface ToTableOptions {
  /** API group of the objects ("" for core). */
  group: string;
  /** Kind of the objects. */
  kind: string;
  /** The clock AGE-like cells are computed against. */
  now: Date;
  /** Defaults to `Metadata`: each row's object is a `PartialObjectMetadata`. */
  includeObject?: IncludeObject;
  /** Omit column definitions (`TableOptions.noHeaders`, as watch events after the first do). */
  noHeaders?: boolean;
  /** `metadata.resourceVersion` of the table (the list's, or the single object's). */
  resourceVersion?: string;
  /** `metadata.continue` of the table, when the list was paginated. */
  continue?: string;
  /** `metadata.remainingItemCount` of the table, when the list was paginated. */
  remainingItemCount?: number;
}

const PRINTERS = new Map<string, TablePrinter>([
  ["/Pod", podPrinter],
  ["/Node", nodePrinter],
  ["/Namespace", namespacePrinter],
  ["/Service", servicePrinter],
  ["/Endpoints", endpointsPrinter],
  ["/ConfigMap", configMapPrinter],
  ["/Secret", secretPrinter],
  ["/ServiceAccount", serviceAccountPrinter],
  ["/Event", eventPrinter],
  ["/ReplicationController", replicationControllerPrinter],
  ["events.k8s.io/Event", eventsV1Printer],
  ["coordination.k8s.io/Lease", leasePrinter],
  ["discovery.k8s.io/EndpointSlice", endpointSlicePrinter],
  ["networking.k8s.io/Ingress", ingressPrinter],
  ["networking.k8s.io/IngressClass", ingressClassPrinter],
  ["/PersistentVolume", persistentVolumePrinter],
  ["/PersistentVolumeClaim", persistentVolumeClaimPrinter],
  ["policy/PodDisruptionBudget", podDisruptionBudgetPrinter],
  ["scheduling.k8s.io/PriorityClass", priorityClassPrinter],
  ["apps/Deployment", deploymentPrinter],
  ["apps/ReplicaSet", replicaSetPrinter],
  ["apps/DaemonSet", daemonSetPrinter],
  ["apps/StatefulSet", statefulSetPrinter],
  ["apps/ControllerRevision", controllerRevisionPrinter],
  ["batch/Job", jobPrinter],
  ["batch/CronJob", cronJobPrinter],
]);

/** The printer for a group and kind; kinds without one get the default Name / Created At table. */
export function printerFor(group: string, kind: string): TablePrinter {
  return PRINTERS.get(`${group}/${kind}`) ?? defaultPrinter;
}

/** The row object for `includeObject=Metadata`: the object's metadata, shared, not copied. */
function partialMetadata(obj: KubeObject): PartialObjectMetadata {
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata };
}

/**
 * Prints objects of one kind as a Table: one row per object, in the given order, with every
 * column's cell (wide ones included; kubectl hides priority > 0 columns unless `-o wide`).
 */
export function toTable(objects: readonly KubeObject[], opts: ToTableOptions): Table {
  const p = printerFor(opts.group, opts.kind);
  const now = opts.now.getTime();
  const include = opts.includeObject ?? "Metadata";
  const rows: TableRow[] = new Array<TableRow>(objects.length);
  for (let i = 0; i < objects.length; i++) {
    const obj = objects[i]!;
    const row: TableRow = { cells: p.cells(obj, now) };
    const conditions = p.conditions?.(obj);
    if (conditions) row.conditions = conditions;
    if (include === "Metadata") row.object = partialMetadata(obj);
    else if (include === "Object") row.object = obj;
    rows[i] = row;
  }
  const metadata: Table["metadata"] = {};
  if (opts.resourceVersion !== undefined) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continue) metadata.continue = opts.continue;
  if (opts.remainingItemCount !== undefined) metadata.remainingItemCount = opts.remainingItemCount;
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata,
    columnDefinitions: opts.noHeaders ? [] : [...p.columns],
    rows,
  };
}
