/**
 * @module The namespace controller (upstream's NamespaceController and
 * namespacedResourcesDeleter). A namespace with a deletionTimestamp is set to phase
 * `Terminating`; while its `spec.finalizers` hold `kubernetes`, every namespaced object in it
 * is deleted (each served kind is listed and its objects deleted in the background), the
 * remaining content is reported through the namespace's conditions, and once nothing is left
 * the `kubernetes` finalizer is removed through `namespaces/<name>/finalize`, after which the
 * API server removes the namespace.
 */
import { allKinds, type KindInfo } from "../../api/kinds.ts";
import type { KubeObject } from "../../api/object.ts";
import { isConflict, isNotFound } from "../../api/status-error.ts";
import type { Namespace, Pod } from "../../api/types/core-v1.ts";
import type { Request, Result } from "../../client/controller.ts";
import type { Informer } from "../../client/informer.ts";
import type { Client, ResourceClient, WriteOptions } from "../../client/types.ts";
import { updateConditions, type DeletionTotals } from "./namespace-conditions.ts";

/** The finalizer the namespace controller owns in `spec.finalizers`. */
export const KUBERNETES_FINALIZER = "kubernetes";

/** Upstream's estimate for content held by finalizers (seconds). */
const FINALIZER_ESTIMATE_SECONDS = 15;

/** Resources never deleted one by one: events.k8s.io Events are the core Events under another name. */
const SKIPPED = new Set(["events.k8s.io/events"]);

/** Every namespaced kind whose objects a namespace deletion removes. */
export function namespacedKinds(): KindInfo[] {
  return allKinds().filter(
    (k) =>
      k.namespaced &&
      k.verbs.includes("list") &&
      k.verbs.includes("delete") &&
      !SKIPPED.has(`${k.group}/${k.resource}`),
  );
}

/** A namespace client that can PUT the `finalize` subresource (see {@link finalizeNamespace}). */
interface FinalizeCapable {
  updateSubresource?(obj: KubeObject, subresource: string, opts?: WriteOptions): Promise<KubeObject>;
}

/**
 * Writes a namespace's `spec.finalizers` through `namespaces/<name>/finalize` (PUT), the only
 * path upstream accepts for them. A client without subresource updates falls back to a PUT
 * of the namespace itself (what the API server accepts until it serves `finalize`).
 */
export async function finalizeNamespace(client: ResourceClient<Namespace>, ns: Namespace): Promise<void> {
  const c = client as unknown as FinalizeCapable;
  if (typeof c.updateSubresource === "function") {
    await c.updateSubresource(ns as unknown as KubeObject, "finalize");
  } else {
    await client.update(ns);
  }
}

export interface NamespaceControllerConfig {
  client: Client;
  namespaces: Informer<Namespace>;
  now?: () => Date;
}

export class NamespaceReconciler {
  private readonly client: Client;
  private readonly namespaces: Informer<Namespace>;
  private readonly nsClient: ResourceClient<Namespace>;
  private readonly now: () => Date;

  constructor(config: NamespaceControllerConfig) {
    this.client = config.client;
    this.namespaces = config.namespaces;
    this.nsClient = config.client.resource<Namespace>("", "namespaces");
    this.now = config.now ?? (() => new Date());
  }

  /** Watches: every namespace change, and pods leaving a terminating namespace (so it goes without waiting). */
  register(enqueue: (key: string) => void, pods?: Informer<Pod>): void {
    this.namespaces.addHandlers({
      add: (ns) => {
        if (ns.metadata.deletionTimestamp) enqueue(ns.metadata.name!);
      },
      update: (_, ns) => {
        if (ns.metadata.deletionTimestamp) enqueue(ns.metadata.name!);
      },
    });
    pods?.addHandlers({
      delete: (pod) => {
        const name = pod.metadata.namespace ?? "";
        if (this.namespaces.get(undefined, name)?.metadata.deletionTimestamp) enqueue(name);
      },
    });
  }

