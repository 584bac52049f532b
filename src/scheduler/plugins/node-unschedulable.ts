/**
 * @module NodeUnschedulable: cordoned nodes (`spec.unschedulable`) take no new pods unless
 * the pod tolerates the `node.kubernetes.io/unschedulable:NoSchedule` taint.
 */
import type { Taint } from "../../api/types/core-v1.ts";
import type { NodeInfo } from "../framework/node-info.ts";
import type { PodInfo } from "../framework/pod-info.ts";
import { unresolvable, type Status } from "../framework/status.ts";
import type { CycleState, FilterPlugin } from "../framework/types.ts";
import { NODE_UNSCHEDULABLE } from "./names.ts";
import { tolerationsTolerate } from "./tolerations.ts";

/** Upstream's `ErrReasonUnschedulable`. */
export const ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable";
const REJECT = unresolvable(ERR_REASON_UNSCHEDULABLE);
const UNSCHEDULABLE_TAINT: Taint = { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" };

export class NodeUnschedulable implements FilterPlugin {
  readonly name = NODE_UNSCHEDULABLE;

  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    if (!node.unschedulable) return null;
    return tolerationsTolerate(pod.tolerations, UNSCHEDULABLE_TAINT) ? null : REJECT;
  }

  filterAll(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
    n: number,
    out: (Status | null)[],
  ): void {
    for (let i = 0; i < n; i++) {
      if (out[i] !== null) continue;
      const st = this.filter(state, pod, nodes[i]!);
      if (st) out[i] = st;
    }
  }
}
