/**
 * @module Test support for the Ingress controller's tests: `waitFor`, which polls
 * a condition until it holds.
 */

/** Polls `cond` every 5 ms until it holds; rejects after `timeoutMs` with `what`. */
export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
