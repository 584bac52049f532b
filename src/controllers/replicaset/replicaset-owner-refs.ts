/**
 * @module ownerReference helpers the workload controllers share: the controller reference of
 * an object (the one owner with `controller: true`), a new controller reference to an owner,
 * and the strategic-merge patches upstream's ControllerRefManager sends to adopt an orphan
 * and to release a child (both merge `ownerReferences` by uid and carry the child's uid so a
 * recreated object of the same name is not touched). A candidate for `src/controllers/util/`.
 */
import type { KubeObject } from "../../api/object.ts";
import type { OwnerReference } from "../../api/types/meta-v1.ts";

/** The owner reference with `controller: true`, if the object has one. */
export function controllerRefOf(obj: KubeObject): OwnerReference | undefined {
  const refs = obj.metadata.ownerReferences;
  if (!refs) return undefined;
  for (let i = 0; i < refs.length; i++) if (refs[i]!.controller === true) return refs[i];
  return undefined;
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

/** Strategic-merge patch that makes `owner` the controller of the child with uid `childUid`. */
export function adoptPatch(ownerRef: OwnerReference, childUid: string): unknown {
  return { metadata: { ownerReferences: [ownerRef], uid: childUid } };
}

/** Strategic-merge patch that removes the owner reference with uid `ownerUid` from a child. */
export function releasePatch(ownerUid: string, childUid: string): unknown {
  return { metadata: { ownerReferences: [{ $patch: "delete", uid: ownerUid }], uid: childUid } };
}
