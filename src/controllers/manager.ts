/**
 * @module The controller manager: one client, one set of shared informers and the
 * controllers listed in `registry.ts`, started together. Each controller registers its
 * informers and handlers, the informers start and sync, then every controller loop runs
 * until the signal aborts. A controller whose starter throws is reported and skipped; the
 * others still run.
 */
import { setMaxListeners } from "node:events";
import type { Controller } from "../client/controller.ts";
import { EventRecorder } from "../client/events.ts";
import { InformerFactory } from "../client/informer.ts";
import type { Client } from "../client/types.ts";
import { defaultControllerOptions, type ControllerContext, type ControllerOptions } from "./context.ts";
import { controllerStarters } from "./registry.ts";

export interface ControllerManagerConfig {
  client: Client;
  options?: Partial<ControllerOptions>;
  /** Run only these controllers (by registry name); default all. */
  only?: readonly string[];
  /** Informers shared with other in-process components; default a new factory. */
  informers?: InformerFactory;
}

export class ControllerManager {
  readonly controllers: Controller[] = [];
  readonly informers: InformerFactory;
  private readyResolve!: () => void;
  /** Resolves once the informers synced and every controller loop runs. */
  readonly ready = new Promise<void>((resolve) => (this.readyResolve = resolve));

  constructor(private readonly config: ControllerManagerConfig) {
    this.informers = config.informers ?? new InformerFactory(config.client);
  }

  async start(signal: AbortSignal): Promise<void> {
    // Dozens of informers and loops listen on the one stop signal.
    setMaxListeners(0, signal);
    const ctx: ControllerContext = {
      client: this.config.client,
      informers: this.informers,
      recorder: (component) => new EventRecorder(this.config.client, { component }),
      options: { ...defaultControllerOptions, ...this.config.options },
      signal,
    };
    for (const [name, starter] of Object.entries(controllerStarters)) {
      if (this.config.only && !this.config.only.includes(name)) continue;
      try {
        this.controllers.push(...starter(ctx));
      } catch (e) {
        console.error(`controller-manager: ${name} did not start: ${(e as Error).message}`);
      }
    }
    this.informers.start(signal);
    await this.informers.waitForSync();
    for (const c of this.controllers) c.start(signal);
    this.readyResolve();
  }

  /** Reconciles done so far, summed over every controller (for benchmarks). */
  get reconciles(): number {
    let n = 0;
    for (const c of this.controllers) n += c.metrics.reconciles;
    return n;
  }
}
