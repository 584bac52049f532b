/**
 * e2e: kubectl workflows beyond CRUD against a real kites server — apply/diff/re-apply of a
 * Deployment with strategic merge patches, scale through the scale subresource, describe,
 * explain from OpenAPI v3, server-side dry run, wait, auth can-i/whoami, strict field
 * validation, and the health endpoints.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { kubectlMissing, serverForSuite } from "./harness.ts";

const DEPLOY = (value: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: busybox
        env: [{name: A, value: "${value}"}]
      - name: sidecar
        image: busybox
`;

for (const version of ["1.30", "1.33"]) {
  describe(`kubectl ${version} workflows`, { skip: kubectlMissing(version) }, () => {
    const suite = serverForSuite(version);
    const { k, ok } = suite;

    it("applies, diffs and re-applies a Deployment with default (server-side) validation", () => {
      assert.match(ok(["apply", "-f", "-"], DEPLOY("1")), /deployment.apps\/web created/);
      assert.match(ok(["apply", "-f", "-"], DEPLOY("1")), /deployment.apps\/web unchanged/);
      const diff = k(["diff", "-f", "-"], DEPLOY("2"));
      assert.equal(diff.code, 1, "diff exits 1 when there is a difference");
      assert.match(diff.stdout, /-\s+value: "1"\n\+\s+value: "2"/);
      assert.match(ok(["apply", "-f", "-"], DEPLOY("2")), /deployment.apps\/web configured/);
      const got = JSON.parse(ok(["get", "deploy", "web", "-o", "json"])) as {
        metadata: { generation: number };
        spec: { template: { spec: { containers: { name: string; env?: { value: string }[] }[] } } };
      };
      assert.deepEqual(
        got.spec.template.spec.containers.map((c) => c.name),
        ["web", "sidecar"],
        "the strategic merge patch kept both containers",
      );
      assert.equal(got.spec.template.spec.containers[0]!.env![0]!.value, "2");
      assert.equal(got.metadata.generation, 2);
      assert.match(ok(["get", "deploy", "web"]), /^web\s+\d\/2\s+\d\s+\d\s+\d+s$/m);
    });

    it("scales through the scale subresource and refuses a negative count", () => {
      assert.match(ok(["scale", "deploy", "web", "--replicas=5"]), /deployment.apps\/web scaled/);
      assert.equal(ok(["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]), "5");
      const scale = JSON.parse(
        ok(["get", "--raw", "/apis/apps/v1/namespaces/default/deployments/web/scale"]),
      ) as {
        kind: string;
        spec: { replicas: number };
        status: { selector: string };
      };
      assert.equal(scale.kind, "Scale");
      assert.equal(scale.spec.replicas, 5);
      assert.equal(scale.status.selector, "app=web");
      ok(["wait", "--for=jsonpath={.spec.replicas}=5", "deploy/web", "--timeout=10s"]);
      // The scaler owns spec.replicas through the scale subresource, as upstream records it.
      const entries = JSON.parse(
        ok(["get", "deploy", "web", "-o", "jsonpath={.metadata.managedFields}"]),
      ) as {
        manager: string;
        operation: string;
        apiVersion: string;
        subresource?: string;
        fieldsV1: unknown;
      }[];
      const scaler = entries.find((e) => e.subresource === "scale");
      // The manager is the User-Agent's first word: the binary's name (kubectl, kubectl.1.30).
      assert.match(scaler?.manager ?? "", /^kubectl/);
      assert.deepEqual(scaler && { ...scaler, time: undefined, manager: "kubectl" }, {
        manager: "kubectl",
        operation: "Update",
        apiVersion: "apps/v1",
        subresource: "scale",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:spec": { "f:replicas": {} } },
        time: undefined,
      });
    });

    it("server-side applies with field ownership, conflicts and --force-conflicts", () => {
      const cm = (v: string): string =>
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "${v}"\n`;
      assert.match(ok(["apply", "--server-side", "-f", "-"], cm("1")), /configmap\/ssa serverside-applied/);
      const owners = ok(["get", "cm", "ssa", "-o", "jsonpath={.metadata.managedFields[*].manager}"]);
      assert.equal(owners, "kubectl");
      ok(["apply", "--server-side", "--field-manager=other", "-f", "-"], cm("1"));
      const conflict = k(["apply", "--server-side", "--field-manager=other", "-f", "-"], cm("2"));
      assert.notEqual(conflict.code, 0);
      assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.data\.a/);
      assert.equal(ok(["get", "cm", "ssa", "-o", "jsonpath={.data.a}"]), "1", "nothing changed");
      ok(["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-"], cm("2"));
      assert.equal(ok(["get", "cm", "ssa", "-o", "jsonpath={.data.a}"]), "2");
    });

    it("binds a pod through pods/binding and evicts it with kubectl drain", () => {
      ok(["create", "-f", "-"], "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n");
      ok(["run", "bound", "--image=busybox"]);
      const binding = JSON.stringify({
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name: "bound" },
        target: { kind: "Node", name: "n1" },
      });
      assert.match(
        ok(["create", "--raw", "/api/v1/namespaces/default/pods/bound/binding", "-f", "-"], binding),
        /"Success"/,
      );
      assert.equal(ok(["get", "pod", "bound", "-o", "jsonpath={.spec.nodeName}"]), "n1");
      const again = k(
        ["create", "--raw", "/api/v1/namespaces/default/pods/bound/binding", "-f", "-"],
        binding,
      );
      assert.match(again.stderr, /pod bound is already assigned to node "n1"/);
      const drain = ok(["drain", "n1", "--force", "--grace-period=0", "--timeout=20s"]);
      assert.match(drain, /pod\/bound evicted/);
      assert.match(drain, /node\/n1 drained/);
      assert.equal(ok(["get", "node", "n1", "-o", "jsonpath={.spec.unschedulable}"]), "true");
      assert.equal(k(["get", "pod", "bound"]).code, 1);
      ok(["uncordon", "n1"]);
    });

    it("describes and explains", () => {
      const d = ok(["describe", "deploy", "web"]);
      assert.match(d, /^Name:\s+web$/m);
      assert.match(d, /^Replicas:\s+5 desired/m);
      assert.match(d, /^StrategyType:\s+RollingUpdate$/m);
      const e = ok(["explain", "pod.spec.containers.image"]);
      assert.match(e, /FIELD:\s+image <string>/);
      assert.match(e, /DESCRIPTION:/);
    });

    it("dry-runs on the server without storing, and rejects unknown fields strictly", () => {
      assert.match(
        ok(["create", "configmap", "dry", "--from-literal=a=b", "--dry-run=server"]),
        /configmap\/dry created \(server dry run\)/,
      );
      assert.equal(k(["get", "cm", "dry"]).code, 1);
      const strict = k(
        ["apply", "-f", "-"],
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\ndatta:\n  a: b\n`,
      );
      assert.notEqual(strict.code, 0);
      assert.match(strict.stderr, /unknown field "datta"/);
      assert.equal(k(["get", "cm", "typo"]).code, 1);
    });

    it("replaces, edits, prunes and waits for deletion", async () => {
      ok(["create", "configmap", "r1", "--from-literal=a=1"]);
      const yaml = ok(["get", "cm", "r1", "-o", "yaml"]).replace(/^ {2}a: "1"$/m, '  a: "9"');
      assert.match(ok(["replace", "-f", "-"], yaml), /configmap\/r1 replaced/);
      assert.equal(ok(["get", "cm", "r1", "-o", "jsonpath={.data.a}"]), "9");
      const editor = `sed -i -e 's/^  a: .*/  a: "7"/'`;
      const r = suite.server.kubectl(["edit", "cm", "r1"], { version, env: { KUBE_EDITOR: editor } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /configmap\/r1 edited/);
      assert.equal(ok(["get", "cm", "r1", "-o", "jsonpath={.data.a}"]), "7");
      const two = ["p1", "p2"]
        .map((n) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}, labels: {set: s}}\n`)
        .join("---\n");
      ok(["apply", "-f", "-"], two);
      const pruned = ok(
        ["apply", "-f", "-", "--prune", "-l", "set=s", "--prune-allowlist=core/v1/ConfigMap"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p1, labels: {set: s}}\n",
      );
      assert.match(pruned, /configmap\/p2 pruned/);
      assert.equal(ok(["get", "cm", "-l", "set=s", "-o", "name"]).trim(), "configmap/p1");
      const waiting = suite.server.kubectlAsync(["wait", "--for=delete", "cm/p1", "--timeout=20s"], {
        version,
      });
      await new Promise((r) => setTimeout(r, 500));
      ok(["delete", "cm", "p1", "--wait=false"]);
      const w = await waiting;
      assert.equal(w.code, 0, w.stderr);
    });

    it("streams changes to kubectl get -w as table rows", async () => {
      ok(["create", "configmap", "w0"]);
      const watching = suite.server.kubectlAsync(["get", "cm", "-w", "--request-timeout=4s"], { version });
      await new Promise((r) => setTimeout(r, 1000));
      ok(["create", "configmap", "w1"]);
      ok(["label", "cm", "w1", "a=b"]);
      ok(["delete", "cm", "w1"]);
      const w = await watching;
      const rows = w.stdout.trim().split("\n");
      assert.match(rows[0]!, /^NAME\s+DATA\s+AGE$/);
      assert.ok(
        rows.some((r) => /^w0\s+0\s+\d+s$/.test(r)),
        w.stdout,
      );
      assert.equal(rows.filter((r) => /^w1\s+0\s+\d+s$/.test(r)).length, 3, "added, modified, deleted");
    });

    it("serves one Event through both core/v1 and events.k8s.io/v1", () => {
      const ev = `apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: web.1}
