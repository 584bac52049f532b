/**
 * @module Tables of the simple cluster kinds, with upstream's columns and cell values: Node
 * (STATUS `Ready`, `NotReady`, `Unknown`, `…,SchedulingDisabled`; ROLES from role labels),
 * Namespace, ConfigMap, Secret, ServiceAccount, Lease and PriorityClass.
 */
import type { ConfigMap, Namespace, Node, Secret, ServiceAccount } from "../../api/types/core-v1.ts";
import type { Lease } from "../../api/types/coordination-v1.ts";
import type { PriorityClass } from "../../api/types/scheduling-v1.ts";
import { AGE_COLUMN, age, column, columns, nameColumn, printer, type TablePrinter } from "./table.ts";

const ROLE_LABEL_PREFIX = "node-role.kubernetes.io/";
const LEGACY_ROLE_LABEL = "kubernetes.io/role";

/** The node's roles from `node-role.kubernetes.io/<role>` and `kubernetes.io/role` labels, sorted. */
export function nodeRoles(node: Node): string[] {
  const labels = node.metadata.labels;
  if (!labels) return [];
  const roles = new Set<string>();
  for (const key of Object.keys(labels)) {
    if (key.startsWith(ROLE_LABEL_PREFIX)) {
      const role = key.slice(ROLE_LABEL_PREFIX.length);
      if (role.length > 0) roles.add(role);
    } else if (key === LEGACY_ROLE_LABEL && labels[key]) {
      roles.add(labels[key]);
    }
  }
  return [...roles].sort();
}

/** The node STATUS cell: the Ready condition (`Ready`/`NotReady`/`Unknown`) plus `SchedulingDisabled`. */
export function nodeStatus(node: Node): string {
  let status = "Unknown";
  for (const c of node.status?.conditions ?? []) {
    // Like upstream, the last Ready condition listed wins.
    if (c.type === "Ready") status = c.status === "True" ? "Ready" : "NotReady";
  }
  return node.spec?.unschedulable ? `${status},SchedulingDisabled` : status;
}

function nodeAddress(node: Node, type: string): string {
  for (const a of node.status?.addresses ?? []) {
    if (a.type === type) return a.address;
  }
  return "<none>";
}

/** Node: NAME STATUS ROLES AGE VERSION | INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME. */
export const nodePrinter: TablePrinter = printer<Node>({
  columns: columns(
    nameColumn(),
    column("Status", "string", "Readiness of the node, and whether scheduling onto it is disabled."),
    column("Roles", "string", "Roles of the node, from its node-role.kubernetes.io/ labels."),
    AGE_COLUMN,
    column("Version", "string", "Kubelet version the node reports."),
    column("Internal-IP", "string", "The node's first InternalIP address.", 1),
    column("External-IP", "string", "The node's first ExternalIP address.", 1),
    column("OS-Image", "string", "Operating system image the node reports.", 1),
    column("Kernel-Version", "string", "Kernel version the node reports.", 1),
    column("Container-Runtime", "string", "Container runtime name and version the node reports.", 1),
  ),
  cells(node, now) {
    const info = node.status?.nodeInfo;
    const roles = nodeRoles(node);
    return [
      node.metadata.name ?? "",
      nodeStatus(node),
      roles.length === 0 ? "<none>" : roles.join(","),
      age(node, now),
      info?.kubeletVersion ?? "",
      nodeAddress(node, "InternalIP"),
      nodeAddress(node, "ExternalIP"),
      info?.osImage || "<unknown>",
      info?.kernelVersion || "<unknown>",
      info?.containerRuntimeVersion || "<unknown>",
    ];
  },
});

/** Namespace: NAME STATUS AGE. */
export const namespacePrinter: TablePrinter = printer<Namespace>({
  columns: columns(
    nameColumn(),
    column("Status", "string", "Phase of the namespace (Active, Terminating)."),
    AGE_COLUMN,
  ),
  cells: (ns, now) => [ns.metadata.name ?? "", ns.status?.phase ?? "", age(ns, now)],
});

function countKeys(map: Readonly<Record<string, unknown>> | undefined): number {
  if (!map) return 0;
  let n = 0;
  for (const _ in map) n++;
  return n;
}

/** ConfigMap: NAME DATA AGE (DATA counts `data` and `binaryData` keys). */
export const configMapPrinter: TablePrinter = printer<ConfigMap>({
  columns: columns(
    nameColumn(),
    column("Data", "string", "Number of keys in data and binaryData."),
    AGE_COLUMN,
  ),
  cells: (cm, now) => [cm.metadata.name ?? "", countKeys(cm.data) + countKeys(cm.binaryData), age(cm, now)],
});

/** Secret: NAME TYPE DATA AGE. */
export const secretPrinter: TablePrinter = printer<Secret>({
  columns: columns(
    nameColumn(),
    column("Type", "string", "Type of the secret's contents."),
    column("Data", "string", "Number of keys in data."),
    AGE_COLUMN,
  ),
  cells: (s, now) => [s.metadata.name ?? "", s.type ?? "", countKeys(s.data), age(s, now)],
});

/** ServiceAccount: NAME SECRETS AGE. */
export const serviceAccountPrinter: TablePrinter = printer<ServiceAccount>({
  columns: columns(
    nameColumn(),
    column("Secrets", "string", "Number of secrets listed on the account."),
    AGE_COLUMN,
  ),
  cells: (sa, now) => [sa.metadata.name ?? "", sa.secrets?.length ?? 0, age(sa, now)],
});

/** Lease: NAME HOLDER AGE. */
export const leasePrinter: TablePrinter = printer<Lease>({
  columns: columns(
    nameColumn(),
    column("Holder", "string", "Identity of the current holder of the lease."),
    AGE_COLUMN,
  ),
  cells: (l, now) => [l.metadata.name ?? "", l.spec?.holderIdentity ?? "", age(l, now)],
});

/** PriorityClass: NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY (upstream shows the last one by default too). */
export const priorityClassPrinter: TablePrinter = printer<PriorityClass>({
  columns: columns(
    nameColumn(),
    column("Value", "integer", "Priority of pods of this class; higher schedules first."),
    column("Global-Default", "boolean", "Whether pods without a priority class get this one."),
    AGE_COLUMN,
    column("PreemptionPolicy", "string", "Whether pods of this class may preempt lower-priority pods."),
  ),
  cells: (pc, now) => [
    pc.metadata.name ?? "",
    pc.value ?? 0,
    pc.globalDefault ?? false,
    age(pc, now),
    pc.preemptionPolicy ?? "",
  ],
});
