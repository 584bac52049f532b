/** @module Tests for the kinds table: lookups, short names, field selectors, storage keys. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  allKinds,
  convertFieldLabel,
  kindByGVK,
  kindByGroupResource,
  kindByResource,
  kindByShortName,
  storageKey,
  storagePrefix,
  type KindInfo,
} from "./kinds.ts";
import type { KubeObject } from "./object.ts";
import type { Pod, Event as CoreEvent, Node, Namespace } from "./types/core-v1.ts";
import type { Event as EventsV1Event } from "./types/events-v1.ts";
import type { Job } from "./types/batch-v1.ts";

/** Looks a kind up by GVK and fails the test if it is missing. */
function must(group: string, version: string, kind: string): KindInfo {
  const info = kindByGVK(group, version, kind);
  assert.ok(info, `${group}/${version} ${kind} is in the table`);
  return info;
}

/** Typed objects are KubeObjects: this only compiles if they are assignable. */
const asObject = (o: KubeObject): KubeObject => o;

// [group, version, kind, resource, singular, namespaced, shortNames, categories, subresources, storage root]
const ROWS: [string, string, string, string, string, boolean, string[], string[], string[], string][] = [
  [
    "",
    "v1",
    "Namespace",
    "namespaces",
    "namespace",
    false,
    ["ns"],
    [],
    ["finalize", "status"],
    "/registry/namespaces/",
  ],
  ["", "v1", "Node", "nodes", "node", false, ["no"], [], ["proxy", "status"], "/registry/minions/"],
  [
    "",
    "v1",
    "Pod",
    "pods",
    "pod",
    true,
    ["po"],
    ["all"],
    ["attach", "binding", "ephemeralcontainers", "eviction", "exec", "log", "portforward", "proxy", "status"],
    "/registry/pods/",
  ],
  [
    "",
    "v1",
    "Service",
    "services",
    "service",
    true,
    ["svc"],
    ["all"],
    ["proxy", "status"],
    "/registry/services/specs/",
  ],
  ["", "v1", "Endpoints", "endpoints", "endpoints", true, ["ep"], [], [], "/registry/services/endpoints/"],
  ["", "v1", "ConfigMap", "configmaps", "configmap", true, ["cm"], [], [], "/registry/configmaps/"],
  [
    "",
    "v1",
    "PersistentVolume",
    "persistentvolumes",
    "persistentvolume",
    false,
    ["pv"],
    [],
    ["status"],
    "/registry/persistentvolumes/",
  ],
  [
    "",
    "v1",
    "PersistentVolumeClaim",
    "persistentvolumeclaims",
    "persistentvolumeclaim",
    true,
    ["pvc"],
    [],
    ["status"],
    "/registry/persistentvolumeclaims/",
  ],
  [
    "policy",
    "v1",
    "PodDisruptionBudget",
    "poddisruptionbudgets",
    "poddisruptionbudget",
    true,
    ["pdb"],
    [],
    ["status"],
    "/registry/poddisruptionbudgets/",
  ],

  ["", "v1", "Secret", "secrets", "secret", true, [], [], [], "/registry/secrets/"],
  [
    "",
    "v1",
    "ServiceAccount",
    "serviceaccounts",
    "serviceaccount",
    true,
    ["sa"],
    [],
    ["token"],
    "/registry/serviceaccounts/",
  ],
  ["", "v1", "Event", "events", "event", true, ["ev"], [], [], "/registry/events/"],
  [
    "",
    "v1",
    "ReplicationController",
    "replicationcontrollers",
    "replicationcontroller",
    true,
    ["rc"],
    ["all"],
    ["scale", "status"],
    "/registry/controllers/",
  ],
  ["events.k8s.io", "v1", "Event", "events", "event", true, ["ev"], [], [], "/registry/events/"],
  ["coordination.k8s.io", "v1", "Lease", "leases", "lease", true, [], [], [], "/registry/leases/"],
  [
    "apps",
    "v1",
    "Deployment",
    "deployments",
    "deployment",
    true,
    ["deploy"],
    ["all"],
    ["scale", "status"],
    "/registry/deployments/",
  ],
  [
    "apps",
    "v1",
    "ReplicaSet",
    "replicasets",
    "replicaset",
    true,
    ["rs"],
    ["all"],
    ["scale", "status"],
    "/registry/replicasets/",
  ],
  [
    "apps",
    "v1",
    "DaemonSet",
    "daemonsets",
    "daemonset",
    true,
    ["ds"],
    ["all"],
    ["status"],
    "/registry/daemonsets/",
  ],
  [
    "apps",
    "v1",
    "StatefulSet",
    "statefulsets",
    "statefulset",
    true,
    ["sts"],
    ["all"],
    ["scale", "status"],
    "/registry/statefulsets/",
  ],
  [
    "apps",
    "v1",
    "ControllerRevision",
    "controllerrevisions",
    "controllerrevision",
    true,
    [],
    [],
    [],
    "/registry/controllerrevisions/",
  ],
  ["batch", "v1", "Job", "jobs", "job", true, [], ["all"], ["status"], "/registry/jobs/"],
  ["batch", "v1", "CronJob", "cronjobs", "cronjob", true, ["cj"], ["all"], ["status"], "/registry/cronjobs/"],
  [
    "discovery.k8s.io",
    "v1",
    "EndpointSlice",
    "endpointslices",
    "endpointslice",
    true,
    [],
    [],
    [],
    "/registry/endpointslices/",
  ],
  [
    "networking.k8s.io",
    "v1",
    "Ingress",
    "ingresses",
    "ingress",
    true,
    ["ing"],
    [],
    ["status"],
    "/registry/ingress/",
  ],
  [
    "networking.k8s.io",
    "v1",
    "IngressClass",
    "ingressclasses",
    "ingressclass",
    false,
    [],
    [],
    [],
    "/registry/ingressclasses/",
  ],
  [
    "scheduling.k8s.io",
    "v1",
    "PriorityClass",
    "priorityclasses",
    "priorityclass",
    false,
    ["pc"],
    [],
    [],
    "/registry/priorityclasses/",
  ],
];

