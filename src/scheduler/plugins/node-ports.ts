/**
 * @module NodePorts: a pod asking for a host port fits only a node where no pod holds the
 * same protocol and port on the same IP (0.0.0.0 conflicts with every IP).
 */
import type { NodeInfo } from "../framework/node-info.ts";
import type { PodInfo } from "../framework/pod-info.ts";
import { SKIP, unschedulable, type Status } from "../framework/status.ts";
import type { CycleState, FilterPlugin, PreFilterPlugin } from "../framework/types.ts";
import { NODE_PORTS } from "./names.ts";

/** Upstream's `ErrReason`. */
export const ERR_REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";
const REJECT = unschedulable(ERR_REASON_NODE_PORTS);
const ANY = "0.0.0.0";

export class NodePorts implements PreFilterPlugin, FilterPlugin {
  readonly name = NODE_PORTS;

  preFilter(_s: CycleState, pod: PodInfo): Status | null {
    return pod.hostPorts.length ? null : SKIP;
  }

  filter(_s: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    if (node.usedPorts.size === 0) return null;
    for (const hp of pod.hostPorts) {
      const used = node.usedPorts.get(`${hp.protocol}/${hp.port}`);
      if (!used || used.length === 0) continue;
      if (hp.ip === ANY) return REJECT;
      for (const ip of used) if (ip === ANY || ip === hp.ip) return REJECT;
    }
    return null;
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
