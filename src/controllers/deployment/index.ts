/**
 * @module The Deployment controller: one {@link DeploymentReconciler} over the shared
 * Deployment, ReplicaSet and Pod informers. The controller manager calls
 * `startDeploymentController`.
 */
import type { Deployment, ReplicaSet } from "../../api/types/apps-v1.ts";
import type { Pod } from "../../api/types/core-v1.ts";
import { Controller } from "../../client/controller.ts";
import type { ControllerContext, ControllerStarter } from "../context.ts";
import { DeploymentReconciler } from "./deployment-reconciler.ts";

/** Builds the reconciler and its controller loop. */
export function newDeploymentController(ctx: ControllerContext): {
  controller: Controller;
  reconciler: DeploymentReconciler;
} {
  const reconciler = new DeploymentReconciler({
    client: ctx.client,
    deployments: ctx.informers.informer<Deployment>("apps", "deployments"),
    replicaSets: ctx.informers.informer<ReplicaSet>("apps", "replicasets"),
    pods: ctx.informers.informer<Pod>("", "pods"),
    events: ctx.recorder("deployment-controller"),
  });
  const controller = new Controller({
    name: "deployment-controller",
    workers: ctx.options.workers,
    reconcile: (req) => reconciler.reconcile(req),
  });
  reconciler.register(controller);
  return { controller, reconciler };
}

/** The Deployment controller. */
export const startDeploymentController: ControllerStarter = (ctx) => [
  newDeploymentController(ctx).controller,
];
