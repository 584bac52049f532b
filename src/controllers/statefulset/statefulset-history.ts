/**
 * @module ControllerRevision history for the StatefulSet and DaemonSet controllers, as
 * upstream's controller/history package and the two controllers' revision code: a revision
 * holds the pod template as the patch `{"spec":{"template":{…,"$patch":"replace"}}}` (what
 * `kubectl rollout history|undo` read back), is named `<owner>-<hash>` with the hash also in
 * its `controller-revision-hash` label, and is numbered. Reconciling the history finds the
 * revision equal to the current template (reusing it, renumbering it on a rollback, or
 * creating it, bumping `collisionCount` on a hash collision) and truncates non-live revisions
 * beyond `revisionHistoryLimit`. A candidate for `src/controllers/util/`.
 */
import { deepEqual } from "../../api/meta.ts";
import type { KubeObject } from "../../api/object.ts";
import type { ControllerRevision } from "../../api/types/apps-v1.ts";
import type { PodTemplateSpec } from "../../api/types/core-v1.ts";
import { isAlreadyExists, isNotFound } from "../../api/status-error.ts";
import type { Informer } from "../../client/informer.ts";
import type { ResourceClient } from "../../client/types.ts";
import { BY_CONTROLLER_UID, newControllerRef } from "../util/owner-refs.ts";

/** Label on revisions and on the pods made from them. */
export const CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash";

const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** Upstream's `rand.SafeEncodeString`: each character mapped into a vowel-free alphabet. */
export function safeEncodeString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** JSON with object keys sorted at every level, so equal content always hashes equal. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}

/** 32-bit FNV-1 over the UTF-8 bytes of `s` (Go's `fnv.New32`). */
export function fnv1_32(s: string): number {
  const bytes = Buffer.from(s, "utf8");
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ bytes[i]!) >>> 0;
  }
  return h;
}

/** The revision data for a pod template: the patch that puts it back on the owner. */
export function revisionData(template: PodTemplateSpec | undefined): Record<string, unknown> {
  return { spec: { template: { ...(template ?? {}), $patch: "replace" } } };
}

/** The pod template a revision's data holds. */
export function templateOfRevision(rev: ControllerRevision): PodTemplateSpec {
  const data = rev.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const tpl = { ...(data?.spec?.template ?? {}) };
  delete tpl.$patch;
  return tpl as PodTemplateSpec;
}

/** Upstream's `HashControllerRevision`: FNV-1 of the data plus the collision count, safe-encoded. */
export function hashRevisionData(data: unknown, collisionCount: number | undefined): string {
  let s = canonicalJson(data);
  if (collisionCount !== undefined && collisionCount !== 0) s += String(collisionCount);
  return safeEncodeString(String(fnv1_32(s)));
}

/** `<prefix>-<hash>` with the prefix cut to 223 characters, as upstream names revisions. */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** A new (unsaved) revision of `owner`'s template. */
export function newRevision(
  owner: KubeObject,
  ownerApiVersion: string,
  ownerKind: string,
  template: PodTemplateSpec | undefined,
  revision: number,
  collisionCount: number,
): ControllerRevision {
  const data = revisionData(template);
  const hash = hashRevisionData(data, collisionCount);
  return {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name: revisionName(owner.metadata.name ?? "", hash),
      namespace: owner.metadata.namespace,
      labels: { ...(template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [newControllerRef(owner, ownerApiVersion, ownerKind)],
    },
    data,
    revision,
  };
}

/** Revisions ordered by number, then creation time, then name (upstream's `SortControllerRevisions`). */
export function sortRevisions(revs: ControllerRevision[]): ControllerRevision[] {
  return revs.sort(
    (a, b) =>
      a.revision - b.revision ||
      (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
      (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
  );
}

/** The hash label of a revision (its name's suffix when the label is missing). */
export function hashOfRevision(rev: ControllerRevision): string {
  const h = rev.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
  if (h) return h;
  const name = rev.metadata.name ?? "";
  return name.slice(name.lastIndexOf("-") + 1);
}

/** What {@link syncRevisions} needs. */
export interface HistoryTarget {
  owner: KubeObject;
  ownerApiVersion: string;
  ownerKind: string;
  template: PodTemplateSpec | undefined;
  collisionCount: number;
  client: ResourceClient<ControllerRevision>;
  informer: Informer<ControllerRevision>;
}

/** The outcome of {@link syncRevisions}. */
export interface HistoryResult {
  /** Every revision the owner controls, sorted (the update revision included). */
  revisions: ControllerRevision[];
  /** The revision equal to the owner's current template. */
  update: ControllerRevision;
  /** `status.collisionCount` to write back (grown when a hash collided). */
  collisionCount: number;
}

/**
 * Makes sure a revision equal to the current template exists and is the newest: reuses the
 * newest one if equal, renumbers an older equal one (a rollback), or creates one.
 */
export async function syncRevisions(t: HistoryTarget): Promise<HistoryResult> {
  const revisions = sortRevisions([...t.informer.byIndex(BY_CONTROLLER_UID, t.owner.metadata.uid ?? "")]);
  const data = revisionData(t.template);
  const last = revisions[revisions.length - 1];
  const nextNumber = last ? last.revision + 1 : 1;
  let equal: ControllerRevision | undefined;
  for (let i = revisions.length - 1; i >= 0; i--) {
    if (deepEqual(revisions[i]!.data, data)) {
      equal = revisions[i];
      break;
    }
  }
  let collisionCount = t.collisionCount;
  if (equal && equal === last) return { revisions, update: equal, collisionCount };
  if (equal) {
    const bumped = structuredClone(equal);
    bumped.revision = nextNumber;
    const saved = await t.client.update(bumped);
    const out = revisions.map((r) => (r === equal ? saved : r));
    return { revisions: sortRevisions(out), update: saved, collisionCount };
  }
  for (;;) {
    const rev = newRevision(t.owner, t.ownerApiVersion, t.ownerKind, t.template, nextNumber, collisionCount);
    try {
      const saved = await t.client.create(rev);
      return { revisions: sortRevisions([...revisions, saved]), update: saved, collisionCount };
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await t.client.get(rev.metadata.namespace, rev.metadata.name ?? "");
      const ownerUid = t.owner.metadata.uid;
      const ours =
        existing.metadata.ownerReferences?.some((r) => r.uid === ownerUid && r.controller) ?? false;
      if (ours && deepEqual(existing.data, data)) {
        const known = revisions.some((r) => r.metadata.uid === existing.metadata.uid);
        return {
          revisions: known ? revisions : sortRevisions([...revisions, existing]),
          update: existing,
          collisionCount,
        };
      }
      collisionCount++;
    }
  }
}

/**
 * Deletes the oldest revisions that are not live (not named in `live`) beyond `limit`, as
 * upstream's truncateHistory / cleanupHistory. Already-deleted revisions are ignored.
 */
export async function truncateHistory(
  client: ResourceClient<ControllerRevision>,
  revisions: readonly ControllerRevision[],
  live: ReadonlySet<string>,
  limit: number,
): Promise<void> {
  const history = revisions.filter((r) => !live.has(r.metadata.name ?? ""));
  const excess = history.length - Math.max(0, limit);
  for (let i = 0; i < excess; i++) {
    const r = history[i]!;
    try {
      await client.delete(r.metadata.namespace, r.metadata.name ?? "");
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
