import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatFieldError } from "../field-errors.ts";
import type { KubeObject } from "../object.ts";
import { otherRules } from "./other.ts";

type Obj = Record<string, unknown>;

function create(obj: KubeObject): string[] {
  const rules = otherRules[obj.kind]!;
  rules.defaults?.(obj);
  return rules.validate(obj).map(formatFieldError);
}

function update(obj: KubeObject, old: KubeObject): string[] {
  const rules = otherRules[obj.kind]!;
  rules.defaults?.(old);
  rules.defaults?.(obj);
  obj.metadata.resourceVersion = "2";
  old.metadata.resourceVersion = "1";
  return rules.validateUpdate!(obj, old).map(formatFieldError);
}

function slice(fields: Obj = {}): KubeObject {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-x7k2p", namespace: "default" },
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.244.0.5"], conditions: { ready: true }, nodeName: "node-1" }],
    ports: [{ name: "http", port: 80 }],
    ...fields,
  };
}

describe("EndpointSlice validation", () => {
  it("accepts a valid slice", () => assert.deepEqual(create(slice()), []));

  const cases: [string, Obj, string[]][] = [
    ["missing addressType", { addressType: "" }, ["addressType: Required value"]],
    [
      "unknown addressType",
      { addressType: "IP" },
      ['addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"'],
    ],
    [
      "endpoint without addresses",
      { endpoints: [{ addresses: [] }] },
      ["endpoints[0].addresses: Required value: must contain at least 1 address"],
    ],
    [
      "IPv6 address in an IPv4 slice",
      { endpoints: [{ addresses: ["fd00::1"] }] },
      ['endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address'],
    ],
    [
      "loopback address",
      { endpoints: [{ addresses: ["127.0.0.1"] }] },
      [
        'endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
      ],
    ],
    [
      "link-local IPv6",
      { addressType: "IPv6", endpoints: [{ addresses: ["fe80::1"] }] },
      [
        'endpoints[0].addresses[0]: Invalid value: "fe80::1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
      ],
    ],
    [
      "FQDN with a single label",
      { addressType: "FQDN", endpoints: [{ addresses: ["web"] }] },
      [
        'endpoints[0].addresses[0]: Invalid value: "web": should be a domain with at least two segments separated by dots',
      ],
    ],
    [
      "bad protocol and duplicate port names",
      {
        ports: [
          { name: "http", port: 80, protocol: "HTTP" },
          { name: "http", port: 81 },
        ],
      },
      [
        'ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        'ports[1].name: Duplicate value: "http"',
      ],
    ],
    [
      "bad hostname",
      { endpoints: [{ addresses: ["10.0.0.1"], hostname: "Web_1" }] },
      [
        "endpoints[0].hostname: Invalid value: \"Web_1\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ],
    ],
  ];
  for (const [name, fields, want] of cases) {
    it(name, () => assert.deepEqual(create(slice(fields)), want));
  }

  it("freezes addressType on update and still accepts the deprecated IP type there", () => {
    assert.deepEqual(update(slice({ addressType: "IPv6", endpoints: [] }), slice()), [
      'addressType: Invalid value: "IPv6": field is immutable',
    ]);
    assert.deepEqual(update(slice({ addressType: "IP" }), slice({ addressType: "IP" })), []);
  });
});

function lease(spec: Obj): KubeObject {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "node-1", namespace: "kube-node-lease" },
    spec,
  };
}

describe("Lease validation", () => {
  const cases: [string, Obj, string[]][] = [
    [
      "valid",
      { holderIdentity: "node-1", leaseDurationSeconds: 40, renewTime: "2024-01-01T00:00:00.000000Z" },
      [],
    ],
    [
      "zero duration",
      { leaseDurationSeconds: 0 },
      ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"],
    ],
    [
      "negative transitions",
      { leaseTransitions: -1 },
      ["spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0"],
    ],
    [
      "preferredHolder without strategy",
      { preferredHolder: "b" },
      ["spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined"],
    ],
  ];
  for (const [name, spec, want] of cases) {
    it(name, () => assert.deepEqual(create(lease(spec)), want));
  }
  it("validates the spec on update too", () => {
    assert.deepEqual(update(lease({ leaseDurationSeconds: -5 }), lease({ leaseDurationSeconds: 40 })), [
      "spec.leaseDurationSeconds: Invalid value: -5: must be greater than 0",
    ]);
  });
});

