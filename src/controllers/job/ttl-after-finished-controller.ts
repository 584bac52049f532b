/**
 * @module The TTL-after-finished controller, as upstream's ttlafterfinished: a finished Job
 * (Complete or Failed) with `spec.ttlSecondsAfterFinished` is deleted, with Background
 * propagation, that many seconds after it finished (its completionTime, else the finishing
 * condition's lastTransitionTime). Until then its key is requeued for exactly the time left;
 * before deleting, the Job is read fresh from the API in case the TTL changed, and the delete
 * is guarded by the resourceVersion read.
 */
import { isNotFound } from "../../api/status-error.ts";
import type { Job } from "../../api/types/batch-v1.ts";
import { Controller, type Request, type Result } from "../../client/controller.ts";
import type { Informer, InformerFactory } from "../../client/informer.ts";
import type { Client, ResourceClient } from "../../client/types.ts";
import { finishedCondition } from "./job-conditions.ts";

/** Controller name, as upstream. */
export const TTL_AFTER_FINISHED_COMPONENT = "ttl-after-finished-controller";

export interface TtlAfterFinishedOptions {
  client: Client;
  informers: InformerFactory;
  workers?: number;
  now?: () => Date;
}

/** When `job` expires (ms), or undefined when it has no TTL or has not finished. */
export function expiresAtMs(job: Job): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null) return undefined;
  const cond = finishedCondition(job);
  if (!cond) return undefined;
  const finished = job.status?.completionTime ?? cond.lastTransitionTime;
  const t = finished ? Date.parse(finished) : NaN;
  if (!Number.isFinite(t)) return undefined;
  return t + ttl * 1000;
}

export class TtlAfterFinishedController {
  readonly controller: Controller;
  private readonly jobs: Informer<Job>;
  private readonly jobClient: ResourceClient<Job>;
  private readonly now: () => Date;

  constructor(opts: TtlAfterFinishedOptions) {
    this.now = opts.now ?? (() => new Date());
    this.jobs = opts.informers.informer<Job>("batch", "jobs");
    this.jobClient = opts.client.resource<Job>("batch", "jobs");
    this.controller = new Controller({
      name: TTL_AFTER_FINISHED_COMPONENT,
      workers: opts.workers ?? 5,
      reconcile: (req) => this.reconcile(req),
    });
    const maybe = (j: Job): void => {
      if (!j.metadata.deletionTimestamp && expiresAtMs(j) !== undefined) this.controller.enqueue(j);
    };
    this.jobs.addHandlers({ add: maybe, update: (_o, j) => maybe(j) });
  }

  /** Deletes the Job if its TTL has passed, else asks to be called back when it will have. */
  async reconcile(req: Request): Promise<Result | void> {
    const cached = this.jobs.get(req.namespace, req.name);
    if (!cached || cached.metadata.deletionTimestamp) return;
    const at = expiresAtMs(cached);
    if (at === undefined) return;
    const left = at - this.now().getTime();
    if (left > 0) return { requeueAfterMs: left };
    let fresh: Job;
    try {
      fresh = await this.jobClient.get(req.namespace, req.name);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    if (fresh.metadata.deletionTimestamp) return;
    const freshAt = expiresAtMs(fresh);
    if (freshAt === undefined) return;
    const freshLeft = freshAt - this.now().getTime();
    if (freshLeft > 0) return { requeueAfterMs: freshLeft };
    try {
      await this.jobClient.delete(req.namespace, req.name, {
        propagationPolicy: "Background",
        preconditions: {
          uid: fresh.metadata.uid ?? "",
          resourceVersion: fresh.metadata.resourceVersion ?? "",
        },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
