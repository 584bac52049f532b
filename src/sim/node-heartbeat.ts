/**
 * @module What a simulated kubelet reports for its node: the node conditions (Ready and the
 * three pressure conditions, upstream's reasons and messages) and the Lease in
 * `kube-node-lease` that is its heartbeat. As upstream, the Lease is renewed every 10 s and
 * node status is written only when a condition changes or every 5 minutes. Pure: no I/O.
 */
import { formatTimestamp } from "../api/meta.ts";
import type { Lease } from "../api/types/coordination-v1.ts";
import type { Node, NodeCondition } from "../api/types/core-v1.ts";

/** Namespace of node heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = "kube-node-lease";
/** Lease duration a kubelet asks for (upstream `nodeLeaseDurationSeconds`). */
export const NODE_LEASE_DURATION_SECONDS = 40;
/** How often the Lease is renewed (upstream: a quarter of the duration, 10 s). */
export const NODE_LEASE_RENEW_MS = 10_000;
/** How often node status is posted even when nothing changed (`nodeStatusReportFrequency`). */
export const NODE_STATUS_REPORT_MS = 5 * 60_000;

/** A condition a kubelet owns: type, status, reason, message. */
interface OwnCondition {
  type: string;
  status: "True" | "False";
  reason: string;
  message: string;
}

/** The conditions a healthy kubelet posts, in upstream's order. */
const HEALTHY: readonly OwnCondition[] = [
  {
    type: "MemoryPressure",
    status: "False",
    reason: "KubeletHasSufficientMemory",
    message: "kubelet has sufficient memory available",
  },
  {
    type: "DiskPressure",
    status: "False",
    reason: "KubeletHasNoDiskPressure",
    message: "kubelet has no disk pressure",
  },
  {
    type: "PIDPressure",
    status: "False",
    reason: "KubeletHasSufficientPID",
    message: "kubelet has sufficient PID available",
  },
  { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" },
];

const OWN_TYPES = new Set(HEALTHY.map((c) => c.type));

/**
 * The conditions to post for `node` at `now`, or undefined when nothing needs writing:
 * every owned condition already says the same and was last posted less than `reportMs` ago.
 * A condition that keeps its status keeps its lastTransitionTime; conditions other
 * components own (e.g. NetworkUnavailable) are kept as they are.
 */
export function nodeConditionsUpdate(
  node: Node,
  now: Date,
  reportMs = NODE_STATUS_REPORT_MS,
): NodeCondition[] | undefined {
  const existing = node.status?.conditions ?? [];
  const byType = new Map(existing.map((c) => [c.type, c]));
  let stale = false;
  for (const want of HEALTHY) {
    const have = byType.get(want.type);
    if (
      !have ||
      have.status !== want.status ||
      have.reason !== want.reason ||
      have.message !== want.message
    ) {
      stale = true;
      break;
    }
    const beat = have.lastHeartbeatTime ? Date.parse(have.lastHeartbeatTime) : NaN;
    if (!(now.getTime() - beat < reportMs)) {
      stale = true;
      break;
    }
  }
  if (!stale) return undefined;
  const ts = formatTimestamp(now);
  const out: NodeCondition[] = existing.filter((c) => !OWN_TYPES.has(c.type));
  for (const want of HEALTHY) {
    const have = byType.get(want.type);
    out.push({
      ...want,
      lastHeartbeatTime: ts,
      lastTransitionTime:
        have?.status === want.status && have.lastTransitionTime ? have.lastTransitionTime : ts,
    });
  }
  return out;
}

/** A MicroTime as the API writes it: RFC 3339 with microseconds, `2026-01-02T03:04:05.123000Z`. */
export function formatMicroTime(t: Date): string {
  return t.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * The heartbeat Lease of `node` renewed at `now`: holder the node, 40 s duration, owned by
 * the Node (so deleting the node garbage-collects the Lease, as upstream). `current` is the
 * Lease as last read or written (its resourceVersion guards the update), if any.
 */
export function nodeLease(node: Node, now: Date, current?: Lease): Lease {
  const name = node.metadata.name ?? "";
  const renewTime = formatMicroTime(now);
  const ownerReferences = node.metadata.uid
    ? [{ apiVersion: "v1", kind: "Node", name, uid: node.metadata.uid }]
    : undefined;
  if (current) {
    return {
      ...current,
      metadata: { ...current.metadata, ...(ownerReferences ? { ownerReferences } : {}) },
      spec: {
        ...current.spec,
        holderIdentity: name,
        leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS,
        renewTime,
      },
    };
  }
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace: NODE_LEASE_NAMESPACE, ...(ownerReferences ? { ownerReferences } : {}) },
    spec: { holderIdentity: name, leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS, renewTime },
  };
}
