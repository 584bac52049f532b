/**
 * @module bench/controllers tracker: counts, from the Deployment informer's events, how many
 * Deployments are Available (status.availableReplicas == replicas and condition
 * Available=True) and, after `resetRollout`, how many finished a rollout as
 * `kubectl rollout status` judges it (generation observed; updated, total and available
 * replicas all equal to spec.replicas). O(1) per event.
 */
import type { Deployment } from "../../src/api/types/apps-v1.ts";
import type { Informer } from "../../src/client/informer.ts";

const keyOf = (d: Deployment): string => `${d.metadata.namespace}/${d.metadata.name}`;

export class DeploymentTracker {
  private readonly availableKeys = new Set<string>();
  private readonly rolledOutKeys = new Set<string>();
  /** Generation of each Deployment when the rollout started; undefined before. */
  private baseline: Map<string, number> | undefined;

  constructor(private readonly informer: Informer<Deployment>) {
    informer.addHandlers({
      add: (d) => this.observe(d),
      update: (_o, d) => this.observe(d),
      delete: (d) => {
        this.availableKeys.delete(keyOf(d));
        this.rolledOutKeys.delete(keyOf(d));
      },
    });
  }

  get available(): number {
    return this.availableKeys.size;
  }

  get rolledOut(): number {
    return this.rolledOutKeys.size;
  }

  isAvailable(key: string): boolean {
    return this.availableKeys.has(key);
  }

  /** Starts counting rollouts from the generations the cache holds now. */
  resetRollout(): void {
    this.baseline = new Map(this.informer.list().map((d) => [keyOf(d), d.metadata.generation ?? 0]));
    this.rolledOutKeys.clear();
  }

  private observe(d: Deployment): void {
    const key = keyOf(d);
    const want = d.spec?.replicas ?? 1;
    const s = d.status;
    const availableCond = s?.conditions?.some((c) => c.type === "Available" && c.status === "True") ?? false;
    if (availableCond && (s?.availableReplicas ?? 0) === want) {
      this.availableKeys.add(key);
    } else {
      this.availableKeys.delete(key);
    }
    if (!this.baseline) return;
    const gen = d.metadata.generation ?? 0;
    const done =
      gen > (this.baseline.get(key) ?? 0) &&
      (s?.observedGeneration ?? 0) >= gen &&
      (s?.updatedReplicas ?? 0) === want &&
      (s?.replicas ?? 0) === want &&
      (s?.availableReplicas ?? 0) === want;
    if (done) this.rolledOutKeys.add(key);
    else this.rolledOutKeys.delete(key);
  }
}