describe("kinds table", () => {
  it("holds exactly the expected kinds, once each", () => {
    assert.equal(allKinds().length, ROWS.length);
    const gvks = new Set(allKinds().map((k) => `${k.group}/${k.version}/${k.kind}`));
    assert.equal(gvks.size, ROWS.length);
  });

  for (const [group, version, kind, resource, singular, namespaced, shorts, cats, subs, root] of ROWS) {
    it(`${group || "core"}/${version} ${kind} matches upstream`, () => {
      const info = must(group, version, kind);
      assert.equal(info.resource, resource);
      assert.equal(info.singularName, singular);
      assert.equal(info.namespaced, namespaced);
      assert.deepEqual(info.shortNames, shorts);
      assert.deepEqual(info.categories, cats);
      assert.deepEqual(
        info.subresources.map((s) => s.name),
        subs,
      );
      assert.equal(info.hasStatusSubresource, subs.includes("status"));
      assert.equal(info.storageRoot, root);
      assert.equal(info.apiVersion, group === "" ? version : `${group}/${version}`);
      assert.equal(info.listKind, `${kind}List`);
      assert.equal(kindByResource(group, version, resource), info);
      assert.equal(kindByGroupResource(group, resource), info);
    });
  }

  it("returns undefined for unknown kinds and resources", () => {
    assert.equal(kindByResource("", "v1", "widgets"), undefined);
    assert.equal(kindByResource("apps", "v1", "pods"), undefined);
    assert.equal(kindByGVK("apps", "v1beta1", "Deployment"), undefined);
    assert.equal(kindByShortName("nope"), undefined);
  });

  it("lists the upstream verbs: namespaces lack deletecollection", () => {
    assert.deepEqual(must("", "v1", "Namespace").verbs, [
      "create",
      "delete",
      "get",
      "list",
      "patch",
      "update",
      "watch",
    ]);
    for (const info of allKinds().filter((k) => k.kind !== "Namespace")) {
      assert.ok(info.verbs.includes("deletecollection"), `${info.resource} supports deletecollection`);
      assert.equal(info.verbs.length, 8);
    }
  });

  it("describes subresource bodies as discovery does", () => {
    const scale = must("apps", "v1", "Deployment").subresources.find((s) => s.name === "scale");
    assert.deepEqual(scale, {
      name: "scale",
      kind: "Scale",
      group: "autoscaling",
      version: "v1",
      verbs: ["get", "patch", "update"],
    });
    const pod = must("", "v1", "Pod");
    const byName = new Map(pod.subresources.map((s) => [s.name, s]));
    assert.equal(byName.get("eviction")?.group, "policy");
    assert.equal(byName.get("exec")?.kind, "PodExecOptions");
    assert.deepEqual(byName.get("log")?.verbs, ["get"]);
    assert.deepEqual(byName.get("binding")?.verbs, ["create"]);
  });

  it("records generation semantics that differ between kinds", () => {
    assert.equal(must("apps", "v1", "Deployment").generation, "spec-or-annotations");
    assert.equal(must("apps", "v1", "ReplicaSet").generation, "spec");
    assert.equal(must("discovery.k8s.io", "v1", "EndpointSlice").generation, "content-or-labels");
    assert.equal(must("scheduling.k8s.io", "v1", "PriorityClass").generation, "create-only");
    assert.equal(must("", "v1", "ConfigMap").generation, "none");
  });

  it("is frozen", () => {
    const pod = must("", "v1", "Pod");
    assert.ok(Object.isFrozen(pod));
    assert.ok(Object.isFrozen(pod.shortNames));
    assert.ok(Object.isFrozen(allKinds()));
  });
});

