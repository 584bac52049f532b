/**
 * @module The Pod table: NAME READY STATUS RESTARTS AGE, and for `-o wide` IP NODE NOMINATED
 * NODE READINESS GATES. STATUS is derived the way upstream's `printPod` derives it — phase or
 * status reason, `SchedulingGated`, init progress (`Init:1/3`, `Init:CrashLoopBackOff`,
 * `Init:ExitCode:1`), the first container's waiting/terminated reason (`ErrImagePull`,
 * `OOMKilled`, `Signal:9`, `ExitCode:2`), `Completed` turned back into `Running`/`NotReady`
 * while a container still runs, `Terminating`, and `Unknown` for pods on lost nodes.
 */
import type { ContainerStatus, Pod, PodCondition } from "../../api/types/core-v1.ts";
import type { TableRowCondition } from "../../api/types/meta-v1.ts";
import { humanDuration, parseTimestamp, timestampSince } from "./age.ts";
import { AGE_COLUMN, column, columns, nameColumn, printer, type TablePrinter } from "./table.ts";

/** Column definitions of the Pod table. */
export const POD_COLUMNS = columns(
  nameColumn(),
  column("Ready", "string", "Ready containers out of all containers (restartable init containers included)."),
  column("Status", "string", "Summary of the pod's phase and its containers' states."),
  column("Restarts", "string", "Container restarts, and how long ago the most recent one happened."),
  AGE_COLUMN,
  column("IP", "string", "The pod's primary IP address.", 1),
  column("Node", "string", "The node the pod is bound to.", 1),
  column("Nominated Node", "string", "The node the scheduler nominated after preempting pods there.", 1),
  column("Readiness Gates", "string", "Readiness gate conditions that are True, out of all gates.", 1),
);

const SUCCEEDED_CONDITIONS: TableRowCondition[] = [
  { type: "Completed", status: "True", reason: "Succeeded", message: "The pod has completed successfully." },
];
const FAILED_CONDITIONS: TableRowCondition[] = [
  { type: "Completed", status: "True", reason: "Failed", message: "The pod failed." },
];

/** The status reason upstream's node lifecycle controller sets on pods of an unreachable node. */
const NODE_UNREACHABLE_REASON = "NodeLost";

/** The summary cells of a pod: READY, STATUS and RESTARTS, as `printPod` computes them. */
export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

function conditionIs(conditions: readonly PodCondition[] | undefined, type: string): boolean {
  if (!conditions) return false;
  for (const c of conditions) {
    if (c.type === type) return c.status === "True";
  }
  return false;
}

function hasReadyCondition(conditions: readonly PodCondition[] | undefined): boolean {
  if (!conditions) return false;
  for (const c of conditions) {
    if (c.type === "Ready" && c.status === "True") return true;
  }
  return false;
}

function lastTerminatedAt(cs: ContainerStatus): number | undefined {
  return parseTimestamp(cs.lastState?.terminated?.finishedAt);
}

