import assert from "node:assert/strict";
import { test } from "node:test";
import { ensureIngressClass, IngressClassSelector } from "./ingress-class.ts";
import { FakeClient } from "../client/fake-client.ts";
import {
  DEFAULT_CLASS_ANNOTATION,
  KITES_INGRESS_CONTROLLER,
  LEGACY_CLASS_ANNOTATION,
  type Ingress,
  type IngressClass,
} from "./ingress-types.ts";

const cls = (name: string, controller: string, isDefault = false): IngressClass => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "IngressClass",
  metadata: { name, ...(isDefault ? { annotations: { [DEFAULT_CLASS_ANNOTATION]: "true" } } : {}) },
  spec: { controller },
});

const ing = (className?: string, legacy?: string): Ingress => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: {
    name: "i",
    namespace: "default",
    ...(legacy ? { annotations: { [LEGACY_CLASS_ANNOTATION]: legacy } } : {}),
  },
  spec: className ? { ingressClassName: className } : {},
});

test("class selection: ingressClassName, legacy annotation, default class", () => {
  const s = new IngressClassSelector();
  s.update([cls("kites", KITES_INGRESS_CONTROLLER, true), cls("nginx", "k8s.io/ingress-nginx")]);
  assert.equal(s.serves(ing("kites")), true);
  assert.equal(s.serves(ing("nginx")), false);
  assert.equal(s.serves(ing("missing")), false);
  assert.equal(s.serves(ing(undefined, "kites")), true, "legacy annotation");
  assert.equal(s.serves(ing(undefined, "nginx")), false);
  assert.equal(s.serves(ing()), true, "class-less Ingress goes to the default class");
  assert.equal(s.serves(ing("kites", "nginx")), true, "spec.ingressClassName wins over the annotation");
});

test("class selection: no default class, another default, several defaults", () => {
  const s = new IngressClassSelector();
  assert.equal(s.update([cls("kites", KITES_INGRESS_CONTROLLER)]), false);
  assert.equal(s.serves(ing()), false, "kites is not the default");
  assert.equal(s.serves(ing("kites")), true);
  assert.equal(
    s.update([cls("kites", KITES_INGRESS_CONTROLLER), cls("nginx", "k8s.io/ingress-nginx", true)]),
    false,
  );
  assert.equal(s.serves(ing()), false, "another controller's class is the default");
  assert.equal(
    s.update([cls("kites", KITES_INGRESS_CONTROLLER, true), cls("nginx", "k8s.io/ingress-nginx", true)]),
    false,
  );
  assert.equal(s.serves(ing()), false, "two defaults: ambiguous, not claimed");
  assert.equal(s.update([cls("kites", KITES_INGRESS_CONTROLLER, true)]), true);
  assert.equal(s.serves(ing()), true);
});

test("class selection: other classes naming our controller are served; a user's kites class for another controller is not", () => {
  const s = new IngressClassSelector();
  s.update([cls("kites-internal", KITES_INGRESS_CONTROLLER), cls("kites", "example.com/other")]);
  assert.equal(s.serves(ing("kites-internal")), true);
  assert.equal(s.serves(ing("kites")), false);
  s.update([]);
  assert.equal(s.serves(ing("kites")), true, "kites is ours while no such IngressClass exists");
});

test("ensureIngressClass creates the default kites class once and never overwrites a user's", async () => {
  const client = new FakeClient();
  const api = client.resource<IngressClass>("networking.k8s.io", "ingressclasses");
  await ensureIngressClass(client);
  const made = await api.get(undefined, "kites");
  assert.equal(made.spec?.controller, KITES_INGRESS_CONTROLLER);
  assert.equal(made.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION], "true");
  await ensureIngressClass(client);
  assert.equal((await api.get(undefined, "kites")).metadata.resourceVersion, made.metadata.resourceVersion);

  const other = new FakeClient();
  const otherApi = other.resource<IngressClass>("networking.k8s.io", "ingressclasses");
  await otherApi.create(cls("kites", "example.com/mine"));
  await ensureIngressClass(other);
  const kept = await otherApi.get(undefined, "kites");
  assert.equal(kept.spec?.controller, "example.com/mine");
  assert.equal(kept.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION], undefined);
});
