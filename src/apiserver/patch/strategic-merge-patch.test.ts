import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { StatusError } from "../../api/status-error.ts";
import { applyStrategicMergePatch } from "./strategic-merge-patch.ts";
import { patchSchemaFor, type PatchSchema } from "./strategies.ts";

const podSchema = patchSchemaFor("", "v1", "Pod");
const deploymentSchema = patchSchemaFor("apps", "v1", "Deployment");
const serviceSchema = patchSchemaFor("", "v1", "Service");
const nodeSchema = patchSchemaFor("", "v1", "Node");

const names = (list: unknown): unknown[] => (list as { name: string }[]).map((c) => c.name);

interface Case {
  name: string;
  schema: PatchSchema | undefined;
  doc: unknown;
  patch: unknown;
  want: unknown;
}

const twoContainers = {
  metadata: { name: "web" },
  spec: {
    containers: [
      { name: "app", image: "nginx:1", ports: [{ containerPort: 80 }] },
      { name: "side", image: "busybox:1" },
    ],
  },
};

const cases: Case[] = [
  {
    name: "changing one container's image keeps the other (kubectl apply)",
    schema: podSchema,
    doc: twoContainers,
    patch: {
      spec: {
        "$setElementOrder/containers": [{ name: "app" }, { name: "side" }],
        containers: [{ name: "app", image: "nginx:2" }],
      },
    },
    want: {
      metadata: { name: "web" },
      spec: {
        containers: [
          { name: "app", image: "nginx:2", ports: [{ containerPort: 80 }] },
          { name: "side", image: "busybox:1" },
        ],
      },
    },
  },
  {
    name: "$setElementOrder/containers reorders the list",
    schema: podSchema,
    doc: twoContainers,
    patch: { spec: { "$setElementOrder/containers": [{ name: "side" }, { name: "app" }] } },
    want: {
      metadata: { name: "web" },
      spec: { containers: [twoContainers.spec.containers[1], twoContainers.spec.containers[0]] },
    },
  },
  {
    name: "a new container goes where $setElementOrder puts it; server-only items keep their place",
    schema: podSchema,
    doc: { spec: { containers: [{ name: "a" }, { name: "b" }, { name: "c" }] } },
    patch: {
      spec: {
        "$setElementOrder/containers": [{ name: "a" }, { name: "x" }, { name: "c" }],
        containers: [{ name: "x" }],
      },
    },
    want: { spec: { containers: [{ name: "a" }, { name: "x" }, { name: "b" }, { name: "c" }] } },
  },
  {
    name: "without $setElementOrder a new item goes before the server's items (as upstream orders it)",
    schema: podSchema,
    doc: twoContainers,
    patch: { spec: { containers: [{ name: "new", image: "redis" }] } },
    want: {
      metadata: { name: "web" },
      spec: { containers: [{ name: "new", image: "redis" }, ...twoContainers.spec.containers] },
    },
  },
  {
    name: "without $setElementOrder the patch's relative order wins, server-only items first (design doc example)",
    schema: podSchema,
    doc: { spec: { containers: [{ name: "B" }, { name: "C" }, { name: "A" }] } },
    patch: { spec: { containers: [{ name: "A", image: "a" }, { name: "B", image: "b" }, { name: "D" }] } },
    want: {
      spec: {
        containers: [{ name: "C" }, { name: "A", image: "a" }, { name: "B", image: "b" }, { name: "D" }],
      },
    },
  },
  {
    name: "$patch: delete removes one container by name",
    schema: podSchema,
    doc: twoContainers,
    patch: { spec: { containers: [{ name: "side", $patch: "delete" }] } },
    want: { metadata: { name: "web" }, spec: { containers: [twoContainers.spec.containers[0]] } },
  },
  {
    name: "$patch: replace in a list replaces the whole list",
    schema: podSchema,
    doc: twoContainers,
    patch: { spec: { containers: [{ name: "only", image: "x" }, { $patch: "replace" }] } },
    want: { metadata: { name: "web" }, spec: { containers: [{ name: "only", image: "x" }] } },
  },
  {
    name: "$retainKeys on a volume switches emptyDir to hostPath",
    schema: podSchema,
    doc: {
      spec: {
        volumes: [
          { name: "data", emptyDir: { medium: "Memory" } },
          { name: "cfg", configMap: { name: "c" } },
        ],
      },
    },
    patch: {
      spec: {
        "$setElementOrder/volumes": [{ name: "data" }, { name: "cfg" }],
        volumes: [{ $retainKeys: ["hostPath", "name"], hostPath: { path: "/srv" }, name: "data" }],
      },
    },
    want: {
      spec: {
        volumes: [
          { name: "data", hostPath: { path: "/srv" } },
          { name: "cfg", configMap: { name: "c" } },
        ],
      },
    },
  },
  {
    name: "without $retainKeys the old volume source stays (the reason retainKeys exists)",
    schema: podSchema,
    doc: { spec: { volumes: [{ name: "data", emptyDir: {} }] } },
    patch: { spec: { volumes: [{ name: "data", hostPath: { path: "/srv" } }] } },
    want: { spec: { volumes: [{ name: "data", emptyDir: {}, hostPath: { path: "/srv" } }] } },
  },
  {
    name: "$deleteFromPrimitiveList/finalizers removes one finalizer",
    schema: podSchema,
    doc: { metadata: { finalizers: ["a.io/x", "b.io/y", "c.io/z"] } },
    patch: { metadata: { "$deleteFromPrimitiveList/finalizers": ["b.io/y"] } },
    want: { metadata: { finalizers: ["a.io/x", "c.io/z"] } },
  },
  {
    name: "finalizers merge as a set",
    schema: podSchema,
    doc: { metadata: { finalizers: ["a", "b"] } },
    patch: { metadata: { finalizers: ["b", "c", "c"] } },
    want: { metadata: { finalizers: ["a", "b", "c"] } },
  },
  {
    name: "$setElementOrder on a primitive list",
    schema: podSchema,
    doc: { metadata: { finalizers: ["a", "b", "c"] } },
    patch: { metadata: { "$setElementOrder/finalizers": ["c", "a", "b"] } },
    want: { metadata: { finalizers: ["c", "a", "b"] } },
  },
  {
    name: "env var value changes by name",
    schema: podSchema,
    doc: {
      spec: {
        containers: [
          {
            name: "app",
            env: [
              { name: "A", value: "1" },
              { name: "B", value: "2" },
            ],
          },
        ],
      },
    },
    patch: {
      spec: {
        containers: [
          {
            name: "app",
            env: [
              { name: "B", value: "3" },
              { name: "C", value: "4" },
            ],
          },
        ],
      },
    },
    want: {
      spec: {
        containers: [
          {
            name: "app",
            env: [
              { name: "A", value: "1" },
              { name: "B", value: "3" },
              { name: "C", value: "4" },
            ],
          },
        ],
      },
    },
  },
  {
    name: "env var switches from value to valueFrom with null",
    schema: podSchema,
    doc: { spec: { containers: [{ name: "app", env: [{ name: "A", value: "1" }] }] } },
    patch: {
      spec: {
        containers: [
          {
            name: "app",
            env: [{ name: "A", value: null, valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
          },
        ],
      },
    },
    want: {
      spec: {
        containers: [
          { name: "app", env: [{ name: "A", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }] },
        ],
      },
    },
  },
  {
    name: "container ports merge by containerPort",
    schema: podSchema,
    doc: twoContainers,
    patch: {
      spec: {
        containers: [{ name: "app", ports: [{ containerPort: 80, name: "http" }, { containerPort: 443 }] }],
      },
    },
    want: {
      metadata: { name: "web" },
      spec: {
        containers: [
          {
            name: "app",
            image: "nginx:1",
            ports: [{ containerPort: 80, name: "http" }, { containerPort: 443 }],
          },
          twoContainers.spec.containers[1],
        ],
      },
    },
  },
  {
    name: "volumeMounts merge by mountPath",
    schema: podSchema,
    doc: { spec: { containers: [{ name: "app", volumeMounts: [{ name: "a", mountPath: "/a" }] }] } },
    patch: {
      spec: { containers: [{ name: "app", volumeMounts: [{ name: "b", mountPath: "/a", readOnly: true }] }] },
    },
    want: {
      spec: { containers: [{ name: "app", volumeMounts: [{ name: "b", mountPath: "/a", readOnly: true }] }] },
    },
  },
  {
    name: "tolerations have no strategy: the list is replaced",
    schema: podSchema,
    doc: { spec: { tolerations: [{ key: "a", operator: "Exists" }] } },
    patch: { spec: { tolerations: [{ key: "b", operator: "Exists" }] } },
    want: { spec: { tolerations: [{ key: "b", operator: "Exists" }] } },
  },
  {
    name: "containerStatuses have no strategy: the list is replaced",
    schema: podSchema,
    doc: {
      status: {
        containerStatuses: [
          { name: "a", ready: true },
          { name: "b", ready: true },
        ],
      },
    },
    patch: { status: { containerStatuses: [{ name: "a", ready: false }] } },
    want: { status: { containerStatuses: [{ name: "a", ready: false }] } },
  },
  {
    name: "pod conditions merge by type",
    schema: podSchema,
    doc: {
      status: {
        conditions: [
          { type: "Ready", status: "False" },
          { type: "PodScheduled", status: "True" },
        ],
      },
    },
    patch: { status: { conditions: [{ type: "Ready", status: "True" }] } },
    want: {
      status: {
        conditions: [
          { type: "Ready", status: "True" },
          { type: "PodScheduled", status: "True" },
        ],
      },
    },
  },
  {
    name: "ownerReferences merge by uid",
    schema: podSchema,
    doc: { metadata: { ownerReferences: [{ uid: "1", name: "rs-a" }] } },
    patch: { metadata: { ownerReferences: [{ uid: "2", name: "rs-b" }] } },
    want: {
      metadata: {
        ownerReferences: [
          { uid: "2", name: "rs-b" },
          { uid: "1", name: "rs-a" },
        ],
      },
    },
  },
  {
    name: "labels removed with null",
    schema: podSchema,
    doc: { metadata: { labels: { app: "web", tier: "front" } } },
    patch: { metadata: { labels: { tier: null, env: "prod" } } },
    want: { metadata: { labels: { app: "web", env: "prod" } } },
  },
  {
    name: "$patch: replace on a map replaces it",
    schema: podSchema,
    doc: { metadata: { labels: { app: "web", tier: "front" } } },
    patch: { metadata: { labels: { $patch: "replace", only: "this" } } },
    want: { metadata: { labels: { only: "this" } } },
  },
  {
    name: "$patch: delete on a map empties it",
    schema: podSchema,
    doc: { spec: { nodeSelector: { disk: "ssd" } } },
    patch: { spec: { nodeSelector: { $patch: "delete" } } },
    want: { spec: { nodeSelector: {} } },
  },
  {
    name: "a merged list the original lacks is taken from the patch, directives processed",
    schema: podSchema,
    doc: { spec: {} },
    patch: {
      spec: {
        containers: [
          { name: "a", image: "x", command: null },
          { name: "b", $patch: "delete" },
        ],
      },
    },
    want: { spec: { containers: [{ name: "a", image: "x" }] } },
  },
  {
    name: "service port changes by port",
    schema: serviceSchema,
    doc: {
      spec: {
        ports: [
          { port: 80, targetPort: 8080, name: "http" },
          { port: 443, targetPort: 8443, name: "https" },
        ],
      },
    },
    patch: { spec: { ports: [{ port: 80, targetPort: 9090 }] } },
    want: {
      spec: {
        ports: [
          { port: 80, targetPort: 9090, name: "http" },
          { port: 443, targetPort: 8443, name: "https" },
        ],
      },
    },
  },
  {
    name: "node taints have no strategy: replaced; podCIDRs unioned",
    schema: nodeSchema,
    doc: { spec: { taints: [{ key: "a", effect: "NoSchedule" }], podCIDRs: ["10.244.0.0/24"] } },
    patch: { spec: { taints: [{ key: "b", effect: "NoExecute" }], podCIDRs: ["fd00::/64"] } },
    want: { spec: { taints: [{ key: "b", effect: "NoExecute" }], podCIDRs: ["fd00::/64", "10.244.0.0/24"] } },
  },
  {
    name: "node addresses merge by type",
    schema: nodeSchema,
    doc: {
      status: {
        addresses: [
          { type: "InternalIP", address: "10.0.0.1" },
          { type: "Hostname", address: "n1" },
        ],
      },
    },
    patch: { status: { addresses: [{ type: "InternalIP", address: "10.0.0.2" }] } },
    want: {
      status: {
        addresses: [
          { type: "InternalIP", address: "10.0.0.2" },
          { type: "Hostname", address: "n1" },
        ],
      },
    },
  },
  {
    name: "deployment pod template containers merge by name",
    schema: deploymentSchema,
    doc: {
      spec: {
        replicas: 1,
        template: {
          spec: {
            containers: [
              { name: "a", image: "x:1" },
              { name: "b", image: "y:1" },
            ],
          },
        },
      },
    },
    patch: { spec: { replicas: 2, template: { spec: { containers: [{ name: "b", image: "y:2" }] } } } },
    want: {
      spec: {
        replicas: 2,
        template: {
          spec: {
            containers: [
              { name: "a", image: "x:1" },
              { name: "b", image: "y:2" },
            ],
          },
        },
      },
    },
  },
  {
    name: "deployment strategy with $retainKeys drops rollingUpdate when switching to Recreate",
    schema: deploymentSchema,
    doc: { spec: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } } },
    patch: { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } },
    want: { spec: { strategy: { type: "Recreate" } } },
  },
  {
    name: "with no schema, lists are replaced as in a merge patch",
    schema: undefined,
    doc: { spec: { items: [{ name: "a" }, { name: "b" }] }, metadata: { labels: { a: "1" } } },
    patch: { spec: { items: [{ name: "c" }] }, metadata: { labels: { a: null } } },
    want: { spec: { items: [{ name: "c" }] }, metadata: { labels: {} } },
  },
  {
    name: "a ConfigMap's data merges like a map",
    schema: patchSchemaFor("", "v1", "ConfigMap"),
    doc: { data: { a: "1", b: "2" } },
    patch: { data: { a: null, c: "3" } },
    want: { data: { b: "2", c: "3" } },
  },
  {
    name: "a null patch changes nothing",
    schema: podSchema,
    doc: twoContainers,
    patch: null,
    want: twoContainers,
  },
];

