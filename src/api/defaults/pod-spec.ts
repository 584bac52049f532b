/**
 * @module Defaulting for pod specs, as upstream's pkg/apis/core/v1/defaults.go and the
 * declarative `+default` markers do it: restart and DNS policy, scheduler, grace period,
 * container pull policy and termination message, port protocols, probe timings, volume
 * sources and modes, downward-API field versions. `defaultPodSpec` covers every pod spec
 * (pods and the templates inside workloads); `defaultPodOnlyFields` adds what upstream
 * defaults only on a Pod itself (requests from limits, `enableServiceLinks`, host-network
 * ports). Functions mutate the object they are given, as upstream's defaulters do.
 */
import type {
  Container,
  EphemeralContainer,
  HTTPGetAction,
  LifecycleHandler,
  ObjectFieldSelector,
  PodSpec,
  PodTemplateSpec,
  Probe,
  Volume,
} from "../types/core-v1.ts";

/** Mode 0644 for secret, configMap, downwardAPI and projected volumes. */
export const DEFAULT_VOLUME_MODE = 0o644;
/** Upstream's DefaultTerminationGracePeriodSeconds. */
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
/** Upstream's DefaultSchedulerName. */
export const DEFAULT_SCHEDULER_NAME = "default-scheduler";
/** Upstream's TerminationMessagePathDefault. */
export const DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log";

/**
 * The tag of an image reference as upstream's ParseImageName reports it: the explicit tag,
 * `latest` when neither a tag nor a digest is given, "" for a digest-only reference.
 */
export function imageTag(image: string): string {
  const at = image.indexOf("@");
  const name = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = name.lastIndexOf("/");
  const colon = name.indexOf(":", lastSlash + 1);
  const tag = colon >= 0 ? name.slice(colon + 1) : "";
  if (tag === "" && at < 0) return "latest";
  return tag;
}

/** Pull policy upstream picks for an image with none given: Always for `latest`, else IfNotPresent. */
export function defaultPullPolicy(image: string): "Always" | "IfNotPresent" {
  return imageTag(image) === "latest" ? "Always" : "IfNotPresent";
}

function defaultFieldRef(ref: ObjectFieldSelector | undefined): void {
  if (ref && !ref.apiVersion) ref.apiVersion = "v1";
}

function defaultHTTPGet(action: HTTPGetAction | undefined): void {
  if (!action) return;
  if (!action.path) action.path = "/";
  if (!action.scheme) action.scheme = "HTTP";
}

function defaultProbe(probe: Probe | undefined): void {
  if (!probe) return;
  if (!probe.timeoutSeconds) probe.timeoutSeconds = 1;
  if (!probe.periodSeconds) probe.periodSeconds = 10;
  if (!probe.successThreshold) probe.successThreshold = 1;
  if (!probe.failureThreshold) probe.failureThreshold = 3;
  defaultHTTPGet(probe.httpGet);
}

function defaultLifecycleHandler(h: LifecycleHandler | undefined): void {
  if (h) defaultHTTPGet(h.httpGet);
}

/** Container defaults: pull policy, termination message, port protocols, probes, env field refs. */
export function defaultContainer(c: Container | EphemeralContainer): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = defaultPullPolicy(c.image ?? "");
  if (!c.terminationMessagePath) c.terminationMessagePath = DEFAULT_TERMINATION_MESSAGE_PATH;
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = "File";
  for (const p of c.ports ?? []) if (!p.protocol) p.protocol = "TCP";
  for (const e of c.env ?? []) defaultFieldRef(e.valueFrom?.fieldRef);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  defaultLifecycleHandler(c.lifecycle?.postStart);
  defaultLifecycleHandler(c.lifecycle?.preStop);
}

/** Volume keys that name a volume source (everything but `name`). */
function hasSource(v: Volume): boolean {
  return Object.entries(v).some(([k, val]) => k !== "name" && val !== undefined && val !== null);
}

