/**
 * @module The EndpointSlice controller's record of its own writes (upstream's
 * EndpointSliceTracker): per service, the revision each written slice must reach in the
 * informer cache (or that it must be gone). Until the cache has caught up, a reconcile would
 * work from stale slices and create duplicates, so it waits; and slice events that merely
 * echo our own writes need not queue the service again.
 */
import type { EndpointSlice } from "../../api/types/discovery-v1.ts";

const GONE = -1;

export class EndpointSliceTracker {
  /** service key → slice name → revision expected (GONE: expected deleted). */
  private readonly expected = new Map<string, Map<string, number>>();

  /** Records a slice we created or updated. */
  wrote(serviceKey: string, slice: EndpointSlice): void {
    this.forService(serviceKey).set(slice.metadata.name!, Number(slice.metadata.resourceVersion ?? 0));
  }

  /** Records a slice we deleted. */
  deleted(serviceKey: string, name: string): void {
    this.forService(serviceKey).set(name, GONE);
  }

  private forService(key: string): Map<string, number> {
    let m = this.expected.get(key);
    if (!m) this.expected.set(key, (m = new Map()));
    return m;
  }

  /**
   * Called for every slice event: true when it is the echo of our own write (nothing new);
   * expectations the cache now meets are dropped.
   */
  observe(serviceKey: string, slice: EndpointSlice, deleted: boolean): boolean {
    const m = this.expected.get(serviceKey);
    const want = m?.get(slice.metadata.name!);
    if (want === undefined) return false;
    const rv = Number(slice.metadata.resourceVersion ?? 0);
    const met = want === GONE ? deleted : !deleted && rv >= want;
    if (met) {
      m!.delete(slice.metadata.name!);
      if (m!.size === 0) this.expected.delete(serviceKey);
    }
    return met && (want === GONE || rv === want);
  }

  /** Whether the cache reflects every write made for a service. */
  synced(serviceKey: string, cached: (name: string) => EndpointSlice | undefined): boolean {
    const m = this.expected.get(serviceKey);
    if (!m) return true;
    for (const [name, want] of m) {
      const cur = cached(name);
      if (want === GONE ? cur !== undefined : !cur || Number(cur.metadata.resourceVersion ?? 0) < want)
        return false;
      m.delete(name);
    }
    this.expected.delete(serviceKey);
    return true;
  }

  /** Forgets a service. */
  forget(serviceKey: string): void {
    this.expected.delete(serviceKey);
  }
}
