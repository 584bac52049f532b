/**
 * @module The Job controller's and the TTL-after-finished controller's entry points for the
 * controller manager.
 */
import type { ControllerStarter } from "../context.ts";
import { JOB_COMPONENT, JobController } from "./job-controller.ts";
import { TtlAfterFinishedController } from "./ttl-after-finished-controller.ts";

/** Registers the Job controller's informers and handlers; returns its loop. */
export const startJobController: ControllerStarter = (ctx) => {
  const c = new JobController({
    client: ctx.client,
    informers: ctx.informers,
    recorder: ctx.recorder(JOB_COMPONENT),
    workers: ctx.options.workers,
  });
  return [c.controller];
};

/** Registers the TTL-after-finished controller (deletes finished Jobs past their TTL). */
export const startTtlAfterFinishedController: ControllerStarter = (ctx) => {
  const c = new TtlAfterFinishedController({
    client: ctx.client,
    informers: ctx.informers,
    workers: ctx.options.workers,
  });
  return [c.controller];
};
