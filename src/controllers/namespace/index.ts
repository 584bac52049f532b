/**
 * @module The namespace controller's starter: the namespace reconciler over the shared
 * namespace and pod informers. The controller manager calls `startNamespaceController`.
 */
import type { Namespace, Pod } from "../../api/types/core-v1.ts";
import { Controller } from "../../client/controller.ts";
import type { ControllerStarter } from "../context.ts";
import { NamespaceReconciler } from "./namespace-controller.ts";

/** The namespace controller (upstream's concurrent-namespace-syncs defaults to 10). */
export const startNamespaceController: ControllerStarter = (ctx) => {
  const reconciler = new NamespaceReconciler({
    client: ctx.client,
    namespaces: ctx.informers.informer<Namespace>("", "namespaces"),
  });
  const controller = new Controller({
    name: "namespace-controller",
    workers: ctx.options.workers,
    reconcile: (req) => reconciler.reconcile(req),
  });
  reconciler.register((key) => controller.enqueue(key), ctx.informers.informer<Pod>("", "pods"));
  return [controller];
};
