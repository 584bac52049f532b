/**
 * @module How a Job's pods look, as upstream's job controller makes them: the template's
 * labels and annotations, a controller owner reference, the `batch.kubernetes.io/job-tracking`
 * finalizer (held until the controller has counted the pod), and for Indexed Jobs the
 * completion index as annotation and label, `generateName: <job>-<index>-`, hostname
 * `<job>-<index>` and a `JOB_COMPLETION_INDEX` env var read by the kubelet from the
 * annotation (a downward-API fieldRef, as upstream adds it).
 */
import type { Job } from "../../api/types/batch-v1.ts";
import type { Container, EnvVar, Pod, PodSpec } from "../../api/types/core-v1.ts";
import { newControllerRef } from "../util/owner-refs.ts";
import { JOB_COMPLETION_INDEX } from "./job-indexes.ts";

/** The finalizer that keeps a finished pod around until the Job has counted it. */
export const JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking";
/** The env var Indexed Job containers get. */
export const JOB_COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX";

/** Whether the pod still carries the tracking finalizer. */
export function hasTrackingFinalizer(pod: Pod): boolean {
  return pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
}

/** The strategic-merge patch that drops the tracking finalizer (guarded by the pod's uid). */
export function removeTrackingFinalizerPatch(pod: Pod): unknown {
  return {
    metadata: { "$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER], uid: pod.metadata.uid },
  };
}

function addIndexEnv(containers: Container[] | undefined): void {
  const env: EnvVar = {
    name: JOB_COMPLETION_INDEX_ENV,
    valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX}']` } },
  };
  for (const c of containers ?? []) {
    if (c.env?.some((e) => e.name === JOB_COMPLETION_INDEX_ENV)) continue;
    (c.env ??= []).push({ ...env });
  }
}

/** A new pod for `job`, with a completion index when the Job is Indexed. */
export function newJobPod(job: Job, index?: number): Pod {
  const tpl = job.spec?.template ?? {};
  const tmeta = tpl.metadata ?? {};
  const spec: PodSpec = structuredClone(tpl.spec ?? ({ containers: [] } as PodSpec));
  const name = job.metadata.name ?? "";
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: index === undefined ? `${name}-` : `${name}-${index}-`,
      namespace: job.metadata.namespace,
      labels: { ...(tmeta.labels ?? {}) },
      annotations: { ...(tmeta.annotations ?? {}) },
      finalizers: [...(tmeta.finalizers ?? []), JOB_TRACKING_FINALIZER],
      ownerReferences: [newControllerRef(job, "batch/v1", "Job")],
    },
    spec,
  };
  if (index !== undefined) {
    pod.metadata.annotations![JOB_COMPLETION_INDEX] = String(index);
    pod.metadata.labels![JOB_COMPLETION_INDEX] = String(index);
    spec.hostname = `${name}-${index}`;
    addIndexEnv(spec.containers);
    addIndexEnv(spec.initContainers);
  }
  if (Object.keys(pod.metadata.annotations!).length === 0) delete pod.metadata.annotations;
  return pod;
}
