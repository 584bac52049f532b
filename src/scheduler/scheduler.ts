/**
 * @module The scheduler component: watches pods, nodes, PriorityClasses and namespaces
 * through shared informers, keeps the snapshot current, queues pending pods that name this
 * scheduler (`spec.schedulerName`, default `default-scheduler`) and have no node, and runs
 * one attempt at a time: on success the pod is assumed into the snapshot at once and bound
 * through `pods/binding` asynchronously (many binds in flight; the loop never waits for
 * one); on failure DefaultPreemption may evict lower-priority pods and nominate a node, a
 * `FailedScheduling` event is recorded and the pod's `PodScheduled=False/Unschedulable`
 * condition written through the status subresource, and the pod waits for a cluster event.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { formatTimestamp } from "../api/meta.ts";
import { isConflict, isNotFound } from "../api/status-error.ts";
import type { Namespace, Node, Pod, PodCondition } from "../api/types/core-v1.ts";
import type { PriorityClass } from "../api/types/scheduling-v1.ts";
import { EventRecorder } from "../client/events.ts";
import type { Informer, InformerFactory } from "../client/informer.ts";
import type { Client } from "../client/types.ts";
import { SchedulingAlgorithm, type AlgorithmOptions } from "./algorithm.ts";
import type { FitError } from "./framework/fit-error.ts";
import { PodInfo } from "./framework/pod-info.ts";
import { Snapshot } from "./framework/snapshot.ts";
import type { Framework } from "./framework/runtime.ts";
import { SchedulingQueue, type QueuedPod, type QueueOptions } from "./queue.ts";
import { buildFramework } from "./registry.ts";
import type { ScoringStrategy } from "./plugins/node-resources-fit.ts";

export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

export interface SchedulerOptions {
  client: Client;
  informers: InformerFactory;
  /** Pods naming this scheduler are ours; default `default-scheduler`. */
  schedulerName?: string;
  /** Event recorder; default one with component = schedulerName. */
  recorder?: EventRecorder;
  /** Binding requests in flight at most (default 64). */
  bindConcurrency?: number;
  scoringStrategy?: ScoringStrategy;
  percentageOfNodesToScore?: number;
  queue?: QueueOptions;
  random?: () => number;
}

/** Counters for observers (benchmarks, metrics). */
export interface SchedulerStats {
  attempts: number;
  scheduled: number;
  unschedulable: number;
  bound: number;
  bindErrors: number;
  preemptions: number;
  /** Sum of algorithm time in ms. */
  algorithmMs: number;
}

function podKey(p: Pod): string {
  return `${p.metadata.namespace ?? "default"}/${p.metadata.name}`;
}

function isTerminated(p: Pod): boolean {
  const ph = p.status?.phase;
  return ph === "Succeeded" || ph === "Failed";
}

function sameLabels(a: Pod, b: Pod): boolean {
  return JSON.stringify(a.metadata.labels ?? {}) === JSON.stringify(b.metadata.labels ?? {});
}

export class Scheduler {
  readonly name: string;
  readonly snapshot = new Snapshot();
  readonly queue: SchedulingQueue;
  readonly framework: Framework;
  readonly algorithm: SchedulingAlgorithm;
  readonly stats: SchedulerStats = {
    attempts: 0,
    scheduled: 0,
    unschedulable: 0,
    bound: 0,
    bindErrors: 0,
    preemptions: 0,
    algorithmMs: 0,
  };
  private readonly client: Client;
  private readonly recorder: EventRecorder;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly priorityClasses: Informer<PriorityClass>;
  private readonly namespaces: Informer<Namespace>;
  private readonly bindConcurrency: number;
  private bindsInFlight = 0;
  private readonly bindBacklog: (() => Promise<void>)[] = [];
  private readyResolve!: () => void;
  /** Resolves once the informers have synced and the loop runs. */
  readonly ready: Promise<void>;

