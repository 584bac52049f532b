/**
 * @module Test scaffolding for the workload controllers' unit tests (StatefulSet, DaemonSet,
 * Job, CronJob): a FakeClient with real informers over it, an event recorder that keeps
 * events in memory, a settable clock, a wait for the informers to catch up with the fake,
 * and a pod "kubelet" that moves pods through phases. Used only by `*.test.ts` files.
 */
import type { KubeObject } from "../../api/object.ts";
import type { Pod } from "../../api/types/core-v1.ts";
import type { EventRecorder, EventType } from "../../client/events.ts";
import { FakeClient } from "../../client/fake-client.ts";
import { InformerFactory } from "../../client/informer.ts";

/** One recorded event. */
export interface RecordedEvent {
  kind: string;
  name: string;
  type: EventType;
  reason: string;
  message: string;
}

/** A clock tests move by hand. */
export class FakeClock {
  constructor(public ms = Date.parse("2025-01-01T00:00:00Z")) {}
  now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Everything a controller unit test needs. */
export class Harness {
  readonly fake: FakeClient;
  readonly informers: InformerFactory;
  readonly events: RecordedEvent[] = [];
  readonly clock = new FakeClock();
  readonly recorder: EventRecorder;
  private readonly abort = new AbortController();

  constructor(objects: KubeObject[] = []) {
    this.fake = new FakeClient(objects);
    this.fake.now = this.clock.now;
    this.informers = new InformerFactory(this.fake);
    const events = this.events;
    this.recorder = {
      event(obj: KubeObject, type: EventType, reason: string, message: string) {
        events.push({ kind: obj.kind, name: obj.metadata.name ?? "", type, reason, message });
      },
    } as unknown as EventRecorder;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Starts the informers and waits for their first list. */
  async start(): Promise<void> {
    this.informers.start(this.abort.signal);
    await this.informers.waitForSync();
  }

  stop(): void {
    this.abort.abort();
  }

  /** Lets queued watch events reach the informers. */
  async settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Events with `reason`. */
  eventsWith(reason: string): RecordedEvent[] {
    return this.events.filter((e) => e.reason === reason);
  }

  pods(namespace = "default"): Pod[] {
    return this.fake
      .objects<Pod>("", "pods")
      .filter((p) => p.metadata.namespace === namespace)
      .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
  }

  /** Sets a pod's phase (and Ready condition) as a kubelet would. */
  async setPodPhase(
    namespace: string,
    name: string,
    phase: "Pending" | "Running" | "Succeeded" | "Failed",
    opts: { ready?: boolean; exitCode?: number; conditions?: { type: string; status: string }[] } = {},
  ): Promise<Pod> {
    const pods = this.fake.resource<Pod>("", "pods");
    const pod = await pods.get(namespace, name);
    const ts = new Date(this.clock.ms).toISOString().replace(/\.\d{3}Z$/, "Z");
    const ready = opts.ready ?? phase === "Running";
    pod.status = {
      ...(pod.status ?? {}),
      phase,
      conditions: [
        { type: "Ready", status: ready ? "True" : "False", lastTransitionTime: ts },
        ...(opts.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: ts })),
      ],
    };
    if (opts.exitCode !== undefined) {
      const containers = pod.spec?.containers ?? [];
      pod.status.containerStatuses = containers.map((c) => ({
        name: c.name,
        image: c.image ?? "",
        imageID: "",
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: opts.exitCode!, finishedAt: ts } },
      }));
    }
    return pods.updateStatus(pod);
  }
}
