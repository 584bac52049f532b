/**
 * @module How the etcd driver handles failed calls. The `etcd3` client, left to its defaults,
 * re-sends every unary call (reads and writes alike) up to three more times when it fails with
 * a "recoverable" gRPC status (CANCELLED, UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
 * ABORTED, INTERNAL, UNAVAILABLE). For a write transaction whose first attempt reached etcd and
 * whose answer was lost, the re-sent compare fails and a write that landed is reported as a
 * conflict. So the driver turns the client's retries off ({@link clientFaultHandling}), retries
 * reads itself ({@link retryRead}), and settles a write whose outcome is unknown by reading
 * etcd's history (see the backend); {@link WriteOutcomeUnknownError} is the answer when
 * history cannot tell, as upstream's apiserver answers an etcd error on a write (500).
 */

import {
  GRPCDeadlineExceededError,
  isRecoverableError,
  type Etcd3,
  type IEvent,
  type IOptions,
  type IWatchCreateRequest,
  type IWatchResponse,
} from "etcd3";

type GlobalPolicy = NonNullable<NonNullable<IOptions["faultHandling"]>["global"]>;

/** A policy event nobody listens to (the client only calls `execute`). */
const noEvent = (): { dispose(): void } => ({ dispose() {} });

/**
 * The client's "global" policy: run each call once. The per-host circuit breaker stays the
 * client's default, so a dead etcd is not hammered; watches reconnect on their own.
 */
const runOnce: GlobalPolicy = {
  _altReturn: undefined as never,
  onSuccess: noEvent,
  onFailure: noEvent,
  execute: async (fn, signal) => fn({ signal: signal ?? new AbortController().signal }),
};

/** The `faultHandling` option of `new Etcd3(...)`: no call is re-sent by the client. */
export const clientFaultHandling: IOptions["faultHandling"] = { global: runOnce };

/** Delays between read attempts, in ms (so four attempts in all). */
const READ_BACKOFF_MS = [50, 200, 800];

/**
 * True for a failure after which a read may simply be sent again: the client's transient
 * statuses, except a deadline (the call already took its whole time; a retry would double it).
 */
function retryableRead(err: unknown): boolean {
  return err instanceof Error && isRecoverableError(err) && !(err instanceof GRPCDeadlineExceededError);
}

/** Runs an idempotent call, retrying it with backoff after transient failures. */
export async function retryRead<T>(call: () => Promise<T>, stop: () => boolean = () => false): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const delay = READ_BACKOFF_MS[attempt];
      if (delay === undefined || stop() || !retryableRead(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * True when a failed write may or may not have been applied: the connection or etcd failed
 * after the request could have been sent. Other failures (etcd refused the request, a circuit
 * breaker held it back, the client is closed) are definite.
 */
export function writeOutcomeUnknown(err: unknown): boolean {
  return err instanceof Error && isRecoverableError(err);
}

/**
 * A write whose request may have reached etcd but whose answer was lost, and whose effect the
 * driver could not establish afterwards: it may have been applied or not.
 */
export class WriteOutcomeUnknownError extends Error {
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`etcd: the outcome of the write to ${key} is unknown (the request may have been applied): ${why}`, {
      cause,
    });
    this.name = "WriteOutcomeUnknownError";
  }
}

/** Half-closes a watch stream: etcd then ends it cleanly, without a gRPC error. */
export function endStream(stream: { end(): unknown }): void {
  try {
    stream.end();
  } catch {
    // already closed
  }
}

/**
 * Opens a watch with `request` and resolves with the first value `pick` returns for its
 * responses; rejects when the stream fails, is cancelled, or nothing comes within `timeoutMs`.
 */
export async function watchOnce<T>(
  client: Etcd3,
  request: IWatchCreateRequest,
  pick: (res: IWatchResponse) => T | undefined,
  timeoutMs: number,
): Promise<T> {
  const stream = await client.watchClient.watch();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<T>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error("etcd watch gave no answer in time")), timeoutMs);
      stream.on("data", (res: IWatchResponse) => {
        try {
          const found = pick(res);
          if (found !== undefined) resolve(found);
          else if (res.canceled) reject(new Error(`etcd cancelled the watch: ${res.cancel_reason}`));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      stream.on("error", reject);
      stream.on("end", () => reject(new Error("etcd ended the watch stream")));
      stream.write({ create_request: request });
    });
  } finally {
    clearTimeout(timer);
    endStream(stream);
  }
}

/**
 * The first change to `key` after `revision`, with the value it replaced; the caller must know
 * that there is one. Rejects when history that old is compacted or the watch fails.
 */
export function firstChangeAfter(
  client: Etcd3,
  key: Buffer,
  revision: number,
  timeoutMs: number,
): Promise<IEvent> {
  return watchOnce(
    client,
    { key, start_revision: revision + 1, prev_kv: true },
    (res) => {
      if (Number(res.compact_revision) > 0) throw new Error(`etcd history after ${revision} is compacted`);
      return res.events[0];
    },
    timeoutMs,
  );
}