/** Volume defaults: an empty source becomes `emptyDir: {}`; file modes 0644; hostPath type "". */
export function defaultVolume(v: Volume): void {
  if (!hasSource(v)) v.emptyDir = {};
  if (v.secret && v.secret.defaultMode === undefined) v.secret.defaultMode = DEFAULT_VOLUME_MODE;
  if (v.configMap && v.configMap.defaultMode === undefined) v.configMap.defaultMode = DEFAULT_VOLUME_MODE;
  if (v.downwardAPI) {
    if (v.downwardAPI.defaultMode === undefined) v.downwardAPI.defaultMode = DEFAULT_VOLUME_MODE;
    for (const item of v.downwardAPI.items ?? []) defaultFieldRef(item.fieldRef);
  }
  if (v.projected) {
    if (v.projected.defaultMode === undefined) v.projected.defaultMode = DEFAULT_VOLUME_MODE;
    for (const src of v.projected.sources ?? []) {
      if (src.serviceAccountToken && src.serviceAccountToken.expirationSeconds === undefined) {
        src.serviceAccountToken.expirationSeconds = 3600;
      }
      for (const item of src.downwardAPI?.items ?? []) defaultFieldRef(item.fieldRef);
    }
  }
  if (v.hostPath && v.hostPath.type === undefined) v.hostPath.type = "";
  const claimSpec = v.ephemeral?.volumeClaimTemplate?.spec;
  if (claimSpec && !claimSpec.volumeMode) claimSpec.volumeMode = "Filesystem";
}

/**
 * Fills in what upstream defaults on every pod spec, including templates: restartPolicy
 * Always, dnsPolicy ClusterFirst, schedulerName, terminationGracePeriodSeconds 30, an empty
 * securityContext, the serviceAccount/serviceAccountName pair, and the container and volume
 * defaults above.
 */
export function defaultPodSpec(spec: PodSpec): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = "ClusterFirst";
  if (!spec.restartPolicy) spec.restartPolicy = "Always";
  if (!spec.securityContext) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) {
    spec.terminationGracePeriodSeconds = DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  }
  if (!spec.schedulerName) spec.schedulerName = DEFAULT_SCHEDULER_NAME;
  // Conversion keeps the deprecated `serviceAccount` and `serviceAccountName` in step.
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.ephemeralContainers ?? []) defaultContainer(c);
  for (const v of spec.volumes ?? []) defaultVolume(v);
}

/** Defaults a pod template: its spec as `defaultPodSpec` does (metadata is left as given). */
export function defaultPodTemplateSpec(tpl: PodTemplateSpec): void {
  if (!tpl.spec) tpl.spec = { containers: [] };
  defaultPodSpec(tpl.spec);
}

function requestsFromLimits(c: Container): void {
  const limits = c.resources?.limits;
  if (!limits || !c.resources) return;
  const requests = (c.resources.requests ??= {});
  for (const [k, v] of Object.entries(limits)) if (!(k in requests)) requests[k] = v;
}

function hostNetworkPorts(containers: Container[] | undefined): void {
  for (const c of containers ?? []) {
    for (const p of c.ports ?? []) if (!p.hostPort) p.hostPort = p.containerPort;
  }
}

/**
 * What upstream defaults on a Pod but not on pod templates (SetDefaults_Pod): requests taken
 * from limits where unset, `enableServiceLinks: true`, and with hostNetwork each container
 * port's hostPort set to its containerPort. Call after `defaultPodSpec`.
 */
export function defaultPodOnlyFields(spec: PodSpec): void {
  for (const c of spec.containers ?? []) requestsFromLimits(c);
  for (const c of spec.initContainers ?? []) requestsFromLimits(c);
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null)
    spec.enableServiceLinks = true;
  if (spec.hostNetwork) {
    hostNetworkPorts(spec.containers);
    hostNetworkPorts(spec.initContainers);
  }
}
