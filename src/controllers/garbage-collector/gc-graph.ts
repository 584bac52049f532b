/**
 * @module The garbage collector's dependency graph (upstream's GraphBuilder and uidToNode):
 * one node per object uid, linked to its owners (from ownerReferences) and its dependents.
 * Owners referenced but not (yet) observed are "virtual" nodes whose existence the collector
 * verifies with a live GET. Informer events update the graph synchronously and report which
 * uids need attention (the collector's work queue), as upstream's processGraphChanges does.
 */
import type { KubeObject } from "../../api/object.ts";
import type { OwnerReference } from "../../api/types/meta-v1.ts";

/** Finalizer of an object whose dependents are deleted before it (Foreground). */
export const FOREGROUND_FINALIZER = "foregroundDeletion";
/** Finalizer of an object whose dependents are orphaned before it goes (Orphan). */
export const ORPHAN_FINALIZER = "orphan";

/** Where an object lives: enough to GET it again and to tell it from a namesake. */
export interface ObjectIdentity {
  apiVersion: string;
  kind: string;
  /** "" for cluster-scoped objects. */
  namespace: string;
  name: string;
  uid: string;
}

/** One object in the graph. */
export interface GraphNode {
  identity: ObjectIdentity;
  /** The object's ownerReferences as last observed (empty for virtual nodes). */
  owners: readonly OwnerReference[];
  dependents: Set<GraphNode>;
  /** Referenced as an owner but never observed through an informer. */
  virtual: boolean;
  /** deletionTimestamp set. */
  beingDeleted: boolean;
  /** deletionTimestamp set and the foregroundDeletion finalizer present. */
  deletingDependents: boolean;
  /** deletionTimestamp set and the orphan finalizer present. */
  orphaning: boolean;
  /** The object's finalizers as last observed. */
  finalizers: readonly string[];
}

/** Whether two apiVersions name the same group (versions of one group are one kind). */
export function sameGroup(a: string, b: string): boolean {
  const ga = a.includes("/") ? a.slice(0, a.indexOf("/")) : "";
  const gb = b.includes("/") ? b.slice(0, b.indexOf("/")) : "";
  return ga === gb;
}

/** The namespace a reference from `dependentNamespace` resolves in, given the owner's scope. */
export function ownerNamespace(dependentNamespace: string, ownerNamespaced: boolean): string {
  return ownerNamespaced ? dependentNamespace : "";
}

export interface GraphOptions {
  /** Whether a kind (by apiVersion and kind) is namespaced; undefined when unknown. */
  namespaced(apiVersion: string, kind: string): boolean | undefined;
  /** Called for every uid whose state needs a look (the collector enqueues it). */
  enqueue(uid: string): void;
}

/** The graph. Not thread-safe (there are no threads): callers are informer handlers and the collector. */
export class DependencyGraph {
  private readonly nodes = new Map<string, GraphNode>();