eventTime: "${new Date().toISOString().replace(/\.\d+Z$/, ".000000Z")}"
reportingController: kites.io/test
reportingInstance: node-1
action: Testing
reason: Tested
type: Normal
note: it works
regarding: {kind: Pod, name: web, namespace: default}
`;
      assert.match(ok(["create", "-f", "-"], ev), /event.events.k8s.io\/web.1 created/);
      assert.match(ok(["get", "events"]), /Normal\s+Tested\s+pod\/web\s+it works/);
      assert.equal(
        ok(["get", "events.v1.events.k8s.io", "web.1", "-o", "jsonpath={.note}/{.regarding.name}"]),
        "it works/web",
      );
      assert.equal(
        ok(["get", "events.v1.", "web.1", "-o", "jsonpath={.apiVersion}/{.message}/{.involvedObject.name}"]),
        "v1/it works/web",
      );
    });

    it("answers auth can-i and whoami, and reports health", () => {
      assert.equal(ok(["auth", "can-i", "create", "pods"]).trim(), "yes");
      assert.match(ok(["auth", "whoami"]), /kites-admin/);
      assert.match(ok(["get", "--raw", "/readyz?verbose"]), /\[\+\]datastore ok\nreadyz check passed/);
      const metrics = ok(["get", "--raw", "/metrics"]);
      assert.match(metrics, /^apiserver_request_total\{code="201",resource="deployments",verb="POST"\} 1$/m);
      assert.match(
        metrics,
        /^apiserver_request_duration_seconds_count\{resource="deployments",verb="GET"\} \d+$/m,
      );
    });
  });
}
