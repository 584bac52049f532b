import { test } from "node:test";
import assert from "node:assert/strict";
import { FieldPath, formatFieldError } from "../field-errors.ts";
import type { PodSpec, PodTemplateSpec } from "../types/core-v1.ts";
import { defaultPodSpec } from "../defaults/pod-spec.ts";
import { validatePodSpec, validatePodTemplateSpec } from "./pod-spec.ts";

const SPEC = FieldPath.root("spec");

function validSpec(): PodSpec {
  const spec: PodSpec = {
    containers: [
      {
        name: "web",
        image: "nginx:1.25",
        ports: [{ name: "http", containerPort: 80 }],
        env: [{ name: "MODE", value: "prod" }],
        volumeMounts: [{ name: "data", mountPath: "/data" }],
        resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "128Mi" } },
        livenessProbe: { httpGet: { port: "http" } },
      },
    ],
    volumes: [{ name: "data", emptyDir: {} }],
  };
  defaultPodSpec(spec);
  return spec;
}

function messages(spec: PodSpec, resourceIsPod = false): string[] {
  return validatePodSpec(spec, SPEC, { resourceIsPod }).map(formatFieldError);
}

test("a defaulted, sensible spec is valid", () => {
  assert.deepEqual(messages(validSpec()), []);
});

const NOT_FOUND_DATA = `spec.containers[0].volumeMounts[0].name: Not found: "data"`;

