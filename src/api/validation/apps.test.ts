import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatFieldError } from "../field-errors.ts";
import type { KubeObject } from "../object.ts";
import { appsRules } from "./apps.ts";

type Obj = Record<string, unknown>;

function podTemplate(extra: Obj = {}, labels: Record<string, string> = { app: "web" }): Obj {
  return { metadata: { labels }, spec: { containers: [{ name: "c", image: "nginx:1.25" }], ...extra } };
}

function workload(kind: string, spec: Obj, meta: Obj = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind,
    metadata: { name: "web", namespace: "default", ...meta },
    spec: { selector: { matchLabels: { app: "web" } }, template: podTemplate(), ...spec },
  };
}

/** Defaults then validates on create, as the registry does; returns the printed errors. */
function create(obj: KubeObject): string[] {
  const rules = appsRules[obj.kind]!;
  rules.defaults?.(obj);
  return rules.validate(obj).map(formatFieldError);
}

/** Defaults both, then validates an update. */
function update(obj: KubeObject, old: KubeObject): string[] {
  const rules = appsRules[obj.kind]!;
  rules.defaults?.(old);
  rules.defaults?.(obj);
  obj.metadata.resourceVersion = "1";
  old.metadata.resourceVersion = "1";
  return rules.validateUpdate!(obj, old).map(formatFieldError);
}

describe("apps validation accepts valid objects", () => {
  for (const kind of ["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"]) {
    it(kind, () => assert.deepEqual(create(workload(kind, {})), []));
  }
  it("ControllerRevision", () => {
    const cr: KubeObject = {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: { name: "web-1", namespace: "default" },
      data: {},
      revision: 1,
    };
    assert.deepEqual(create(cr), []);
  });
});

describe("Deployment validation", () => {
  const cases: [string, Obj, string[]][] = [
    [
      "negative replicas",
      { replicas: -1 },
      ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
    ],
    [
      "missing selector",
      { selector: undefined },
      [
        "spec.selector: Required value",
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
      ],
    ],
    [
      "empty selector",
      { selector: {} },
      ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"],
    ],
    [
      "selector not matching the template",
      { selector: { matchLabels: { app: "api" } } },
      [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
      ],
    ],
    [
      "restartPolicy OnFailure",
      { template: podTemplate({ restartPolicy: "OnFailure" }) },
      ['spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"'],
    ],
    [
      "activeDeadlineSeconds",
      { template: podTemplate({ activeDeadlineSeconds: 10 }) },
      [
        "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported",
      ],
    ],
    [
      "both maxSurge and maxUnavailable zero",
      { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: "0%" } } },
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0'],
    ],
    [
      "bad percentage",
      { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25", maxUnavailable: 1 } } },
      [
        "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"25\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      ],
    ],
    [
      "maxUnavailable over 100%",
      { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: "150%" } } },
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%'],
    ],
    [
      "Recreate with rollingUpdate",
      { strategy: { type: "Recreate", rollingUpdate: { maxSurge: 1 } } },
      ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
    ],
    [
      "unknown strategy type",
      { strategy: { type: "BlueGreen" } },
      [
        'spec.strategy: Unsupported value: {"type":"BlueGreen"}: supported values: "Recreate", "RollingUpdate"',
      ],
    ],
    [
      "progressDeadlineSeconds not above minReadySeconds",
      { minReadySeconds: 30, progressDeadlineSeconds: 30 },
      ["spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds"],
    ],
  ];
  for (const [name, spec, want] of cases) {
    it(name, () => assert.deepEqual(create(workload("Deployment", spec)), want));
  }

  it("reports metadata problems too", () => {
    assert.deepEqual(create(workload("Deployment", {}, { name: "Web_1" })), [
      "metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]);
  });

  it("refuses a selector change on update but allows a template change", () => {
    const old = workload("Deployment", {});
    const changed = workload("Deployment", {
      selector: { matchLabels: { app: "web", tier: "x" } },
      template: podTemplate({}, { app: "web", tier: "x" }),
    });
    assert.deepEqual(update(changed, old), [
      'spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"x"}}: field is immutable',
    ]);
    const newImage = workload("Deployment", {
      replicas: 5,
      template: podTemplate({ containers: [{ name: "c", image: "nginx:1.27" }] }),
    });
    assert.deepEqual(update(newImage, workload("Deployment", {})), []);
  });
});

