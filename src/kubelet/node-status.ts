/**
 * @module The Node object the agent registers and keeps current, as upstream's kubelet builds
 * it: capacity/allocatable from the host (cpu count, memory, 110 pods, ephemeral storage of
 * the data dir's filesystem), addresses, nodeInfo, labels, images, and the conditions Ready,
 * MemoryPressure, DiskPressure and PIDPressure with upstream's reasons and messages
 * (eviction thresholds: memory.available < 100Mi, nodefs.available < 10%).
 */
import { readFileSync, statfsSync } from "node:fs";
import os from "node:os";
import type { Node, NodeCondition, NodeStatus } from "../api/types/core-v1.ts";
import { newQuantity } from "../api/quantity.ts";
import type { ImageInfo } from "../runtime/types.ts";

/** The version the agent reports (upstream's kubeletVersion / kubeProxyVersion shape). */
export const KUBELET_VERSION = "v1.33.0-kites";

/** Host facts read once per status computation. */
export interface HostFacts {
  cpus: number;
  memoryBytes: number;
  memoryAvailableBytes: number;
  storageBytes: number;
  storageAvailableBytes: number;
  kernelVersion: string;
  osImage: string;
  machineID: string;
  bootID: string;
  hostname: string;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return fallback;
  }
}

/** The PRETTY_NAME of /etc/os-release. */
export function osImage(): string {
  const text = readOr("/etc/os-release", "");
  const m = /^PRETTY_NAME=(.*)$/m.exec(text);
  if (!m) return "Linux";
  return m[1]!.replace(/^"(.*)"$/, "$1");
}

function memAvailable(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readOr("/proc/meminfo", ""));
  return m ? Number(m[1]) * 1024 : os.freemem();
}

/** Reads the host facts. */
export function readHostFacts(dataDir: string): HostFacts {
  let storageBytes = 0;
  let storageAvailableBytes = 0;
  try {
    const s = statfsSync(dataDir);
    storageBytes = s.blocks * s.bsize;
    storageAvailableBytes = s.bavail * s.bsize;
  } catch {
    /* unknown */
  }
  return {
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    memoryAvailableBytes: memAvailable(),
    storageBytes,
    storageAvailableBytes,
    kernelVersion: os.release(),
    osImage: osImage(),
    machineID: readOr("/etc/machine-id", ""),
    bootID: readOr("/proc/sys/kernel/random/boot_id", ""),
    hostname: os.hostname(),
  };
}

const GOARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
};

/** Go's GOARCH for this machine. */
export function goArch(): string {
  return GOARCH[process.arch] ?? process.arch;
}

/** Go's GOOS for this machine. */
export function goOS(): string {
  return process.platform === "win32" ? "windows" : process.platform;
}

/** Node resources in upstream's units (memory in Ki as cadvisor reports it). */
export function nodeCapacity(h: HostFacts): Record<string, string> {
  const kib = (b: number): string => newQuantity(BigInt(Math.floor(b / 1024)) * 1024n, "BinarySI").toString();
  return {
    cpu: String(h.cpus),
    memory: kib(h.memoryBytes),
    pods: "110",
    "ephemeral-storage": kib(h.storageBytes),
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
  };
}

/** The agent's labels for its node. */
export function nodeLabels(nodeName: string, controlPlane: boolean): Record<string, string> {
  const l: Record<string, string> = {
    "kubernetes.io/hostname": nodeName,
    "kubernetes.io/os": goOS(),
    "kubernetes.io/arch": goArch(),
    "beta.kubernetes.io/os": goOS(),
    "beta.kubernetes.io/arch": goArch(),
  };
  if (controlPlane) l["node-role.kubernetes.io/control-plane"] = "";
  return l;
}

interface ConditionSpec {
  type: string;
  ok: boolean;
  reasonOk: string;
  messageOk: string;
  reasonBad: string;
  messageBad: string;
}

