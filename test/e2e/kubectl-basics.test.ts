/**
 * e2e: a fresh `kites server` (SQLite) driven by real kubectl 1.27, 1.30, 1.32 and 1.33:
 * discovery, the system namespaces, create/get/label/annotate/patch/apply/delete of a
 * ConfigMap, selectors, output formats, watch, and upstream's errors for bad input.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { kubectlMissing, serverForSuite } from "./harness.ts";

const VERSIONS = ["1.27", "1.30", "1.32", "1.33"];

for (const version of VERSIONS) {
  const skip = kubectlMissing(version);
  describe(`kubectl ${version} against kites`, { skip }, () => {
    const { k, ok } = serverForSuite(version);

    it("reports the server version and lists API resources with short names", () => {
      assert.match(ok(["version"]), /Server Version: .*v1\.33\.0\+kites/);
      const res = ok(["api-resources"]);
      assert.match(res, /^pods\s+po\s+v1\s+true\s+Pod$/m);
      assert.match(res, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
      assert.match(res, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
    });

    it("starts with the system namespaces, Active", () => {
      const out = ok(["get", "ns"]);
      for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
        assert.match(out, new RegExp(`^${ns}\\s+Active\\s+\\d+s`, "m"));
      }
      assert.match(out, /^NAME\s+STATUS\s+AGE$/m);
    });

    it("creates, reads, labels, patches, applies and deletes a ConfigMap", () => {
      const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  labels: {app: web}\ndata:\n  a: "1"\n`;
      assert.match(ok(["create", "-f", "-", "--validate=false"], yaml), /configmap\/web created/);
      assert.match(ok(["get", "cm", "web"]), /^web\s+1\s+\d+s$/m);
      assert.match(ok(["get", "configmaps", "--show-labels"]), /app=web/);
      ok(["label", "cm", "web", "tier=front"]);
      ok(["annotate", "cm", "web", "note=hi"]);
      assert.equal(ok(["get", "cm", "-l", "tier=front", "-o", "name"]).trim(), "configmap/web");
      assert.equal(ok(["get", "cm", "-l", "app=web,tier!=front", "-o", "name"]).trim(), "");
      ok(["label", "cm", "web", "tier-"]);
      assert.equal(ok(["get", "cm", "web", "-o", "jsonpath={.metadata.labels}"]), '{"app":"web"}');
      ok(["patch", "cm", "web", "--type=json", "-p", '[{"op":"add","path":"/data/b","value":"x"}]']);
      ok(["patch", "cm", "web", "--type=merge", "-p", '{"data":{"c":"y"}}']);
      ok(["patch", "cm", "web", "-p", '{"data":{"d":"z"}}']);
      assert.equal(ok(["get", "cm", "web", "-o", "jsonpath={.data}"]), '{"a":"1","b":"x","c":"y","d":"z"}');
      const json = JSON.parse(ok(["get", "cm", "web", "-o", "json"])) as {
        metadata: Record<string, unknown>;
      };
      assert.match(String(json.metadata.uid), /^[0-9a-f-]{36}$/);
      assert.match(String(json.metadata.resourceVersion), /^\d+$/);
      assert.match(
        ok(["apply", "-f", "-", "--validate=false"], yaml.replace('"1"', '"2"')),
        /configmap\/web configured/,
      );
      assert.equal(ok(["get", "cm", "web", "-o", "jsonpath={.data.a}"]), "2");
      assert.match(ok(["delete", "cm", "web"]), /configmap "web" deleted/);
      const gone = k(["get", "cm", "web"]);
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /Error from server \(NotFound\): configmaps "web" not found/);
    });

    it("answers bad input with upstream's Status and changes nothing", () => {
      ok(["create", "configmap", "keep", "--from-literal=a=b"]);
      const dup = k(
        ["create", "-f", "-", "--validate=false"],
        `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keep"},"data":{"a":"other"}}`,
      );
      assert.match(dup.stderr, /Error from server \(AlreadyExists\).*configmaps "keep" already exists/);
      assert.equal(ok(["get", "cm", "keep", "-o", "jsonpath={.data.a}"]), "b");
      const bad = k(
        ["create", "-f", "-", "--validate=false"],
        `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":-1,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}`,
      );
      assert.notEqual(bad.code, 0);
      assert.match(
        bad.stderr,
        /The Deployment "d" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0/,
      );
      assert.equal(k(["get", "deploy", "d"]).code, 1);
      const malformed = k(
        ["create", "-f", "-", "--validate=false"],
        `{"apiVersion":"v1","kind":"ConfigMap","metadata":`,
      );
      assert.notEqual(malformed.code, 0);
      const huge = k(
        ["create", "-f", "-", "--validate=false"],
        JSON.stringify({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "huge" },
          data: { big: "x".repeat(4 * 1024 * 1024) },
        }),
      );
      assert.notEqual(huge.code, 0);
      assert.match(huge.stderr, /Request entity too large/);
      assert.equal(k(["get", "cm", "huge"]).code, 1);
      const missingNs = k(["create", "cm", "x", "-n", "nope", "--from-literal=a=b"]);
      assert.match(missingNs.stderr, /namespaces "nope" not found/);
    });

    it("lists across namespaces and sorts", () => {
      ok(["create", "namespace", "team-a"]);
      ok(["create", "configmap", "zz", "-n", "team-a", "--from-literal=a=b"]);
      ok(["create", "configmap", "aa", "-n", "team-a", "--from-literal=a=b"]);
      const all = ok(["get", "cm", "-A"]);
      assert.match(all, /^NAMESPACE\s+NAME\s+DATA\s+AGE$/m);
      assert.match(all, /^team-a\s+aa\s+1/m);
      const sorted = ok([
        "get",
        "cm",
        "-n",
        "team-a",
        "--sort-by=.metadata.name",
        "-o",
        "custom-columns=N:.metadata.name",
        "--no-headers",
      ]);
      // Every namespace also holds kube-root-ca.crt, published shortly after it is created.
      const mine = (out: string): string[] =>
        out
          .trim()
          .split("\n")
          .filter((n) => !n.includes("kube-root-ca.crt"));
      assert.deepEqual(mine(sorted), ["aa", "zz"]);
      const page = ok(["get", "cm", "-n", "team-a", "--chunk-size=1", "-o", "name"]);
      assert.deepEqual(mine(page), ["configmap/aa", "configmap/zz"]);
    });
  });
}
