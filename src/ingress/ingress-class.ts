/**
 * @module Which Ingresses this controller serves, as upstream decides it: an Ingress names its
 * class in `spec.ingressClassName` (or, before that field existed, in the
 * `kubernetes.io/ingress.class` annotation); one without either belongs to the default
 * IngressClass (`ingressclass.kubernetes.io/is-default-class: "true"`). Also creates the
 * `kites` IngressClass at start when it is missing, never touching one a user made.
 */
import { isAlreadyExists, isNotFound } from "../api/status-error.ts";
import type { Client } from "../client/types.ts";
import {
  DEFAULT_CLASS_ANNOTATION,
  KITES_INGRESS_CLASS,
  KITES_INGRESS_CONTROLLER,
  LEGACY_CLASS_ANNOTATION,
  NETWORKING_GROUP,
  type Ingress,
  type IngressClass,
} from "./ingress-types.ts";

/**
 * The classes this controller serves, derived from the IngressClass objects: every class
 * whose `spec.controller` is ours, plus `kites` while no IngressClass of that name exists.
 */
export class IngressClassSelector {
  private ours = new Set<string>([KITES_INGRESS_CLASS]);
  private defaultIsOurs = false;

  /** Recomputes from every IngressClass; returns true when the served set changed. */
  update(classes: readonly IngressClass[]): boolean {
    const ours = new Set<string>();
    let kitesExists = false;
    let defaults = 0;
    let ourDefaults = 0;
    for (const c of classes) {
      const name = c.metadata.name ?? "";
      if (name === KITES_INGRESS_CLASS) kitesExists = true;
      const mine = c.spec?.controller === KITES_INGRESS_CONTROLLER;
      if (mine) ours.add(name);
      if (c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true") {
        defaults++;
        if (mine) ourDefaults++;
      }
    }
    if (!kitesExists) ours.add(KITES_INGRESS_CLASS);
    // Several defaults are ambiguous (upstream's admission then refuses class-less Ingresses);
    // claim class-less Ingresses only when every default class is ours.
    const defaultIsOurs = ourDefaults > 0 && ourDefaults === defaults;
    const changed =
      defaultIsOurs !== this.defaultIsOurs ||
      ours.size !== this.ours.size ||
      [...ours].some((n) => !this.ours.has(n));
    this.ours = ours;
    this.defaultIsOurs = defaultIsOurs;
    return changed;
  }

  /** Whether this controller serves `ing`. */
  serves(ing: Ingress): boolean {
    const name = ing.spec?.ingressClassName;
    if (name) return this.ours.has(name);
    const legacy = ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
    if (legacy !== undefined) return this.ours.has(legacy);
    return this.defaultIsOurs;
  }
}

/** The IngressClass kites creates when none of its name exists. */
export function kitesIngressClass(): IngressClass {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "IngressClass",
    metadata: {
      name: KITES_INGRESS_CLASS,
      annotations: { [DEFAULT_CLASS_ANNOTATION]: "true" },
      labels: { "app.kubernetes.io/managed-by": "kites" },
    },
    spec: { controller: KITES_INGRESS_CONTROLLER },
  };
}

/**
 * Creates the `kites` IngressClass (default class, our controller) unless one of that name
 * exists; an existing one, whatever it says, is left as it is.
 */
export async function ensureIngressClass(client: Client): Promise<void> {
  const classes = client.resource<IngressClass>(NETWORKING_GROUP, "ingressclasses");
  try {
    await classes.get(undefined, KITES_INGRESS_CLASS);
    return;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  try {
    await classes.create(kitesIngressClass());
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}
