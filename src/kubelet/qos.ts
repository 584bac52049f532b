/**
 * @module A pod's QoS class and the cgroup settings its containers get, with upstream's rules:
 * QoS from cpu/memory requests and limits (GetPodQOS); memory limit in bytes, cpu quota in
 * millicores from the limit, cpu shares from the request (`milli × 1024 / 1000`, at least 2,
 * at most 262144), and the pod's cgroup parent `/kites/<qos>/pod<uid>`.
 */
import { parseQuantity, type Quantity } from "../api/quantity.ts";
import type { Container, Pod } from "../api/types/core-v1.ts";

export type QOSClass = "Guaranteed" | "Burstable" | "BestEffort";

const MIN_SHARES = 2;
const MAX_SHARES = 262_144;

function q(v: string | number | undefined): Quantity | undefined {
  if (v === undefined) return undefined;
  const x = parseQuantity(v);
  return x.isZero() ? undefined : x;
}

/** Upstream's QoS class of a pod (init containers included). */
export function podQOS(pod: Pod): QOSClass {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    for (const r of ["cpu", "memory"]) {
      const req = q(c.resources?.requests?.[r]);
      const lim = q(c.resources?.limits?.[r]);
      if (req || lim) any = true;
      if (!lim || (req && req.cmp(lim) !== 0)) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** cpu shares from a request in millicores (upstream MilliCPUToShares). */
export function milliCpuToShares(milli: number): number {
  if (milli <= 0) return MIN_SHARES;
  const shares = Math.floor((milli * 1024) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** Cgroup limits of one container. */
export interface ContainerLimits {
  memoryLimitBytes?: number;
  cpuQuotaMillis?: number;
  cpuShares: number;
}

/** The cgroup limits of `c` (a request defaults to the limit as the API server's defaulting does). */
export function containerLimits(c: Container): ContainerLimits {
  const lim = c.resources?.limits ?? {};
  const req = c.resources?.requests ?? {};
  const memLimit = q(lim.memory);
  const cpuLimit = q(lim.cpu);
  const cpuReq = q(req.cpu) ?? cpuLimit;
  const out: ContainerLimits = { cpuShares: milliCpuToShares(cpuReq ? Number(cpuReq.milliValue()) : 0) };
  if (memLimit) out.memoryLimitBytes = Number(memLimit.value());
  if (cpuLimit) out.cpuQuotaMillis = Number(cpuLimit.milliValue());
  return out;
}

/** The pod's cgroup parent. */
export function podCgroupParent(pod: Pod, qos: QOSClass): string {
  return `/kites/${qos.toLowerCase()}/pod${pod.metadata.uid ?? ""}`;
}