const cases: [string, (s: PodSpec) => void, string[]][] = [
  ["no containers", (s) => (s.containers = []), ["spec.containers: Required value"]],
  [
    "bad container name",
    (s) => (s.containers[0]!.name = "Web_1"),
    [
      `spec.containers[0].name: Invalid value: "Web_1": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    ],
  ],
  ["missing image", (s) => delete s.containers[0]!.image, ["spec.containers[0].image: Required value"]],
  [
    "duplicate names across init and app containers",
    (s) => (s.initContainers = [{ ...structuredClone(s.containers[0]!), livenessProbe: undefined }]),
    [`spec.initContainers[0].name: Duplicate value: "web"`],
  ],
  [
    "env names follow the relaxed rule (RelaxedEnvironmentVariableValidation, on since 1.32)",
    (s) => {
      s.containers[0]!.env = [
        { name: "1A", value: "x" },
        { name: "has space:ok", value: "x" },
        { name: "a=b", value: "x" },
        { name: "tab\there", value: "x" },
      ];
      s.containers[0]!.envFrom = [
        { prefix: "9_", configMapRef: { name: "cm" } },
        { prefix: "p=", configMapRef: { name: "cm" } },
      ];
    },
    [
      `spec.containers[0].env[2].name: Invalid value: "a=b": a valid environment variable name must consist only of printable ASCII characters other than '='`,
      `spec.containers[0].env[3].name: Invalid value: "tab\\there": a valid environment variable name must consist only of printable ASCII characters other than '='`,
      `spec.containers[0].envFrom[1].prefix: Invalid value: "p=": a valid environment variable name must consist only of printable ASCII characters other than '='`,
    ],
  ],
  [
    "container port out of range",
    (s) => (s.containers[0]!.ports![0]!.containerPort = 70000),
    [
      "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
    ],
  ],
  [
    "bad protocol",
    (s) => (s.containers[0]!.ports![0]!.protocol = "HTTP"),
    [
      `spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`,
    ],
  ],
  [
    "duplicate port names",
    (s) => s.containers[0]!.ports!.push({ name: "http", containerPort: 81, protocol: "TCP" }),
    [`spec.containers[0].ports[1].name: Duplicate value: "http"`],
  ],
  [
    "env valueFrom with no source",
    (s) => (s.containers[0]!.env = [{ name: "X", valueFrom: {} }]),
    [
      'spec.containers[0].env[0].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
    ],
  ],
  [
    "env valueFrom with two sources",
    (s) =>
      (s.containers[0]!.env = [
        {
          name: "X",
          valueFrom: { configMapKeyRef: { name: "a", key: "k" }, secretKeyRef: { name: "b", key: "k" } },
        },
      ]),
    [
      'spec.containers[0].env[0].valueFrom: Invalid value: "": may not have more than one field specified at a time',
    ],
  ],
  [
    "env fieldRef path not supported",
    (s) =>
      (s.containers[0]!.env = [
        { name: "X", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.foo" } } },
      ]),
    [
      `spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: "spec.foo": error converting fieldPath: field label not supported: spec.foo`,
    ],
  ],
  [
    "volume mount of an unknown volume",
    (s) => (s.containers[0]!.volumeMounts![0]!.name = "nope"),
    [`spec.containers[0].volumeMounts[0].name: Not found: "nope"`],
  ],
  [
    "duplicate volume names",
    (s) => s.volumes!.push({ name: "data", emptyDir: {} }),
    [`spec.volumes[1].name: Duplicate value: "data"`],
  ],
  [
    "two volume sources",
    (s) => (s.volumes![0]!.hostPath = { path: "/x", type: "" }),
    // As upstream, an invalid volume is not mountable, so the mount reports it missing too.
    ["spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type", NOT_FOUND_DATA],
  ],
  [
    "no volume source",
    (s) => delete s.volumes![0]!.emptyDir,
    ["spec.volumes[0]: Required value: must specify a volume type", NOT_FOUND_DATA],
  ],
  [
    "requests above limits",
    (s) => (s.containers[0]!.resources!.requests!.cpu = "2"),
    [
      `spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`,
    ],
  ],
  [
    "unparseable quantity",
    (s) => (s.containers[0]!.resources!.limits!.memory = "lots"),
    [
      `spec.containers[0].resources.limits[memory]: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    ],
  ],
  [
    "restartPolicy enum",
    (s) => (s.restartPolicy = "Sometimes"),
    [`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`],
  ],
  [
    "dnsPolicy enum",
    (s) => (s.dnsPolicy = "Cluster"),
    [
      `spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"`,
    ],
  ],
  [
    "liveness probe successThreshold",
    (s) => (s.containers[0]!.livenessProbe!.successThreshold = 2),
    ["spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"],
  ],
  [
    "probe without handler",
    (s) => (s.containers[0]!.readinessProbe = { periodSeconds: 10, successThreshold: 1 }),
    ["spec.containers[0].readinessProbe: Required value: must specify a handler type"],
  ],
  [
    "toleration with empty key and Equal",
    (s) => (s.tolerations = [{ operator: "Equal", value: "x" }]),
    [
      'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
    ],
  ],
  [
    "toleration effect enum",
    (s) => (s.tolerations = [{ key: "k", operator: "Exists", effect: "Never" }]),
    [
      `spec.tolerations[0].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`,
    ],
  ],
  [
    "activeDeadlineSeconds zero",
    (s) => (s.activeDeadlineSeconds = 0),
    ["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"],
  ],
  [
    "negative grace period",
    (s) => (s.terminationGracePeriodSeconds = -1),
    ["spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0"],
  ],
  [
    "init container probe without restartPolicy Always",
    (s) => (s.initContainers = [{ ...structuredClone(s.containers[0]!), name: "init" }]),
    [
      "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
    ],
  ],
  [
    "node affinity without terms",
    (s) =>
      (s.affinity = {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } },
      }),
    [
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term",
    ],
  ],
  [
    "pod affinity without topologyKey",
    (s) =>
      (s.affinity = {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: { a: "b" } }, topologyKey: "" },
          ],
        },
      }),
    [
      "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty",
      `spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: "": name part must be non-empty`,
      `spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: "": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    ],
  ],
  [
    "host network port mismatch on a pod",
    (s) => {
      s.hostNetwork = true;
      s.containers[0]!.ports![0]!.hostPort = 8080;
    },
    [
      "spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true",
    ],
  ],
];

for (const [name, mutate, want] of cases) {
  test(`invalid: ${name}`, () => {
    const spec = validSpec();
    mutate(spec);
    assert.deepEqual(messages(spec, true), want);
  });
}

test("hostname and nodeSelector are checked", () => {
  const spec = validSpec();
  spec.hostname = "My_Host";
  spec.nodeSelector = { "disk type": "ssd" };
  const msgs = messages(spec);
  assert.ok(
    msgs.some((m) => m.startsWith(`spec.hostname: Invalid value: "My_Host": a lowercase RFC 1123 label`)),
  );
  assert.ok(
    msgs.some((m) => m.startsWith(`spec.nodeSelector: Invalid value: "disk type": name part must consist`)),
  );
});

test("validatePodTemplateSpec checks template labels and the nested spec", () => {
  const tpl: PodTemplateSpec = { metadata: { labels: { app: "-bad" } }, spec: validSpec() };
  tpl.spec!.containers[0]!.image = "";
  tpl.spec!.ephemeralContainers = [{ name: "debug", image: "busybox" }];
  const msgs = validatePodTemplateSpec(tpl, FieldPath.root("spec").child("template")).map(formatFieldError);
  assert.ok(
    msgs[0]!.startsWith(`spec.template.labels: Invalid value: "-bad": a valid label must be an empty string`),
  );
  assert.ok(msgs.includes("spec.template.spec.containers[0].image: Required value"));
  assert.ok(
    msgs.includes(
      "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template",
    ),
  );
});