describe("applyStrategicMergePatch", () => {
  for (const c of cases) {
    it(c.name, () => {
      const doc: unknown = JSON.parse(JSON.stringify(c.doc));
      const patch: unknown = c.patch === null ? null : JSON.parse(JSON.stringify(c.patch));
      const docBefore = structuredClone(doc);
      const patchBefore = structuredClone(patch);
      const got = applyStrategicMergePatch(doc, patch, c.schema);
      assert.deepEqual(got, JSON.parse(JSON.stringify(c.want)));
      assert.deepEqual(doc, docBefore, "document unchanged");
      assert.deepEqual(patch, patchBefore, "patch unchanged");
    });
  }

  it("$setElementOrder with a deleted container keeps the rest in the directive's order", () => {
    const doc = { spec: { containers: [{ name: "a" }, { name: "b" }, { name: "c" }] } };
    const patch = {
      spec: {
        "$setElementOrder/containers": [{ name: "c" }, { name: "a" }],
        containers: [{ name: "b", $patch: "delete" }],
      },
    };
    const out = applyStrategicMergePatch(doc, patch, podSchema) as typeof doc;
    assert.deepEqual(names(out.spec.containers), ["c", "a"]);
  });

  it("the result shares nothing with the inputs", () => {
    const doc = { metadata: { labels: { a: "1" } }, spec: { containers: [{ name: "a", image: "x" }] } };
    const patch = { spec: { containers: [{ name: "b", image: "y" }] } };
    const out = applyStrategicMergePatch(doc, patch, podSchema) as typeof doc;
    out.metadata.labels.a = "2";
    out.spec.containers[1]!.image = "z";
    assert.equal(doc.metadata.labels.a, "1");
    assert.equal(patch.spec.containers[0]!.image, "y");
  });
});

