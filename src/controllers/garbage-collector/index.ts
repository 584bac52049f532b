/**
 * @module The garbage collector controller: informers over every kind that can own or be
 * owned (every served kind with list and watch, except Events, as upstream ignores them)
 * feed the dependency graph; one work queue keyed by uid runs the collector. The controller
 * manager calls `startGarbageCollectorController`.
 */
import { allKinds, type KindInfo } from "../../api/kinds.ts";
import type { KubeObject } from "../../api/object.ts";
import { Controller } from "../../client/controller.ts";
import type { InformerFactory } from "../../client/informer.ts";
import type { Client } from "../../client/types.ts";
import type { ControllerStarter } from "../context.ts";
import { GarbageCollector } from "./garbage-collector.ts";

/** Resources the collector does not watch (upstream's ignoredResources). */
const IGNORED = new Set(["/events", "events.k8s.io/events"]);

/** The kinds the collector watches: listable, watchable, deletable, not Events. */
export function collectedKinds(): KindInfo[] {
  return allKinds().filter(
    (k) =>
      k.verbs.includes("list") &&
      k.verbs.includes("watch") &&
      k.verbs.includes("delete") &&
      !IGNORED.has(`${k.group}/${k.resource}`),
  );
}

/** Builds the collector and its loop over the given informers. */
export function newGarbageCollector(
  client: Client,
  informers: InformerFactory,
  workers: number,
): { controller: Controller; collector: GarbageCollector } {
  const queue: { controller?: Controller } = {};
  const collector = new GarbageCollector({ client, enqueue: (uid) => queue.controller?.enqueue(uid) });
  const controller = new Controller({
    name: "garbage-collector-controller",
    workers,
    // Requests are uids: enqueued as bare strings, they come back as the name.
    reconcile: (req) => collector.reconcile(req.name),
  });
  queue.controller = controller;
  for (const info of collectedKinds()) {
    informers.informer<KubeObject>(info.group, info.resource).addHandlers({
      add: (o) => collector.graph.observe(o),
      update: (_, o) => collector.graph.observe(o),
      delete: (o) => collector.graph.forget(o),
    });
  }
  return { controller, collector };
}

/** The garbage collector (upstream's concurrent-gc-syncs defaults to 20 workers). */
export const startGarbageCollectorController: ControllerStarter = (ctx) => [
  newGarbageCollector(ctx.client, ctx.informers, Math.max(ctx.options.workers, 20)).controller,
];
