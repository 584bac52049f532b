/**
 * @module The CronJob controller's entry point for the controller manager.
 */
import type { ControllerStarter } from "../context.ts";
import { CRONJOB_COMPONENT, CronJobController } from "./cronjob-controller.ts";

/** Registers the CronJob controller's informers and handlers; returns its loop. */
export const startCronJobController: ControllerStarter = (ctx) => {
  const c = new CronJobController({
    client: ctx.client,
    informers: ctx.informers,
    recorder: ctx.recorder(CRONJOB_COMPONENT),
    workers: ctx.options.workers,
  });
  return [c.controller];
};