describe("ReplicaSet validation", () => {
  it("uses upstream's (deployment-worded) empty selector message", () => {
    assert.deepEqual(create(workload("ReplicaSet", { selector: {} })), [
      "spec.selector: Invalid value: {}: empty selector is invalid for deployment",
    ]);
  });
  it("refuses a selector change on update", () => {
    const got = update(
      workload("ReplicaSet", { selector: { matchExpressions: [{ key: "app", operator: "Exists" }] } }),
      workload("ReplicaSet", {}),
    );
    assert.equal(got.length, 1);
    assert.match(got[0]!, /^spec\.selector: Invalid value: .*: field is immutable$/);
  });
});

describe("DaemonSet validation", () => {
  const cases: [string, Obj, string[]][] = [
    [
      "both maxSurge and maxUnavailable set",
      { updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } },
      [
        "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero",
      ],
    ],
    [
      "both zero",
      { updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
      ["spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"],
    ],
    [
      "unknown update strategy",
      { updateStrategy: { type: "Never" } },
      [
        'spec.updateStrategy: Unsupported value: {"type":"Never"}: supported values: "RollingUpdate", "OnDelete"',
      ],
    ],
    [
      "empty selector",
      { selector: {} },
      ["spec.selector: Invalid value: {}: empty selector is invalid for daemonset"],
    ],
    [
      "restartPolicy Never",
      { template: podTemplate({ restartPolicy: "Never" }) },
      ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    ],
  ];
  for (const [name, spec, want] of cases) {
    it(name, () => assert.deepEqual(create(workload("DaemonSet", spec)), want));
  }
});

describe("StatefulSet validation", () => {
  const cases: [string, Obj, string[]][] = [
    [
      "bad podManagementPolicy",
      { podManagementPolicy: "Fast" },
      ["spec.podManagementPolicy: Invalid value: \"Fast\": must be 'OrderedReady' or 'Parallel'"],
    ],
    [
      "negative partition",
      { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: -1 } } },
      ["spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0"],
    ],
    [
      "rollingUpdate with OnDelete",
      { updateStrategy: { type: "OnDelete", rollingUpdate: { partition: 1 } } },
      [
        "spec.updateStrategy.rollingUpdate: Invalid value: {\"partition\":1}: only allowed for updateStrategy 'RollingUpdate'",
      ],
    ],
    [
      "bad retention policy",
      { persistentVolumeClaimRetentionPolicy: { whenDeleted: "Keep", whenScaled: "Delete" } },
      [
        'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"',
      ],
    ],
    [
      "empty selector",
      { selector: {} },
      ["spec.selector: Invalid value: {}: empty selector is invalid for statefulset"],
    ],
  ];
  for (const [name, spec, want] of cases) {
    it(name, () => assert.deepEqual(create(workload("StatefulSet", spec)), want));
  }

  it("needs no serviceName", () => {
    assert.deepEqual(create(workload("StatefulSet", { serviceName: undefined })), []);
  });

  it("names must be DNS labels", () => {
    const got = create(workload("StatefulSet", {}, { name: "db.primary" }));
    assert.deepEqual(got, ['metadata.name: Invalid value: "db.primary": must not contain dots']);
  });

  it("allows replicas, template and strategy updates but forbids other spec changes", () => {
    const ok = workload("StatefulSet", { replicas: 3, updateStrategy: { type: "OnDelete" } });
    assert.deepEqual(update(ok, workload("StatefulSet", {})), []);
    const renamed = workload("StatefulSet", { serviceName: "other" });
    assert.deepEqual(update(renamed, workload("StatefulSet", { serviceName: "db" })), [
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
  });
});

describe("ControllerRevision validation", () => {
  it("requires data and refuses changing it", () => {
    const cr: KubeObject = {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: { name: "r", namespace: "default" },
      revision: -1,
    };
    assert.deepEqual(create(cr), [
      "data: Required value: data is mandatory",
      "revision: Invalid value: -1: must be greater than or equal to 0",
    ]);
    const old: KubeObject = {
      ...cr,
      data: { a: 1 },
      revision: 1,
      metadata: { name: "r", namespace: "default" },
    };
    const changed: KubeObject = {
      ...cr,
      data: { a: 2 },
      revision: 1,
      metadata: { name: "r", namespace: "default" },
    };
    assert.deepEqual(update(changed, old), ['data: Invalid value: {"a":2}: field is immutable']);
  });
});
