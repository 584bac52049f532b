/**
 * @module A pod's status as upstream's kubelet computes it (generateAPIPodStatus): container
 * statuses from the runtime's containers (newest attempt is the state, the one before is
 * lastState, waiting reasons from the worker), the phase (getPhase), the conditions
 * PodReadyToStartContainers, Initialized, Ready, ContainersReady (others such as PodScheduled
 * are kept), IPs, start time and QoS class.
 */
import type {
  Container,
  ContainerStatus as ApiContainerStatus,
  Pod,
  PodCondition,
  PodStatus,
} from "../api/types/core-v1.ts";
import type { ContainerStatus } from "../runtime/types.ts";
import { podQOS } from "./qos.ts";

/** Why a container is waiting, as set by the pod worker. */
export interface Waiting {
  reason: string;
  message?: string;
}

/** Everything status computation reads. */
export interface StatusInput {
  pod: Pod;
  /** The pod's containers in the runtime, every attempt still present. */
  containers: readonly ContainerStatus[];
  /** Waiting reasons by container name (ErrImagePull, CrashLoopBackOff, …). */
  waiting: ReadonlyMap<string, Waiting>;
  ready(c: ContainerStatus, spec: Container): boolean;
  started(c: ContainerStatus, spec: Container): boolean;
  podIPs: string[];
  hostIPs: string[];
  sandboxReady: boolean;
  /** The pod is done (its containers were killed for good): only Succeeded or Failed remain. */
  terminal: boolean;
  /** Set by the worker for pods it failed (DeadlineExceeded). */
  failure?: { reason: string; message: string };
  startTime: string;
  runtimeName: string;
  now: string;
}

/** Picks the newest and the previous attempt of each container name. */
export function attemptsByName(containers: readonly ContainerStatus[]): Map<string, ContainerStatus[]> {
  const m = new Map<string, ContainerStatus[]>();
  for (const c of containers) {
    let l = m.get(c.name);
    if (!l) m.set(c.name, (l = []));
    l.push(c);
  }
  for (const l of m.values())
    l.sort((a, b) => b.attempt - a.attempt || Date.parse(b.createdAt) - Date.parse(a.createdAt));
  return m;
}

function imageId(c: ContainerStatus): string {
  if (!c.imageId && !c.imageRef) return "";
  const repo = c.imageRef.replace(/@.*$/, "").replace(/:[^:/]+$/, "");
  return c.imageRef.includes("@") ? c.imageRef : `${repo}@${c.imageId}`;
}

function terminated(
  c: ContainerStatus,
  runtimeName: string,
): NonNullable<ApiContainerStatus["state"]>["terminated"] {
  const t: NonNullable<NonNullable<ApiContainerStatus["state"]>["terminated"]> = {
    exitCode: c.exitCode ?? 0,
    reason: c.reason ?? ((c.exitCode ?? 0) === 0 ? "Completed" : "Error"),
    startedAt: c.startedAt ?? c.createdAt,
    finishedAt: c.finishedAt ?? c.startedAt ?? c.createdAt,
    containerID: `${runtimeName}://${c.id}`,
  };
  if (c.message) t.message = c.message;
  return t;
}

function containerStatus(
  spec: Container,
  attempts: ContainerStatus[] | undefined,
  waiting: Waiting | undefined,
  defaultWaiting: string,
  input: StatusInput,
): ApiContainerStatus {
  const latest = attempts?.[0];
  const prev = attempts?.[1];
  if (!latest) {
    return {
      name: spec.name,
      state: {
        waiting: {
          reason: waiting?.reason ?? defaultWaiting,
          ...(waiting?.message ? { message: waiting.message } : {}),
        },
      },
      lastState: {},
      ready: false,
      restartCount: 0,
      image: spec.image ?? "",
      imageID: "",
      started: false,
    };
  }
  const s: ApiContainerStatus = {
    name: spec.name,
    state: {},
    lastState: {},
    ready: false,
    restartCount: latest.attempt,
    image: latest.imageRef || (spec.image ?? ""),
    imageID: imageId(latest),
    containerID: `${input.runtimeName}://${latest.id}`,
    started: false,
  };
  if (latest.state === "running") {
    s.state = { running: { startedAt: latest.startedAt ?? latest.createdAt } };
    s.started = input.started(latest, spec);
    s.ready = s.started && input.ready(latest, spec);
    if (prev && prev.state === "exited") s.lastState = { terminated: terminated(prev, input.runtimeName) };
  } else if (latest.state === "exited" && waiting) {
    s.state = {
      waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) },
    };
    s.lastState = { terminated: terminated(latest, input.runtimeName) };
  } else if (latest.state === "exited") {
    s.state = { terminated: terminated(latest, input.runtimeName) };
    if (prev && prev.state === "exited") s.lastState = { terminated: terminated(prev, input.runtimeName) };
  } else {
    s.state = {
      waiting: {
        reason: waiting?.reason ?? "ContainerCreating",
        ...(waiting?.message ? { message: waiting.message } : {}),
      },
    };
    if (prev && prev.state === "exited") s.lastState = { terminated: terminated(prev, input.runtimeName) };
  }
  return s;
}

/** True for init containers that keep running beside the app (sidecars). */
export function isSidecar(c: Container): boolean {
  return c.restartPolicy === "Always";
}

