/**
 * @module Upstream's `slowStartBatch`: run `count` calls in batches of 1, 2, 4, … (each batch
 * in parallel), stopping after the first batch with an error, so a template the API refuses
 * (quota, invalid) costs one request instead of hundreds. A candidate for
 * `src/controllers/util/` (the Job and DaemonSet controllers batch the same way).
 */

/** Upstream's SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH = 1;

/** Result of {@link slowStartBatch}: how many calls succeeded, and the first error. */
export interface SlowStartResult {
  successes: number;
  error: Error | undefined;
}

/**
 * Calls `fn` `count` times in doubling batches starting at `initialBatch`. Returns the number
 * of successes and the first error; calls after a failed batch are never made.
 */
export async function slowStartBatch(
  count: number,
  initialBatch: number,
  fn: () => Promise<void>,
): Promise<SlowStartResult> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatch); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    let error: Error | undefined;
    for (const r of results) {
      if (r.status === "fulfilled") successes++;
      else error ??= r.reason instanceof Error ? r.reason : new Error(String(r.reason));
    }
    if (error) return { successes, error };
    remaining -= batch;
  }
  return { successes, error: undefined };
}
