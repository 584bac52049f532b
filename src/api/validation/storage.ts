/**
 * @module Defaulting and basic validation of core/v1 PersistentVolume and
 * PersistentVolumeClaim, after upstream's: volumeMode defaults to Filesystem, a volume's
 * reclaim policy to Retain, phases to Pending; access modes are required and supported,
 * `storage` capacity/request is required and positive, a volume names exactly one source,
 * and a claim's spec is immutable except `resources.requests` (and the attributes class).
 * These kinds are stored as objects only: no binder runs. Exports `storageRules`, by kind.
 */
import { deepEqual } from "../meta.ts";
import {
  type FieldError,
  FieldPath,
  forbidden,
  invalidValue,
  notSupported,
  required,
} from "../field-errors.ts";
import { type KindRules, kindRules, type KubeObject } from "../object.ts";
import { isQuantity, parseQuantity } from "../quantity.ts";
import { validateLabelSelector } from "../labels.ts";
import { nameIsDNSSubdomain } from "./names.ts";
import { validateObjectMeta, validateObjectMetaUpdate } from "./object-meta.ts";

const META = FieldPath.root("metadata");
const SPEC = FieldPath.root("spec");

/** Upstream's supported access modes. */
export const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"] as const;
const VOLUME_MODES = ["Block", "Filesystem"] as const;
const RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"] as const;

/** The spec fields of a PersistentVolume or PersistentVolumeClaim these rules read. */
interface VolumeSpec {
  accessModes?: string[];
  capacity?: Record<string, string>;
  persistentVolumeReclaimPolicy?: string;
  volumeMode?: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  selector?: import("../types/meta-v1.ts").LabelSelector;
  volumeAttributesClassName?: string | null;
  [source: string]: unknown;
}
/** A PersistentVolume or PersistentVolumeClaim. */
interface VolumeObject extends KubeObject {
  spec?: VolumeSpec;
  status?: { phase?: string };
}

/** Spec fields of a PersistentVolume that are not volume sources. */
const PV_NON_SOURCES = new Set([
  "accessModes",
  "capacity",
  "claimRef",
  "persistentVolumeReclaimPolicy",
  "storageClassName",
  "mountOptions",
  "volumeMode",
  "nodeAffinity",
  "volumeAttributesClassName",
]);

function validateAccessModes(modes: string[] | undefined, path: FieldPath): FieldError[] {
  if (!modes || modes.length === 0) return [required(path, "at least 1 access mode is required")];
  const errs: FieldError[] = [];
  for (const m of modes) {
    if (!(ACCESS_MODES as readonly string[]).includes(m)) errs.push(notSupported(path, m, ACCESS_MODES));
  }
  if (modes.includes("ReadWriteOncePod") && modes.length > 1) {
    errs.push(forbidden(path, "may not use ReadWriteOncePod with other access modes"));
  }
  return errs;
}

/** `storage` must be present and a positive quantity. */
function validateStorage(list: Record<string, string> | undefined, path: FieldPath): FieldError[] {
  const v = list?.["storage"];
  const p = path.key("storage");
  if (v === undefined) return [required(path.key("storage"), "")];
  if (!isQuantity(String(v))) return [invalidValue(p, v, "must be a valid quantity")];
  if (parseQuantity(String(v)).sign() <= 0) return [invalidValue(p, v, "must be greater than zero")];
  return [];
}

function validateVolumeMode(mode: string | undefined): FieldError[] {
  if (mode === undefined || (VOLUME_MODES as readonly string[]).includes(mode)) return [];
  return [notSupported(SPEC.child("volumeMode"), mode, VOLUME_MODES)];
}

function validatePV(pv: VolumeObject): FieldError[] {
  const spec = pv.spec ?? {};
  const errs = validateObjectMeta(pv.metadata, { namespaced: false, nameFn: nameIsDNSSubdomain }, META);
  errs.push(...validateAccessModes(spec.accessModes, SPEC.child("accessModes")));
  if (!spec.capacity || Object.keys(spec.capacity).length === 0)
    errs.push(required(SPEC.child("capacity"), ""));
  else errs.push(...validateStorage(spec.capacity, SPEC.child("capacity")));
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy !== undefined && !(RECLAIM_POLICIES as readonly string[]).includes(policy)) {
    errs.push(notSupported(SPEC.child("persistentVolumeReclaimPolicy"), policy, RECLAIM_POLICIES));
  }
  errs.push(...validateVolumeMode(spec.volumeMode));
  const sources = Object.keys(spec).filter((k) => !PV_NON_SOURCES.has(k) && spec[k] != null);
  if (sources.length === 0) errs.push(required(SPEC, "must specify a volume type"));
  else if (sources.length > 1)
    errs.push(forbidden(SPEC.child(sources[1]!), "may not specify more than 1 volume type"));
  return errs;
}

function validatePVC(pvc: VolumeObject): FieldError[] {
  const spec = pvc.spec ?? {};
  const errs = validateObjectMeta(pvc.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META);
  errs.push(...validateAccessModes(spec.accessModes, SPEC.child("accessModes")));
  errs.push(...validateLabelSelector(spec.selector, SPEC.child("selector")));
  errs.push(...validateStorage(spec.resources?.requests, SPEC.child("resources")));
  errs.push(...validateVolumeMode(spec.volumeMode));
  return errs;
}

/** Upstream's defaults: volumeMode Filesystem, reclaim policy Retain (PVs), phase Pending. */
function defaultVolume(obj: VolumeObject, pv: boolean): void {
  const spec = (obj.spec ??= {});
  spec.volumeMode ??= "Filesystem";
  if (pv) spec.persistentVolumeReclaimPolicy ??= "Retain";
  const status = (obj.status ??= {});
  status.phase ??= "Pending";
}

const pvRules: KindRules<VolumeObject> = {
  defaults: (o) => defaultVolume(o, true),
  validate: validatePV,
  validateUpdate(pv, old) {
    const errs = [...validateObjectMetaUpdate(pv.metadata, old.metadata, META), ...validatePV(pv)];
    if ((old.spec?.volumeMode ?? null) !== (pv.spec?.volumeMode ?? null)) {
      errs.push(invalidValue(SPEC.child("volumeMode"), pv.spec?.volumeMode ?? null, "field is immutable"));
    }
    return errs;
  },
};

/** The claim spec with the fields an update may change blanked out. */
function immutablePart(spec: VolumeSpec | undefined): unknown {
  const { resources, volumeAttributesClassName: _vac, ...rest } = spec ?? {};
  return { ...rest, limits: resources?.limits };
}

const pvcRules: KindRules<VolumeObject> = {
  defaults: (o) => defaultVolume(o, false),
  validate: validatePVC,
  validateUpdate(pvc, old) {
    const errs = [...validateObjectMetaUpdate(pvc.metadata, old.metadata, META), ...validatePVC(pvc)];
    // A claim being bound gets spec.volumeName set once; anything else outside
    // resources.requests is fixed after creation.
    const oldSpec =
      old.spec && !old.spec["volumeName"] ? { ...old.spec, volumeName: pvc.spec?.["volumeName"] } : old.spec;
    if (!deepEqual(immutablePart(pvc.spec), immutablePart(oldSpec))) {
      errs.push(
        forbidden(
          SPEC,
          "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        ),
      );
    }
    return errs;
  },
};

/** Rules of PersistentVolume and PersistentVolumeClaim, by kind (merged into the core group). */
export const storageRules: Record<string, KindRules> = {
  PersistentVolume: kindRules(pvRules),
  PersistentVolumeClaim: kindRules(pvcRules),
};