function priorityClass(fields: Obj, name = "high-priority"): KubeObject {
  return {
    apiVersion: "scheduling.k8s.io/v1",
    kind: "PriorityClass",
    metadata: { name },
    value: 1000,
    ...fields,
  };
}

describe("PriorityClass validation", () => {
  const cases: [string, KubeObject, string[]][] = [
    ["valid", priorityClass({}), []],
    [
      "value too high",
      priorityClass({ value: 1_000_000_001 }),
      ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"],
    ],
    ["built-in system class", priorityClass({ value: 2_000_000_000 }, "system-cluster-critical"), []],
    [
      "made-up system class",
      priorityClass({ value: 5 }, "system-mine"),
      [
        "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
      ],
    ],
    [
      "system class with the wrong value",
      priorityClass({ value: 5 }, "system-node-critical"),
      [
        "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000",
      ],
    ],
    [
      "bad preemptionPolicy",
      priorityClass({ preemptionPolicy: "Sometimes" }),
      ['preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"'],
    ],
    [
      "namespace set",
      { ...priorityClass({}), metadata: { name: "p", namespace: "default" } },
      ["metadata.namespace: Forbidden: not allowed on this type"],
    ],
  ];
  for (const [name, obj, want] of cases) {
    it(name, () => assert.deepEqual(create(obj), want));
  }

  it("freezes value and preemptionPolicy", () => {
    assert.deepEqual(update(priorityClass({ value: 2000, preemptionPolicy: "Never" }), priorityClass({})), [
      "value: Forbidden: may not be changed in an update.",
      'preemptionPolicy: Invalid value: "Never": field is immutable',
    ]);
    assert.deepEqual(update(priorityClass({ description: "now described" }), priorityClass({})), []);
  });
});

function event(fields: Obj): KubeObject {
  return {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: { name: "web.17a3c", namespace: "default" },
    eventTime: "2024-06-01T10:00:00.000000Z",
    reportingController: "kites.io/scheduler",
    reportingInstance: "kites-scheduler-node-1",
    action: "Binding",
    reason: "Scheduled",
    type: "Normal",
    regarding: { kind: "Pod", namespace: "default", name: "web" },
    note: "Successfully assigned default/web to node-1",
    ...fields,
  };
}

describe("events.k8s.io Event validation", () => {
  const cases: [string, Obj, string[]][] = [
    ["valid", {}, []],
    [
      "missing reporting fields",
      { reportingController: "", reportingInstance: undefined, action: undefined, reason: undefined },
      [
        "reportingController: Required value",
        'reportingController: Invalid value: "": name part must be non-empty',
        "reportingController: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        "reportingInstance: Required value",
        "action: Required value",
        "reason: Required value",
      ],
    ],
    ["missing eventTime", { eventTime: undefined }, ["eventTime: Required value"]],
    ["bad type", { type: "Info" }, ['type: Invalid value: "": has invalid value: Info']],
    ["deprecated count set", { deprecatedCount: 3 }, ['count: Invalid value: "": needs to be unset']],
    [
      "note too long",
      { note: "x".repeat(1025) },
      ['message: Invalid value: "": can have at most 1024 characters'],
    ],
    [
      "series too short",
      { series: { count: 1, lastObservedTime: "2024-06-01T10:00:00.000000Z" } },
      ['series.count: Invalid value: "": should be at least 2'],
    ],
  ];
  for (const [name, fields, want] of cases) {
    it(name, () => assert.deepEqual(create(event(fields)), want));
  }

  it("allows growing a series but not changing the note", () => {
    const series = { series: { count: 2, lastObservedTime: "2024-06-01T10:05:00.000000Z" } };
    assert.deepEqual(update(event(series), event({})), []);
    assert.deepEqual(update(event({ note: "changed" }), event({})), [
      'message: Invalid value: "changed": field is immutable',
    ]);
  });
});
