/**
 * @module What every controller gets from the controller manager: the API client, the shared
 * informers, an event recorder, the manager's options and its stop signal. Each controller
 * module exports one `ControllerStarter`; `manager.ts` lists them by name.
 */
import type { Controller } from "../client/controller.ts";
import type { EventRecorder } from "../client/events.ts";
import type { InformerFactory } from "../client/informer.ts";
import type { Client } from "../client/types.ts";

/** Tunables with upstream's defaults (kube-controller-manager flags). */
export interface ControllerOptions {
  /** Node silent this long becomes Ready=Unknown (upstream `--node-monitor-grace-period`, 40 s). */
  nodeMonitorGracePeriodMs: number;
  /** Terminated pods kept before Pod GC deletes the oldest (upstream 12,500). */
  terminatedPodGcThreshold: number;
  /** Workers per controller (upstream's concurrent-*-syncs; 5 for most). */
  workers: number;
  /** PEM of the cluster CA, published in every namespace (upstream `--root-ca-file`); none: not published. */
  rootCA: string;
}

export const defaultControllerOptions: ControllerOptions = {
  nodeMonitorGracePeriodMs: 40_000,
  terminatedPodGcThreshold: 12_500,
  workers: 5,
  rootCA: "",
};

export interface ControllerContext {
  client: Client;
  informers: InformerFactory;
  /** An event recorder whose source component is `component` (e.g. `replicaset-controller`). */
  recorder(component: string): EventRecorder;
  options: ControllerOptions;
  signal: AbortSignal;
}

/**
 * Sets a controller up: registers informers and handlers on `ctx.informers`, and returns the
 * controller loops to run. The manager starts the informers, waits for their sync, then
 * starts every returned loop.
 */
export type ControllerStarter = (ctx: ControllerContext) => Controller[];
