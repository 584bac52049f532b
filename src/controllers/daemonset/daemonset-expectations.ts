/**
 * @module Controller expectations (upstream's UIDTrackingControllerExpectations), used by the
 * DaemonSet and Job controllers: after asking for N creations and some deletions, a
 * controller waits until its informer has seen them (or five minutes pass) before acting on
 * the same owner again, so a stale cache never makes it create or delete twice. Creations are
 * counted; deletions are tracked by pod key, so a deletion seen twice (deletionTimestamp,
 * then the delete event) counts once. A candidate for `src/controllers/util/`.
 */

/** Upstream's ExpectationsTimeout. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Pending {
  add: number;
  del: Set<string>;
  at: number;
}

/** Pending creations and deletions per owner key (`namespace/name`). */
export class Expectations {
  private readonly records = new Map<string, Pending>();

  constructor(private readonly now: () => number = Date.now) {}

  /** True when the owner may act again. */
  satisfied(key: string): boolean {
    const r = this.records.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.del.size === 0) return true;
    return this.now() - r.at > EXPECTATIONS_TIMEOUT_MS;
  }

  /** Sets the expectations for `key` (replacing earlier ones). */
  expect(key: string, creations: number, deletions: readonly string[] = []): void {
    this.records.set(key, { add: creations, del: new Set(deletions), at: this.now() });
  }

  /** One expected creation was seen, or will never happen (the create failed). */
  creationObserved(key: string): void {
    const r = this.records.get(key);
    if (r && r.add > 0) r.add--;
  }

  /** The deletion of pod `podKey` was seen, or will never happen. */
  deletionObserved(key: string, podKey: string): void {
    this.records.get(key)?.del.delete(podKey);
  }

  /** Forgets the owner. */
  delete(key: string): void {
    this.records.delete(key);
  }
}
