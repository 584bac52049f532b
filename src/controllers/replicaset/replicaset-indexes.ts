/**
 * @module Informer indexes the workload controllers share, so no reconcile scans every pod:
 * objects by the uid of their controller owner, and controller-less objects (orphans) by
 * namespace. Adding an index twice under the same name replaces it with an equal one, so
 * every controller may add them. A candidate for `src/controllers/util/`.
 */
import type { KubeObject } from "../../api/object.ts";
import type { Informer } from "../../client/informer.ts";
import { controllerRefOf } from "./replicaset-owner-refs.ts";

/** Index name: objects by `ownerReferences[controller=true].uid`. */
export const BY_CONTROLLER_UID = "controllerUid";
/** Index name: objects without a controller owner, by namespace. */
export const ORPHANS_BY_NAMESPACE = "orphansByNamespace";

const NONE: readonly string[] = [];

function byControllerUid(o: KubeObject): readonly string[] {
  const uid = controllerRefOf(o)?.uid;
  return uid ? [uid] : NONE;
}

function orphansByNamespace(o: KubeObject): readonly string[] {
  return controllerRefOf(o) ? NONE : [o.metadata.namespace ?? ""];
}

const added = new WeakMap<Informer<KubeObject>, Set<string>>();

function ensure<T extends KubeObject>(
  inf: Informer<T>,
  name: string,
  fn: (o: KubeObject) => readonly string[],
): void {
  const key = inf as unknown as Informer<KubeObject>;
  let set = added.get(key);
  if (!set) added.set(key, (set = new Set()));
  if (set.has(name)) return;
  set.add(name);
  inf.addIndex(name, fn);
}

/** Adds {@link BY_CONTROLLER_UID} and {@link ORPHANS_BY_NAMESPACE} to an informer (once). */
export function addOwnerIndexes<T extends KubeObject>(inf: Informer<T>): void {
  ensure(inf, BY_CONTROLLER_UID, byControllerUid);
  ensure(inf, ORPHANS_BY_NAMESPACE, orphansByNamespace);
}
