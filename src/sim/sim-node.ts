/**
 * @module What a simulated node is: its label, its name (`<prefix><n>`, n from 1), its zone,
 * and the Node object `kites sim nodes` registers for it (labels, capacity, pod CIDR,
 * addresses, nodeInfo) — as a kubelet registers its node. Pure: no I/O.
 */
import type { Node } from "../api/types/core-v1.ts";

/** The label every simulated node carries (`kites.io/simulated=true`). */
export const SIM_LABEL = "kites.io/simulated";
/** Label selector of simulated nodes. */
export const SIM_SELECTOR = `${SIM_LABEL}=true`;
/** Default name prefix of simulated nodes. */
export const DEFAULT_SIM_PREFIX = "kites-sim-";
/** `status.nodeInfo.kubeletVersion` of simulated nodes. */
export const SIM_KUBELET_VERSION = "v1.33.0-kites";
/** Runtime scheme of simulated nodes: container runtime version, container and image IDs. */
export const SIM_RUNTIME = "kites-sim";
/** `node.kubernetes.io/instance-type` of simulated nodes. */
export const SIM_INSTANCE_TYPE = "kites-sim";
/** The kubelet port advertised in `status.daemonEndpoints` (nothing listens there). */
export const KUBELET_PORT = 10250;

/** True when `node` is a simulated node (carries `kites.io/simulated=true`). */
export function isSimNode(node: Node | undefined): node is Node {
  return node?.metadata.labels?.[SIM_LABEL] === "true";
}

/** `<prefix><index>`, e.g. `kites-sim-3`. */
export function simNodeName(prefix: string, index: number): string {
  return `${prefix}${index}`;
}

/** The index of a simulated node named `<prefix><n>` (n ≥ 1, no leading zero), else undefined. */
export function simNodeIndex(prefix: string, name: string): number | undefined {
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  if (!/^[1-9]\d{0,8}$/.test(rest)) return undefined;
  return Number(rest);
}

/**
 * The zone of node `index` among `zones` zones: `zone-0`, `zone-1`, … round robin
 * (`kites-sim-1` in zone-0, `kites-sim-2` in zone-1, …), so any N nodes are spread evenly.
 */
export function simZone(index: number, zones: number): string {
  return `zone-${(index - 1) % Math.max(1, zones)}`;
}

/** Which nodes to add and remove to end with exactly `count`. */
export interface CountPlan {
  create: number[];
  delete: number[];
}

/**
 * Plans a change of the simulated node count: keeps existing indices, deletes the highest
 * numbered first when there are too many, fills the lowest free indices when too few
 * (skipping `blocked` ones: names some other, non-simulated node already has).
 */
export function planNodeCount(
  existing: Iterable<number>,
  count: number,
  blocked: Iterable<number> = [],
): CountPlan {
  const have = [...new Set(existing)].sort((a, b) => a - b);
  if (have.length > count) return { create: [], delete: have.slice(count).reverse() };
  const taken = new Set([...have, ...blocked]);
  const create: number[] = [];
  for (let i = 1; create.length < count - have.length; i++) if (!taken.has(i)) create.push(i);
  return { create, delete: [] };
}

/** The capacity of every simulated node (quantities as strings, e.g. `32`, `256Gi`). */
export interface SimCapacity {
  cpu: string;
  memory: string;
  pods: string;
  ephemeralStorage: string;
}

export const DEFAULT_SIM_CAPACITY: SimCapacity = {
  cpu: "32",
  memory: "256Gi",
  pods: "110",
  ephemeralStorage: "1Ti",
};

export interface SimNodeSpec {
  name: string;
  zone: string;
  podCIDR: string;
  internalIP: string;
  capacity: SimCapacity;
}

/**
 * The Node a simulated kubelet registers: labels as a real kubelet sets them (hostname, os,
 * arch, zone, instance type) plus `kites.io/simulated=true`; allocatable equal to capacity
 * (no system reservations); no conditions — the simulated kubelet posts them once it runs,
 * so a node nobody simulates stays NotReady.
 */
export function buildSimNode(s: SimNodeSpec): Node {
  const resources = {
    cpu: s.capacity.cpu,
    memory: s.capacity.memory,
    pods: s.capacity.pods,
    "ephemeral-storage": s.capacity.ephemeralStorage,
  };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: s.name,
      labels: {
        [SIM_LABEL]: "true",
        "kubernetes.io/hostname": s.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
        "topology.kubernetes.io/zone": s.zone,
        "node.kubernetes.io/instance-type": SIM_INSTANCE_TYPE,
      },
      annotations: { "node.alpha.kubernetes.io/ttl": "0" },
    },
    spec: {
      podCIDR: s.podCIDR,
      podCIDRs: [s.podCIDR],
      providerID: `${SIM_RUNTIME}://${s.name}`,
    },
    status: {
      capacity: { ...resources },
      allocatable: { ...resources },
      addresses: [
        { type: "InternalIP", address: s.internalIP },
        { type: "Hostname", address: s.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
      nodeInfo: {
        machineID: "",
        systemUUID: "",
        bootID: "",
        kernelVersion: "",
        osImage: "kites simulated node",
        containerRuntimeVersion: `${SIM_RUNTIME}://0`,
        kubeletVersion: SIM_KUBELET_VERSION,
        kubeProxyVersion: "",
        operatingSystem: "linux",
        architecture: "amd64",
      },
    },
  };
}

/** The InternalIP of a node (its host IP for pods), or undefined. */
export function nodeInternalIP(node: Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
}
