/**
 * @module The garbage collector (upstream's attemptToDeleteItem, attemptToOrphan and
 * processDeletingDependentsItem, over one work queue keyed by uid). For each uid it looks at:
 * - a virtual owner: verified with a live GET; absent (404, or another uid under the name)
 *   means its dependents are re-examined;
 * - an object being deleted with the `orphan` finalizer: its dependents lose their
 *   ownerReferences to it, then the finalizer goes;
 * - an object being deleted with the `foregroundDeletion` finalizer: its dependents are
 *   deleted (those that themselves have dependents in foreground), and once no dependent
 *   with `blockOwnerDeletion` remains the finalizer goes;
 * - any other object with owners: each owner is classified solid, dangling (verified gone
 *   with a live GET) or waiting for its dependents' deletion; without a solid owner the
 *   object is deleted, with some solid owners the dangling/waiting references are patched out.
 */
import { allKinds, type KindInfo } from "../../api/kinds.ts";
import type { KubeObject } from "../../api/object.ts";
import { isConflict, isInvalid, isNotFound } from "../../api/status-error.ts";
import type { OwnerReference } from "../../api/types/meta-v1.ts";
import type { Result } from "../../client/controller.ts";
import type { Client, DeleteOptions } from "../../client/types.ts";
import {
  DependencyGraph,
  FOREGROUND_FINALIZER,
  ORPHAN_FINALIZER,
  type GraphNode,
  type ObjectIdentity,
} from "./gc-graph.ts";

/** Kinds by `group/Kind`, whatever the version (an ownerReference may name an older one). */
const KINDS_BY_GROUP_KIND = new Map<string, KindInfo>(allKinds().map((k) => [`${k.group}/${k.kind}`, k]));

/** The served kind an apiVersion and kind name, or undefined when the API does not serve it. */
export function kindOf(apiVersion: string, kind: string): KindInfo | undefined {
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  return KINDS_BY_GROUP_KIND.get(`${group}/${kind}`);
}

/** How an owner reference stands. */
type OwnerState = "solid" | "dangling" | "waiting" | "invalid";