  constructor(opts: SchedulerOptions) {
    this.client = opts.client;
    this.name = opts.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.recorder = opts.recorder ?? new EventRecorder(opts.client, { component: this.name });
    this.bindConcurrency = opts.bindConcurrency ?? 64;
    this.queue = new SchedulingQueue(opts.queue);
    this.framework = buildFramework({
      snapshot: this.snapshot,
      scoringStrategy: opts.scoringStrategy,
      random: opts.random,
    });
    const algoOpts: AlgorithmOptions = {
      percentageOfNodesToScore: opts.percentageOfNodesToScore,
      random: opts.random,
    };
    this.algorithm = new SchedulingAlgorithm(this.snapshot, this.framework, algoOpts);
    this.pods = opts.informers.informer<Pod>("", "pods");
    this.nodes = opts.informers.informer<Node>("", "nodes");
    this.priorityClasses = opts.informers.informer<PriorityClass>("scheduling.k8s.io", "priorityclasses");
    this.namespaces = opts.informers.informer<Namespace>("", "namespaces");
    this.snapshot.namespaceLabels = (ns) => this.namespaces.get(undefined, ns)?.metadata.labels;
    this.ready = new Promise((r) => (this.readyResolve = r));
    this.registerHandlers();
  }

  /** Upstream's priority: spec.priority, else the PriorityClass's value (or the global default), else 0. */
  priorityOf(pod: Pod): number {
    if (typeof pod.spec?.priority === "number") return pod.spec.priority;
    const name = pod.spec?.priorityClassName;
    if (name) return this.priorityClasses.get(undefined, name)?.value ?? 0;
    for (const pc of this.priorityClasses.list()) if (pc.globalDefault) return pc.value;
    return 0;
  }

  private isOurs(p: Pod): boolean {
    return (p.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) === this.name;
  }

  private registerHandlers(): void {
    this.nodes.addHandlers({
      add: (n) => {
        this.snapshot.upsertNode(n);
        this.queue.moveOnEvent("NodeAdd");
      },
      update: (_o, n) => {
        const c = this.snapshot.upsertNode(n);
        if (c.labels) this.queue.moveOnEvent("NodeLabelChange");
        if (c.taints) this.queue.moveOnEvent("NodeTaintChange");
        if (c.allocatable) this.queue.moveOnEvent("NodeAllocatableChange");
        if (c.unschedulable) this.queue.moveOnEvent("NodeSchedulableChange");
      },
      delete: (n) => this.snapshot.removeNode(n.metadata.name ?? ""),
    });
    this.pods.addHandlers({
      add: (p) => this.onPod(undefined, p),
      update: (o, p) => this.onPod(o, p),
      delete: (p) => {
        this.queue.delete(podKey(p));
        if (this.snapshot.removePod(p.metadata.uid ?? podKey(p))) this.queue.moveOnEvent("AssignedPodDelete");
      },
    });
  }

  private onPod(old: Pod | undefined, p: Pod): void {
    const key = podKey(p);
    const uid = p.metadata.uid ?? key;
    if (p.spec?.nodeName) {
      // Placed: the queue is done with it; the snapshot holds it until it terminates.
      if (this.queue.has(key) && (!old || !old.spec?.nodeName)) this.queue.delete(key);
      if (isTerminated(p)) {
        if (this.snapshot.removePod(uid)) this.queue.moveOnEvent("AssignedPodDelete");
        return;
      }
      const placed = this.snapshot.placedPod(uid);
      if (
        placed &&
        placed.nodeName === p.spec.nodeName &&
        old &&
        sameLabels(old, p) &&
        !!old.metadata.deletionTimestamp === !!p.metadata.deletionTimestamp
      ) {
        if (placed.assumed) this.snapshot.addPod(placed.info, placed.nodeName, false);
        return;
      }
      if (placed && placed.assumed && placed.nodeName === p.spec.nodeName && !old) {
        this.snapshot.addPod(placed.info, placed.nodeName, false);
        return;
      }
      this.snapshot.addPod(new PodInfo(p, this.priorityOf(p)), p.spec.nodeName);
      this.queue.moveOnEvent(placed ? "AssignedPodUpdate" : "AssignedPodAdd");
      return;
    }
    if (!this.isOurs(p) || isTerminated(p)) return;
    if (p.metadata.deletionTimestamp) {
      this.queue.delete(key);
      return;
    }
    // Assumed by us and the binding not yet seen: leave it.
    if (this.snapshot.placedPod(uid)?.assumed) return;
    if (old && this.queue.has(key)) {
      // Our own status writes (conditions, nominatedNodeName) do not make it schedulable.
      if (JSON.stringify(old.spec) === JSON.stringify(p.spec) && sameLabels(old, p)) return;
      this.queue.update(new PodInfo(p, this.priorityOf(p)), key);
      return;
    }
    this.queue.add(new PodInfo(p, this.priorityOf(p)), key);
  }

