/**
 * @module Liveness, readiness and startup probes, one timer per probe of a running container
 * (upstream's prober workers): the first run waits `initialDelaySeconds` after the container
 * started, then every `periodSeconds`; a result flips only after `successThreshold` or
 * `failureThreshold` consecutive equal results. Readiness starts failed, liveness starts
 * successful, and neither runs until the startup probe (if any) has succeeded. Failures are
 * reported as `Unhealthy` warnings; a failed liveness or startup probe asks the pod's worker
 * to restart the container, which it does serialized with everything else about the pod.
 */
import type { Container, Pod, Probe } from "../api/types/core-v1.ts";
import type { ContainerRuntime } from "../runtime/types.ts";
import { runExec, runHttpGet, runTcp, type ActionResult } from "./actions.ts";

export type ProbeType = "liveness" | "readiness" | "startup";

/** What the probe manager reports to the agent. */
export interface ProbeCallbacks {
  /** A readiness or startup result changed, or a liveness/startup probe failed: re-sync the pod. */
  changed(podUid: string): void;
  /** A probe attempt failed (the `Unhealthy` warning event). */
  unhealthy(pod: Pod, container: string, type: ProbeType, output: string): void;
}

const TITLE: Record<ProbeType, string> = { liveness: "Liveness", readiness: "Readiness", startup: "Startup" };

interface Worker {
  type: ProbeType;
  probe: Probe;
  timer?: NodeJS.Timeout;
  result: boolean | undefined;
  lastRaw: boolean | undefined;
  run: number;
  stopped: boolean;
  /** Liveness/startup failed: hold until the container is replaced. */
  onHold: boolean;
}

interface ContainerProbes {
  podUid: string;
  containerId: string;
  workers: Worker[];
}