describe("kindByShortName", () => {
  it("resolves every short name to a kind that lists it", () => {
    const shorts = allKinds().flatMap((k) => k.shortNames);
    assert.ok(shorts.length >= 14);
    for (const short of shorts) {
      const info = kindByShortName(short);
      assert.ok(info, short);
      assert.ok(info.shortNames.includes(short), `${short} -> ${info.kind}`);
    }
  });

  const cases: [string, string, string][] = [
    ["po", "", "Pod"],
    ["svc", "", "Service"],
    ["deploy", "apps", "Deployment"],
    ["rs", "apps", "ReplicaSet"],
    ["cm", "", "ConfigMap"],
    ["ns", "", "Namespace"],
    ["no", "", "Node"],
    ["ep", "", "Endpoints"],
    ["sa", "", "ServiceAccount"],
    ["ds", "apps", "DaemonSet"],
    ["sts", "apps", "StatefulSet"],
    ["rc", "", "ReplicationController"],
    ["cj", "batch", "CronJob"],
    ["pc", "scheduling.k8s.io", "PriorityClass"],
    ["ev", "", "Event"],
  ];
  for (const [short, group, kind] of cases) {
    it(`${short} is ${group || "core"} ${kind}`, () => {
      const info = kindByShortName(short);
      assert.equal(info?.group, group);
      assert.equal(info?.kind, kind);
    });
  }
});

