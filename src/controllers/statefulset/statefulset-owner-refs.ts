/**
 * @module ownerReference helpers and shared informer indexes for the StatefulSet, DaemonSet,
 * Job and CronJob controllers: the controller reference of an object, a new controller
 * reference, upstream's ControllerRefManager adopt/release patches, and the two indexes every
 * workload controller uses so no reconcile scans all pods (children by controller uid,
 * controller-less objects by namespace). Index names and functions are the same as the
 * ReplicaSet controller's, so whichever controller adds them last replaces them with an
 * equal index. A candidate for `src/controllers/util/`.
 */
import type { Selector } from "../../api/labels.ts";
import type { KubeObject } from "../../api/object.ts";
import type { OwnerReference } from "../../api/types/meta-v1.ts";
import type { Informer } from "../../client/informer.ts";

/** Index name: objects by `ownerReferences[controller=true].uid`. */
export const BY_CONTROLLER_UID = "controllerUid";
/** Index name: objects without a controller owner, by namespace. */
export const ORPHANS_BY_NAMESPACE = "orphansByNamespace";

const NONE: readonly string[] = [];

/** The owner reference with `controller: true`, if the object has one. */
export function controllerRefOf(obj: KubeObject): OwnerReference | undefined {
  const refs = obj.metadata.ownerReferences;
  if (!refs) return undefined;
  for (let i = 0; i < refs.length; i++) if (refs[i]!.controller === true) return refs[i];
  return undefined;
}

/** The controller reference of `obj` when it points at an owner of `kind`. */
export function controllerRefOfKind(obj: KubeObject, kind: string): OwnerReference | undefined {
  const ref = controllerRefOf(obj);
  return ref && ref.kind === kind ? ref : undefined;
}

/** A controller reference to `owner`, as children created from its template carry. */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata.name ?? "",
    uid: owner.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Strategic-merge patch that makes `ownerRef` the controller of the child with uid `childUid`. */
export function adoptPatch(ownerRef: OwnerReference, childUid: string): unknown {
  return { metadata: { ownerReferences: [ownerRef], uid: childUid } };
}

/** Strategic-merge patch that removes the owner reference with uid `ownerUid` from a child. */
export function releasePatch(ownerUid: string, childUid: string): unknown {
  return { metadata: { ownerReferences: [{ $patch: "delete", uid: ownerUid }], uid: childUid } };
}

/** Adds the {@link BY_CONTROLLER_UID} and {@link ORPHANS_BY_NAMESPACE} indexes to an informer. */
export function addOwnerIndexes<T extends KubeObject>(informer: Informer<T>): void {
  informer.addIndex(BY_CONTROLLER_UID, (o) => {
    const uid = controllerRefOf(o)?.uid;
    return uid ? [uid] : NONE;
  });
  informer.addIndex(ORPHANS_BY_NAMESPACE, (o) => (controllerRefOf(o) ? NONE : [o.metadata.namespace ?? ""]));
}

/**
 * Upstream's ClaimObjects, over the two indexes: the children `owner` controls, plus the
 * orphans in its namespace its selector matches (to adopt). Children whose labels no longer
 * match are returned as `release`. Terminating orphans and a terminating owner adopt nothing.
 */
export function claimCandidates<T extends KubeObject>(
  informer: Informer<T>,
  owner: KubeObject,
  selector: Selector,
): { owned: T[]; adopt: T[]; release: T[] } {
  const owned: T[] = [];
  const release: T[] = [];
  for (const o of informer.byIndex(BY_CONTROLLER_UID, owner.metadata.uid ?? "")) {
    if (selector.matches(o.metadata.labels)) owned.push(o);
    else release.push(o);
  }
  const adopt: T[] = [];
  if (!owner.metadata.deletionTimestamp && !selector.empty()) {
    for (const o of informer.byIndex(ORPHANS_BY_NAMESPACE, owner.metadata.namespace ?? "")) {
      if (!o.metadata.deletionTimestamp && selector.matches(o.metadata.labels)) adopt.push(o);
    }
  }
  return { owned, adopt, release };
}

/** The controller key (`namespace/name`) of the owner of `kind` that controls `obj`, if any. */
export function ownerKeyOf(obj: KubeObject, kind: string): string | undefined {
  const ref = controllerRefOfKind(obj, kind);
  if (!ref) return undefined;
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${ref.name}` : ref.name;
}
