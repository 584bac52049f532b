/**
 * @module One serialized worker per pod uid (upstream's podWorkers): updates for a pod queue
 * behind the one being processed and collapse into the newest spec; each pod moves through
 * `syncing → terminating → terminated`, never back. A pod is terminating once it has a
 * deletionTimestamp, vanished from the API, or reached a terminal phase; once terminated and
 * deleted, its worker cleans it up and forgets it.
 */
import type { Pod } from "../api/types/core-v1.ts";

export type WorkState = "syncing" | "terminating" | "terminated";

/** The pod lifecycle a worker drives (implemented by the kubelet over `PodSyncer`). */
export interface PodLifecycle {
  sync(pod: Pod): Promise<{ requeueAfterMs?: number; terminal?: boolean }>;
  /** Stops every container of the pod within the grace period. */
  terminate(pod: Pod, gracePeriodSeconds: number): Promise<void>;
  /** A termination is underway and a shorter grace period arrived. */
  shorten(pod: Pod, gracePeriodSeconds: number): Promise<void>;
  /** Writes the final status of a pod that finished but is not deleted. */
  terminated(pod: Pod): Promise<void>;
  /** Removes everything of a deleted pod; `deleted` says the API object is already gone. */
  cleanup(pod: Pod, deleted: boolean): Promise<void>;
  /** Reports a failed step (logged). */
  error(pod: Pod, err: unknown): void;
}

interface Work {
  pod: Pod;
  state: WorkState;
  running: boolean;
  pending: boolean;
  deleted: boolean;
  timer?: NodeJS.Timeout;
  failures: number;
  grace?: number;
  done?: Promise<void>;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

/** The grace period a deleting pod gets: the deletion's, else the spec's, else 30 s. */
export function gracePeriodOf(pod: Pod): number {
  return pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
}

/** All pod workers of a node. */
export class PodWorkers {
  private readonly works = new Map<string, Work>();
  private stopped = false;

  constructor(private readonly lifecycle: PodLifecycle) {}

  /** A pod was added or changed in the API. */
  update(pod: Pod): void {
    const uid = pod.metadata.uid ?? "";
    let w = this.works.get(uid);
    if (!w)
      this.works.set(
        uid,
        (w = { pod, state: "syncing", running: false, pending: false, deleted: false, failures: 0 }),
      );
    const prevGrace = w.grace;
    w.pod = pod;
    if (w.state === "terminating" && pod.metadata.deletionTimestamp) {
      const g = gracePeriodOf(pod);
      if (prevGrace !== undefined && g < prevGrace) {
        w.grace = g;
        void this.lifecycle.shorten(pod, g).catch((e: unknown) => this.lifecycle.error(pod, e));
      }
    }
    this.kick(uid, w);
  }

  /** A pod vanished from the API (deleted, possibly without grace). */
  remove(pod: Pod): void {
    const uid = pod.metadata.uid ?? "";
    let w = this.works.get(uid);
    if (!w)
      this.works.set(
        uid,
        (w = { pod, state: "syncing", running: false, pending: false, deleted: true, failures: 0 }),
      );
    w.deleted = true;
    if (w.state === "terminating" && w.grace !== undefined && w.grace > 0) {
      w.grace = 0;
      void this.lifecycle.shorten(w.pod, 0).catch((e: unknown) => this.lifecycle.error(pod, e));
    }
    this.kick(uid, w);
  }

  /** Re-sync a known pod (a container changed, a probe flipped, a backoff ended). */
  requeue(uid: string): void {
    const w = this.works.get(uid);
    if (w) this.kick(uid, w);
  }

  /** The worker state of a pod, if it has a worker. */
  state(uid: string): WorkState | undefined {
    return this.works.get(uid)?.state;
  }

  /** Uids with a worker. */
  uids(): IterableIterator<string> {
    return this.works.keys();
  }

  /** Resolves when every worker is idle (tests). */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.works.values()].filter((w) => w.running || w.pending).map((w) => w.done);
      if (busy.length === 0) return;
      await Promise.all(busy);
    }
  }

  /** Stops scheduling work (running steps finish). */
  stop(): void {
    this.stopped = true;
    for (const w of this.works.values()) if (w.timer) clearTimeout(w.timer);
  }

  private kick(uid: string, w: Work): void {
    if (this.stopped) return;
    w.pending = true;
    if (w.timer) {
      clearTimeout(w.timer);
      w.timer = undefined;
    }
    if (!w.running) w.done = this.loop(uid, w);
  }

  private schedule(uid: string, w: Work, ms: number): void {
    if (this.stopped) return;
    if (w.timer) clearTimeout(w.timer);
    w.timer = setTimeout(() => {
      w.timer = undefined;
      this.kick(uid, w);
    }, ms);
    w.timer.unref?.();
  }

  private async loop(uid: string, w: Work): Promise<void> {
    w.running = true;
    try {
      while (w.pending && !this.stopped) {
        w.pending = false;
        const pod = w.pod;
        try {
          await this.step(uid, w, pod);
          w.failures = 0;
        } catch (e) {
          this.lifecycle.error(pod, e);
          w.failures++;
          this.schedule(uid, w, Math.min(RETRY_MIN_MS * 2 ** (w.failures - 1), RETRY_MAX_MS));
        }
      }
    } finally {
      w.running = false;
    }
  }

  private async step(uid: string, w: Work, pod: Pod): Promise<void> {
    const deleting = w.deleted || !!pod.metadata.deletionTimestamp;
    if (w.state === "syncing") {
      if (!deleting) {
        const r = await this.lifecycle.sync(pod);
        if (!r.terminal) {
          if (r.requeueAfterMs !== undefined) this.schedule(uid, w, r.requeueAfterMs);
          return;
        }
      }
      w.state = "terminating";
    }
    if (w.state === "terminating") {
      const grace = w.deleted && !pod.metadata.deletionTimestamp ? (w.grace ?? 0) : gracePeriodOf(pod);
      w.grace = grace;
      await this.lifecycle.terminate(pod, deleting ? grace : (pod.spec?.terminationGracePeriodSeconds ?? 30));
      w.state = "terminated";
      if (!deleting) {
        await this.lifecycle.terminated(pod);
        return;
      }
    }
    if (w.state === "terminated" && (w.deleted || pod.metadata.deletionTimestamp)) {
      await this.lifecycle.cleanup(pod, w.deleted);
      if (w.timer) clearTimeout(w.timer);
      this.works.delete(uid);
    }
  }
}
