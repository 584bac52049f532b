/**
 * @module Per-key exponential backoff as upstream's flowcontrol.Backoff, used for container
 * restarts (10 s doubling to 5 min) and image pulls: `next(key, at)` records a failure at
 * `at` and grows the delay; an entry idle for twice the maximum starts over; `inBackoff(key,
 * since)` says whether `since + delay` is still in the future.
 */

interface Entry {
  delayMs: number;
  lastUpdateMs: number;
}

/** Exponential backoff keyed by string. */
export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly initialMs: number,
    readonly maxMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a failure observed at `atMs` (a restart about to happen); returns the new delay. */
  next(key: string, atMs: number = this.now()): number {
    const e = this.entries.get(key);
    if (!e || atMs - e.lastUpdateMs > 2 * this.maxMs) {
      this.entries.set(key, { delayMs: this.initialMs, lastUpdateMs: this.now() });
      return this.initialMs;
    }
    e.delayMs = Math.min(e.delayMs * 2, this.maxMs);
    e.lastUpdateMs = this.now();
    return e.delayMs;
  }

  /** The current delay of `key` (0 when none). */
  get(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** Milliseconds left before `key` may retry after an event at `sinceMs`; 0 when not in backoff. */
  remaining(key: string, sinceMs: number): number {
    const e = this.entries.get(key);
    if (!e || this.now() - e.lastUpdateMs > 2 * this.maxMs) return 0;
    const left = sinceMs + e.delayMs - this.now();
    return left > 0 ? left : 0;
  }

  /** Milliseconds left of the delay counted from the last `next` (upstream IsInBackOffSinceUpdate). */
  remainingSinceUpdate(key: string): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    const left = e.lastUpdateMs + e.delayMs - this.now();
    return left > 0 ? left : 0;
  }

  /** Forgets `key`. */
  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key with this prefix (a pod going away). */
  resetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  /** Drops entries idle longer than twice the maximum. */
  gc(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (now - e.lastUpdateMs > 2 * this.maxMs) this.entries.delete(k);
  }
}

/** Formats a delay as Go's time.Duration prints whole seconds/minutes (`10s`, `1m20s`, `5m0s`). */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  if (total < 60) return `${total}s`;
  const m = Math.floor(total / 60);
  const s = total % 60;
  if (m < 60) return `${m}m${s}s`;
  return `${Math.floor(m / 60)}h${m % 60}m${s}s`;
}
