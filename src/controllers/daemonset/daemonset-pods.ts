/**
 * @module How a DaemonSet's pods look, as upstream's daemon/util: the template plus the
 * automatic tolerations every daemon pod gets (not-ready and unreachable NoExecute; disk,
 * memory and pid pressure and unschedulable NoSchedule; network-unavailable for host-network
 * pods), the `controller-revision-hash` and `pod-template-generation` labels, and a required
 * node affinity of `matchFields metadata.name In [<node>]` replacing the template's required
 * terms, so the scheduler binds the pod to its node. Also the node a daemon pod is meant for.
 */
import type { DaemonSet } from "../../api/types/apps-v1.ts";
import type { Affinity, Pod, PodSpec, PodTemplateSpec, Toleration } from "../../api/types/core-v1.ts";
import { CONTROLLER_REVISION_HASH_LABEL } from "../statefulset/statefulset-history.ts";
import { newControllerRef } from "../util/owner-refs.ts";

/** Label with the DaemonSet's template generation (deprecated upstream, still set). */
export const POD_TEMPLATE_GENERATION_LABEL = "pod-template-generation";
/** Annotation upstream keeps the template generation in on apps/v1 DaemonSets. */
export const TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation";

const t = (key: string, effect: "NoExecute" | "NoSchedule"): Toleration => ({
  key,
  operator: "Exists",
  effect,
});

const ALWAYS: readonly Toleration[] = [
  t("node.kubernetes.io/not-ready", "NoExecute"),
  t("node.kubernetes.io/unreachable", "NoExecute"),
  t("node.kubernetes.io/disk-pressure", "NoSchedule"),
  t("node.kubernetes.io/memory-pressure", "NoSchedule"),
  t("node.kubernetes.io/pid-pressure", "NoSchedule"),
  t("node.kubernetes.io/unschedulable", "NoSchedule"),
];
const HOST_NETWORK: readonly Toleration[] = [t("node.kubernetes.io/network-unavailable", "NoSchedule")];

function sameToleration(a: Toleration, b: Toleration): boolean {
  return (
    (a.key ?? "") === (b.key ?? "") &&
    (a.operator || "Equal") === (b.operator || "Equal") &&
    (a.value ?? "") === (b.value ?? "") &&
    (a.effect ?? "") === (b.effect ?? "")
  );
}

/** Adds the automatic daemon tolerations to `spec` in place (upstream's AddOrUpdateDaemonPodTolerations). */
export function addDaemonTolerations(spec: PodSpec): void {
  const tols = (spec.tolerations ??= []);
  const add = (tol: Toleration): void => {
    const i = tols.findIndex((x) => sameToleration(x, tol));
    if (i >= 0) tols[i] = { ...tol };
    else tols.push({ ...tol });
  };
  for (const tol of ALWAYS) add(tol);
  if (spec.hostNetwork) for (const tol of HOST_NETWORK) add(tol);
}

/** The DaemonSet's template generation (annotation if set, else metadata.generation). */
export function templateGeneration(ds: DaemonSet): string {
  return ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? String(ds.metadata.generation ?? 1);
}

/** The template with tolerations and the daemon labels: what every node's pod is made from. */
export function daemonPodTemplate(ds: DaemonSet, hash: string): PodTemplateSpec {
  const tpl = structuredClone(ds.spec?.template ?? {});
  const meta = (tpl.metadata ??= {});
  meta.labels = {
    ...(meta.labels ?? {}),
    [POD_TEMPLATE_GENERATION_LABEL]: templateGeneration(ds),
    [CONTROLLER_REVISION_HASH_LABEL]: hash,
  };
  const spec = (tpl.spec ??= { containers: [] });
  addDaemonTolerations(spec);
  return tpl;
}

/** Affinity requiring node `nodeName` by field, keeping preferred terms and pod (anti)affinity. */
export function replaceNodeNameAffinity(affinity: Affinity | undefined, nodeName: string): Affinity {
  const out: Affinity = structuredClone(affinity ?? {});
  const na = (out.nodeAffinity ??= {});
  na.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }] }],
  };
  return out;
}

/** A new pod for `nodeName` from a template made by {@link daemonPodTemplate}. */
export function newDaemonPod(ds: DaemonSet, template: PodTemplateSpec, nodeName: string): Pod {
  const tmeta = template.metadata ?? {};
  const spec = structuredClone(template.spec ?? { containers: [] });
  spec.affinity = replaceNodeNameAffinity(spec.affinity, nodeName);
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: `${ds.metadata.name}-`,
      namespace: ds.metadata.namespace,
      labels: { ...(tmeta.labels ?? {}) },
      ownerReferences: [newControllerRef(ds, "apps/v1", "DaemonSet")],
    },
    spec,
  };
  if (tmeta.annotations) pod.metadata.annotations = { ...tmeta.annotations };
  if (tmeta.finalizers) pod.metadata.finalizers = [...tmeta.finalizers];
  return pod;
}

/**
 * The node a daemon pod is for: `spec.nodeName` once bound, else the single name in a
 * required `matchFields metadata.name In` term (upstream's GetTargetNodeName).
 */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms) return undefined;
  for (const term of terms) {
    for (const f of term.matchFields ?? []) {
      if (f.key === "metadata.name" && f.operator === "In" && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

/** Whether the pod runs the DaemonSet's current template (upstream's IsPodUpdated). */
export function isPodUpdated(pod: Pod, hash: string, generation: string): boolean {
  const labels = pod.metadata.labels ?? {};
  return (
    labels[CONTROLLER_REVISION_HASH_LABEL] === hash || labels[POD_TEMPLATE_GENERATION_LABEL] === generation
  );
}
