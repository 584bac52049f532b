/**
 * @module Controller expectations, as upstream's `UIDTrackingControllerExpectations`: after a
 * controller asks for N creations and some deletions, it waits until its informer has seen
 * them (or 5 minutes pass) before acting on the same owner again, so a stale cache never
 * makes it create or delete twice. Creations are counted; deletions are tracked by pod key,
 * so a deletion seen twice (deletionTimestamp, then the delete event) counts once.
 */

/** Upstream's ExpectationsTimeout: expectations older than this are treated as satisfied. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Record {
  add: number;
  del: Set<string>;
  /** When the expectations were last set (ms). */
  at: number;
}

/** Pending creations and deletions per owner key (`namespace/name`). */
export class ControllerExpectations {
  private readonly records = new Map<string, Record>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * True when the owner may act: no record, every expected event seen, or the record is
   * older than {@link EXPECTATIONS_TIMEOUT_MS}.
   */
  satisfied(key: string): boolean {
    const r = this.records.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.del.size === 0) return true;
    return this.now() - r.at > EXPECTATIONS_TIMEOUT_MS;
  }

  /** Records that `count` creations are on their way (replacing earlier expectations). */
  expectCreations(key: string, count: number): void {
    this.records.set(key, { add: count, del: new Set(), at: this.now() });
  }

  /** Records that the pods with these keys are being deleted (replacing earlier expectations). */
  expectDeletions(key: string, podKeys: readonly string[]): void {
    this.records.set(key, { add: 0, del: new Set(podKeys), at: this.now() });
  }

  /** One expected creation was seen (or will never happen: the create failed). */
  creationObserved(key: string): void {
    const r = this.records.get(key);
    if (r && r.add > 0) r.add--;
  }

  /** The deletion of the pod `podKey` was seen (or failed). */
  deletionObserved(key: string, podKey: string): void {
    this.records.get(key)?.del.delete(podKey);
  }

  /** Forgets the owner (it was deleted). */
  delete(key: string): void {
    this.records.delete(key);
  }

  /** Pending creations and deletions of an owner (for tests and debugging). */
  pending(key: string): { add: number; del: number } | undefined {
    const r = this.records.get(key);
    return r ? { add: r.add, del: r.del.size } : undefined;
  }
}