  async reconcile(req: Request): Promise<Result | void> {
    const cached = this.namespaces.get(undefined, req.name);
    if (!cached?.metadata.deletionTimestamp) return;
    let ns = cached;
    if (ns.status?.phase !== "Terminating") {
      const next = structuredClone(ns);
      next.status = { ...next.status, phase: "Terminating" };
      ns = await this.nsClient.updateStatus(next);
    }
    if (!(ns.spec?.finalizers ?? []).includes(KUBERNETES_FINALIZER)) return;

    const { totals, estimate } = await this.deleteAllContent(req.name);
    const { conditions, changed } = updateConditions(ns.status?.conditions, totals, this.now());
    if (changed) {
      const next = structuredClone(ns);
      next.status = { ...next.status, conditions };
      try {
        ns = await this.nsClient.updateStatus(next);
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isConflict(e)) throw e;
      }
    }
    if (totals.errors.length > 0) throw new Error(`namespace ${req.name}: ${totals.errors.join("; ")}`);
    if (estimate > 0) return { requeueAfterMs: (Math.floor(estimate / 2) + 1) * 1000 };
    const remaining = [...totals.remaining.values()].reduce((a, b) => a + b, 0);
    if (remaining > 0) throw new Error(`namespace ${req.name}: unexpected items still remain`);

    // Nothing left: give the namespace up.
    const fresh = await this.nsClient.get(undefined, req.name).catch((e: unknown) => {
      if (isNotFound(e)) return undefined;
      throw e;
    });
    if (!fresh?.metadata.deletionTimestamp) return;
    const finalizers = (fresh.spec?.finalizers ?? []).filter((f) => f !== KUBERNETES_FINALIZER);
    if (finalizers.length === (fresh.spec?.finalizers ?? []).length) return;
    const next = structuredClone(fresh);
    next.spec = { ...next.spec, finalizers };
    try {
      await finalizeNamespace(this.nsClient, next);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /**
   * Deletes every object in a namespace, kind by kind, and reports what remains and how long
   * it should take to go (pods' grace periods; a fixed estimate for finalizers).
   */
  private async deleteAllContent(namespace: string): Promise<{ totals: DeletionTotals; estimate: number }> {
    const totals: DeletionTotals = { remaining: new Map(), finalizers: new Map(), errors: [] };
    let estimate = 0;
    await Promise.all(
      namespacedKinds().map(async (info) => {
        try {
          const e = await this.deleteKind(namespace, info, totals);
          estimate = Math.max(estimate, e);
        } catch (err) {
          totals.errors.push(`${info.resource}.${info.group}: ${(err as Error).message}`);
        }
      }),
    );
    return { totals, estimate };
  }

  private async deleteKind(namespace: string, info: KindInfo, totals: DeletionTotals): Promise<number> {
    const rc = this.client.resource(info.group, info.resource);
    const isPods = info.group === "" && info.resource === "pods";
    const before = await rc.list(namespace);
    if (before.items.length === 0) return 0;
    let estimate = isPods ? gracefulTerminationEstimate(before.items as unknown as Pod[]) : 0;
    await Promise.all(
      before.items
        .filter((o) => !o.metadata.deletionTimestamp)
        .map((o) =>
          rc
            .delete(namespace, o.metadata.name!, {
              propagationPolicy: "Background",
              preconditions: { uid: o.metadata.uid! },
            })
            .catch((e: unknown) => {
              if (!isNotFound(e) && !isConflict(e)) throw e;
            }),
        ),
    );
    const after = await rc.list(namespace);
    if (after.items.length === 0) return 0;
    totals.remaining.set(`${info.resource}.${info.group}`, after.items.length);
    let withFinalizers = false;
    for (const o of after.items) {
      for (const f of o.metadata.finalizers ?? []) {
        totals.finalizers.set(f, (totals.finalizers.get(f) ?? 0) + 1);
        withFinalizers = true;
      }
    }
    if (isPods) estimate = Math.max(estimate, gracefulTerminationEstimate(after.items as unknown as Pod[]));
    if (estimate === 0 && withFinalizers) estimate = FINALIZER_ESTIMATE_SECONDS;
    return estimate;
  }
}

/** The longest grace period of the pods still running (upstream's estimateGracefulTermination). */
function gracefulTerminationEstimate(pods: Pod[]): number {
  let estimate = 0;
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") continue;
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    estimate = Math.max(estimate, grace);
  }
  return estimate;
}
