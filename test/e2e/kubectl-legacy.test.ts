/**
 * e2e: kubectl 1.27 and 1.28 with default (server-side) validation. They read `/openapi/v2`
 * (gnostic protobuf) to learn that the server takes `fieldValidation`, and use its definitions
 * for strategic merge patches: apply (create / configure / unchanged), create, replace, edit,
 * an unknown field rejected by the server, and explain. kubectl 1.33 must keep using v3 only.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { kubectlMissing, serverForSuite, startServer, type TestServer } from "./harness.ts";

const CONFIGMAP = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "1"\n`;

function deployment(name: string, image: string, extraSpec = ""): string {
  return [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    ...(extraSpec ? [`  ${extraSpec}`] : []),
    "  selector: {matchLabels: {app: web}}",
    "  template:",
    "    metadata: {labels: {app: web}}",
    "    spec:",
    "      containers:",
    `      - {name: main, image: ${image}, ports: [{containerPort: 80}]}`,
    "      - {name: side, image: busybox}",
    "",
  ].join("\n");
}

for (const version of ["1.27", "1.28"]) {
  const skip = kubectlMissing(version);
  describe(`kubectl ${version} (OpenAPI v2) with server-side validation`, { skip }, () => {
    const { k, ok } = serverForSuite(version);

    it("reads /openapi/v2 as protobuf and sends fieldValidation=Strict", () => {
      const r = k(["apply", "-f", "-", "--dry-run=server", "-v=6"], CONFIGMAP);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /GET https:\/\/[^ ]+\/openapi\/v2\?timeout=\d+s 200 OK/);
      assert.match(r.stderr, /POST [^ ]+\/configmaps\?[^ ]*fieldValidation=Strict/);
    });

    it("applies a ConfigMap: created, configured, unchanged", () => {
      assert.match(ok(["apply", "-f", "-"], CONFIGMAP), /configmap\/settings created/);
      assert.match(
        ok(["apply", "-f", "-"], CONFIGMAP.replace('"1"', '"2"')),
        /configmap\/settings configured/,
      );
      assert.match(
        ok(["apply", "-f", "-"], CONFIGMAP.replace('"1"', '"2"')),
        /configmap\/settings unchanged/,
      );
      assert.equal(ok(["get", "cm", "settings", "-o", "jsonpath={.data.a}"]), "2");
    });

    it("applies a Deployment with a strategic merge patch keyed by container name", () => {
      assert.match(ok(["apply", "-f", "-"], deployment("web", "nginx:1")), /deployment.apps\/web created/);
      assert.match(ok(["apply", "-f", "-"], deployment("web", "nginx:2")), /deployment.apps\/web configured/);
      assert.match(ok(["apply", "-f", "-"], deployment("web", "nginx:2")), /deployment.apps\/web unchanged/);
      const images = ok(["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].image}"]);
      assert.equal(images, "nginx:2 busybox");
    });

    it("creates and replaces from files", () => {
      assert.match(ok(["create", "-f", "-"], deployment("made", "nginx:1")), /deployment.apps\/made created/);
      const again = k(["create", "-f", "-"], deployment("made", "nginx:1"));
      assert.equal(again.code, 1);
      assert.match(again.stderr, /Error from server \(AlreadyExists\).*"made" already exists/);
      assert.match(
        ok(["replace", "-f", "-"], deployment("made", "nginx:3")),
        /deployment.apps\/made replaced/,
      );
      assert.equal(
        ok(["get", "deploy", "made", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]),
        "nginx:3",
      );
    });

    it("has the server reject an unknown field, changing nothing", () => {
      const created = k(["apply", "-f", "-"], deployment("typo", "nginx:1", "foo: 1"));
      assert.equal(created.code, 1);
      assert.match(
        created.stderr,
        /Error from server \(BadRequest\): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"/,
      );
      assert.equal(k(["get", "deploy", "typo"]).code, 1);
      const patched = k(["apply", "-f", "-"], deployment("web", "nginx:9", "foo: 1"));
      assert.equal(patched.code, 1);
      assert.match(patched.stderr, /strict decoding error: unknown field "spec.foo"/);
      const replaced = k(["replace", "-f", "-"], deployment("made", "nginx:9", "foo: 1"));
      assert.equal(replaced.code, 1);
      assert.match(replaced.stderr, /strict decoding error: unknown field "spec.foo"/);
      assert.equal(
        ok(["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]),
        "nginx:2",
      );
    });

    it("explains pod.spec.containers", () => {
      const out = ok(["explain", "pod.spec.containers"]);
      assert.match(out, /KIND:\s+Pod/);
      assert.match(out, /containers\s+<\[\]Container>/);
      assert.match(out, /^\s+image\s+<string>/m);
      // The v2 rendering parses every definition of /openapi/v2 with kubectl's model parser.
      const v2 = ok(["explain", "deployment.spec.template.spec.containers", "--output=plaintext-openapiv2"]);
      assert.match(v2, /RESOURCE:\s+containers <\[\]Object>/);
      assert.match(v2, /^\s+image\s+<string>/m);
    });

    it("edits with a scripted editor", () => {
      const editor = `sed -i -e 's/^  a: .*/  a: "7"/'`;
      const r = k(["edit", "cm", "settings"], undefined, { KUBE_EDITOR: editor });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /configmap\/settings edited/);
      assert.equal(ok(["get", "cm", "settings", "-o", "jsonpath={.data.a}"]), "7");
    });
  });
}

const skip133 = kubectlMissing("1.33");
describe("kubectl 1.33 keeps to OpenAPI v3", { skip: skip133 }, () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s?.stop();
  });

  it("applies with server-side validation without asking for /openapi/v2", () => {
    const r = s.kubectl(["apply", "-f", "-", "-v=6"], {
      version: "1.33",
      stdin: deployment("web", "nginx:1"),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployment.apps\/web created/);
    assert.match(r.stderr, /\/openapi\/v3/);
    assert.doesNotMatch(r.stderr, /\/openapi\/v2/);
    const bad = s.kubectl(["apply", "-f", "-"], {
      version: "1.33",
      stdin: deployment("web", "nginx:2", "foo: 1"),
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /strict decoding error: unknown field "spec.foo"/);
  });
});
