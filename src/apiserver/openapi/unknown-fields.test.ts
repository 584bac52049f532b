/** @module Tests of the unknown-field check behind `fieldValidation`. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { unknownFields } from "./unknown-fields.ts";

interface Case {
  readonly name: string;
  readonly gvk: readonly [string, string, string];
  readonly obj: unknown;
  readonly want: readonly string[];
}

const pod = ["", "v1", "Pod"] as const;
const deployment = ["apps", "v1", "Deployment"] as const;

const cases: readonly Case[] = [
  {
    name: "a valid pod has no unknown fields",
    gvk: pod,
    obj: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", labels: { app: "web" }, annotations: { "example.com/x": "y" } },
      spec: {
        containers: [
          {
            name: "c",
            image: "nginx",
            ports: [{ containerPort: 80 }],
            resources: { limits: { cpu: "1", memory: "64Mi" } },
            env: [{ name: "A", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
          },
        ],
        nodeSelector: { disk: "ssd" },
      },
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
    },
    want: [],
  },
  {
    name: "misspelled container field is named with its index",
    gvk: pod,
    obj: { spec: { containers: [{ name: "a" }, { name: "b", imagee: "nginx" }] } },
    want: ["spec.containers[1].imagee"],
  },
  {
    name: "unknown fields at every depth, in document order",
    gvk: pod,
    obj: {
      bogus: 1,
      metadata: { name: "p", nmae: "q" },
      spec: { foo: true, containers: [{ name: "a", ports: [{ containerPort: 80, hostPortt: 1 }] }] },
    },
    want: ["bogus", "metadata.nmae", "spec.foo", "spec.containers[0].ports[0].hostPortt"],
  },
  {
    name: "field names are case-sensitive",
    gvk: pod,
    obj: { spec: { Containers: [] } },
    want: ["spec.Containers"],
  },
  {
    name: "free-form maps are not checked",
    gvk: ["", "v1", "ConfigMap"],
    obj: { data: { anything: "x" }, binaryData: { other: "eA==" }, metadata: { labels: { any: "thing" } } },
    want: [],
  },
  {
    name: "nested pod template and IntOrString fields",
    gvk: deployment,
    obj: {
      spec: {
        replicas: 2,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0, extra: 1 } },
        template: {
          metadata: { labels: { a: "b" } },
          spec: { containers: [{ name: "c", command: ["sh"], cmd: ["x"] }] },
        },
      },
    },
    want: ["spec.strategy.rollingUpdate.extra", "spec.template.spec.containers[0].cmd"],
  },
  {
    name: "fields newer than kubernetes-types 1.30 are known",
    gvk: pod,
    obj: {
      spec: {
        resources: { limits: { cpu: "1" } },
        containers: [{ name: "c", lifecycle: { stopSignal: "SIGUSR1" } }],
      },
      status: {
        observedGeneration: 2,
        conditions: [{ type: "Ready", status: "True", observedGeneration: 2 }],
      },
    },
    want: [],
  },
  {
    name: "a kind without a schema cannot be checked",
    gvk: ["example.com", "v1", "Widget"],
    obj: { spec: { anything: 1 } },
    want: [],
  },
  {
    name: "a list kind checks its items",
    gvk: ["", "v1", "ConfigMapList"],
    obj: { items: [{ metadata: { name: "a" }, dataa: {} }] },
    want: ["items[0].dataa"],
  },
];

describe("unknownFields", () => {
  for (const c of cases) {
    it(c.name, () => {
      const [group, version, kind] = c.gvk;
      assert.deepEqual(unknownFields(group, version, kind, c.obj), c.want);
    });
  }

  it("ignores values of the wrong shape rather than guessing", () => {
    assert.deepEqual(unknownFields("", "v1", "Pod", { spec: "not an object", metadata: [1] }), []);
    assert.deepEqual(unknownFields("", "v1", "Pod", null), []);
  });
});
