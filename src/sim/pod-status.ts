/**
 * @module The status a simulated kubelet posts for a pod it "started": what a real kubelet
 * reports once every container runs (phase Running, conditions, host and pod IPs, container
 * statuses with kites-sim:// IDs, init containers Completed), or — when the pod carries the
 * annotation `kites.io/sim-exit-code: "N"` — what it reports once the containers exited with
 * code N (Succeeded or Failed with restartPolicy Never, or a restart in CrashLoopBackOff
 * when the policy restarts containers). Pure: no I/O. Times already in the status are kept
 * when nothing changed, so building twice gives the same status and no write is needed.
 */
import type { Container, ContainerStatus, Pod, PodCondition, PodStatus } from "../api/types/core-v1.ts";
import { deepEqual } from "../api/meta.ts";
import { SIM_RUNTIME } from "./sim-node.ts";

/** Annotation that makes every (non-init) container of a simulated pod exit with this code. */
export const SIM_EXIT_CODE_ANNOTATION = "kites.io/sim-exit-code";

/** The exit code a pod asks its simulated containers to exit with (0–255), if any. */
export function simExitCode(pod: Pod): number | undefined {
  const v = pod.metadata.annotations?.[SIM_EXIT_CODE_ANNOTATION];
  if (v === undefined || !/^\d{1,3}$/.test(v.trim())) return undefined;
  const n = Number(v.trim());
  return n <= 255 ? n : undefined;
}

/** Where the pod runs: the node's address, the pod's address, and the time now. */
export interface PodPlacement {
  hostIP: string;
  /** The pod's IP (the host IP for hostNetwork pods). */
  podIP: string;
  now: string;
}

/** True when the pod has finished (no status will change any more). */
export function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

type Outcome = { kind: "running" } | { kind: "exited"; code: number } | { kind: "restarting"; code: number };

function outcomeOf(pod: Pod): Outcome {
  const code = simExitCode(pod);
  if (code === undefined) return { kind: "running" };
  const policy = pod.spec?.restartPolicy ?? "Always";
  if (policy === "Never" || (policy === "OnFailure" && code === 0)) return { kind: "exited", code };
  return { kind: "restarting", code };
}

