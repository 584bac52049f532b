/**
 * @module Upstream's Priority admission for pod creates: the pod's `priorityClassName` (or,
 * when it names none, the class marked `globalDefault`, the lowest if several) becomes
 * `spec.priority` and `spec.preemptionPolicy`; a class that does not exist, or a priority the
 * pod sets itself that disagrees with its class, is refused with 403 Forbidden. Classes are
 * read from the PriorityClass watch cache, with a datastore read before refusing a name the
 * cache does not have yet (it may have been created a moment ago).
 */
import type { KubeObject } from "../../api/object.ts";
import { forbidden, isNotFound } from "../../api/status-error.ts";
import type { Pod } from "../../api/types/core-v1.ts";
import type { PriorityClass } from "../../api/types/scheduling-v1.ts";
import type { ResourceStore } from "../registry/store.ts";

const PODS = { group: "", resource: "pods" };

/** The built-in classes upstream's API server creates at start. */
export const SYSTEM_PRIORITY_CLASSES: readonly { name: string; value: number }[] = [
  { name: "system-node-critical", value: 2_000_001_000 },
  { name: "system-cluster-critical", value: 2_000_000_000 },
];

async function classNamed(classes: ResourceStore, name: string): Promise<PriorityClass | undefined> {
  await classes.cache.ready;
  const cached = classes.cache.get(classes.key("", name));
  if (cached) return cached.obj as unknown as PriorityClass;
  try {
    return (await classes.get("", name)).obj as unknown as PriorityClass;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function globalDefault(classes: ResourceStore): Promise<PriorityClass | undefined> {
  await classes.cache.ready;
  let best: PriorityClass | undefined;
  for (const c of classes.cache.list(classes.info.storageRoot)) {
    const pc = c.obj as unknown as PriorityClass;
    if (pc.globalDefault && (!best || pc.value < best.value)) best = pc;
  }
  return best;
}

/** Admits a pod being created: fills in its priority or throws 403. */
export async function admitPodPriority(obj: KubeObject, classes: ResourceStore): Promise<void> {
  const pod = obj as unknown as Pod;
  const spec = pod.spec;
  if (!spec) return;
  const name = pod.metadata.name ?? pod.metadata.generateName ?? "";
  let value = 0;
  let policy: "Never" | "PreemptLowerPriority" = "PreemptLowerPriority";
  if (spec.priorityClassName) {
    const pc = await classNamed(classes, spec.priorityClassName);
    if (!pc) throw forbidden(PODS, name, `no PriorityClass with name ${spec.priorityClassName} was found`);
    value = pc.value;
    policy = (pc.preemptionPolicy as typeof policy | undefined) ?? policy;
  } else {
    const pc = await globalDefault(classes);
    if (pc) {
      spec.priorityClassName = pc.metadata.name;
      value = pc.value;
      policy = (pc.preemptionPolicy as typeof policy | undefined) ?? policy;
    }
  }
  if (spec.priority !== undefined && spec.priority !== null && spec.priority !== value) {
    throw forbidden(
      PODS,
      name,
      `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`,
    );
  }
  if (spec.preemptionPolicy && spec.preemptionPolicy !== policy) {
    throw forbidden(
      PODS,
      name,
      `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`,
    );
  }
  spec.priority = value;
  spec.preemptionPolicy = policy;
}
