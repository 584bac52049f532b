/**
 * @module Test helpers for the workload controllers' unit tests (ReplicaSet, Deployment):
 * pod and owner builders, a queue and an event sink that record what they get, and `until`,
 * which waits for informers over a FakeClient to catch up. Not used by production code.
 */
import type { KubeObject } from "../../api/object.ts";
import type { Pod, PodTemplateSpec } from "../../api/types/core-v1.ts";
import type { Request } from "../../client/controller.ts";
import type { EventType } from "../../client/events.ts";
import { objectKey } from "../util/pod-util.ts";
import type { EventSink, WorkQueue } from "./replicaset-reconciler.ts";

/** Waits (yielding to the event loop) until `cond` holds; throws after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 3000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A work queue that records keys instead of running anything. */
export class RecordingQueue implements WorkQueue {
  readonly keys: string[] = [];
  readonly delayed: { key: string; ms: number }[] = [];
  enqueue(t: KubeObject | Request | string): void {
    this.keys.push(keyOf(t));
  }
  enqueueAfter(t: KubeObject | Request | string, ms: number): void {
    this.delayed.push({ key: keyOf(t), ms });
  }
}

function keyOf(t: KubeObject | Request | string): string {
  if (typeof t === "string") return t;
  if ("metadata" in t) return objectKey(t);
  return `${t.namespace}/${t.name}`;
}

/** One recorded event. */
export interface RecordedEvent {
  object: string;
  type: EventType;
  reason: string;
  message: string;
}

/** An event sink that keeps what it is given. */
export class RecordingEvents implements EventSink {
  readonly events: RecordedEvent[] = [];
  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    this.events.push({ object: `${obj.kind}/${obj.metadata.name}`, type, reason, message });
  }
  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

/** A minimal pod template with `labels` and one container. */
export function template(labels: Record<string, string>, image = "nginx:1"): PodTemplateSpec {
  return { metadata: { labels }, spec: { containers: [{ name: "app", image }] } };
}

/** Options of {@link makePod}. */
export interface PodOptions {
  labels?: Record<string, string>;
  owner?: KubeObject;
  phase?: string;
  /** When set, condition Ready=True since this time (ISO); `false` for Ready=False. */
  readySince?: string | false;
  node?: string;
  created?: string;
  restarts?: number;
  uid?: string;
  deletionCost?: number;
  namespace?: string;
}

/** A pod for seeding a FakeClient. */
export function makePod(name: string, o: PodOptions = {}): Pod {
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: o.namespace ?? "default", labels: o.labels ?? { app: "web" } },
    spec: { containers: [{ name: "app", image: "nginx:1" }] },
    status: { phase: o.phase ?? "Running" },
  };
  if (o.uid) pod.metadata.uid = o.uid;
  if (o.created) pod.metadata.creationTimestamp = o.created;
  if (o.node) pod.spec!.nodeName = o.node;
  if (o.deletionCost !== undefined) {
    pod.metadata.annotations = { "controller.kubernetes.io/pod-deletion-cost": String(o.deletionCost) };
  }
  if (o.owner) {
    pod.metadata.ownerReferences = [
      {
        apiVersion: o.owner.apiVersion,
        kind: o.owner.kind,
        name: o.owner.metadata.name ?? "",
        uid: o.owner.metadata.uid ?? "",
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
  }
  if (o.readySince !== undefined) {
    pod.status!.conditions = [
      o.readySince === false
        ? { type: "Ready", status: "False" }
        : { type: "Ready", status: "True", lastTransitionTime: o.readySince },
    ];
  }
  if (o.restarts !== undefined) {
    pod.status!.containerStatuses = [
      { name: "app", image: "nginx:1", imageID: "", ready: true, restartCount: o.restarts },
    ];
  }
  return pod;
}

/** An ISO timestamp `secondsAgo` before `nowMs`, whole seconds. */
export function ago(nowMs: number, secondsAgo: number): string {
  return new Date(Math.floor(nowMs / 1000) * 1000 - secondsAgo * 1000)
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z");
}