function condition(
  old: PodCondition | undefined,
  type: string,
  status: "True" | "False",
  now: string,
  reason?: string,
  message?: string,
): PodCondition {
  const c: PodCondition = {
    type,
    status,
    lastTransitionTime: old?.status === status && old.lastTransitionTime ? old.lastTransitionTime : now,
  };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

function imageID(image: string): string {
  return `${SIM_RUNTIME}://${image}`;
}

function containerID(pod: Pod, name: string): string {
  return `${SIM_RUNTIME}://${pod.metadata.uid ?? ""}-${name}`;
}

/** The time a container kept running since, if it was running before. */
function runningSince(old: ContainerStatus | undefined, now: string): string {
  return old?.state?.running?.startedAt ?? now;
}

function regularStatus(
  pod: Pod,
  c: Container,
  old: ContainerStatus | undefined,
  outcome: Outcome,
  now: string,
): ContainerStatus {
  const base = {
    name: c.name,
    image: c.image ?? "",
    imageID: imageID(c.image ?? ""),
    containerID: containerID(pod, c.name),
  };
  if (outcome.kind === "running") {
    return {
      ...base,
      state: { running: { startedAt: runningSince(old, now) } },
      lastState: {},
      ready: true,
      restartCount: 0,
      started: true,
    };
  }
  const startedAt = old?.state?.terminated?.startedAt ?? old?.lastState?.terminated?.startedAt ?? now;
  const finishedAt = old?.state?.terminated?.finishedAt ?? old?.lastState?.terminated?.finishedAt ?? now;
  const terminated = {
    exitCode: outcome.code,
    reason: outcome.code === 0 ? "Completed" : "Error",
    startedAt,
    finishedAt,
    containerID: base.containerID,
  };
  if (outcome.kind === "exited") {
    return { ...base, state: { terminated }, lastState: {}, ready: false, restartCount: 0, started: false };
  }
  const ns = pod.metadata.namespace ?? "default";
  return {
    ...base,
    state: {
      waiting: {
        reason: "CrashLoopBackOff",
        message: `back-off 10s restarting failed container=${c.name} pod=${pod.metadata.name}_${ns}(${pod.metadata.uid ?? ""})`,
      },
    },
    lastState: { terminated },
    ready: false,
    restartCount: 1,
    started: false,
  };
}

function initStatus(
  pod: Pod,
  c: Container,
  old: ContainerStatus | undefined,
  finished: boolean,
  now: string,
): ContainerStatus {
  const base = {
    name: c.name,
    image: c.image ?? "",
    imageID: imageID(c.image ?? ""),
    containerID: containerID(pod, c.name),
  };
  // A restartable init container (a sidecar) keeps running beside the app containers.
  if (c.restartPolicy === "Always" && !finished) {
    return {
      ...base,
      state: { running: { startedAt: runningSince(old, now) } },
      lastState: {},
      ready: true,
      restartCount: 0,
      started: true,
    };
  }
  const t = old?.state?.terminated;
  return {
    ...base,
    state: {
      terminated: {
        exitCode: 0,
        reason: "Completed",
        startedAt: t?.startedAt ?? now,
        finishedAt: t?.finishedAt ?? now,
        containerID: base.containerID,
      },
    },
    lastState: {},
    ready: c.restartPolicy !== "Always",
    restartCount: 0,
    started: false,
  };
}

/** Upstream's Ready condition when readiness gates are not all True, else undefined. */
function readinessGateProblem(pod: Pod, byType: Map<string, PodCondition>): string | undefined {
  for (const g of pod.spec?.readinessGates ?? []) {
    const c = byType.get(g.conditionType);
    if (!c) return `corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`;
    if (c.status !== "True")
      return `the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`;
  }
  return undefined;
}

const KUBELET_CONDITIONS = new Set([
  "PodReadyToStartContainers",
  "Initialized",
  "Ready",
  "ContainersReady",
  "PodScheduled",
]);

/**
 * The status a kubelet would post for `pod` once its containers were started on a node at
 * `where`. Other fields of the existing status (qosClass, nominatedNodeName, conditions owned
 * by others such as readiness-gate or DisruptionTarget conditions) are kept.
 */
export function simPodStatus(pod: Pod, where: PodPlacement): PodStatus {
  const old = pod.status ?? {};
  const now = where.now;
  const outcome = outcomeOf(pod);
  const finished = outcome.kind === "exited";
  const byType = new Map((old.conditions ?? []).map((c) => [c.type, c]));
  const oldRegular = new Map((old.containerStatuses ?? []).map((s) => [s.name, s]));
  const oldInit = new Map((old.initContainerStatuses ?? []).map((s) => [s.name, s]));

  const containers = pod.spec?.containers ?? [];
  const containerStatuses = containers
    .map((c) => regularStatus(pod, c, oldRegular.get(c.name), outcome, now))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const initContainerStatuses = (pod.spec?.initContainers ?? []).map((c) =>
    initStatus(pod, c, oldInit.get(c.name), finished, now),
  );

  const conditions: PodCondition[] = [];
  conditions.push(
    condition(
      byType.get("PodReadyToStartContainers"),
      "PodReadyToStartContainers",
      finished ? "False" : "True",
      now,
    ),
  );
  conditions.push(condition(byType.get("Initialized"), "Initialized", "True", now));
  let readyReason: string | undefined;
  let readyMessage: string | undefined;
  let containersReady = true;
  if (finished) {
    readyReason = "PodCompleted";
    containersReady = false;
  } else {
    const unready = containerStatuses.filter((s) => !s.ready).map((s) => s.name);
    if (unready.length > 0) {
      containersReady = false;
      readyReason = "ContainersNotReady";
      readyMessage = `containers with unready status: [${unready.join(" ")}]`;
    }
  }
  let ready = containersReady;
  let gateReason = readyReason;
  let gateMessage = readyMessage;
  if (ready) {
    const problem = readinessGateProblem(pod, byType);
    if (problem) {
      ready = false;
      gateReason = "ReadinessGatesNotReady";
      gateMessage = problem;
    }
  }
  conditions.push(
    condition(byType.get("Ready"), "Ready", ready ? "True" : "False", now, gateReason, gateMessage),
  );
  conditions.push(
    condition(
      byType.get("ContainersReady"),
      "ContainersReady",
      containersReady ? "True" : "False",
      now,
      readyReason,
      readyMessage,
    ),
  );
  const scheduled = byType.get("PodScheduled");
  conditions.push(
    scheduled?.status === "True" ? scheduled : condition(scheduled, "PodScheduled", "True", now),
  );
  for (const c of old.conditions ?? []) if (!KUBELET_CONDITIONS.has(c.type)) conditions.push(c);

  const status: PodStatus = {
    ...old,
    phase: finished ? (outcome.code === 0 ? "Succeeded" : "Failed") : "Running",
    conditions,
    hostIP: where.hostIP,
    hostIPs: [{ ip: where.hostIP }],
    podIP: where.podIP,
    podIPs: [{ ip: where.podIP }],
    startTime: old.startTime ?? now,
    containerStatuses,
  };
  if (initContainerStatuses.length > 0) status.initContainerStatuses = initContainerStatuses;
  else delete status.initContainerStatuses;
  return status;
}

/** `v` without null or undefined fields, empty objects and empty arrays (as the API may drop them). */
function pruned(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out = v.map(pruned).filter((x) => x !== undefined);
    return out.length > 0 ? out : undefined;
  }
  if (v === null || v === undefined) return undefined;
  if (typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  let any = false;
  for (const [k, x] of Object.entries(v)) {
    const p = pruned(x);
    if (p === undefined) continue;
    out[k] = p;
    any = true;
  }
  return any ? out : undefined;
}

/**
 * True when two statuses say the same thing, ignoring absent-versus-empty differences (an
 * empty `lastState: {}` the server may or may not keep), so a status read back from the
 * API never looks changed and is never written again.
 */
export function sameStatus(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  return deepEqual(pruned(a), pruned(b));
}