  constructor(private readonly opts: GraphOptions) {}

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Records an added or updated object. */
  observe(obj: KubeObject): void {
    const meta = obj.metadata;
    const uid = meta.uid;
    if (!uid) return;
    const owners = meta.ownerReferences ?? [];
    const finalizers = meta.finalizers ?? [];
    const beingDeleted = !!meta.deletionTimestamp;
    const deletingDependents = beingDeleted && finalizers.includes(FOREGROUND_FINALIZER);
    const orphaning = beingDeleted && finalizers.includes(ORPHAN_FINALIZER);
    const identity: ObjectIdentity = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      namespace: meta.namespace ?? "",
      name: meta.name ?? "",
      uid,
    };
    let node = this.nodes.get(uid);
    if (!node) {
      node = {
        identity,
        owners,
        dependents: new Set(),
        virtual: false,
        beingDeleted,
        deletingDependents,
        orphaning,
        finalizers,
      };
      this.nodes.set(uid, node);
      let ownerDeleting = false;
      for (const ref of owners) ownerDeleting = this.link(node, ref) || ownerDeleting;
      if (ownerDeleting) this.opts.enqueue(uid);
      this.transitions(node, false, false);
      return;
    }
    const wasDeletingDependents = node.deletingDependents;
    const wasOrphaning = node.orphaning;
    if (node.virtual) {
      node.virtual = false;
      node.identity = identity;
    }
    if (node.owners !== owners) this.relink(node, owners);
    node.beingDeleted = beingDeleted;
    node.deletingDependents = deletingDependents;
    node.orphaning = orphaning;
    node.finalizers = finalizers;
    this.transitions(node, wasDeletingDependents, wasOrphaning);
  }

  /** Records a deleted object: its dependents and any owner waiting on it get a look. */
  forget(obj: KubeObject): void {
    const uid = obj.metadata.uid;
    if (!uid) return;
    const node = this.nodes.get(uid);
    if (!node || node.virtual) return;
    this.remove(node);
  }

  /**
   * Removes a node (observed gone, or a virtual node verified absent): its dependents are
   * enqueued (their owner is gone) and so are owners waiting for their dependents' deletion.
   */
  remove(node: GraphNode): void {
    if (this.nodes.get(node.identity.uid) !== node) return;
    this.nodes.delete(node.identity.uid);
    for (const ref of node.owners) {
      const owner = this.nodes.get(ref.uid);
      if (!owner) continue;
      owner.dependents.delete(node);
      if (owner.deletingDependents) this.opts.enqueue(owner.identity.uid);
      else if (owner.virtual && owner.dependents.size === 0) this.nodes.delete(owner.identity.uid);
    }
    for (const dep of node.dependents) this.opts.enqueue(dep.identity.uid);
  }

  /** Adds `node` as a dependent of the owner `ref` names; true when that owner deletes in foreground. */
  private link(node: GraphNode, ref: OwnerReference): boolean {
    let owner = this.nodes.get(ref.uid);
    if (!owner) {
      const namespaced = this.opts.namespaced(ref.apiVersion, ref.kind);
      owner = {
        identity: {
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          namespace: ownerNamespace(node.identity.namespace, namespaced ?? true),
          name: ref.name,
          uid: ref.uid,
        },
        owners: [],
        dependents: new Set(),
        virtual: true,
        beingDeleted: false,
        deletingDependents: false,
        orphaning: false,
        finalizers: [],
      };
      this.nodes.set(ref.uid, owner);
      // Is this owner really there? The collector checks with a live GET.
      this.opts.enqueue(ref.uid);
    }
    owner.dependents.add(node);
    return owner.deletingDependents;
  }

  /** Brings a node's owner links in line with its new ownerReferences. */
  private relink(node: GraphNode, owners: readonly OwnerReference[]): void {
    if (sameRefs(node.owners, owners)) {
      node.owners = owners;
      return;
    }
    const before = new Map(node.owners.map((r) => [r.uid, r]));
    const after = new Map(owners.map((r) => [r.uid, r]));
    let enqueueSelf = false;
    for (const [uid, ref] of before) {
      const owner = this.nodes.get(uid);
      const next = after.get(uid);
      if (!next) {
        if (!owner) continue;
        owner.dependents.delete(node);
        if (owner.deletingDependents) this.opts.enqueue(uid);
        else if (owner.virtual && owner.dependents.size === 0) this.nodes.delete(uid);
      } else if (ref.blockOwnerDeletion && !next.blockOwnerDeletion && owner?.deletingDependents) {
        this.opts.enqueue(uid);
      }
    }
    for (const [uid, ref] of after) if (!before.has(uid)) enqueueSelf = this.link(node, ref) || enqueueSelf;
    node.owners = owners;
    if (enqueueSelf) this.opts.enqueue(node.identity.uid);
  }

  /** Enqueues a node that just started a foreground or orphan deletion. */
  private transitions(node: GraphNode, wasDeletingDependents: boolean, wasOrphaning: boolean): void {
    if (node.orphaning && !wasOrphaning) this.opts.enqueue(node.identity.uid);
    if (node.deletingDependents && !wasDeletingDependents) {
      this.opts.enqueue(node.identity.uid);
      for (const dep of node.dependents) this.opts.enqueue(dep.identity.uid);
    }
  }
}

/** Whether two ownerReference lists name the same owners with the same blocking flags, in order. */
function sameRefs(a: readonly OwnerReference[], b: readonly OwnerReference[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.uid !== y.uid || !!x.blockOwnerDeletion !== !!y.blockOwnerDeletion) return false;
  }
  return true;
}
