import { test } from "node:test";
import assert from "node:assert/strict";
import { FieldSet, fieldElement, keyElement, pathToString, valueElement } from "./field-set.ts";

/** FieldsV1 texts as a real apiserver stores them (kubectl create / apply of a Deployment, a Namespace). */
const upstreamSamples = [
  String.raw`{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}},"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}`,
  String.raw`{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`,
  String.raw`{"f:metadata":{"f:finalizers":{".":{},"v:\"kubernetes\"":{}}},"f:status":{"f:phase":{}}}`,
  String.raw`{"f:status":{"f:conditions":{".":{},"k:{\"type\":\"Available\"}":{".":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Progressing\"}":{".":{},"f:status":{},"f:type":{}}},"f:replicas":{}}}`,
];

test("FieldsV1 written by upstream round-trips byte for byte", () => {
  for (const text of upstreamSamples) {
    assert.equal(FieldSet.fromFieldsV1(JSON.parse(text)).toJSON(), text);
  }
});

test("decoding FieldsV1 yields members, self markers and list items", () => {
  const set = FieldSet.fromFieldsV1(JSON.parse(upstreamSamples[0] as string));
  const labels = ["f:metadata", "f:labels"];
  assert.equal(set.has(labels), true, "a map with '.' is itself a member");
  assert.equal(set.has(["f:metadata"]), false, "a parent without '.' is not");
  assert.equal(set.has([...labels, "f:app"]), true);
  const item = ["f:spec", "f:template", "f:spec", "f:containers", keyElement({ name: "nginx" })];
  assert.equal(set.has(item), true);
  assert.equal(set.has([...item, "f:image"]), true);
  assert.equal(set.has([...item, "f:ports", keyElement({ protocol: "TCP", containerPort: 80 })]), true);
});

test("serialization orders fields, then keys, then values, and puts '.' first", () => {
  const set = FieldSet.of(
    ["f:z"],
    ["f:a", 'v:"b"'],
    ["f:a", 'v:"a"'],
    ["f:a", 'k:{"name":"x"}'],
    ["f:a", "f:m"],
    ["f:a"],
    ["f:n", "v:10"],
    ["f:n", "v:9"],
  );
  assert.equal(
    set.toJSON(),
    String.raw`{"f:a":{".":{},"f:m":{},"k:{\"name\":\"x\"}":{},"v:\"a\"":{},"v:\"b\"":{}},"f:n":{"v:9":{},"v:10":{}},"f:z":{}}`,
  );
});

test("key elements are canonical whatever the order they were written in", () => {
  const set = FieldSet.fromFieldsV1({ "f:ports": { 'k:{"protocol":"UDP","containerPort":53}': {} } });
  assert.equal(set.toJSON(), String.raw`{"f:ports":{"k:{\"containerPort\":53,\"protocol\":\"UDP\"}":{}}}`);
  assert.equal(keyElement({ protocol: "UDP", containerPort: 53 }), 'k:{"containerPort":53,"protocol":"UDP"}');
});

test("unknown element types are dropped, malformed ones refused", () => {
  assert.equal(FieldSet.fromFieldsV1({ "f:a": {}, "x:what": {} }).toJSON(), '{"f:a":{}}');
  assert.throws(() => FieldSet.fromFieldsV1({ 'k:{"name"': {} }));
  assert.throws(() => FieldSet.fromFieldsV1({ "f:a": [] }));
});

test("paths print as upstream prints them in conflicts", () => {
  const cases: [string[], string][] = [
    [["f:spec", "f:replicas"], ".spec.replicas"],
    [
      ["f:spec", "f:containers", keyElement({ name: "web" }), "f:image"],
      '.spec.containers[name="web"].image',
    ],
    [
      ["f:ports", keyElement({ containerPort: 80, protocol: "TCP" })],
      '.ports[containerPort=80,protocol="TCP"]',
    ],
    [["f:metadata", "f:finalizers", valueElement("x")], '.metadata.finalizers[="x"]'],
    [["f:data", fieldElement("a.b")], ".data.a.b"],
  ];
  for (const [path, want] of cases) assert.equal(pathToString(path), want);
});

test("set operations", () => {
  const a = FieldSet.of(["f:a"], ["f:b", "f:c"], ["f:b", "f:d"]);
  const b = FieldSet.of(["f:b", "f:c"], ["f:e"]);
  assert.deepEqual(a.union(b).paths(), [["f:a"], ["f:b", "f:c"], ["f:b", "f:d"], ["f:e"]]);
  assert.deepEqual(a.intersection(b).paths(), [["f:b", "f:c"]]);
  assert.deepEqual(a.difference(b).paths(), [["f:a"], ["f:b", "f:d"]]);
  assert.deepEqual(a.recursiveDifference(FieldSet.of(["f:b"])).paths(), [["f:a"]]);
  assert.deepEqual(FieldSet.of(["f:b", "f:c"]).withAncestors().paths(), [["f:b"], ["f:b", "f:c"]]);
  assert.equal(a.difference(a).isEmpty(), true);
  assert.equal(a.size, 3);
  assert.equal(a.equals(a.clone()), true);
  assert.equal(a.equals(b), false);
});
