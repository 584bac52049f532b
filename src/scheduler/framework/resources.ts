/**
 * @module Resource arithmetic for scheduling: a pod's effective requests (upstream's
 * `resourcehelper.PodRequests`: containers summed, init containers by the max rule with
 * restartable (sidecar) init containers added, plus `spec.overhead`), the "non-zero"
 * requests used for scoring (100m CPU and 200Mi memory for a container that asks for
 * nothing), and a node's allocatable. Quantities become plain numbers once (CPU in
 * millicores, everything else in units), so the per-node checks are number comparisons.
 */
import { parseQuantity } from "../../api/quantity.ts";
import type { Container, Node, Pod } from "../../api/types/core-v1.ts";

/** Upstream's `DefaultMilliCPURequest`. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** Upstream's `DefaultMemoryRequest` (200 MiB). */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** A set of resource amounts: the four well-known ones as fields, the rest in `scalar`. */
export interface Resources {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Allowed pod count (allocatable only). */
  pods: number;
  /** Extended resources, hugepages and the like, by name; null when none. */
  scalar: Map<string, number> | null;
}

/** An all-zero resource set. */
export function emptyResources(): Resources {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: null };
}

const milliCache = new Map<string, number>();
const valueCache = new Map<string, number>();

/** A quantity in thousandths (CPU), cached by its text; unparseable counts as 0. */
export function milliValue(q: string | number | undefined): number {
  if (q === undefined) return 0;
  const key = String(q);
  let v = milliCache.get(key);
  if (v === undefined) {
    try {
      v = Number(parseQuantity(q).milliValue());
    } catch {
      v = 0;
    }
    if (milliCache.size < 10_000) milliCache.set(key, v);
  }
  return v;
}

/** A quantity in units rounded up (memory, storage, extended resources), cached by text. */
export function unitValue(q: string | number | undefined): number {
  if (q === undefined) return 0;
  const key = String(q);
  let v = valueCache.get(key);
  if (v === undefined) {
    try {
      v = Number(parseQuantity(q).value());
    } catch {
      v = 0;
    }
    if (valueCache.size < 10_000) valueCache.set(key, v);
  }
  return v;
}

type ResourceList = Record<string, string | number> | undefined;

/** Whether `name` is an extended/scalar resource the fit check counts (not cpu/memory/…). */
function isScalar(name: string): boolean {
  return name !== "cpu" && name !== "memory" && name !== "ephemeral-storage" && name !== "pods";
}

/** Adds a resource list into `into`. */
function addList(into: Resources, list: ResourceList): void {
  if (!list) return;
  for (const name in list) {
    const q = list[name];
    switch (name) {
      case "cpu":
        into.milliCPU += milliValue(q);
        break;
      case "memory":
        into.memory += unitValue(q);
        break;
      case "ephemeral-storage":
        into.ephemeralStorage += unitValue(q);
        break;
      case "pods":
        into.pods += unitValue(q);
        break;
      default:
        if (isScalar(name)) {
          into.scalar ??= new Map();
          into.scalar.set(name, (into.scalar.get(name) ?? 0) + unitValue(q));
        }
    }
  }
}

function addResources(into: Resources, r: Resources): void {
  into.milliCPU += r.milliCPU;
  into.memory += r.memory;
  into.ephemeralStorage += r.ephemeralStorage;
  if (r.scalar) {
    into.scalar ??= new Map();
    for (const [k, v] of r.scalar) into.scalar.set(k, (into.scalar.get(k) ?? 0) + v);
  }
}

function maxResources(into: Resources, r: Resources): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  if (r.scalar) {
    into.scalar ??= new Map();
    for (const [k, v] of r.scalar) into.scalar.set(k, Math.max(into.scalar.get(k) ?? 0, v));
  }
}

function copyResources(r: Resources): Resources {
  return { ...r, scalar: r.scalar ? new Map(r.scalar) : null };
}

/**
 * A container's requests. Requests absent but limits present count the limits, as API
 * defaulting would have set them. With `nonZero`, CPU and memory of 0 become the defaults.
 */
function containerRequests(c: Container, nonZero: boolean): Resources {
  const r = emptyResources();
  const req = c.resources?.requests as ResourceList;
  const lim = c.resources?.limits as ResourceList;
  addList(r, req);
  if (lim) {
    for (const name in lim) {
      if (req && name in req) continue;
      addList(r, { [name]: lim[name]! });
    }
  }
  if (nonZero) {
    if (r.milliCPU === 0) r.milliCPU = DEFAULT_MILLI_CPU_REQUEST;
    if (r.memory === 0) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * A pod's effective requests, as upstream computes them: sum of containers; each
 * restartable init container (restartPolicy Always) adds to that sum and to the running
 * sidecar total; every init container needs its own request plus the sidecars started
 * before it; the pod needs the max of the sum and those; then `spec.overhead` is added.
 */
export function podRequests(pod: Pod, nonZero = false): Resources {
  const spec = pod.spec;
  const reqs = emptyResources();
  if (!spec) return reqs;
  for (const c of spec.containers ?? []) addResources(reqs, containerRequests(c, nonZero));
  const sidecars = emptyResources();
  const initMax = emptyResources();
  for (const c of spec.initContainers ?? []) {
    const cr = containerRequests(c, nonZero);
    if (c.restartPolicy === "Always") {
      addResources(reqs, cr);
      addResources(sidecars, cr);
      maxResources(initMax, sidecars);
    } else {
      const tmp = copyResources(cr);
      addResources(tmp, sidecars);
      maxResources(initMax, tmp);
    }
  }
  maxResources(reqs, initMax);
  addList(reqs, spec.overhead as ResourceList);
  return reqs;
}

/** A node's allocatable (falling back to capacity, as the kubelet reports both). */
export function nodeAllocatable(node: Node): Resources {
  const r = emptyResources();
  addList(r, (node.status?.allocatable ?? node.status?.capacity) as ResourceList);
  return r;
}
