/**
 * @module The pod garbage collector (upstream's pod-garbage-collector), event-driven:
 * - terminated pods (Succeeded/Failed) above `terminatedPodGcThreshold` are deleted, evicted
 *   ones first, then oldest first;
 * - pods bound to a node that no longer exists are, after a 40 s quarantine and a live GET
 *   confirming the node is gone, marked Failed with a DisruptionTarget condition
 *   (`DeletionByPodGC`) and force-deleted;
 * - terminating pods that were never scheduled are force-deleted;
 * - terminating pods on a not-ready node with the `node.kubernetes.io/out-of-service` taint
 *   are marked Failed and force-deleted.
 * Keys: `sweep` (terminated and unscheduled pods) and `node/<name>` (one node's pods).
 */
import { formatTimestamp } from "../../api/meta.ts";
import { isNotFound } from "../../api/status-error.ts";
import type { Node, Pod } from "../../api/types/core-v1.ts";
import type { Request } from "../../client/controller.ts";
import type { Informer } from "../../client/informer.ts";
import type { Client } from "../../client/types.ts";

/** Upstream's quarantine before orphaned pods of a missing node are deleted. */
export const QUARANTINE_MS = 40_000;
export const OUT_OF_SERVICE_TAINT = "node.kubernetes.io/out-of-service";

const BY_NODE = "podgc-node";
const TERMINATED = "podgc-terminated";
const UNSCHEDULED_TERMINATING = "podgc-unscheduled-terminating";
export const SWEEP_KEY = "sweep";
const NODE_NS = "node";

const isTerminal = (p: Pod): boolean => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";

export interface PodGCConfig {
  client: Client;
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  /** Terminated pods kept; 0 or less disables that part (as upstream). */
  terminatedPodThreshold: number;
  quarantineMs?: number;
  now?: () => Date;
}

function nodeReady(node: Node): boolean {
  return node.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
}

function outOfService(node: Node): boolean {
  return (node.spec?.taints ?? []).some((t) => t.key === OUT_OF_SERVICE_TAINT && t.effect === "NoExecute");
}

export class PodGCReconciler {
  private readonly quarantineMs: number;
  private readonly now: () => Date;

  constructor(private readonly config: PodGCConfig) {
    this.quarantineMs = config.quarantineMs ?? QUARANTINE_MS;
    this.now = config.now ?? (() => new Date());
    config.pods.addIndex(BY_NODE, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    config.pods.addIndex(TERMINATED, (p) => (isTerminal(p) ? ["1"] : []));
    config.pods.addIndex(UNSCHEDULED_TERMINATING, (p) =>
      p.metadata.deletionTimestamp && !p.spec?.nodeName ? ["1"] : [],
    );
  }

  register(enqueue: (key: string) => void, enqueueAfter: (key: string, ms: number) => void): void {
    const { pods, nodes, terminatedPodThreshold } = this.config;
    const onPod = (p: Pod) => {
      if (
        isTerminal(p) &&
        terminatedPodThreshold > 0 &&
        pods.byIndex(TERMINATED, "1").length > terminatedPodThreshold
      ) {
        enqueue(SWEEP_KEY);
      }
      if (p.metadata.deletionTimestamp && !p.spec?.nodeName) enqueue(SWEEP_KEY);
      const node = p.spec?.nodeName;
      if (node && !nodes.get(undefined, node)) enqueueAfter(`${NODE_NS}/${node}`, this.quarantineMs);
    };
    pods.addHandlers({ add: onPod, update: (_, p) => onPod(p) });
    nodes.addHandlers({
      update: (_, n) => {
        if (outOfService(n) && !nodeReady(n)) enqueue(`${NODE_NS}/${n.metadata.name}`);
      },
      delete: (n) => {
        if (pods.byIndex(BY_NODE, n.metadata.name!).length > 0) {
          enqueueAfter(`${NODE_NS}/${n.metadata.name}`, this.quarantineMs);
        }
      },
    });
  }

  async reconcile(req: Request): Promise<void> {
    if (req.namespace === NODE_NS) return this.gcNode(req.name);
    if (req.namespace === "" && req.name === SWEEP_KEY) {
      await this.gcTerminated();
      await this.gcUnscheduledTerminating();
    }
  }

  private async gcTerminated(): Promise<void> {
    const threshold = this.config.terminatedPodThreshold;
    if (threshold <= 0) return;
    const terminated = this.config.pods.byIndex(TERMINATED, "1");
    const excess = terminated.length - threshold;
    if (excess <= 0) return;
    const evicted = (p: Pod) => (p.status?.reason === "Evicted" ? 0 : 1);
    terminated.sort(
      (a, b) =>
        evicted(a) - evicted(b) ||
        Date.parse(a.metadata.creationTimestamp ?? "") - Date.parse(b.metadata.creationTimestamp ?? "") ||
        (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
    );
    await Promise.all(terminated.slice(0, excess).map((p) => this.markFailedAndDelete(p)));
  }

  private async gcUnscheduledTerminating(): Promise<void> {
    const pods = this.config.pods.byIndex(UNSCHEDULED_TERMINATING, "1");
    await Promise.all(pods.map((p) => this.markFailedAndDelete(p)));
  }

  /** One node's pods: orphaned (node gone) or stuck terminating on an out-of-service node. */
  private async gcNode(name: string): Promise<void> {
    const pods = this.config.pods.byIndex(BY_NODE, name);
    if (pods.length === 0) return;
    const cached = this.config.nodes.get(undefined, name);
    if (cached) {
      if (outOfService(cached) && !nodeReady(cached)) {
        await Promise.all(
          pods.filter((p) => p.metadata.deletionTimestamp).map((p) => this.markFailedAndDelete(p)),
        );
      }
      return;
    }
    // The cache says it is gone: make sure before deleting anything.
    try {
      await this.config.client.resource<Node>("", "nodes").get(undefined, name);
      return;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await Promise.all(
      pods.map((p) =>
        this.markFailedAndDelete(p, {
          type: "DisruptionTarget",
          status: "True",
          reason: "DeletionByPodGC",
          message: "PodGC: node no longer exists",
        }),
      ),
    );
  }

  /** Upstream's markFailedAndDeletePodWithCondition: a running pod is set Failed first; then a forced delete. */
  private async markFailedAndDelete(
    pod: Pod,
    condition?: { type: string; status: string; reason: string; message: string },
  ): Promise<void> {
    const rc = this.config.client.resource<Pod>("", "pods");
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    try {
      if (!isTerminal(pod)) {
        const status: Record<string, unknown> = { phase: "Failed" };
        if (condition) {
          status.conditions = [{ ...condition, lastTransitionTime: formatTimestamp(this.now()) }];
        }
        await rc.patch(
          ns,
          name,
          "strategic",
          { metadata: { uid: pod.metadata.uid }, status },
          { subresource: "status" },
        );
      }
      await rc.delete(ns, name, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid! } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
