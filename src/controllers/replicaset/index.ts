/**
 * @module The ReplicaSet and ReplicationController controllers: one {@link ReplicaReconciler}
 * each, over the shared pod informer and the owner kind's informer. The controller manager
 * calls `startReplicaSetController` and `startReplicationControllerController`.
 */
import type { KubeObject } from "../../api/object.ts";
import type { Pod } from "../../api/types/core-v1.ts";
import { Controller } from "../../client/controller.ts";
import type { ControllerContext, ControllerStarter } from "../context.ts";
import {
  replicaSetAdapter,
  replicationControllerAdapter,
  type ReplicaOwnerAdapter,
} from "./replicaset-adapters.ts";
import { ReplicaReconciler } from "./replicaset-reconciler.ts";

/** Builds the reconciler and its controller loop for one owner kind. */
export function newReplicaController<T extends KubeObject>(
  ctx: ControllerContext,
  adapter: ReplicaOwnerAdapter<T>,
): { controller: Controller; reconciler: ReplicaReconciler<T> } {
  const reconciler = new ReplicaReconciler<T>({
    client: ctx.client,
    adapter,
    owners: ctx.informers.informer<T>(adapter.group, adapter.plural),
    pods: ctx.informers.informer<Pod>("", "pods"),
    events: ctx.recorder(adapter.component),
  });
  const controller = new Controller({
    name: adapter.component,
    workers: ctx.options.workers,
    reconcile: (req) => reconciler.reconcile(req),
  });
  reconciler.register(controller);
  return { controller, reconciler };
}

/** The ReplicaSet controller (apps/v1 ReplicaSets). */
export const startReplicaSetController: ControllerStarter = (ctx) => [
  newReplicaController(ctx, replicaSetAdapter).controller,
];

/** The ReplicationController controller (v1 ReplicationControllers). */
export const startReplicationControllerController: ControllerStarter = (ctx) => [
  newReplicaController(ctx, replicationControllerAdapter).controller,
];
