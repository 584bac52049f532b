/**
 * @module Informer handlers that route a child object's events (a pod, a job) to the key of
 * the owner that controls it, as upstream's addPod/updatePod/deletePod: the controller
 * owner of the right kind when there is one (also the old owner when it changed), else
 * every owner in the namespace whose selector matches (an orphan they may adopt). Optional
 * hooks let a controller observe creations and deletions for its expectations. A candidate
 * for `src/controllers/util/`.
 */
import type { Selector } from "../../api/labels.ts";
import { deepEqual } from "../../api/meta.ts";
import type { KubeObject } from "../../api/object.ts";
import type { EventHandlers, Informer } from "../../client/informer.ts";
import { controllerRefOfKind } from "../util/owner-refs.ts";

/** What {@link childHandlers} routes to. */
export interface ChildRouting<O extends KubeObject, C extends KubeObject> {
  /** The owner kind (`StatefulSet`, `DaemonSet`, `Job`, `CronJob`). */
  ownerKind: string;
  owners: Informer<O>;
  enqueue(key: string): void;
  /** The owner's compiled selector, or undefined when it has none / it is invalid (no orphans). */
  selectorOf?(owner: O): Selector | undefined;
  /** A child controlled by `ownerKey` was seen created. */
  onAdd?(ownerKey: string, child: C): void;
  /** A child controlled by `ownerKey` was seen deleted (or marked for deletion). */
  onDelete?(ownerKey: string, child: C): void;
}

function keyOf(ns: string | undefined, name: string): string {
  return ns ? `${ns}/${name}` : name;
}

/** Handlers for the child informer. */
export function childHandlers<O extends KubeObject, C extends KubeObject>(
  r: ChildRouting<O, C>,
): EventHandlers<C> {
  const ownerKey = (c: C): string | undefined => {
    const ref = controllerRefOfKind(c, r.ownerKind);
    return ref ? keyOf(c.metadata.namespace, ref.name) : undefined;
  };
  const orphanOwners = (c: C): void => {
    if (!r.selectorOf) return;
    for (const o of r.owners.list(c.metadata.namespace ?? "")) {
      const sel = r.selectorOf(o);
      if (sel && !sel.empty() && sel.matches(c.metadata.labels))
        r.enqueue(keyOf(o.metadata.namespace, o.metadata.name ?? ""));
    }
  };
  return {
    add(c) {
      const key = ownerKey(c);
      if (c.metadata.deletionTimestamp) {
        if (key) {
          r.onDelete?.(key, c);
          r.enqueue(key);
        }
        return;
      }
      if (key) {
        r.onAdd?.(key, c);
        r.enqueue(key);
        return;
      }
      if (!controllerRefOfAny(c)) orphanOwners(c);
    },
    update(old, cur) {
      if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
      const curKey = ownerKey(cur);
      const oldKey = ownerKey(old);
      if (cur.metadata.deletionTimestamp && !old.metadata.deletionTimestamp && curKey)
        r.onDelete?.(curKey, cur);
      if (oldKey && oldKey !== curKey) r.enqueue(oldKey);
      if (curKey) {
        r.enqueue(curKey);
        return;
      }
      const labelsChanged = !deepEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {});
      if ((labelsChanged || oldKey !== curKey) && !controllerRefOfAny(cur)) orphanOwners(cur);
    },
    delete(c) {
      const key = ownerKey(c);
      if (!key) return;
      r.onDelete?.(key, c);
      r.enqueue(key);
    },
  };
}

function controllerRefOfAny(c: KubeObject): boolean {
  return c.metadata.ownerReferences?.some((ref) => ref.controller === true) ?? false;
}
