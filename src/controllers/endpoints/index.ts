/**
 * @module The Endpoints controller's starter, over the shared service, pod and endpoints
 * informers. The controller manager calls `startEndpointsController`.
 */
import type { Endpoints, Pod, Service } from "../../api/types/core-v1.ts";
import { Controller } from "../../client/controller.ts";
import type { ControllerStarter } from "../context.ts";
import { EndpointsReconciler } from "./endpoints-controller.ts";

/** Endpoints for every Service with a selector (upstream's concurrent-endpoint-syncs: 5). */
export const startEndpointsController: ControllerStarter = (ctx) => {
  const reconciler = new EndpointsReconciler({
    client: ctx.client,
    services: ctx.informers.informer<Service>("", "services"),
    pods: ctx.informers.informer<Pod>("", "pods"),
    endpoints: ctx.informers.informer<Endpoints>("", "endpoints"),
  });
  const controller = new Controller({
    name: "endpoint-controller",
    workers: ctx.options.workers,
    reconcile: (req) => reconciler.reconcile(req),
  });
  reconciler.register((key) => controller.enqueue(key));
  return [controller];
};