/** Runs the probes of every running container on the node. */
export class ProbeManager {
  private readonly byContainer = new Map<string, ContainerProbes>();
  private readonly byPod = new Map<string, Set<string>>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly cb: ProbeCallbacks,
    /** Length of a probe "second" in ms (tests shorten it; timeouts are not scaled). */
    private readonly msPerSecond = 1000,
  ) {}

  /** Starts the probes of a running container (no-op when already started for this id). */
  ensure(pod: Pod, container: Container, containerId: string, podIP: string, startedAtMs: number): void {
    if (this.byContainer.has(containerId)) return;
    const podUid = pod.metadata.uid ?? "";
    const entry: ContainerProbes = { podUid, containerId, workers: [] };
    const specs: [ProbeType, Probe | undefined][] = [
      ["startup", container.startupProbe],
      ["readiness", container.readinessProbe],
      ["liveness", container.livenessProbe],
    ];
    for (const [type, probe] of specs) {
      if (!probe) continue;
      entry.workers.push({
        type,
        probe,
        result: type === "liveness" ? true : type === "readiness" ? false : undefined,
        lastRaw: undefined,
        run: 0,
        stopped: false,
        onHold: false,
      });
    }
    if (entry.workers.length === 0) return;
    this.byContainer.set(containerId, entry);
    let set = this.byPod.get(podUid);
    if (!set) this.byPod.set(podUid, (set = new Set()));
    set.add(containerId);
    for (const w of entry.workers) {
      const delay = Math.max(
        0,
        startedAtMs + (w.probe.initialDelaySeconds ?? 0) * this.msPerSecond - Date.now(),
      );
      this.schedule(entry, w, pod, container, podIP, delay);
    }
  }

  private schedule(
    entry: ContainerProbes,
    w: Worker,
    pod: Pod,
    c: Container,
    podIP: string,
    delayMs: number,
  ): void {
    if (w.stopped) return;
    w.timer = setTimeout(() => {
      void this.tick(entry, w, pod, c, podIP).then(() => {
        this.schedule(entry, w, pod, c, podIP, (w.probe.periodSeconds ?? 10) * this.msPerSecond);
      });
    }, delayMs);
    w.timer.unref?.();
  }

  private async tick(
    entry: ContainerProbes,
    w: Worker,
    pod: Pod,
    c: Container,
    podIP: string,
  ): Promise<void> {
    if (w.stopped || w.onHold) return;
    if (w.type === "startup" && w.result === true) return;
    if (w.type !== "startup" && !this.startupPassed(entry)) return;
    const r = await this.execute(w.probe, entry.containerId, c, podIP);
    if (w.stopped) return;
    if (!r.ok) this.cb.unhealthy(pod, c.name, w.type, r.output);
    if (w.lastRaw === r.ok) w.run++;
    else {
      w.lastRaw = r.ok;
      w.run = 1;
    }
    const threshold = r.ok ? (w.probe.successThreshold ?? 1) : (w.probe.failureThreshold ?? 3);
    if (w.run < threshold) return;
    const changed = w.result !== r.ok;
    w.result = r.ok;
    if (!r.ok && (w.type === "liveness" || w.type === "startup")) {
      w.onHold = true;
      this.cb.changed(entry.podUid);
      return;
    }
    if (changed) this.cb.changed(entry.podUid);
  }

  private startupPassed(entry: ContainerProbes): boolean {
    const s = entry.workers.find((w) => w.type === "startup");
    return !s || s.result === true;
  }

  /** Runs one probe attempt. */
  private execute(p: Probe, containerId: string, c: Container, podIP: string): Promise<ActionResult> {
    const timeoutMs = (p.timeoutSeconds ?? 1) * 1000;
    if (p.exec) return runExec(this.runtime, containerId, p.exec, timeoutMs);
    if (p.httpGet) return runHttpGet(p.httpGet, c, podIP, timeoutMs);
    if (p.tcpSocket) return runTcp(p.tcpSocket, c, podIP, timeoutMs);
    return Promise.resolve({
      ok: false,
      output: "probe has no supported handler (grpc probes are not supported)",
    });
  }

  /** Readiness of a container: its readiness probe's result, or started when it has none. */
  isReady(containerId: string, container: Container): boolean {
    const entry = this.byContainer.get(containerId);
    if (!entry) return !container.readinessProbe && !container.startupProbe;
    if (!this.startupPassed(entry)) return false;
    const r = entry.workers.find((w) => w.type === "readiness");
    return r ? r.result === true : true;
  }

  /** Whether the startup probe passed (true without one). */
  isStarted(containerId: string, container: Container): boolean {
    const entry = this.byContainer.get(containerId);
    if (!entry) return !container.startupProbe;
    return this.startupPassed(entry);
  }

  /** The probe that failed and wants the container restarted, if any. */
  failed(containerId: string): "liveness" | "startup" | undefined {
    const entry = this.byContainer.get(containerId);
    const w = entry?.workers.find((x) => x.onHold);
    return w ? (w.type as "liveness" | "startup") : undefined;
  }

  /** The grace period a failed probe asks for (probe-level terminationGracePeriodSeconds). */
  failedGrace(containerId: string): number | undefined {
    const w = this.byContainer.get(containerId)?.workers.find((x) => x.onHold);
    return w?.probe.terminationGracePeriodSeconds;
  }

  /** Stops the probes of one container. */
  stopContainer(containerId: string): void {
    const entry = this.byContainer.get(containerId);
    if (!entry) return;
    for (const w of entry.workers) {
      w.stopped = true;
      if (w.timer) clearTimeout(w.timer);
    }
    this.byContainer.delete(containerId);
    this.byPod.get(entry.podUid)?.delete(containerId);
  }

  /** Stops every probe of a pod. */
  stopPod(podUid: string): void {
    for (const id of [...(this.byPod.get(podUid) ?? [])]) this.stopContainer(id);
    this.byPod.delete(podUid);
  }

  /** Container ids with probes of a pod (to stop the stale ones). */
  containersOf(podUid: string): ReadonlySet<string> {
    return this.byPod.get(podUid) ?? new Set();
  }

  /** Stops everything. */
  stopAll(): void {
    for (const id of [...this.byContainer.keys()]) this.stopContainer(id);
  }
}

/** Upstream's event message of a failed probe attempt. */
export function unhealthyMessage(type: ProbeType, output: string): string {
  return `${TITLE[type]} probe failed: ${output}`;
}
