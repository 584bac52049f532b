/**
 * @module ownerReference helpers every workload controller shares: the controller reference
 * of an object, a new controller reference, upstream's ControllerRefManager (adopt and
 * release patches, and `adoptAndRelease` which sends them after re-reading the owner), and
 * the two informer indexes that keep reconciles from scanning all pods (children by
 * controller uid, controller-less objects by namespace), added once per informer.
 */
import type { Selector } from "../../api/labels.ts";
import type { KubeObject } from "../../api/object.ts";
import type { OwnerReference } from "../../api/types/meta-v1.ts";
import type { Informer } from "../../client/informer.ts";
import { isNotFound } from "../../api/status-error.ts";
import type { ResourceClient } from "../../client/types.ts";

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

const indexed = new WeakSet<Informer<KubeObject>>();

/**
 * Adds the {@link BY_CONTROLLER_UID} and {@link ORPHANS_BY_NAMESPACE} indexes to an informer,
 * once: controllers sharing the pods informer do not rebuild them over the whole cache.
 */
export function addOwnerIndexes<T extends KubeObject>(informer: Informer<T>): void {
  const key = informer as unknown as Informer<KubeObject>;
  if (indexed.has(key)) return;
  indexed.add(key);
  informer.addIndex(BY_CONTROLLER_UID, (o) => {
    const uid = controllerRefOf(o)?.uid;
    return uid ? [uid] : NONE;
  });
  informer.addIndex(ORPHANS_BY_NAMESPACE, (o) => (controllerRefOf(o) ? NONE : [o.metadata.namespace ?? ""]));
}

/**
 * Whether `owner` may adopt: upstream re-reads it first, and it must still exist with the
 * same uid and not be deleting.
 */
export async function canAdopt<O extends KubeObject>(
  ownerClient: ResourceClient<O>,
  owner: O,
): Promise<boolean> {
  try {
    const fresh = await ownerClient.get(owner.metadata.namespace, owner.metadata.name ?? "");
    return fresh.metadata.uid === owner.metadata.uid && !fresh.metadata.deletionTimestamp;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

/**
 * Upstream's ControllerRefManager writes: adopts `adopt` under `ref` (after {@link canAdopt})
 * and releases `release` from `owner`; children gone meanwhile are skipped. Returns the
 * adopted children as the server answered.
 */
export async function adoptAndRelease<T extends KubeObject, O extends KubeObject>(
  podClient: ResourceClient<T>,
  ownerClient: ResourceClient<O>,
  owner: O,
  ref: OwnerReference,
  adopt: readonly T[],
  release: readonly T[],
): Promise<T[]> {
  const adopted: T[] = [];
  const patch = async (child: T, body: unknown): Promise<T | undefined> => {
    try {
      return await podClient.patch(child.metadata.namespace, child.metadata.name ?? "", "strategic", body);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
  if (adopt.length > 0 && (await canAdopt(ownerClient, owner))) {
    for (const child of adopt) {
      const out = await patch(child, adoptPatch(ref, child.metadata.uid ?? ""));
      if (out) adopted.push(out);
    }
  }
  for (const child of release)
    await patch(child, releasePatch(owner.metadata.uid ?? "", child.metadata.uid ?? ""));
  return adopted;
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
