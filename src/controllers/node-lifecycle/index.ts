/**
 * @module The node lifecycle controller's starter: node health from Leases and the NoExecute
 * taint manager, over the shared node and pod informers and the kube-node-lease Lease
 * informer. The controller manager calls `startNodeLifecycleController`.
 */
import type { Lease } from "../../api/types/coordination-v1.ts";
import type { Node, Pod } from "../../api/types/core-v1.ts";
import { Controller } from "../../client/controller.ts";
import type { ControllerStarter } from "../context.ts";
import { NODE_LEASE_NAMESPACE, NodeLifecycleReconciler } from "./node-lifecycle-controller.ts";
import { TaintEvictionReconciler } from "./taint-eviction.ts";

/**
 * Node health (Ready=Unknown, unreachable taints and pods marked not ready after 40 s of
 * silence; NoExecute taints paced per zone and withheld while every zone is down) and
 * taint-based eviction. One loop runs the node keys and the zone pass (`DISRUPTION_KEY`).
 */
export const startNodeLifecycleController: ControllerStarter = (ctx) => {
  const nodes = ctx.informers.informer<Node>("", "nodes");
  const pods = ctx.informers.informer<Pod>("", "pods");
  const lifecycle = new NodeLifecycleReconciler({
    client: ctx.client,
    nodes,
    leases: ctx.informers.informer<Lease>("coordination.k8s.io", "leases", {
      namespace: NODE_LEASE_NAMESPACE,
    }),
    gracePeriodMs: ctx.options.nodeMonitorGracePeriodMs,
    pods,
    events: ctx.recorder("node-controller"),
  });
  const lifecycleLoop = new Controller({
    name: "node-lifecycle-controller",
    workers: ctx.options.workers,
    reconcile: (req) => lifecycle.reconcile(req),
  });
  lifecycle.register((key) => lifecycleLoop.enqueue(key));

  const eviction = new TaintEvictionReconciler({
    client: ctx.client,
    nodes,
    pods,
    events: ctx.recorder("taint-eviction-controller"),
  });
  const evictionLoop = new Controller({
    name: "taint-eviction-controller",
    workers: ctx.options.workers,
    reconcile: (req) => eviction.reconcile(req),
  });
  eviction.register((key) => evictionLoop.enqueue(key));
  return [lifecycleLoop, evictionLoop];
};