/** Computes READY, STATUS and RESTARTS for a pod at time `now` (epoch ms). */
export function podSummary(pod: Pod, now: number): PodSummary {
  const spec = pod.spec;
  const status = pod.status;
  const initSpecs = spec?.initContainers;
  let totalContainers = spec?.containers?.length ?? 0;
  let readyContainers = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart: number | undefined;
  let lastSidecarRestart: number | undefined;

  const phase = status?.phase ?? "";
  let reason: string = status?.reason || phase;
  const conditions = status?.conditions;
  if (conditions) {
    for (const c of conditions) {
      if (c.type === "PodScheduled" && c.reason === "SchedulingGated") reason = "SchedulingGated";
    }
  }

  // Restartable ("sidecar") init containers count as regular containers.
  let sidecars: Set<string> | undefined;
  if (initSpecs) {
    for (const c of initSpecs) {
      if (c.restartPolicy === "Always") {
        totalContainers++;
        (sidecars ??= new Set()).add(c.name);
      }
    }
  }

  let initializing = false;
  const initStatuses = status?.initContainerStatuses;
  if (initStatuses) {
    for (let i = 0; i < initStatuses.length; i++) {
      const cs = initStatuses[i]!;
      const isSidecar = sidecars !== undefined && sidecars.has(cs.name);
      restarts += cs.restartCount ?? 0;
      const finished = lastTerminatedAt(cs);
      if (finished !== undefined && (lastRestart === undefined || finished > lastRestart))
        lastRestart = finished;
      if (isSidecar) {
        sidecarRestarts += cs.restartCount ?? 0;
        if (finished !== undefined && (lastSidecarRestart === undefined || finished > lastSidecarRestart)) {
          lastSidecarRestart = finished;
        }
      }
      const terminated = cs.state?.terminated;
      const waiting = cs.state?.waiting;
      if (terminated && (terminated.exitCode ?? 0) === 0) continue;
      if (isSidecar && cs.started === true) {
        if (cs.ready) readyContainers++;
        continue;
      }
      if (terminated) {
        if (!terminated.reason) {
          reason = terminated.signal
            ? `Init:Signal:${terminated.signal}`
            : `Init:ExitCode:${terminated.exitCode ?? 0}`;
        } else {
          reason = `Init:${terminated.reason}`;
        }
      } else if (waiting && waiting.reason && waiting.reason !== "PodInitializing") {
        reason = `Init:${waiting.reason}`;
      } else {
        reason = `Init:${i}/${initSpecs?.length ?? 0}`;
      }
      initializing = true;
      break;
    }
  }

  if (!initializing || conditionIs(conditions, "Initialized")) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = status?.containerStatuses;
    if (statuses) {
      for (let i = statuses.length - 1; i >= 0; i--) {
        const cs = statuses[i]!;
        restarts += cs.restartCount ?? 0;
        const finished = lastTerminatedAt(cs);
        if (finished !== undefined && (lastRestart === undefined || finished > lastRestart)) {
          lastRestart = finished;
        }
        const waiting = cs.state?.waiting;
        const terminated = cs.state?.terminated;
        if (waiting && waiting.reason) {
          reason = waiting.reason;
        } else if (terminated && terminated.reason) {
          reason = terminated.reason;
        } else if (terminated) {
          reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
        } else if (cs.ready && cs.state?.running) {
          hasRunning = true;
          readyContainers++;
        }
      }
    }
    // A pod whose first container completed while another still runs is not "Completed".
    if (reason === "Completed" && hasRunning) {
      reason = hasReadyCondition(conditions) ? "Running" : "NotReady";
    }
  }

  if (pod.metadata?.deletionTimestamp) {
    if (status?.reason === NODE_UNREACHABLE_REASON) reason = "Unknown";
    else if (phase !== "Failed" && phase !== "Succeeded") reason = "Terminating";
  }

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) {
    restartsCell = `${restarts} (${humanDuration(now - lastRestart)} ago)`;
  }
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsCell };
}

function readinessGates(pod: Pod): string {
  const gates = pod.spec?.readinessGates;
  if (!gates || gates.length === 0) return "<none>";
  const conditions = pod.status?.conditions ?? [];
  let trueCount = 0;
  for (const gate of gates) {
    for (const c of conditions) {
      if (c.type === gate.conditionType) {
        if (c.status === "True") trueCount++;
        break;
      }
    }
  }
  return `${trueCount}/${gates.length}`;
}

/** Prints pods like upstream's `printPod`, wide columns included. */
export const podPrinter: TablePrinter = printer<Pod>({
  columns: POD_COLUMNS,
  cells(pod, now) {
    const s = podSummary(pod, now);
    const ip = pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || "<none>";
    return [
      pod.metadata?.name ?? "",
      s.ready,
      s.status,
      s.restarts,
      timestampSince(pod.metadata?.creationTimestamp, now),
      ip,
      pod.spec?.nodeName || "<none>",
      pod.status?.nominatedNodeName || "<none>",
      readinessGates(pod),
    ];
  },
  conditions(pod) {
    const phase = pod.status?.phase;
    if (phase === "Succeeded") return SUCCEEDED_CONDITIONS;
    if (phase === "Failed") return FAILED_CONDITIONS;
    return undefined;
  },
});
