import { test } from "node:test";
import assert from "node:assert/strict";
import { formatFieldError, type FieldError } from "../field-errors.ts";
import type { KubeObject } from "../object.ts";
import type {
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  Pod,
  ReplicationController,
  Secret,
  Service,
} from "../types/core-v1.ts";
import { coreRules, decodeBase64 } from "./core.ts";

function rules(kind: string) {
  const r = coreRules[kind];
  assert.ok(r, kind);
  return r;
}

/** Defaults then validates, as the apiserver does on create; returns the messages. */
function create(obj: { kind: string }): string[] {
  const r = rules(obj.kind);
  const o = obj as unknown as KubeObject;
  r.defaults?.(o);
  return r.validate(o).map(formatFieldError);
}

/** Defaults both, then validates the update. */
function update<T extends { kind: string }>(obj: T, old: T): string[] {
  const r = rules(obj.kind);
  const [o, p] = [obj as unknown as KubeObject, old as unknown as KubeObject];
  r.defaults?.(o);
  r.defaults?.(p);
  return (r.validateUpdate?.(o, p) ?? []).map(formatFieldError);
}

const meta = (name: string, namespace = "default") => ({ name, namespace, resourceVersion: "1", uid: "u1" });

function pod(): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: meta("web"),
    spec: { containers: [{ name: "web", image: "nginx:1.25", ports: [{ containerPort: 80 }] }] },
  };
}

test("every core kind has rules", () => {
  const kinds = [
    "Pod",
    "Namespace",
    "Node",
    "Service",
    "Endpoints",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Event",
  ];
  for (const k of [...kinds, "ReplicationController"]) assert.equal(typeof rules(k).validate, "function", k);
});

test("Pod: a minimal pod is valid and defaulted", () => {
  const p = pod();
  assert.deepEqual(create(p), []);
  assert.equal(p.spec!.enableServiceLinks, true);
  assert.equal(p.spec!.containers[0]!.imagePullPolicy, "IfNotPresent");
});

test("Pod: metadata is validated too", () => {
  const p = pod();
  p.metadata.name = "Web";
  assert.ok(
    create(p).some((m) =>
      m.startsWith(`metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain`),
    ),
  );
});

test("Pod: image whitespace and ephemeral containers on create", () => {
  const p = pod();
  p.spec!.containers[0]!.image = "nginx ";
  p.spec!.ephemeralContainers = [{ name: "dbg", image: "busybox" }];
  const msgs = create(p);
  assert.ok(
    msgs.includes(
      `spec.containers[0].image: Invalid value: "nginx ": must not have leading or trailing whitespace`,
    ),
  );
  assert.ok(msgs.includes("spec.ephemeralContainers: Forbidden: cannot be set on create"));
});

test("Pod update: image, activeDeadlineSeconds and added tolerations are allowed", () => {
  const old = pod();
  const now = pod();
  now.spec!.containers[0]!.image = "nginx:1.26";
  now.spec!.activeDeadlineSeconds = 60;
  now.spec!.tolerations = [{ key: "k", operator: "Exists" }];
  assert.deepEqual(update(now, old), []);
});

test("Pod update: other spec changes are forbidden with upstream's message", () => {
  const old = pod();
  const now = pod();
  now.spec!.containers[0]!.ports![0]!.containerPort = 8080;
  const msgs = update(now, old);
  assert.equal(msgs.length, 1);
  const want =
    "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n";
  assert.ok(msgs[0]!.startsWith(want), msgs[0]);
  assert.ok(msgs[0]!.includes("spec.containers[0].ports[0].containerPort: 80"));
  assert.ok(msgs[0]!.includes("spec.containers[0].ports[0].containerPort: 8080"));
});

test("Pod update: containers may not be added; deadlines only shrink; tolerations not removed", () => {
  const old = pod();
  old.spec!.activeDeadlineSeconds = 30;
  old.spec!.tolerations = [{ key: "k", operator: "Exists" }];
  const added = pod();
  added.spec!.containers.push({ name: "side", image: "busybox" });
  assert.deepEqual(update(added, old), [
    "spec.containers: Forbidden: pod updates may not add or remove containers",
  ]);
  const longer = pod();
  longer.spec!.activeDeadlineSeconds = 60;
  longer.spec!.tolerations = [{ key: "k", operator: "Exists" }];
  assert.deepEqual(update(longer, old), [
    "spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value",
  ]);
  const dropped = pod();
  dropped.spec!.activeDeadlineSeconds = 30;
  assert.deepEqual(update(dropped, old), [
    "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds",
  ]);
});

