/**
 * @module The EndpointSlice controller's starter, over the shared service, pod, node and
 * EndpointSlice informers. The controller manager calls `startEndpointSliceController`.
 */
import type { Node, Pod, Service } from "../../api/types/core-v1.ts";
import type { EndpointSlice } from "../../api/types/discovery-v1.ts";
import { Controller } from "../../client/controller.ts";
import type { ControllerStarter } from "../context.ts";
import { EndpointSliceReconciler } from "./endpointslice-controller.ts";

/** EndpointSlices for every Service with a selector (upstream's concurrent-service-endpoint-syncs: 5). */
export const startEndpointSliceController: ControllerStarter = (ctx) => {
  const reconciler = new EndpointSliceReconciler({
    client: ctx.client,
    services: ctx.informers.informer<Service>("", "services"),
    pods: ctx.informers.informer<Pod>("", "pods"),
    slices: ctx.informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices"),
    nodes: ctx.informers.informer<Node>("", "nodes"),
  });
  const controller = new Controller({
    name: "endpointslice-controller",
    workers: ctx.options.workers,
    reconcile: (req) => reconciler.reconcile(req),
  });
  reconciler.register((key) => controller.enqueue(key));
  return [controller];
};
