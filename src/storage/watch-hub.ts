/**
 * @module In-process watch fan-out for drivers that see every write themselves (sqlite and
 * memory): a watcher first receives its backlog (history read from the store when it
 * started) and then every committed batch whose keys fall under its prefix, in revision
 * order, exactly once, and after each commit a progress report of the commit's revision
 * (see `WatchHandler.onProgress`). Delivery is asynchronous (a microtask after the commit), so a slow
 * handler never runs inside a write transaction.
 */
import type { WatchEvent, WatchHandler } from "./backend.ts";

class Watcher {
  private queue: WatchEvent[];
  private scheduled = false;
  closed = false;

  constructor(
    readonly prefix: string,
    private readonly handler: WatchHandler,
    backlog: WatchEvent[],
  ) {
    this.queue = backlog;
    if (backlog.length) this.schedule();
  }

  /** The newest revision announced to this watcher (events or progress). */
  private progressRev = 0;
  private deliveredRev = 0;

  push(ev: WatchEvent): void {
    this.queue.push(ev);
    this.schedule();
  }

  progress(rev: number): void {
    if (rev <= this.progressRev) return;
    this.progressRev = rev;
    this.schedule();
  }

  fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    queueMicrotask(() => this.handler.onError(err));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.closed) return;
    if (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      this.deliveredRev = batch[batch.length - 1]!.kv.modRevision;
      this.handler.onEvents(batch);
    }
    if (this.progressRev > this.deliveredRev && !this.closed) {
      this.deliveredRev = this.progressRev;
      this.handler.onProgress?.(this.progressRev);
    }
  };
}

/** The watchers of one store. */
export class WatchHub {
  private readonly watchers = new Set<Watcher>();

  /** Registers a watcher; `backlog` must hold the history after its start revision. */
  add(prefix: string, handler: WatchHandler, backlog: WatchEvent[], signal: AbortSignal): void {
    if (signal.aborted) return;
    const w = new Watcher(prefix, handler, backlog);
    this.watchers.add(w);
    signal.addEventListener(
      "abort",
      () => {
        w.closed = true;
        this.watchers.delete(w);
      },
      { once: true },
    );
  }

  /** Hands committed events (in revision order) to every watcher whose prefix matches. */
  publish(events: readonly WatchEvent[]): void {
    if (this.watchers.size === 0 || events.length === 0) return;
    const rev = events[events.length - 1]!.kv.modRevision;
    for (const w of this.watchers) {
      for (const ev of events) if (ev.kv.key.startsWith(w.prefix)) w.push(ev);
      // Every watcher learns the commit's revision, so a quiet prefix's cache stays current.
      w.progress(rev);
    }
  }

  /** Ends every watch with `err`. */
  closeAll(err: Error): void {
    for (const w of this.watchers) w.fail(err);
    this.watchers.clear();
  }

  get size(): number {
    return this.watchers.size;
  }
}