test("Namespace: DNS label name, cluster-scoped, name immutable, metadata label defaulted", () => {
  const ns: Namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } };
  assert.deepEqual(create(ns), []);
  assert.equal(ns.metadata.labels?.["kubernetes.io/metadata.name"], "team-a");
  assert.equal(ns.status?.phase, "Active");
  const bad: Namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: "team.a" } };
  assert.deepEqual(create(bad), [`metadata.name: Invalid value: "team.a": must not contain dots`]);
  const old: Namespace = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "a", resourceVersion: "1", uid: "u" },
  };
  const renamed: Namespace = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "b", resourceVersion: "1", uid: "u" },
  };
  assert.ok(update(renamed, old).includes(`metadata.name: Invalid value: "b": field is immutable`));
});

function service(spec: Service["spec"]): Service {
  return { apiVersion: "v1", kind: "Service", metadata: meta("web"), spec };
}

test("Service: defaults and a valid ClusterIP service", () => {
  const s = service({ selector: { app: "web" }, ports: [{ port: 80 }] });
  assert.deepEqual(create(s), []);
  assert.equal(s.spec!.type, "ClusterIP");
  assert.equal(s.spec!.sessionAffinity, "None");
  assert.deepEqual(s.spec!.ports![0], { port: 80, protocol: "TCP", targetPort: 80 });
  assert.equal(s.spec!.internalTrafficPolicy, "Cluster");
});

const serviceCases: [string, Service["spec"], string[]][] = [
  ["no ports", { selector: { app: "x" } }, ["spec.ports: Required value"]],
  ["headless needs no ports", { clusterIP: "None" }, []],
  [
    "bad type",
    { type: "Internal", ports: [{ port: 80 }] },
    [
      `spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"`,
    ],
  ],
  [
    "port out of range",
    { ports: [{ port: 0 }] },
    [
      "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
      "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
    ],
  ],
  [
    "multiple ports need names",
    { ports: [{ port: 80 }, { name: "b", port: 81 }] },
    ["spec.ports[0].name: Required value"],
  ],
  [
    "duplicate port",
    {
      ports: [
        { name: "a", port: 80 },
        { name: "b", port: 80 },
      ],
    },
    [`spec.ports[1]: Duplicate value: {"port":80,"protocol":"TCP"}`],
  ],
  [
    "nodePort on ClusterIP",
    { ports: [{ port: 80, nodePort: 30080 }] },
    ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
  ],
  [
    "nodePort out of range",
    { type: "NodePort", ports: [{ port: 80, nodePort: 80 }] },
    [
      "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767",
    ],
  ],
  [
    "bad selector",
    { selector: { "a b": "c" }, ports: [{ port: 80 }] },
    [
      `spec.selector: Invalid value: "a b": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    ],
  ],
  [
    "bad sessionAffinity",
    { sessionAffinity: "Cookie", ports: [{ port: 80 }] },
    [`spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", "None"`],
  ],
  [
    "bad clusterIP",
    { clusterIP: "10.0.0.300", ports: [{ port: 80 }] },
    [
      `spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
    ],
  ],
];

for (const [name, spec, want] of serviceCases) {
  test(`Service: ${name}`, () => assert.deepEqual(create(service(spec)), want));
}

test("Service: the service name must be a DNS-1035 label", () => {
  const s = service({ ports: [{ port: 80 }] });
  s.metadata.name = "1web";
  assert.ok(create(s)[0]!.startsWith(`metadata.name: Invalid value: "1web": a DNS-1035 label must consist`));
});

test("Service update: clusterIP may not change", () => {
  const old = service({ clusterIP: "10.96.0.20", ports: [{ port: 80 }] });
  const now = service({ clusterIP: "10.96.0.21", ports: [{ port: 80 }] });
  assert.deepEqual(update(now, old), [
    `spec.clusterIPs[0]: Invalid value: []string{"10.96.0.21"}: may not change once set`,
  ]);
});

test("ConfigMap: keys valid, size limit, immutable", () => {
  const cm: ConfigMap = { apiVersion: "v1", kind: "ConfigMap", metadata: meta("c"), data: { "a b": "x" } };
  assert.deepEqual(create(cm), [
    `data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
  ]);
  const big: ConfigMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta("c"),
    data: { k: "x".repeat(1048577) },
  };
  assert.deepEqual(create(big), ["Too long: may not be more than 1048576 bytes"]);
  const old: ConfigMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta("c"),
    data: { k: "1" },
    immutable: true,
  };
  const now: ConfigMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta("c"),
    data: { k: "2" },
    immutable: true,
  };
  assert.deepEqual(update(now, old), ["data: Forbidden: field is immutable when `immutable` is set"]);
});

