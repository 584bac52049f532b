/**
 * @module Records core/v1 Events about objects, as client-go's event recorder does: the
 * first occurrence creates `<object>.<hex nanoseconds>`; a repeat of the same object, type,
 * reason and message from the same source within the cache patches `count` and
 * `lastTimestamp` instead of creating another Event. Fire-and-forget: a failed write is
 * logged, never thrown at the caller.
 */
import { formatTimestamp } from "../api/meta.ts";
import type { KubeObject } from "../api/object.ts";
import type { Client } from "./types.ts";

export type EventType = "Normal" | "Warning";

export interface EventSource {
  /** `default-scheduler`, `replicaset-controller`, `kubelet`, … */
  component: string;
  /** The node, for node agents. */
  host?: string;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

const CACHE_SIZE = 4096;
const MAX_IN_FLIGHT = 32;

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private inFlight = 0;
  private readonly backlog: (() => Promise<void>)[] = [];

  constructor(
    private readonly client: Client,
    readonly source: EventSource,
  ) {}

  /** Records `reason`/`message` about `obj`. */
  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const meta = obj.metadata;
    const namespace = meta.namespace || "default";
    const involved = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: meta.name,
      ...(meta.namespace ? { namespace: meta.namespace } : {}),
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
    };
    const key = `${meta.uid ?? ""}\u0000${obj.kind}\u0000${namespace}\u0000${meta.name}\u0000${type}\u0000${reason}\u0000${message}`;
    const now = formatTimestamp(new Date());
    const prev = this.seen.get(key);
    if (prev) {
      prev.count++;
      this.seen.delete(key);
      this.seen.set(key, prev);
      const count = prev.count;
      this.submit(async () => {
        await this.client
          .resource("", "events")
          .patch(prev.namespace, prev.name, "merge", { count, lastTimestamp: now });
      });
      return;
    }
    const name = `${meta.name}.${(BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)).toString(16)}`;
    const entry: Seen = { name, namespace, count: 1, firstTimestamp: now };
    this.seen.set(key, entry);
    if (this.seen.size > CACHE_SIZE) this.seen.delete(this.seen.keys().next().value!);
    this.submit(async () => {
      await this.client.resource("", "events").create({
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace },
        involvedObject: involved,
        reason,
        message,
        type,
        source: { component: this.source.component, ...(this.source.host ? { host: this.source.host } : {}) },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        reportingComponent: this.source.component,
        reportingInstance: this.source.host ?? "",
      });
    });
  }

  private submit(write: () => Promise<void>): void {
    if (this.inFlight >= MAX_IN_FLIGHT) {
      if (this.backlog.length < 10_000) this.backlog.push(write);
      return;
    }
    this.inFlight++;
    write()
      .catch((e: unknown) => {
        const msg = (e as Error).message ?? String(e);
        if (!/not found|already exists/.test(msg))
          console.error(`event recorder (${this.source.component}): ${msg}`);
      })
      .finally(() => {
        this.inFlight--;
        const next = this.backlog.shift();
        if (next) this.submit(next);
      });
  }
}