  /** Starts the informers (if not already) and the scheduling loop; runs until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener("abort", () => this.queue.close(), { once: true });
    await Promise.all([
      this.pods.synced,
      this.nodes.synced,
      this.priorityClasses.synced,
      this.namespaces.synced,
    ]);
    this.readyResolve();
    let lastYield = performance.now();
    while (!signal.aborted) {
      let qp: QueuedPod;
      try {
        qp = await this.queue.pop(signal);
      } catch {
        break;
      }
      this.scheduleOne(qp);
      const now = performance.now();
      if (now - lastYield > 5) {
        await yieldToLoop();
        lastYield = performance.now();
      }
    }
  }

  /** One attempt for one queued pod. */
  scheduleOne(qp: QueuedPod): void {
    const cycle = this.queue.schedulingCycle;
    const info = qp.info;
    const cur = this.pods.get(info.namespace, info.name);
    if (
      !cur ||
      cur.metadata.uid !== info.pod.metadata.uid ||
      cur.spec?.nodeName ||
      cur.metadata.deletionTimestamp
    ) {
      this.queue.delete(qp.key);
      return;
    }
    // A status-only change (e.g. our own nominatedNodeName) is taken as is.
    if (cur !== info.pod) info.pod = cur;
    this.stats.attempts++;
    const t0 = performance.now();
    const r = this.algorithm.schedule(info);
    if ("node" in r) {
      this.snapshot.addPod(info, r.node, true);
      this.stats.algorithmMs += performance.now() - t0;
      this.stats.scheduled++;
      this.enqueueBind(qp, r.node);
      return;
    }
    const err = r.error;
    let nominated: string | undefined;
    for (const pf of this.framework.postFilters) {
      const res = pf.postFilter(r.state, info, err.statuses);
      if (res.status) err.postFilterMsg = res.status.message();
      if (res.result?.nominatedNodeName !== undefined) nominated = res.result.nominatedNodeName;
      if (res.victims?.length && res.result?.nominatedNodeName) {
        this.stats.preemptions++;
        this.evict(info, res.result.nominatedNodeName, res.victims);
      }
      if (!res.status) break;
    }
    this.stats.algorithmMs += performance.now() - t0;
    this.stats.unschedulable++;
    this.reportFailure(cur, err, nominated);
    this.queue.addUnschedulable(qp, err.plugins, cycle);
  }

  private enqueueBind(qp: QueuedPod, node: string): void {
    const job = (): Promise<void> => this.bind(qp, node);
    if (this.bindsInFlight >= this.bindConcurrency) {
      this.bindBacklog.push(job);
      return;
    }
    this.runBind(job);
  }

  private runBind(job: () => Promise<void>): void {
    this.bindsInFlight++;
    void job().finally(() => {
      this.bindsInFlight--;
      const next = this.bindBacklog.shift();
      if (next) this.runBind(next);
    });
  }