test("Secret: stringData folded into data, type defaulted, base64 checked, TLS keys required", () => {
  const s: Secret = { apiVersion: "v1", kind: "Secret", metadata: meta("s"), stringData: { user: "admin" } };
  assert.deepEqual(create(s), []);
  assert.equal(s.type, "Opaque");
  assert.deepEqual(s.data, { user: "YWRtaW4=" });
  assert.equal(s.stringData, undefined);
  const bad: Secret = { apiVersion: "v1", kind: "Secret", metadata: meta("s"), data: { k: "not base64!" } };
  assert.deepEqual(create(bad), [
    `data[k]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 3`,
  ]);
  const tls: Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta("t"),
    type: "kubernetes.io/tls",
    data: { "tls.crt": "" },
  };
  assert.deepEqual(create(tls), ["data[tls.key]: Required value"]);
  const sa: Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta("t"),
    type: "kubernetes.io/service-account-token",
  };
  assert.deepEqual(create(sa), ["metadata.annotations[kubernetes.io/service-account.name]: Required value"]);
});

test("Secret update: type immutable", () => {
  const old: Secret = { apiVersion: "v1", kind: "Secret", metadata: meta("s"), type: "Opaque" };
  const now: Secret = { apiVersion: "v1", kind: "Secret", metadata: meta("s"), type: "example.com/x" };
  assert.deepEqual(update(now, old), [`type: Invalid value: "example.com/x": field is immutable`]);
});

test("decodeBase64 follows Go's strict decoder", () => {
  assert.deepEqual(decodeBase64("aGk="), Buffer.from("hi"));
  assert.deepEqual(decodeBase64("aG\nk="), Buffer.from("hi"));
  assert.equal(typeof decodeBase64("aGk"), "string");
});

test("Event: involvedObject namespace must match", () => {
  const ev: Event = {
    apiVersion: "v1",
    kind: "Event",
    metadata: meta("e", "team"),
    involvedObject: { kind: "Pod", name: "p", namespace: "other" },
  };
  assert.deepEqual(create(ev), [
    `involvedObject.namespace: Invalid value: "other": does not match event.namespace`,
  ]);
  ev.involvedObject.namespace = "team";
  assert.deepEqual(create(ev), []);
});

test("Node: cluster-scoped, taints checked", () => {
  const node: Node = {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "n1" },
    spec: { taints: [{ key: "k", effect: "Sometimes" }] },
    status: { capacity: { cpu: "4" } },
  };
  assert.deepEqual(create(node), [
    `metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`,
  ]);
  assert.deepEqual(node.status!.allocatable, { cpu: "4" });
});

test("Endpoints: addresses required, loopback refused", () => {
  const ep: Endpoints = {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: meta("web"),
    subsets: [{ addresses: [{ ip: "127.0.0.1" }], ports: [{ port: 80 }] }, { ports: [{ port: 80 }] }],
  };
  assert.deepEqual(create(ep), [
    `subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)`,
    "subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`",
  ]);
});

function rc(
  selector: Record<string, string> | undefined,
  labels: Record<string, string>,
): ReplicationController {
  return {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: meta("rc"),
    spec: {
      selector,
      template: { metadata: { labels }, spec: { containers: [{ name: "c", image: "nginx" }] } },
    },
  };
}

test("ReplicationController: selector defaulted from labels, mismatch reported", () => {
  const ok = rc(undefined, { app: "web" });
  assert.deepEqual(create(ok), []);
  assert.deepEqual(ok.spec!.selector, { app: "web" });
  assert.equal(ok.spec!.replicas, 1);
  assert.deepEqual(create(rc({ app: "api" }, { app: "web" })), [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
  ]);
  const negative = rc(undefined, { app: "web" });
  negative.spec!.replicas = -1;
  assert.deepEqual(create(negative), [
    "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
  ]);
});

test("errors are FieldError objects with upstream's reasons", () => {
  const errs: FieldError[] = rules("Service").validate(service({}) as unknown as KubeObject);
  assert.ok(errs.some((e) => e.type === "FieldValueRequired" && e.field === "spec.ports"));
});
