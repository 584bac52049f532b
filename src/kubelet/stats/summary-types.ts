/**
 * @module The kubelet Summary API's object shapes (upstream's `stats/v1alpha1`), as served at
 * `GET /stats/summary` and read by metrics-server (`kubectl top`) and autoscalers. Only the
 * parts kites fills are typed: node and pod/container cpu and memory, and the node's fs.
 * Every optional upstream field is optional here too and left out when unknown; times are
 * RFC 3339 with second precision (`metav1.Time`).
 */

/** Cpu usage at `time`. */
export interface CPUStats {
  time: string;
  /** Average over the last sample window, in billionths of a core. */
  usageNanoCores?: number;
  /** Cumulative core-nanoseconds since the cgroup (or the node) started. */
  usageCoreNanoSeconds?: number;
}

/** Memory usage at `time`, in bytes (page faults as counts). */
export interface MemoryStats {
  time: string;
  /** Limit (or node capacity) minus working set; only when there is a limit. */
  availableBytes?: number;
  usageBytes?: number;
  /** Usage minus inactive file pages: what the OOM killer and eviction look at. */
  workingSetBytes?: number;
  rssBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

/** A filesystem's usage at `time`. */
export interface FsStats {
  time: string;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes?: number;
  inodesFree?: number;
  inodes?: number;
  inodesUsed?: number;
}

/** One container of a pod. */
export interface ContainerStats {
  name: string;
  /** When the container was created. */
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
}

/** Enough to find the pod. */
export interface PodReference {
  name: string;
  namespace: string;
  uid: string;
}

/** One pod: its containers, and the pod cgroup's totals (containers plus overhead). */
export interface PodStats {
  podRef: PodReference;
  startTime: string;
  containers: ContainerStats[];
  cpu?: CPUStats;
  memory?: MemoryStats;
}

/** The node as a whole. */
export interface NodeStats {
  nodeName: string;
  /** When node-level collection (re)started: the machine's boot time. */
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
  /** The filesystem holding the agent's data directory. */
  fs?: FsStats;
}

/** The response of `GET /stats/summary`. */
export interface Summary {
  node: NodeStats;
  pods: PodStats[];
}

/** Formats a time in milliseconds as `metav1.Time` does (RFC 3339, whole seconds, UTC). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