  private async bind(qp: QueuedPod, node: string): Promise<void> {
    const { namespace, name } = qp.info;
    try {
      await this.client.resource<Pod>("", "pods").createSubresource(namespace, name, "binding", {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name, namespace },
        target: { apiVersion: "v1", kind: "Node", name: node },
      });
      this.stats.bound++;
      this.queue.done(qp.key);
      this.recorder.event(
        qp.info.pod,
        "Normal",
        "Scheduled",
        `Successfully assigned ${namespace}/${name} to ${node}`,
      );
    } catch (e) {
      this.stats.bindErrors++;
      // Forget the assumption; the freed room may help others.
      const placed = this.snapshot.placedPod(qp.info.uid);
      if (placed?.assumed) {
        this.snapshot.removePod(qp.info.uid);
        this.queue.moveOnEvent("AssignedPodDelete");
      }
      if (isNotFound(e) || (isConflict(e) && /already assigned|already bound/i.test((e as Error).message))) {
        this.queue.delete(qp.key);
        return;
      }
      console.error(`scheduler: binding ${qp.key} to ${node}: ${(e as Error).message}`);
      this.queue.requeueAfterError(qp);
    }
  }

  /** Deletes preemption victims (graceful) after marking them, and records events. */
  private evict(preemptor: PodInfo, node: string, victims: readonly PodInfo[]): void {
    const pods = this.client.resource<Pod>("", "pods");
    for (const v of victims) {
      this.recorder.event(v.pod, "Normal", "Preempted", `Preempted by pod ${preemptor.uid} on node ${node}`);
      void (async () => {
        try {
          await pods.patch(
            v.namespace,
            v.name,
            "strategic",
            {
              status: {
                conditions: [
                  {
                    type: "DisruptionTarget",
                    status: "True",
                    reason: "PreemptionByScheduler",
                    message: `${this.name}: preempting to accommodate a higher priority pod`,
                    lastTransitionTime: formatTimestamp(new Date()),
                  },
                ],
              },
            },
            { subresource: "status" },
          );
        } catch (e) {
          if (!isNotFound(e))
            console.error(`scheduler: marking victim ${v.namespace}/${v.name}: ${(e as Error).message}`);
        }
        try {
          await pods.delete(v.namespace, v.name, {
            preconditions: v.pod.metadata.uid ? { uid: v.pod.metadata.uid } : undefined,
          });
        } catch (e) {
          if (!isNotFound(e))
            console.error(`scheduler: deleting victim ${v.namespace}/${v.name}: ${(e as Error).message}`);
        }
      })();
    }
  }

  /** FailedScheduling event and the PodScheduled=False condition (only when it changes). */
  private reportFailure(pod: Pod, err: FitError, nominated: string | undefined): void {
    const msg = err.message();
    this.recorder.event(pod, "Warning", "FailedScheduling", msg);
    const prev = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    const nominatedChanged = nominated !== undefined && nominated !== (pod.status?.nominatedNodeName ?? "");
    if (
      prev &&
      prev.status === "False" &&
      prev.reason === "Unschedulable" &&
      prev.message === msg &&
      !nominatedChanged
    )
      return;
    const cond: PodCondition = {
      type: "PodScheduled",
      status: "False",
      reason: "Unschedulable",
      message: msg,
      lastProbeTime: null as unknown as string,
      lastTransitionTime:
        prev?.status === "False" && prev.lastTransitionTime
          ? prev.lastTransitionTime
          : formatTimestamp(new Date()),
    };
    const status: Record<string, unknown> = { conditions: [cond] };
    if (nominatedChanged) status.nominatedNodeName = nominated || null;
    void this.client
      .resource<Pod>("", "pods")
      .patch(
        pod.metadata.namespace,
        pod.metadata.name ?? "",
        "strategic",
        { status },
        { subresource: "status" },
      )
      .catch((e: unknown) => {
        if (!isNotFound(e))
          console.error(`scheduler: updating status of ${podKey(pod)}: ${(e as Error).message}`);
      });
  }
}
