/**
 * @module How a StatefulSet's pods look: stable names `<set>-<ordinal>`, the identity labels
 * (`statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index`), the revision label
 * (`controller-revision-hash: <revision name>`), hostname = pod name and subdomain = the
 * governing service, as upstream's stateful_set_utils.go. Volume claim templates: this API
 * serves no PersistentVolumeClaims, so a claim the containers mount is stood in for by an
 * emptyDir volume of the same name (storage that lives as long as the pod, not the ordinal).
 */
import type { StatefulSet } from "../../api/types/apps-v1.ts";
import type { Pod, PodSpec, PodTemplateSpec, Volume } from "../../api/types/core-v1.ts";
import { CONTROLLER_REVISION_HASH_LABEL } from "./statefulset-history.ts";
import { newControllerRef } from "../util/owner-refs.ts";

/** Label with the pod's own name (lets a Service select one replica). */
export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
/** Label with the pod's ordinal (upstream 1.28+). */
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

const ORDINAL_RE = /^(.*)-([0-9]+)$/;

/** The ordinal of a pod of `setName` from its name, or -1 when the name is not `<set>-<n>`. */
export function ordinalOf(pod: Pod, setName?: string): number {
  const m = ORDINAL_RE.exec(pod.metadata.name ?? "");
  if (!m) return -1;
  if (setName !== undefined && m[1] !== setName) return -1;
  const n = Number(m[2]);
  return Number.isSafeInteger(n) && n <= 2147483647 ? n : -1;
}

/** Whether a pod belongs to `set` by name (upstream's `isMemberOf`). */
export function isMemberOf(set: StatefulSet, pod: Pod): boolean {
  return ordinalOf(pod, set.metadata.name) >= 0;
}

/** The pod's revision (its `controller-revision-hash` label). */
export function podRevision(pod: Pod): string | undefined {
  return pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
}

/** The first ordinal of the set (`spec.ordinals.start`, default 0). */
export function startOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

/** Whether the pod carries the identity `set` gives ordinal-named pods (upstream's `identityMatches`). */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const ord = ordinalOf(pod, set.metadata.name);
  const name = pod.metadata.name;
  const labels = pod.metadata.labels ?? {};
  return (
    ord >= 0 &&
    pod.metadata.namespace === set.metadata.namespace &&
    labels[POD_NAME_LABEL] === name &&
    labels[POD_INDEX_LABEL] === String(ord) &&
    (pod.spec?.hostname ?? "") === name &&
    (pod.spec?.subdomain ?? "") === (set.spec?.serviceName ?? "")
  );
}

/** Sets the identity fields on `pod` in place (upstream's `updateIdentity`). */
export function updateIdentity(set: StatefulSet, pod: Pod): void {
  const name = pod.metadata.name ?? "";
  const labels = (pod.metadata.labels ??= {});
  labels[POD_NAME_LABEL] = name;
  labels[POD_INDEX_LABEL] = String(ordinalOf(pod));
  const spec = (pod.spec ??= { containers: [] } as PodSpec);
  spec.hostname = name;
  const svc = set.spec?.serviceName ?? "";
  if (svc) spec.subdomain = svc;
  else delete spec.subdomain;
}

/** emptyDir stand-ins for the claim templates the pod spec has no volume for. */
function claimVolumes(set: StatefulSet, spec: PodSpec): void {
  const claims = set.spec?.volumeClaimTemplates;
  if (!claims || claims.length === 0) return;
  const volumes: Volume[] = (spec.volumes ??= []);
  const have = new Set(volumes.map((v) => v.name));
  for (const c of claims) {
    const name = c.metadata?.name;
    if (!name || have.has(name)) continue;
    volumes.push({ name, emptyDir: {} });
    have.add(name);
  }
}

/**
 * A new pod for `ordinal` from `template` (the template of the revision it is made from),
 * labelled with `revision` (the revision's name).
 */
export function newStatefulSetPod(
  set: StatefulSet,
  template: PodTemplateSpec,
  ordinal: number,
  revision: string,
): Pod {
  const name = `${set.metadata.name}-${ordinal}`;
  const tmeta = template.metadata ?? {};
  const spec = structuredClone(template.spec ?? ({ containers: [] } as PodSpec));
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: set.metadata.namespace,
      labels: { ...(tmeta.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: revision },
      ownerReferences: [newControllerRef(set, "apps/v1", "StatefulSet")],
    },
    spec,
  };
  if (tmeta.annotations) pod.metadata.annotations = { ...tmeta.annotations };
  if (tmeta.finalizers) pod.metadata.finalizers = [...tmeta.finalizers];
  updateIdentity(set, pod);
  claimVolumes(set, spec);
  return pod;
}
