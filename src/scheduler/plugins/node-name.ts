/**
 * @module NodeName: a pod that names its node (`spec.nodeName`) fits only that node.
 */
import type { NodeInfo } from "../framework/node-info.ts";
import type { PodInfo } from "../framework/pod-info.ts";
import { SKIP, unresolvable, type Status } from "../framework/status.ts";
import type { CycleState, FilterPlugin, PreFilterPlugin } from "../framework/types.ts";
import { NODE_NAME } from "./names.ts";

/** Upstream's `ErrReason`. */
export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";
const REJECT = unresolvable(ERR_REASON_NODE_NAME);

export class NodeName implements PreFilterPlugin, FilterPlugin {
  readonly name = NODE_NAME;

  preFilter(_s: CycleState, pod: PodInfo): Status | null {
    return pod.pod.spec?.nodeName ? null : SKIP;
  }

  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const want = pod.pod.spec?.nodeName;
    return !want || want === node.name ? null : REJECT;
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