/** What the status builder needs. */
export interface NodeStatusInput {
  host: HostFacts;
  nodeIP: string;
  nodeName: string;
  runtimeScheme: string;
  runtimeVersion: string;
  runtimeReady: boolean;
  images: readonly ImageInfo[];
  kubeletPort: number;
  previous?: NodeStatus;
  now: string;
}

/** Builds the node status; heartbeat times are `now`, transition times kept when unchanged. */
export function buildNodeStatus(i: NodeStatusInput): NodeStatus {
  const h = i.host;
  const capacity = nodeCapacity(h);
  const memoryPressure = h.memoryAvailableBytes > 0 && h.memoryAvailableBytes < 100 * 1024 * 1024;
  const diskPressure = h.storageBytes > 0 && h.storageAvailableBytes / h.storageBytes < 0.1;
  const specs: ConditionSpec[] = [
    {
      type: "MemoryPressure",
      ok: !memoryPressure,
      reasonOk: "KubeletHasSufficientMemory",
      messageOk: "kubelet has sufficient memory available",
      reasonBad: "KubeletHasInsufficientMemory",
      messageBad: "kubelet has insufficient memory available",
    },
    {
      type: "DiskPressure",
      ok: !diskPressure,
      reasonOk: "KubeletHasNoDiskPressure",
      messageOk: "kubelet has no disk pressure",
      reasonBad: "KubeletHasDiskPressure",
      messageBad: "kubelet has disk pressure",
    },
    {
      type: "PIDPressure",
      ok: true,
      reasonOk: "KubeletHasSufficientPID",
      messageOk: "kubelet has sufficient PID available",
      reasonBad: "KubeletHasInsufficientPID",
      messageBad: "kubelet has insufficient PID available",
    },
    {
      type: "Ready",
      ok: i.runtimeReady,
      reasonOk: "KubeletReady",
      messageOk: "kubelet is posting ready status",
      reasonBad: "KubeletNotReady",
      messageBad: "container runtime is down",
    },
  ];
  const conditions: NodeCondition[] = specs.map((s) => {
    // Pressure conditions are "True" when under pressure; Ready is "True" when fine.
    const status = s.type === "Ready" ? (s.ok ? "True" : "False") : s.ok ? "False" : "True";
    const prev = i.previous?.conditions?.find((c) => c.type === s.type);
    return {
      type: s.type,
      status,
      lastHeartbeatTime: i.now,
      lastTransitionTime:
        prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : i.now,
      reason: s.ok ? s.reasonOk : s.reasonBad,
      message: s.ok ? s.messageOk : s.messageBad,
    };
  });
  const images = [...i.images]
    .sort((a, b) => b.size - a.size)
    .slice(0, 50)
    .map((img) => ({
      names: [`${img.ref.replace(/:[^:/]+$/, "")}@${img.digest}`, img.ref],
      sizeBytes: img.size,
    }));
  return {
    capacity,
    allocatable: { ...capacity },
    conditions,
    addresses: [
      { type: "InternalIP", address: i.nodeIP },
      { type: "Hostname", address: i.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: i.kubeletPort } },
    nodeInfo: {
      machineID: h.machineID,
      systemUUID: h.machineID,
      bootID: h.bootID,
      kernelVersion: h.kernelVersion,
      osImage: h.osImage,
      containerRuntimeVersion: `${i.runtimeScheme}://${i.runtimeVersion}`,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: goOS(),
      architecture: goArch(),
    },
    images,
  };
}

/** The status without heartbeat times, to decide whether anything changed. */
export function statusFingerprint(s: NodeStatus): string {
  return JSON.stringify({
    ...s,
    conditions: s.conditions?.map((c) => ({ ...c, lastHeartbeatTime: undefined })),
  });
}

/** A fresh Node object for registration. */
export function newNode(
  name: string,
  labels: Record<string, string>,
  podCIDR: string,
  status: NodeStatus,
): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels,
      annotations: {
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
    },
    spec: { podCIDR, podCIDRs: [podCIDR] },
    status,
  };
}