describe("selectableFields", () => {
  const pods = must("", "v1", "Pod");

  it("gives a pod's upstream fields with string forms", () => {
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web-0", namespace: "shop" },
      spec: {
        containers: [{ name: "c", image: "busybox" }],
        nodeName: "node-a",
        restartPolicy: "Always",
        schedulerName: "default-scheduler",
        serviceAccountName: "default",
        hostNetwork: true,
      },
      status: {
        phase: "Running",
        podIP: "10.0.0.9",
        podIPs: [{ ip: "10.244.0.5" }],
        nominatedNodeName: "node-b",
      },
    };
    assert.deepEqual(pods.selectableFields(asObject(pod)), {
      "metadata.name": "web-0",
      "metadata.namespace": "shop",
      "spec.nodeName": "node-a",
      "spec.restartPolicy": "Always",
      "spec.schedulerName": "default-scheduler",
      "spec.serviceAccountName": "default",
      "spec.hostNetwork": "true",
      "status.phase": "Running",
      "status.podIP": "10.244.0.5",
      "status.nominatedNodeName": "node-b",
    });
  });

  it("fills a bare pod's fields with upstream's zero values", () => {
    const pod: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" } };
    const fields = pods.selectableFields(asObject(pod));
    assert.equal(fields["spec.hostNetwork"], "false");
    assert.equal(fields["spec.nodeName"], "");
    assert.equal(fields["status.podIP"], "");
    assert.equal(fields["status.phase"], "");
  });

  it("falls back to status.podIP when podIPs is empty", () => {
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      status: { podIP: "10.1.2.3" },
    };
    assert.equal(pods.selectableFields(asObject(pod))["status.podIP"], "10.1.2.3");
  });

  it("gives a core/v1 event's fields, with source falling back to reportingComponent", () => {
    const event: CoreEvent = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "web-0.17a", namespace: "shop" },
      involvedObject: {
        kind: "Pod",
        namespace: "shop",
        name: "web-0",
        uid: "u-1",
        apiVersion: "v1",
        resourceVersion: "42",
        fieldPath: "spec.containers{c}",
      },
      reason: "Pulled",
      reportingComponent: "kubelet",
      type: "Normal",
    };
    assert.deepEqual(must("", "v1", "Event").selectableFields(asObject(event)), {
      "metadata.name": "web-0.17a",
      "metadata.namespace": "shop",
      "involvedObject.kind": "Pod",
      "involvedObject.namespace": "shop",
      "involvedObject.name": "web-0",
      "involvedObject.uid": "u-1",
      "involvedObject.apiVersion": "v1",
      "involvedObject.resourceVersion": "42",
      "involvedObject.fieldPath": "spec.containers{c}",
      reason: "Pulled",
      reportingComponent: "kubelet",
      source: "kubelet",
      type: "Normal",
    });
    const withSource = { ...event, source: { component: "scheduler" } };
    assert.equal(must("", "v1", "Event").selectableFields(asObject(withSource)).source, "scheduler");
  });

  it("gives an events.k8s.io event its own field names", () => {
    const event: EventsV1Event = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "e", namespace: "shop" },
      eventTime: "2024-01-01T00:00:00.000000Z",
      regarding: { kind: "Node", name: "node-a" },
      reason: "Ready",
      reportingController: "kubelet",
      type: "Normal",
    };
    const fields = must("events.k8s.io", "v1", "Event").selectableFields(asObject(event));
    assert.equal(fields["regarding.kind"], "Node");
    assert.equal(fields["regarding.name"], "node-a");
    assert.equal(fields["regarding.namespace"], "");
    assert.equal(fields.reportingController, "kubelet");
    assert.equal(fields["involvedObject.kind"], undefined);
  });

  it("omits metadata.namespace for cluster-scoped kinds", () => {
    const node: Node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "node-a" },
      spec: { unschedulable: true },
    };
    assert.deepEqual(must("", "v1", "Node").selectableFields(asObject(node)), {
      "metadata.name": "node-a",
      "spec.unschedulable": "true",
    });
    const ns: Namespace = {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "shop" },
      status: { phase: "Active" },
    };
    assert.deepEqual(must("", "v1", "Namespace").selectableFields(asObject(ns)), {
      "metadata.name": "shop",
      "status.phase": "Active",
      name: "shop",
    });
  });

  it("renders counts as decimal strings", () => {
    const job: Job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j", namespace: "d" },
      status: { succeeded: 3 },
    };
    assert.equal(must("batch", "v1", "Job").selectableFields(asObject(job))["status.successful"], "3");
    const rs = { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "r", namespace: "d" } };
    assert.equal(must("apps", "v1", "ReplicaSet").selectableFields(rs)["status.replicas"], "0");
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s", namespace: "d" },
      type: "Opaque",
    };
    assert.equal(must("", "v1", "Secret").selectableFields(secret).type, "Opaque");
  });
});

