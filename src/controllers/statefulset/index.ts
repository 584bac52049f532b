/**
 * @module The StatefulSet controller's entry point for the controller manager.
 */
import type { ControllerStarter } from "../context.ts";
import { STATEFULSET_COMPONENT, StatefulSetController } from "./statefulset-controller.ts";

/** Registers the StatefulSet controller's informers and handlers; returns its loop. */
export const startStatefulSetController: ControllerStarter = (ctx) => {
  const c = new StatefulSetController({
    client: ctx.client,
    informers: ctx.informers,
    recorder: ctx.recorder(STATEFULSET_COMPONENT),
    workers: ctx.options.workers,
  });
  return [c.controller];
};
