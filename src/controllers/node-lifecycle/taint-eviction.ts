/**
 * @module The NoExecute taint manager (upstream's taint-eviction-controller). A pod bound to a
 * node with NoExecute taints it does not tolerate is deleted at once; one that tolerates them
 * for a while (`tolerationSeconds`, 300 s by the API's default tolerations for not-ready and
 * unreachable) is deleted when the shortest such toleration runs out, counted from the
 * taint's `timeAdded`. Each pending deadline is one delayed requeue, never a poll; the clock
 * is injectable for tests. Before deleting, the pod gets a DisruptionTarget condition
 * (`DeletionByTaintManager`) and a `TaintManagerEviction` event, as upstream.
 */
import { formatTimestamp } from "../../api/meta.ts";
import { isNotFound } from "../../api/status-error.ts";
import type { Node, Pod, Taint } from "../../api/types/core-v1.ts";
import type { Request, Result } from "../../client/controller.ts";
import type { EventRecorder } from "../../client/events.ts";
import type { Informer } from "../../client/informer.ts";
import type { Client } from "../../client/types.ts";
import { tolerationVerdict } from "./node-lifecycle-taints.ts";

const PODS_BY_NODE = "taint-eviction-node";

export interface TaintEvictionConfig {
  client: Client;
  nodes: Informer<Node>;
  pods: Informer<Pod>;
  events?: EventRecorder;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

function noExecuteTaints(node: Node | undefined): Taint[] {
  return (node?.spec?.taints ?? []).filter((t) => t.effect === "NoExecute");
}

const taintsKey = (taints: readonly Taint[]): string =>
  taints
    .map((t) => `${t.key}=${t.value ?? ""}`)
    .sort()
    .join(",");

export class TaintEvictionReconciler {
  private readonly now: () => number;
  /** When we first saw a pod under taints without a timeAdded (pod key → ms). */
  private readonly firstSeen = new Map<string, number>();

  constructor(private readonly config: TaintEvictionConfig) {
    this.now = config.now ?? Date.now;
    config.pods.addIndex(PODS_BY_NODE, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
  }

  register(enqueue: (key: string) => void): void {
    const { nodes, pods } = this.config;
    const podKey = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;
    const onPod = (p: Pod) => {
      const node = p.spec?.nodeName;
      if (node && !p.metadata.deletionTimestamp && noExecuteTaints(nodes.get(undefined, node)).length > 0) {
        enqueue(podKey(p));
      }
    };
    pods.addHandlers({
      add: onPod,
      update: (_, p) => onPod(p),
      delete: (p) => this.firstSeen.delete(podKey(p)),
    });
    const onNode = (old: Node | undefined, cur: Node) => {
      const before = taintsKey(noExecuteTaints(old));
      const after = taintsKey(noExecuteTaints(cur));
      if (before === after) return;
      for (const p of pods.byIndex(PODS_BY_NODE, cur.metadata.name!)) enqueue(podKey(p));
    };
    nodes.addHandlers({ add: (n) => onNode(undefined, n), update: onNode });
  }

  /** Keys are pods. */
  async reconcile(req: Request): Promise<Result | void> {
    const key = `${req.namespace}/${req.name}`;
    const pod = this.config.pods.get(req.namespace, req.name);
    if (!pod || pod.metadata.deletionTimestamp || !pod.spec?.nodeName) {
      this.firstSeen.delete(key);
      return;
    }
    const taints = noExecuteTaints(this.config.nodes.get(undefined, pod.spec.nodeName));
    if (taints.length === 0) {
      if (this.firstSeen.delete(key)) {
        this.config.events?.event(pod, "Normal", "TaintManagerEviction", `Cancelling deletion of Pod ${key}`);
      }
      return;
    }
    const verdict = tolerationVerdict(taints, pod.spec.tolerations ?? []);
    if (verdict.evictNow) return this.evict(pod, key);
    if (verdict.seconds === undefined) return; // tolerated forever
    const now = this.now();
    let start = Infinity;
    for (const t of taints) if (t.timeAdded) start = Math.min(start, Date.parse(t.timeAdded));
    if (!Number.isFinite(start)) {
      start = this.firstSeen.get(key) ?? now;
    }
    if (!this.firstSeen.has(key)) this.firstSeen.set(key, start);
    const deadline = start + verdict.seconds * 1000;
    if (now >= deadline) return this.evict(pod, key);
    return { requeueAfterMs: deadline - now };
  }

  private async evict(pod: Pod, key: string): Promise<void> {
    const rc = this.config.client.resource<Pod>("", "pods");
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    this.config.events?.event(pod, "Normal", "TaintManagerEviction", `Marking for deletion Pod ${key}`);
    try {
      await rc.patch(
        ns,
        name,
        "strategic",
        {
          metadata: { uid: pod.metadata.uid },
          status: {
            conditions: [
              {
                type: "DisruptionTarget",
                status: "True",
                reason: "DeletionByTaintManager",
                message: "Taint manager: deleting due to NoExecute taint",
                lastTransitionTime: formatTimestamp(new Date(this.now())),
              },
            ],
          },
        },
        { subresource: "status" },
      );
      await rc.delete(ns, name, { preconditions: { uid: pod.metadata.uid! } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.firstSeen.delete(key);
  }
}