/** Upstream's getPhase. */
export function podPhase(
  pod: Pod,
  init: readonly ApiContainerStatus[],
  app: readonly ApiContainerStatus[],
  terminal: boolean,
): string {
  const spec = pod.spec;
  const policy = spec?.restartPolicy ?? "Always";
  const find = (l: readonly ApiContainerStatus[], n: string): ApiContainerStatus | undefined =>
    l.find((s) => s.name === n);
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of spec?.initContainers ?? []) {
    const s = find(init, c.name);
    if (!s) {
      pendingInit++;
      continue;
    }
    if (isSidecar(c)) {
      if (s.state?.running) {
        if (!s.started) pendingInit++;
      } else if (s.state?.terminated) pendingInit++;
      else if (s.state?.waiting) {
        if (!s.lastState?.terminated) pendingInit++;
      } else pendingInit++;
      continue;
    }
    if (s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) {
        if (s.lastState.terminated.exitCode !== 0) failedInit++;
      } else pendingInit++;
    } else pendingInit++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of spec?.containers ?? []) {
    const s = find(app, c.name);
    if (!s) {
      unknown++;
      continue;
    }
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInit > 0 && policy === "Never") return "Failed";
  const anyAppStarted = app.some((s) => s.state?.running || s.state?.terminated || s.lastState?.terminated);
  if ((pendingInit > 0 && !anyAppStarted) || waiting > 0) return "Pending";
  if (running > 0 && unknown === 0) return "Running";
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (terminal) return stopped === succeeded ? "Succeeded" : "Failed";
    if (policy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    if (policy === "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

const KUBELET_CONDITIONS = new Set(["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"]);

function condition(type: string, ok: boolean, reason?: string, message?: string): PodCondition {
  const c: PodCondition = { type, status: ok ? "True" : "False", lastProbeTime: null as unknown as string };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

/** Computes the whole status. */
export function computePodStatus(input: StatusInput): PodStatus {
  const { pod } = input;
  const spec = pod.spec;
  const byName = attemptsByName(input.containers);
  const initSpecs = spec?.initContainers ?? [];
  const initStatuses = initSpecs.map((c) =>
    containerStatus(c, byName.get(c.name), input.waiting.get(c.name), "PodInitializing", input),
  );
  const initDone =
    initSpecs.every((c, i) => {
      const s = initStatuses[i]!;
      if (isSidecar(c)) return !!s.state?.running && s.started === true;
      return s.state?.terminated?.exitCode === 0;
    }) || (spec?.containers ?? []).some((c) => byName.has(c.name));
  const appStatuses = (spec?.containers ?? [])
    .map((c) =>
      containerStatus(
        c,
        byName.get(c.name),
        input.waiting.get(c.name),
        initDone ? "ContainerCreating" : "PodInitializing",
        input,
      ),
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const prevPhase = pod.status?.phase;
  let phase = podPhase(pod, initStatuses, appStatuses, input.terminal);
  if (prevPhase === "Succeeded" || prevPhase === "Failed") phase = prevPhase;
  if (input.failure) phase = "Failed";
  if (input.terminal && phase !== "Succeeded" && phase !== "Failed") phase = "Failed";

  const completed = phase === "Succeeded";
  const incompleteInit = initSpecs.filter((c, i) => {
    const s = initStatuses[i]!;
    return isSidecar(c) ? !(s.state?.running && s.started) : s.state?.terminated?.exitCode !== 0;
  });
  const initialized = initDone
    ? condition("Initialized", true)
    : condition(
        "Initialized",
        false,
        completed ? "PodCompleted" : "ContainersNotInitialized",
        completed
          ? undefined
          : `containers with incomplete status: [${incompleteInit.map((c) => c.name).join(" ")}]`,
      );
  const unready = appStatuses.filter((s) => !s.ready).map((s) => s.name);
  const unknown = (spec?.containers ?? []).filter((c) => !byName.has(c.name)).map((c) => c.name);
  let readyMsg = "";
  if (unknown.length > 0) readyMsg = `containers with unknown status: [${unknown.join(" ")}]`;
  if (unready.length > 0)
    readyMsg += `${readyMsg ? ", " : ""}containers with unready status: [${unready.join(" ")}]`;
  const containersReady =
    unready.length === 0
      ? condition("ContainersReady", true)
      : completed
        ? condition("ContainersReady", false, "PodCompleted")
        : condition("ContainersReady", false, "ContainersNotReady", readyMsg);
  let ready = { ...containersReady, type: "Ready" };
  if (containersReady.status === "True") {
    for (const g of spec?.readinessGates ?? []) {
      const c = pod.status?.conditions?.find((x) => x.type === g.conditionType);
      if (!c) {
        ready = condition(
          "Ready",
          false,
          "ReadinessGatesNotReady",
          `corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`,
        );
        break;
      }
      if (c.status !== "True") {
        ready = condition(
          "Ready",
          false,
          "ReadinessGatesNotReady",
          `the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`,
        );
        break;
      }
    }
  }
  const readyToStart = condition("PodReadyToStartContainers", input.sandboxReady);
  const fresh = [readyToStart, initialized, ready, containersReady];
  const old = pod.status?.conditions ?? [];
  for (const c of fresh) {
    const prev = old.find((o) => o.type === c.type);
    c.lastTransitionTime =
      prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : input.now;
  }
  const conditions = [...fresh, ...old.filter((o) => !KUBELET_CONDITIONS.has(o.type))];

  const status: PodStatus = {
    ...(pod.status ?? {}),
    phase,
    conditions,
    hostIP: input.hostIPs[0],
    hostIPs: input.hostIPs.map((ip) => ({ ip })),
    startTime: input.startTime,
    containerStatuses: appStatuses,
    qosClass: podQOS(pod),
  };
  if (input.podIPs.length > 0) {
    status.podIP = input.podIPs[0];
    status.podIPs = input.podIPs.map((ip) => ({ ip }));
  }
  if (initSpecs.length > 0) status.initContainerStatuses = initStatuses;
  else delete status.initContainerStatuses;
  if (input.failure) {
    status.reason = input.failure.reason;
    status.message = input.failure.message;
  }
  return status;
}
