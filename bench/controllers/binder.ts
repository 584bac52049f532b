/**
 * @module bench/controllers stand-in scheduler: binds every unscheduled pod to the simulated
 * nodes round robin through the `binding` subresource, with bounded concurrency. Used only
 * when neither the server nor `src/scheduler/scheduler.ts` schedules pods, so the benchmark
 * still exercises the controllers end to end; the run prints which one it used.
 */
import type { Node, Pod } from "../../src/api/types/core-v1.ts";
import { Controller } from "../../src/client/controller.ts";
import type { InformerFactory } from "../../src/client/informer.ts";
import type { Client } from "../../src/client/types.ts";

/** Starts the binder; resolves once its loop runs. */
export function startRoundRobinBinder(
  client: Client,
  informers: InformerFactory,
  signal: AbortSignal,
): Controller {
  const pods = informers.informer<Pod>("", "pods");
  const nodes = informers.informer<Node>("", "nodes");
  const podClient = client.resource<Pod>("", "pods");
  let next = 0;
  let names: string[] = [];
  const refresh = (): void => {
    names = nodes
      .list()
      .map((n) => n.metadata.name ?? "")
      .sort();
  };
  nodes.addHandlers({ add: refresh, delete: refresh });
  const ctl = new Controller({
    name: "bench-binder",
    workers: 32,
    reconcile: async (req) => {
      const pod = pods.get(req.namespace, req.name);
      if (!pod || pod.spec?.nodeName || pod.metadata.deletionTimestamp) return;
      if (names.length === 0) return { requeueAfterMs: 100 };
      const node = names[next++ % names.length]!;
      await podClient.createSubresource(req.namespace, req.name, "binding", {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name: req.name, namespace: req.namespace },
        target: { apiVersion: "v1", kind: "Node", name: node },
      });
    },
    onError: () => undefined,
  });
  pods.addHandlers({
    add: (p) => {
      if (!p.spec?.nodeName) ctl.enqueue(p);
    },
  });
  ctl.start(signal);
  return ctl;
}
