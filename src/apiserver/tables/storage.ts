/**
 * @module Tables of the storage and disruption kinds, with upstream's columns and cells:
 * PersistentVolume, PersistentVolumeClaim (access modes as `RWO,ROX,RWX,RWOP`, the storage
 * class from the beta annotation first, `Terminating` while deleting) and PodDisruptionBudget
 * (`N/A` for the unset one of minAvailable/maxUnavailable).
 */
import type { KubeObject } from "../../api/object.ts";
import type { PodDisruptionBudget } from "../../api/types/policy-v1.ts";
import { AGE_COLUMN, age, column, columns, nameColumn, printer, type TablePrinter } from "./table.ts";

/** The fields of PersistentVolume and PersistentVolumeClaim the tables read. */
interface VolumeLike extends KubeObject {
  spec?: {
    accessModes?: string[];
    capacity?: Record<string, string>;
    persistentVolumeReclaimPolicy?: string;
    claimRef?: { namespace?: string; name?: string };
    storageClassName?: string;
    volumeAttributesClassName?: string | null;
    volumeMode?: string;
    volumeName?: string;
    resources?: { requests?: Record<string, string> };
  };
  status?: {
    phase?: string;
    reason?: string;
    accessModes?: string[];
    capacity?: Record<string, string>;
  };
}

const BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class";

const MODE_ABBREVIATIONS: readonly (readonly [string, string])[] = [
  ["ReadWriteOnce", "RWO"],
  ["ReadOnlyMany", "ROX"],
  ["ReadWriteMany", "RWX"],
  ["ReadWriteOncePod", "RWOP"],
];

/** Access modes abbreviated in upstream's fixed order, each once, comma-separated. */
export function accessModesString(modes: readonly string[] | undefined): string {
  if (!modes || modes.length === 0) return "";
  const out: string[] = [];
  for (const [mode, short] of MODE_ABBREVIATIONS) if (modes.includes(mode)) out.push(short);
  return out.join(",");
}

/** The storage class: the beta annotation if set, else spec.storageClassName. */
function storageClass(obj: VolumeLike): string {
  const ann = obj.metadata?.annotations?.[BETA_STORAGE_CLASS];
  if (ann !== undefined) return ann;
  return obj.spec?.storageClassName ?? "";
}

/** Phase, or `Terminating` once a deletion has started. */
function phaseOf(obj: VolumeLike): string {
  return obj.metadata?.deletionTimestamp ? "Terminating" : (obj.status?.phase ?? "");
}

/** `<unset>` for a missing or empty optional string, else the value. */
function orUnset(v: string | null | undefined): string {
  return v ? v : "<unset>";
}

const VOLUME_MODE_COLUMN = column("VolumeMode", "string", "The volume mode (Filesystem or Block).", 1);
const VAC_COLUMN = column("VolumeAttributesClass", "string", "The VolumeAttributesClass of the volume.");
const STORAGE_CLASS_COLUMN = column("StorageClass", "string", "StorageClass of the volume.");
const ACCESS_MODES_COLUMN = column("Access Modes", "string", "All access modes the volume can be mounted with.");

/** PersistentVolume: NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE | VOLUMEMODE. */
export const persistentVolumePrinter: TablePrinter = printer<VolumeLike>({
  columns: columns(
    nameColumn(),
    column("Capacity", "string", "The capacity of the persistent volume."),
    ACCESS_MODES_COLUMN,
    column("Reclaim Policy", "string", "What happens to the volume when released from its claim."),
    column("Status", "string", "The phase of the persistent volume."),
    column("Claim", "string", "The claim bound to the volume (namespace/name)."),
    STORAGE_CLASS_COLUMN,
    VAC_COLUMN,
    column("Reason", "string", "Why the volume is in its phase."),
    AGE_COLUMN,
    VOLUME_MODE_COLUMN,
  ),
  cells: (pv, now) => {
    const ref = pv.spec?.claimRef;
    const claim = ref ? `${ref.namespace ?? ""}/${ref.name ?? ""}` : "";
    return [
      pv.metadata?.name ?? "",
      pv.spec?.capacity?.["storage"] ?? "0",
      accessModesString(pv.spec?.accessModes),
      pv.spec?.persistentVolumeReclaimPolicy ?? "",
      phaseOf(pv),
      claim,
      storageClass(pv),
      orUnset(pv.spec?.volumeAttributesClassName),
      pv.status?.reason ?? "",
      age(pv, now),
      orUnset(pv.spec?.volumeMode),
    ];
  },
});

/** PersistentVolumeClaim: NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE | VOLUMEMODE. */
export const persistentVolumeClaimPrinter: TablePrinter = printer<VolumeLike>({
  columns: columns(
    nameColumn(),
    column("Status", "string", "The phase of the claim."),
    column("Volume", "string", "The volume bound to the claim."),
    column("Capacity", "string", "The capacity of the bound volume."),
    ACCESS_MODES_COLUMN,
    STORAGE_CLASS_COLUMN,
    VAC_COLUMN,
    AGE_COLUMN,
    VOLUME_MODE_COLUMN,
  ),
  cells: (pvc, now) => {
    const volume = pvc.spec?.volumeName ?? "";
    // Capacity and modes are only shown once the claim names its volume.
    const bound = volume !== "";
    return [
      pvc.metadata?.name ?? "",
      phaseOf(pvc),
      volume,
      bound ? (pvc.status?.capacity?.["storage"] ?? "0") : "",
      bound ? accessModesString(pvc.status?.accessModes) : "",
      storageClass(pvc),
      orUnset(pvc.spec?.volumeAttributesClassName),
      age(pvc, now),
      orUnset(pvc.spec?.volumeMode),
    ];
  },
});

/** PodDisruptionBudget: NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE. */
export const podDisruptionBudgetPrinter: TablePrinter = printer<PodDisruptionBudget>({
  columns: columns(
    nameColumn(),
    column("Min Available", "string", "The minimum number of pods that must be available."),
    column("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
    column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
    AGE_COLUMN,
  ),
  cells: (pdb, now) => {
    const min = pdb.spec?.minAvailable;
    const max = pdb.spec?.maxUnavailable;
    return [
      pdb.metadata.name ?? "",
      min === undefined || min === null ? "N/A" : String(min),
      max === undefined || max === null ? "N/A" : String(max),
      pdb.status?.disruptionsAllowed ?? 0,
      age(pdb, now),
    ];
  },
});