describe("convertFieldLabel", () => {
  const cases: [
    string,
    string,
    string,
    string,
    { ok: true; label: string } | { ok: false; message: string },
  ][] = [
    ["", "v1", "Pod", "spec.nodeName", { ok: true, label: "spec.nodeName" }],
    ["", "v1", "Pod", "spec.host", { ok: true, label: "spec.nodeName" }],
    ["", "v1", "Pod", "status.hostIP", { ok: false, message: "field label not supported: status.hostIP" }],
    [
      "",
      "v1",
      "Node",
      "metadata.namespace",
      { ok: false, message: "field label not supported: metadata.namespace" },
    ],
    ["", "v1", "ConfigMap", "metadata.namespace", { ok: true, label: "metadata.namespace" }],
    [
      "apps",
      "v1",
      "ReplicaSet",
      "status.replicas",
      {
        ok: false,
        message:
          '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
      },
    ],
    ["", "v1", "ReplicationController", "status.replicas", { ok: true, label: "status.replicas" }],
    [
      "batch",
      "v1",
      "Job",
      "status.active",
      { ok: false, message: 'field label "status.active" not supported for batchv1.Job' },
    ],
    ["events.k8s.io", "v1", "Event", "regarding.name", { ok: true, label: "regarding.name" }],
    [
      "events.k8s.io",
      "v1",
      "Event",
      "involvedObject.name",
      { ok: false, message: "field label not supported: involvedObject.name" },
    ],
  ];
  for (const [group, version, kind, label, want] of cases) {
    it(`${kind} ${label}`, () => {
      assert.deepEqual(convertFieldLabel(must(group, version, kind), label), want);
    });
  }
});

describe("storage keys", () => {
  const cases: [string, string, string, string, string, string][] = [
    ["", "v1", "Pod", "default", "web-0", "/registry/pods/default/web-0"],
    ["", "v1", "Service", "default", "kubernetes", "/registry/services/specs/default/kubernetes"],
    ["", "v1", "Endpoints", "default", "kubernetes", "/registry/services/endpoints/default/kubernetes"],
    ["", "v1", "Node", "", "node-a", "/registry/minions/node-a"],
    ["", "v1", "Namespace", "", "kube-system", "/registry/namespaces/kube-system"],
    ["", "v1", "ReplicationController", "d", "rc1", "/registry/controllers/d/rc1"],
    [
      "coordination.k8s.io",
      "v1",
      "Lease",
      "kube-node-lease",
      "node-a",
      "/registry/leases/kube-node-lease/node-a",
    ],
    ["", "v1", "Event", "d", "e1", "/registry/events/d/e1"],
    ["events.k8s.io", "v1", "Event", "d", "e1", "/registry/events/d/e1"],
    ["apps", "v1", "Deployment", "d", "web", "/registry/deployments/d/web"],
    ["scheduling.k8s.io", "v1", "PriorityClass", "", "high", "/registry/priorityclasses/high"],
  ];
  for (const [group, version, kind, ns, name, want] of cases) {
    it(`${kind} ${ns}/${name} -> ${want}`, () => {
      assert.equal(storageKey(must(group, version, kind), ns, name), want);
    });
  }

  it("ignores a namespace for cluster-scoped kinds", () => {
    assert.equal(storageKey(must("", "v1", "Node"), "default", "n"), "/registry/minions/n");
    assert.equal(storagePrefix(must("", "v1", "Node"), "default"), "/registry/minions/");
  });

  it("rejects a namespaced key without namespace, and an empty name", () => {
    assert.throws(() => storageKey(must("", "v1", "Pod"), "", "p"), /namespaced/);
    assert.throws(() => storageKey(must("", "v1", "Pod"), "d", ""), /empty name/);
  });

  it("builds list prefixes that end with a slash", () => {
    const pods = must("", "v1", "Pod");
    assert.equal(storagePrefix(pods), "/registry/pods/");
    assert.equal(storagePrefix(pods, "shop"), "/registry/pods/shop/");
    assert.equal(storagePrefix(pods, ""), "/registry/pods/");
    assert.ok(storageKey(pods, "shop", "a").startsWith(storagePrefix(pods, "shop")));
    assert.ok(!storageKey(pods, "shop2", "a").startsWith(storagePrefix(pods, "shop")));
  });

  it("notes that events.k8s.io events are stored as core/v1 events", () => {
    assert.deepEqual(must("events.k8s.io", "v1", "Event").storedAs, {
      group: "",
      version: "v1",
      kind: "Event",
    });
    assert.equal(must("", "v1", "Event").storedAs, undefined);
  });
});
