/**
 * @module Writes pod statuses through the `status` subresource, only when they changed
 * (upstream's status manager, synchronous), and deletes a torn-down pod's API object with
 * gracePeriodSeconds 0 so it disappears.
 */
import { deepEqual } from "../api/meta.ts";
import { isConflict, isNotFound } from "../api/status-error.ts";
import type { Pod, PodStatus } from "../api/types/core-v1.ts";
import type { Client } from "../client/types.ts";

/** Pod status writes for one node. */
export class StatusManager {
  private readonly last = new Map<string, PodStatus>();

  constructor(private readonly client: Client) {}

  private get pods() {
    return this.client.resource<Pod>("", "pods");
  }

  /** The status last written for a pod (newer than an informer's copy). */
  lastWritten(uid: string): PodStatus | undefined {
    return this.last.get(uid);
  }

  /** Writes `status` unless it equals what was last written or what the API holds. */
  async write(pod: Pod, status: PodStatus): Promise<void> {
    const uid = pod.metadata.uid ?? "";
    const prev = this.last.get(uid);
    if (prev ? deepEqual(prev, status) : deepEqual(pod.status, status)) {
      if (!prev) this.last.set(uid, status);
      return;
    }
    try {
      await this.pods.patch(
        pod.metadata.namespace,
        pod.metadata.name ?? "",
        "merge",
        { status },
        { subresource: "status" },
      );
      this.last.set(uid, status);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }

  /** Deletes the API object of a torn-down pod (grace 0, guarded by uid). */
  async deletePod(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid ?? "";
    this.last.delete(uid);
    try {
      await this.pods.delete(pod.metadata.namespace, pod.metadata.name ?? "", {
        gracePeriodSeconds: 0,
        preconditions: { uid },
      });
    } catch (e) {
      if (isNotFound(e) || isConflict(e)) return;
      throw e;
    }
  }

  /** Forgets a pod. */
  forget(uid: string): void {
    this.last.delete(uid);
  }
}
