/**
 * @module The message of a pod that fits nowhere, as upstream's `FitError.Error()`:
 * `0/N nodes are available: <count> <reason>, ….` with each reason counted over nodes, the
 * `<count> <reason>` strings sorted (Go byte order), then the PostFilter (preemption)
 * message, e.g. `… preemption: 0/3 nodes are available: 3 Preemption is not helpful for
 * scheduling.`
 */
import { compareGoStrings } from "../../api/go-order.ts";
import type { Status } from "./status.ts";

/** Upstream's `ErrNoNodesAvailable` text. */
export const NO_NODES_AVAILABLE = "no nodes available to schedule pods";

/** A failed scheduling attempt: per-node rejections and the messages around them. */
export class FitError {
  /** Message of a PreFilter rejection (then the per-node reasons are not listed). */
  preFilterMsg = "";
  /** Message of the PostFilter (preemption) result. */
  postFilterMsg = "";
  /** Plugins that rejected the pod (for requeueing on relevant events). */
  readonly plugins = new Set<string>();

  constructor(
    readonly numAllNodes: number,
    /** Rejection per node name. */
    readonly statuses: ReadonlyMap<string, Status>,
    /** Status for nodes absent from `statuses`, if any (upstream's AbsentNodesStatus). */
    readonly absent: Status | null = null,
  ) {
    for (const s of statuses.values()) if (s.plugin) this.plugins.add(s.plugin);
  }

  /** Upstream's text. */
  message(): string {
    let msg = `0/${this.numAllNodes} nodes are available:`;
    if (this.preFilterMsg) msg += ` ${this.preFilterMsg}.`;
    else {
      const counts = new Map<string, number>();
      for (const s of this.statuses.values()) {
        for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
      }
      const missing = this.numAllNodes - this.statuses.size;
      if (this.absent && missing > 0) {
        for (const r of this.absent.reasons) counts.set(r, (counts.get(r) ?? 0) + missing);
      }
      const parts = [...counts].map(([r, c]) => `${c} ${r}`).sort(compareGoStrings);
      if (parts.length) msg += ` ${parts.join(", ")}.`;
    }
    if (this.postFilterMsg)
      msg += this.postFilterMsg.endsWith(".") ? ` ${this.postFilterMsg}` : ` ${this.postFilterMsg}.`;
    return msg;
  }
}