/** Owners verified absent, so a burst of orphans does not GET the same owner again (upstream's absentOwnerCache). */
class AbsentOwners {
  private readonly entries = new Set<string>();
  constructor(private readonly max = 500) {}
  private static key(ref: OwnerReference, namespace: string): string {
    return `${ref.uid}|${namespace}`;
  }
  has(ref: OwnerReference, namespace: string): boolean {
    return this.entries.has(AbsentOwners.key(ref, namespace));
  }
  add(ref: OwnerReference, namespace: string): void {
    const k = AbsentOwners.key(ref, namespace);
    this.entries.delete(k);
    this.entries.add(k);
    if (this.entries.size > this.max) {
      const oldest = this.entries.values().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

export interface GarbageCollectorConfig {
  client: Client;
  /** Called with uids to look at (the controller's enqueue). */
  enqueue(uid: string): void;
}

/** The collector: the graph plus the decisions taken for one uid at a time. */
export class GarbageCollector {
  readonly graph: DependencyGraph;
  private readonly absent = new AbsentOwners();
  private readonly client: Client;
  private readonly enqueue: (uid: string) => void;

  constructor(config: GarbageCollectorConfig) {
    this.client = config.client;
    this.enqueue = config.enqueue;
    this.graph = new DependencyGraph({
      namespaced: (apiVersion, kind) => kindOf(apiVersion, kind)?.namespaced,
      enqueue: config.enqueue,
    });
  }

  /** Handles one uid from the queue; throws to be retried. */
  async reconcile(uid: string): Promise<Result | void> {
    const node = this.graph.get(uid);
    if (!node) return;
    if (node.virtual) return this.verifyVirtual(node);
    if (node.orphaning) return this.orphanDependents(node);
    if (node.deletingDependents) return this.processDeletingDependents(node);
    if (node.beingDeleted) return;
    if (node.owners.length === 0) return;
    return this.attemptToDelete(node);
  }

  /** A referenced owner never observed: does it exist? If not, its dependents are looked at. */
  private async verifyVirtual(node: GraphNode): Promise<void> {
    const live = await this.getLive(node.identity);
    if (live === "unknown-kind") return;
    if (live && live.metadata.uid === node.identity.uid) return; // the informer will report it
    this.graph.remove(node);
  }

  /** The live object at an identity's coordinates; undefined on 404; "unknown-kind" when not served. */
  private async getLive(id: ObjectIdentity): Promise<KubeObject | undefined | "unknown-kind"> {
    const info = kindOf(id.apiVersion, id.kind);
    if (!info) return "unknown-kind";
    try {
      return await this.client.resource(info.group, info.resource).get(id.namespace || undefined, id.name);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** How one owner reference of `node` stands; a dangling verdict always comes from a live GET. */
  private async ownerState(node: GraphNode, ref: OwnerReference): Promise<OwnerState> {
    const info = kindOf(ref.apiVersion, ref.kind);
    if (!info) throw new Error(`garbage collector: unknown owner kind ${ref.apiVersion}/${ref.kind}`);
    // A cluster-scoped object cannot have a namespaced owner: the reference is ignored, as upstream.
    if (info.namespaced && node.identity.namespace === "") return "invalid";
    const namespace = info.namespaced ? node.identity.namespace : "";
    if (this.absent.has(ref, namespace)) return "dangling";
    const owner = this.graph.get(ref.uid);
    if (
      owner &&
      !owner.virtual &&
      owner.identity.name === ref.name &&
      owner.identity.kind === ref.kind &&
      owner.identity.namespace === namespace
    ) {
      return owner.deletingDependents ? "waiting" : "solid";
    }
    let live: KubeObject | undefined;
    try {
      live = await this.client.resource(info.group, info.resource).get(namespace || undefined, ref.name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (!live || live.metadata.uid !== ref.uid) {
      this.absent.add(ref, namespace);
      return "dangling";
    }
    const fins = live.metadata.finalizers ?? [];
    return live.metadata.deletionTimestamp && fins.includes(FOREGROUND_FINALIZER) ? "waiting" : "solid";
  }

  private async attemptToDelete(node: GraphNode): Promise<void> {
    const solid: OwnerReference[] = [];
    const gone: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of node.owners) {
      const state = await this.ownerState(node, ref);
      if (state === "solid") solid.push(ref);
      else if (state === "dangling") gone.push(ref);
      else if (state === "waiting") waiting.push(ref);
    }
    if (solid.length > 0 || (gone.length === 0 && waiting.length === 0)) {
      // Some owner remains: only references to absent or deleting owners are dropped.
      if (gone.length + waiting.length > 0) {
        await this.removeOwnerRefs(
          node,
          [...gone, ...waiting].map((r) => r.uid),
        );
      }
      return;
    }
    if (waiting.length > 0 && node.dependents.size > 0) {
      // Owned by an object deleting in foreground and owning others: delete this in foreground too.
      for (const dep of node.dependents) {
        if (dep.deletingDependents) {
          // A cycle is possible: stop this object's references from blocking, as upstream.
          await this.unblockOwnerRefs(node, waiting);
          break;
        }
      }
      await this.deleteObject(node, "Foreground");
      return;
    }
    const fins = node.finalizers;
    const policy = fins.includes(ORPHAN_FINALIZER)
      ? "Orphan"
      : fins.includes(FOREGROUND_FINALIZER)
        ? "Foreground"
        : "Background";
    await this.deleteObject(node, policy);
  }

  /** Foreground owner: delete what blocks it, and let it go once nothing does. */
  private async processDeletingDependents(node: GraphNode): Promise<void> {
    let blocking = 0;
    for (const dep of node.dependents) {
      const ref = dep.owners.find((r) => r.uid === node.identity.uid);
      if (!ref?.blockOwnerDeletion) continue;
      blocking++;
      if (!dep.beingDeleted) this.enqueue(dep.identity.uid);
    }
    if (blocking === 0) await this.removeFinalizer(node, FOREGROUND_FINALIZER);
  }

  /** Orphan owner: every dependent loses its reference to it, then the finalizer goes. */
  private async orphanDependents(node: GraphNode): Promise<void> {
    const failures: unknown[] = [];
    await Promise.all(
      [...node.dependents].map((dep) =>
        this.removeOwnerRefs(dep, [node.identity.uid]).catch((e: unknown) => failures.push(e)),
      ),
    );
    if (failures.length > 0) throw failures[0];
    await this.removeFinalizer(node, ORPHAN_FINALIZER);
  }

  /** Drops the references to `uids` from a node's object (a strategic merge patch guarded by uid). */
  private async removeOwnerRefs(node: GraphNode, uids: string[]): Promise<void> {
    const info = kindOf(node.identity.apiVersion, node.identity.kind);
    if (!info) return;
    const patch = {
      metadata: {
        uid: node.identity.uid,
        ownerReferences: uids.map((uid) => ({ $patch: "delete", uid })),
      },
    };
    await this.patchIgnoringGone(info, node.identity, patch);
  }

  /** Turns `blockOwnerDeletion` off on the given references of a node's object. */
  private async unblockOwnerRefs(node: GraphNode, refs: OwnerReference[]): Promise<void> {
    const info = kindOf(node.identity.apiVersion, node.identity.kind);
    if (!info) return;
    const patch = {
      metadata: {
        uid: node.identity.uid,
        ownerReferences: refs.map((r) => ({ uid: r.uid, blockOwnerDeletion: false })),
      },
    };
    await this.patchIgnoringGone(info, node.identity, patch);
  }

  private async patchIgnoringGone(info: KindInfo, id: ObjectIdentity, patch: unknown): Promise<void> {
    try {
      await this.client
        .resource(info.group, info.resource)
        .patch(id.namespace || undefined, id.name, "strategic", patch);
    } catch (e) {
      // Gone, or replaced by a namesake (the uid in the patch no longer matches): nothing to do.
      if (isNotFound(e) || isInvalid(e)) return;
      throw e;
    }
  }

  /** Removes a finalizer from the live object (guarded by its resourceVersion; a 409 retries). */
  private async removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    const info = kindOf(node.identity.apiVersion, node.identity.kind);
    if (!info) return;
    const live = await this.getLive(node.identity);
    if (!live || live === "unknown-kind" || live.metadata.uid !== node.identity.uid) return;
    const fins = live.metadata.finalizers ?? [];
    if (!fins.includes(finalizer)) return;
    try {
      await this.client
        .resource(info.group, info.resource)
        .patch(node.identity.namespace || undefined, node.identity.name, "merge", {
          metadata: {
            finalizers: fins.filter((f) => f !== finalizer),
            resourceVersion: live.metadata.resourceVersion,
          },
        });
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }

  /** Deletes a node's object, guarded by its uid; already gone is fine. */
  private async deleteObject(
    node: GraphNode,
    policy: NonNullable<DeleteOptions["propagationPolicy"]>,
  ): Promise<void> {
    const info = kindOf(node.identity.apiVersion, node.identity.kind);
    if (!info) return;
    try {
      await this.client
        .resource(info.group, info.resource)
        .delete(node.identity.namespace || undefined, node.identity.name, {
          propagationPolicy: policy,
          preconditions: { uid: node.identity.uid },
        });
    } catch (e) {
      // 404: gone already; 409: the precondition failed, so the object we meant is gone.
      if (isNotFound(e) || isConflict(e)) return;
      throw e;
    }
  }
}