describe("applyStrategicMergePatch rejects malformed patches", () => {
  const bad: { name: string; patch: unknown; code: number; message: string | RegExp }[] = [
    {
      name: "a list item without the merge key",
      patch: { spec: { containers: [{ image: "x" }] } },
      code: 400,
      message: 'map: {"image":"x"} does not contain declared merge key: name',
    },
    {
      name: "$patch: delete without the merge key",
      patch: { spec: { containers: [{ $patch: "delete" }] } },
      code: 400,
      message: /does not contain declared merge key: name/,
    },
    {
      name: "an unknown $patch value in a map",
      patch: { metadata: { labels: { $patch: "frob" } } },
      code: 400,
      message: /^unknown patch type: "frob" in map/,
    },
    {
      name: "$patch: merge in a list",
      patch: { spec: { containers: [{ name: "a", $patch: "merge" }] } },
      code: 400,
      message: "merging lists cannot yet be specified in the patch",
    },
    {
      name: "a patched key missing from $retainKeys",
      patch: { spec: { volumes: [{ name: "data", $retainKeys: ["name"], hostPath: { path: "/x" } }] } },
      code: 400,
      message: "invalid patch format of retainKeys",
    },
    {
      name: "$retainKeys that is not a list",
      patch: { spec: { strategy: { $retainKeys: "type" } } },
      code: 400,
      message: "invalid patch format of retainKeys",
    },
    {
      name: "$setElementOrder that is not a list",
      patch: { spec: { "$setElementOrder/containers": { name: "a" } } },
      code: 400,
      message: "invalid patch format of setElementOrder list",
    },
    {
      name: "$deleteFromPrimitiveList that is not a list",
      patch: { metadata: { "$deleteFromPrimitiveList/finalizers": "a" } },
      code: 400,
      message: "invalid patch format of primitive list",
    },
    {
      name: "a patch list whose order contradicts $setElementOrder",
      patch: {
        spec: {
          "$setElementOrder/containers": [{ name: "app" }, { name: "side" }],
          containers: [
            { name: "side", image: "a" },
            { name: "app", image: "b" },
          ],
        },
      },
      code: 400,
      message: /doesn't match \$setElementOrder list/,
    },
    {
      name: "a list of lists",
      patch: { metadata: { finalizers: [["a"]] } },
      code: 422,
      message: "lists of lists are not supported",
    },
    {
      name: "a patch that is not an object",
      patch: [{ op: "add" }],
      code: 400,
      message: "json: cannot unmarshal array into Go value of type map[string]interface {}",
    },
  ];
  for (const c of bad) {
    it(c.name, () => {
      const doc = structuredClone(twoContainers);
      assert.throws(
        () => applyStrategicMergePatch(doc, c.patch, podSchema),
        (err: unknown) => {
          assert.ok(err instanceof StatusError);
          assert.equal(err.code, c.code);
          if (typeof c.message === "string") assert.equal(err.message, c.message);
          else assert.match(err.message, c.message);
          return true;
        },
      );
      assert.deepEqual(doc, twoContainers, "document unchanged");
    });
  }
});
