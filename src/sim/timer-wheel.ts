/**
 * @module A timer wheel for periodic work over many keys (node Lease renewals): one interval
 * timer split into `slots` ticks; every key sits in one slot and comes due once per turn.
 * New keys go to the emptiest slot, so 5,000 nodes renewing every 10 s over 100 slots come
 * due 50 per 100 ms tick instead of all at once — and with one timer, not 5,000.
 */

export class TimerWheel {
  private readonly slots: Set<string>[];
  private readonly slotOf = new Map<string, number>();
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;

  /** `slots` ticks per turn (at least 1). */
  constructor(slots: number) {
    const n = Math.max(1, Math.floor(slots));
    this.slots = Array.from({ length: n }, () => new Set<string>());
  }

  /** Number of keys on the wheel. */
  get size(): number {
    return this.slotOf.size;
  }

  has(key: string): boolean {
    return this.slotOf.has(key);
  }

  /**
   * Puts `key` on the wheel (no-op when present) in the emptiest slot, preferring the one
   * due last so a key just handled is not due again at once; returns the slot.
   */
  add(key: string): number {
    const have = this.slotOf.get(key);
    if (have !== undefined) return have;
    const n = this.slots.length;
    // Walk from the slot due last towards the one due next; the first emptiest wins.
    let best = (this.cursor + n - 1) % n;
    let bestSize = this.slots[best]!.size;
    for (let i = 2; i <= n && bestSize > 0; i++) {
      const s = (this.cursor + n - i) % n;
      const size = this.slots[s]!.size;
      if (size < bestSize) {
        best = s;
        bestSize = size;
      }
    }
    this.slots[best]!.add(key);
    this.slotOf.set(key, best);
    return best;
  }

  remove(key: string): void {
    const s = this.slotOf.get(key);
    if (s === undefined) return;
    this.slotOf.delete(key);
    this.slots[s]!.delete(key);
  }

  /** The keys due at this tick; moves on to the next slot. */
  advance(): string[] {
    const due = [...this.slots[this.cursor]!];
    this.cursor = (this.cursor + 1) % this.slots.length;
    return due;
  }

  /**
   * Calls `onDue` with the keys due at each tick, `periodMs / slots` apart, until `signal`
   * aborts. Each key comes due once every `periodMs`.
   */
  start(periodMs: number, signal: AbortSignal, onDue: (keys: string[]) => void): void {
    if (this.timer || signal.aborted) return;
    const tickMs = Math.max(1, periodMs / this.slots.length);
    this.timer = setInterval(() => {
      const due = this.advance();
      if (due.length > 0) onDue(due);
    }, tickMs);
    signal.addEventListener(
      "abort",
      () => {
        clearInterval(this.timer);
        this.timer = undefined;
      },
      { once: true },
    );
  }
}
