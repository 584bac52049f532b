/**
 * @module The pod garbage collector's starter, over the shared pod and node informers. The
 * controller manager calls `startPodGCController`.
 */
import type { Node, Pod } from "../../api/types/core-v1.ts";
import { Controller } from "../../client/controller.ts";
import type { ControllerStarter } from "../context.ts";
import { PodGCReconciler, SWEEP_KEY } from "./podgc-controller.ts";

/** Pod GC of terminated pods above the threshold and of pods on deleted nodes. */
export const startPodGCController: ControllerStarter = (ctx) => {
  const reconciler = new PodGCReconciler({
    client: ctx.client,
    pods: ctx.informers.informer<Pod>("", "pods"),
    nodes: ctx.informers.informer<Node>("", "nodes"),
    terminatedPodThreshold: ctx.options.terminatedPodGcThreshold,
  });
  const controller = new Controller({
    name: "pod-garbage-collector",
    workers: 1,
    reconcile: (req) => reconciler.reconcile(req),
  });
  reconciler.register(
    (key) => controller.enqueue(key),
    (key, ms) => controller.enqueueAfter(key, ms),
  );
  // One sweep after the caches sync catches what accumulated while no controller ran.
  controller.enqueue(SWEEP_KEY);
  return [controller];
};
