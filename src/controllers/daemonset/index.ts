/**
 * @module The DaemonSet controller's entry point for the controller manager.
 */
import type { ControllerStarter } from "../context.ts";
import { DAEMONSET_COMPONENT, DaemonSetController } from "./daemonset-controller.ts";

/** Registers the DaemonSet controller's informers and handlers; returns its loop. */
export const startDaemonSetController: ControllerStarter = (ctx) => {
  const c = new DaemonSetController({
    client: ctx.client,
    informers: ctx.informers,
    recorder: ctx.recorder(DAEMONSET_COMPONENT),
    // Upstream's --concurrent-daemonset-syncs default is 2.
    workers: Math.min(2, ctx.options.workers),
  });
  return [c.controller];
};
