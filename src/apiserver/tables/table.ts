/**
 * @module The shared pieces of server-side printing: the `TablePrinter` contract each kind
 * implements (column definitions plus a function from one object to its cells), column
 * constructors, the default table upstream serves for kinds without a printer (Name, Created
 * At), and small cell formatters several kinds share.
 */
import type { KubeObject } from "../../api/object.ts";
import type { TableColumnDefinition, TableRowCondition } from "../../api/types/meta-v1.ts";
import type { Container } from "../../api/types/core-v1.ts";
import { formatRFC3339, timestampSince } from "./age.ts";

/**
 * How one kind is printed. `cells` returns every column's value, wide ones included (the API
 * server always prints wide; kubectl hides priority > 0 columns unless asked for `-o wide`).
 * `conditions` marks rows kubectl should treat specially (`Completed` pods).
 */
export interface TablePrinter<T = KubeObject> {
  readonly columns: readonly TableColumnDefinition[];
  cells(obj: T, now: number): unknown[];
  conditions?(obj: T): TableRowCondition[] | undefined;
}

/** Widens a printer typed for one kind so printers of all kinds sit in one registry. */
export function printer<T>(p: TablePrinter<T>): TablePrinter<KubeObject> {
  return p as unknown as TablePrinter<KubeObject>;
}

/** A column definition; `priority` 1 marks a column shown only with `-o wide`. */
export function column(
  name: string,
  type: "string" | "integer" | "boolean" | "date" | "number",
  description: string,
  priority = 0,
  format = "",
): TableColumnDefinition {
  return Object.freeze({ name, type, format, description, priority });
}

/** The NAME column: format `name` tells kubectl which cell names the object. */
export function nameColumn(priority = 0): TableColumnDefinition {
  return column(
    "Name",
    "string",
    "Name of the object, unique within its namespace (or the cluster, for cluster-scoped kinds).",
    priority,
    "name",
  );
}

/** The AGE column: time since `metadata.creationTimestamp`. */
export const AGE_COLUMN = column(
  "Age",
  "string",
  "Time since the object was created (metadata.creationTimestamp).",
);

/** Container names and images columns shared by the workload kinds' wide output. */
export const CONTAINERS_COLUMN = column(
  "Containers",
  "string",
  "Names of the containers in the pod template.",
  1,
);
/** See {@link CONTAINERS_COLUMN}. */
export const IMAGES_COLUMN = column("Images", "string", "Images of the containers in the pod template.", 1);

/** Freezes a column list so printers can share it between tables without copying. */
export function columns(...defs: TableColumnDefinition[]): readonly TableColumnDefinition[] {
  return Object.freeze(defs);
}

/** The AGE cell for an object. */
export function age(obj: KubeObject, now: number): string {
  return timestampSince(obj.metadata?.creationTimestamp, now);
}

/**
 * Container names and images joined with commas, in template order, as upstream lays them out
 * for the CONTAINERS and IMAGES columns.
 */
export function containerCells(containers: readonly Container[] | undefined): [string, string] {
  if (!containers || containers.length === 0) return ["", ""];
  let names = "";
  let images = "";
  for (let i = 0; i < containers.length; i++) {
    const c = containers[i]!;
    if (i > 0) {
      names += ",";
      images += ",";
    }
    names += c.name ?? "";
    images += c.image ?? "";
  }
  return [names, images];
}

/** `True` / `False` for a set boolean, `<unset>` otherwise (upstream's `printBoolPtr`). */
export function boolPtr(value: boolean | undefined | null): string {
  if (value === undefined || value === null) return "<unset>";
  return value ? "True" : "False";
}

/**
 * Joins up to `max` items with commas and, when more were seen, appends ` + N more...`;
 * an empty list prints `<unset>` (upstream's `listWithMoreString`).
 */
export function listWithMore(list: readonly string[], count: number, max: number): string {
  const joined = list.join(",");
  if (count > max) return `${joined} + ${count - max} more...`;
  return joined === "" ? "<unset>" : joined;
}

/** Columns of the table served for kinds without their own printer. */
export const DEFAULT_COLUMNS = columns(
  nameColumn(),
  column("Created At", "date", "Time the object was created (metadata.creationTimestamp), RFC 3339."),
);

/** The default printer: name and creation time in RFC 3339 (upstream's default TableConvertor). */
export const defaultPrinter: TablePrinter = {
  columns: DEFAULT_COLUMNS,
  cells: (obj) => [obj.metadata?.name ?? "", formatRFC3339(obj.metadata?.creationTimestamp)],
};
