/**
 * @module The shape every API object shares, and the rules a kind plugs into the API
 * machinery: defaulting, validation on create and on update. The apiserver's registry looks
 * a kind's rules up by group and kind; the rules are pure functions over plain objects.
 */
import type * as k8s from "kubernetes-types/meta/v1.js";
import type { FieldError } from "./field-errors.ts";

/** ObjectMeta as upstream defines it, writable (the registry fills it in). */
export type ObjectMeta = { -readonly [K in keyof k8s.ObjectMeta]: k8s.ObjectMeta[K] };

/** Any API object: apiVersion, kind, metadata, and whatever else the kind has. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Group, version and kind of a type; `group` is "" for the core group. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/**
 * What a kind contributes to the API machinery. `defaults` fills in what upstream's
 * defaulting would (mutating the object); `validate` checks a whole object about to be
 * created (metadata included); `validateUpdate` checks an update against the stored object
 * (immutable fields, plus everything `validate` checks). Validation never throws; it returns
 * every problem it finds.
 */
export interface KindRules<T = KubeObject> {
  defaults?(obj: T): void;
  validate(obj: T): FieldError[];
  validateUpdate?(obj: T, old: T): FieldError[];
}

/** Widens typed rules so kinds with different types sit in one table. */
export function kindRules<T>(rules: KindRules<T>): KindRules<KubeObject> {
  return rules as unknown as KindRules<KubeObject>;
}
