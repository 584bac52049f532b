/**
 * @module The disruption controller's starter, over the shared PodDisruptionBudget, pod and
 * workload informers. The controller manager calls `startDisruptionController`.
 */
import type { Pod, ReplicationController } from "../../api/types/core-v1.ts";
import type { Deployment, ReplicaSet, StatefulSet } from "../../api/types/apps-v1.ts";
import type { PodDisruptionBudget } from "../../api/types/policy-v1.ts";
import { Controller } from "../../client/controller.ts";
import type { ControllerStarter } from "../context.ts";
import { DisruptionReconciler } from "./disruption-controller.ts";

/** PodDisruptionBudget status for every budget (upstream's "disruption" controller). */
export const startDisruptionController: ControllerStarter = (ctx) => {
  const reconciler = new DisruptionReconciler({
    client: ctx.client,
    pdbs: ctx.informers.informer<PodDisruptionBudget>("policy", "poddisruptionbudgets"),
    pods: ctx.informers.informer<Pod>("", "pods"),
    replicaSets: ctx.informers.informer<ReplicaSet>("apps", "replicasets"),
    deployments: ctx.informers.informer<Deployment>("apps", "deployments"),
    statefulSets: ctx.informers.informer<StatefulSet>("apps", "statefulsets"),
    replicationControllers: ctx.informers.informer<ReplicationController>("", "replicationcontrollers"),
    recorder: ctx.recorder("controllermanager"),
  });
  const controller = new Controller({
    name: "disruption-controller",
    workers: ctx.options.workers,
    reconcile: (req) => reconciler.reconcile(req),
  });
  reconciler.register(
    (key) => controller.enqueue(key),
    (key, ms) => controller.enqueueAfter(key, ms),
  );
  return [controller];
};
