/**
 * e2e: kubectl's exact output against kites, compared with what upstream Kubernetes prints for
 * the same command on the same objects. Tables are checked byte for byte: the expected cells
 * follow upstream's server-side printers (pkg/printers/internalversion) applied to the objects
 * as stored, laid out as kubectl lays them out (Go's text/tabwriter: minimum width 6, padding 3,
 * the last column unpadded). Only time-dependent cells (AGE, LAST SEEN, DURATION, …) are taken
 * from the actual output, and must look like a duration. One-line results (created, configured,
 * patched (no change), …) and error texts (NotFound, AlreadyExists, Invalid, Conflict) are
 * compared whole, stdout and stderr, with kubectl 1.33 and 1.27 (default validation: 1.27 reads
 * OpenAPI v2).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { kites, kubectlMissing, startServer, type KubectlResult, type TestServer } from "./harness.ts";

/** A cell whose value depends on the clock (AGE and the like): taken from the actual output. */
const TIME: unique symbol = Symbol("time");
type Cell = string | typeof TIME;

/** Go's `text/tabwriter` as kubectl configures it: cells padded to the column's widest + 3, at least 6. */
function tabwrite(rows: readonly (readonly string[])[]): string {
  const cols = Math.max(0, ...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < cols - 1; c++) {
    widths.push(Math.max(6, ...rows.map((r) => (r[c] ?? "").length + 3)));
  }
  return rows
    .map((r) => r.map((cell, c) => (c < r.length - 1 ? cell.padEnd(widths[c]!) : cell)).join("") + "\n")
    .join("");
}

/** Durations as upstream's `HumanDuration` prints them (`5s`, `2m3s`, `6y339d`, `<unknown>`). */
const DURATION = /^(\d+[smhdy](\d+[smhd])?|<unknown>|<invalid>)$/;

/**
 * Asserts that kubectl printed exactly the table `rows` (header first) and nothing on stderr,
 * after copying each TIME cell from the actual output (its columns located from its header line).
 */
function assertTable(r: KubectlResult, rows: readonly (readonly Cell[])[]): void {
  assert.equal(r.stderr, "", "no stderr");
  assert.equal(r.code, 0);
  const lines = r.stdout.split("\n");
  if (lines.length !== rows.length + 1) {
    // Not even the rows match: show the whole difference, with time cells marked.
    assert.equal(r.stdout, tabwrite(rows.map((row) => row.map((c) => (c === TIME ? "<time>" : c)))));
  }
  const header = rows[0] as string[];
  const starts: number[] = [];
  let from = 0;
  for (const h of header) {
    const at = lines[0]!.indexOf(h, from);
    starts.push(at);
    from = at + h.length;
  }
  const filled = rows.map((row, i) =>
    row.map((cell, c) => {
      if (cell !== TIME) return cell;
      const line = lines[i] ?? "";
      const value = line.slice(starts[c], c + 1 < starts.length ? starts[c + 1] : undefined).trim();
      assert.match(value, DURATION, `row ${i} column ${header[c]} of\n${r.stdout}`);
      return value;
    }),
  );
  assert.equal(r.stdout, tabwrite(filled));
}

/** `k=v,k2=v2` in key order, or `<none>` (upstream's `labels.FormatLabels`). */
function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${labels![k]}`).join(",") : "<none>";
}

interface Obj {
  metadata: { name: string; uid: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const skip = kubectlMissing();

describe("kubectl output matches upstream exactly", { skip }, () => {
  let s: TestServer;
  const k = (args: string[], opts: { stdin?: string; version?: string } = {}): KubectlResult =>
    s.kubectl(args, opts);
  const ok = (args: string[], stdin?: string): string => {
    const r = k(args, stdin === undefined ? {} : { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const json = <T = Obj>(args: string[]): T => JSON.parse(ok([...args, "-o", "json"])) as T;
  const items = (args: string[]): Obj[] => json<{ items: Obj[] }>(args).items;
  /** Asserts a whole result: stdout, stderr and exit code. */
  const same = (r: KubectlResult, stdout: string, stderr = "", code = stderr ? 1 : 0): void => {
    assert.deepEqual({ stdout: r.stdout, stderr: r.stderr, code: r.code }, { stdout, stderr, code });
  };

  before(async () => {
    s = await startServer();
    const r = kites(["sim", "nodes", "--count", "2"], s.kubeconfig);
    assert.equal(r.code, 0, r.stderr);
    ok(["wait", "--for=condition=Ready", "node", "-l", "kites.io/simulated=true", "--timeout=60s"]);
    ok(["create", "namespace", "out"]);
  });
  after(async () => {
    await s?.stop();
  });

  it("pods: get, -o wide, -o name, --show-labels, custom-columns, --sort-by, -A", () => {
    same(k(["run", "p1", "-n", "out", "--image=busybox", "--labels=app=out,tier=b"]), "pod/p1 created\n");
    same(k(["run", "p2", "-n", "out", "--image=busybox", "--labels=app=out,tier=a"]), "pod/p2 created\n");
    same(
      k(["wait", "-n", "out", "--for=condition=Ready", "pod/p1", "pod/p2", "--timeout=60s"]),
      "pod/p1 condition met\npod/p2 condition met\n",
    );
    const pods = items(["get", "pods", "-n", "out", "-l", "app=out"]);
    assert.deepEqual(
      pods.map((p) => p.metadata.name),
      ["p1", "p2"],
    );
    const row = (p: Obj): Cell[] => [p.metadata.name, "1/1", "Running", "0", TIME];
    const wide = (p: Obj): Cell[] => [
      ...row(p),
      String(p.status!.podIP),
      String(p.spec!.nodeName),
      "<none>",
      "<none>",
    ];
    const sel = ["-n", "out", "-l", "app=out"];
    assertTable(k(["get", "pods", ...sel]), [
      ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
      ...pods.map(row),
    ]);
    assertTable(k(["get", "pod", "p1", "-n", "out"]), [
      ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
      row(pods[0]!),
    ]);
    const wideHeader = [
      "NAME",
      "READY",
      "STATUS",
      "RESTARTS",
      "AGE",
      "IP",
      "NODE",
      "NOMINATED NODE",
      "READINESS GATES",
    ];
    assertTable(k(["get", "pods", ...sel, "-o", "wide"]), [wideHeader, ...pods.map(wide)]);
    assertTable(k(["get", "pods", ...sel, "-o", "wide", "--show-labels"]), [
      [...wideHeader, "LABELS"],
      ...pods.map((p) => [...wide(p), formatLabels(p.metadata.labels)]),
    ]);
    same(k(["get", "pods", ...sel, "-o", "name"]), "pod/p1\npod/p2\n");
    assertTable(
      k([
        "get",
        "pods",
        ...sel,
        "-o",
        "custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,IMAGES:.spec.containers[*].image,NONE:.status.nothing",
      ]),
      [
        ["NAME", "NODE", "IMAGES", "NONE"],
        ...pods.map((p) => [p.metadata.name, String(p.spec!.nodeName), "busybox", "<none>"]),
      ],
    );
    assertTable(k(["get", "pods", ...sel, "--sort-by=.metadata.labels.tier"]), [
      ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
      row(pods[1]!),
      row(pods[0]!),
    ]);
    assertTable(k(["get", "pods", "-A", "-l", "app=out"]), [
      ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"],
      ...pods.map((p) => ["out", ...row(p)]),
    ]);
  });

  it("pods in other states: Pending, Completed, Error, deleted", () => {
    const pod = (name: string, extra: string): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: states}
${extra}`;
    const spec = (restart: string): string =>
      `spec:\n  restartPolicy: ${restart}\n  containers: [{name: c, image: busybox}]\n`;
    const yaml = [
      pod("done", `  annotations: {kites.io/sim-exit-code: "0"}\n${spec("Never")}`),
      pod("failed", `  annotations: {kites.io/sim-exit-code: "1"}\n${spec("Never")}`),
      pod("gone", `  finalizers: [kites.io/hold]\n${spec("Always")}  nodeSelector: {no-such: node}\n`),
      pod("pending", `${spec("Always")}  nodeSelector: {no-such: node}\n`),
    ].join("---\n");
    same(
      k(["create", "-n", "out", "-f", "-"], { stdin: yaml }),
      "pod/done created\npod/failed created\npod/gone created\npod/pending created\n",
    );
    ok(["wait", "-n", "out", "--for=jsonpath={.status.phase}=Succeeded", "pod/done", "--timeout=60s"]);
    ok(["wait", "-n", "out", "--for=jsonpath={.status.phase}=Failed", "pod/failed", "--timeout=60s"]);
    ok([
      "wait",
      "-n",
      "out",
      "--for=condition=PodScheduled=false",
      "pod/pending",
      "pod/gone",
      "--timeout=60s",
    ]);
    same(k(["delete", "pod", "gone", "-n", "out", "--wait=false"]), 'pod "gone" deleted\n');
    // An unscheduled pod being deleted is failed by the pod GC (upstream too); a terminal pod
    // prints its phase, not Terminating.
    ok(["wait", "-n", "out", "--for=jsonpath={.status.phase}=Failed", "pod/gone", "--timeout=60s"]);
    const pods = items(["get", "pods", "-n", "out", "-l", "app=states"]);
    const where = (p: Obj): string[] => [
      (p.status!.podIP as string | undefined) ?? "<none>",
      (p.spec!.nodeName as string | undefined) ?? "<none>",
      "<none>",
      "<none>",
    ];
    const want: Record<string, string[]> = {
      done: ["0/1", "Completed"],
      failed: ["0/1", "Error"],
      gone: ["0/1", "Failed"],
      pending: ["0/1", "Pending"],
    };
    assertTable(k(["get", "pods", "-n", "out", "-l", "app=states", "-o", "wide"]), [
      ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
      ...pods.map((p): Cell[] => [p.metadata.name, ...want[p.metadata.name]!, "0", TIME, ...where(p)]),
    ]);
    ok([
      "patch",
      "pod",
      "gone",
      "-n",
      "out",
      "--type=json",
      "-p",
      '[{"op":"remove","path":"/metadata/finalizers"}]',
    ]);
  });

  it("deployments and replicasets: -o wide, -o name, --show-labels, custom-columns", () => {
    same(
      k(["create", "deployment", "web", "-n", "out", "--image=busybox", "--replicas=2"]),
      "deployment.apps/web created\n",
    );
    same(
      k(["wait", "-n", "out", "--for=condition=Available", "deploy/web", "--timeout=60s"]),
      "deployment.apps/web condition met\n",
    );
    ok(["wait", "-n", "out", "--for=jsonpath={.status.readyReplicas}=2", "deploy/web", "--timeout=60s"]);
    const [rs] = items(["get", "rs", "-n", "out", "-l", "app=web"]);
    const hash = rs!.metadata.labels!["pod-template-hash"]!;
    assert.equal(rs!.metadata.name, `web-${hash}`);
    assertTable(k(["get", "deploy", "-n", "out", "-o", "wide"]), [
      ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"],
      ["web", "2/2", "2", "2", TIME, "busybox", "busybox", "app=web"],
    ]);
    assertTable(k(["get", "deploy", "-n", "out", "--show-labels"]), [
      ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "LABELS"],
      ["web", "2/2", "2", "2", TIME, "app=web"],
    ]);
    assertTable(k(["get", "rs", "-n", "out", "-o", "wide"]), [
      ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"],
      [`web-${hash}`, "2", "2", "2", TIME, "busybox", "busybox", `app=web,pod-template-hash=${hash}`],
    ]);
    assertTable(k(["get", "rs", "-n", "out", "--show-labels", "--sort-by=.metadata.name"]), [
      ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "LABELS"],
      [`web-${hash}`, "2", "2", "2", TIME, `app=web,pod-template-hash=${hash}`],
    ]);
    assertTable(
      k([
        "get",
        "rs",
        "-n",
        "out",
        "-o",
        "custom-columns=NAME:.metadata.name,OWNER:.metadata.ownerReferences[0].kind",
      ]),
      [
        ["NAME", "OWNER"],
        [`web-${hash}`, "Deployment"],
      ],
    );
    same(
      k(["get", "deploy,rs", "-n", "out", "-o", "name"]),
      `deployment.apps/web\nreplicaset.apps/web-${hash}\n`,
    );
    assertTable(
      k([
        "get",
        "deploy",
        "-n",
        "out",
        "-o",
        "custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas,STRATEGY:.spec.strategy.type",
      ]),
      [
        ["NAME", "REPLICAS", "STRATEGY"],
        ["web", "2", "RollingUpdate"],
      ],
    );
  });

  it("services: every type, -o wide, -o name, --sort-by", () => {
    same(k(["create", "service", "clusterip", "web", "-n", "out", "--tcp=80:8080"]), "service/web created\n");
    same(k(["create", "service", "nodeport", "np", "-n", "out", "--tcp=81:8081"]), "service/np created\n");
    same(
      k(["create", "service", "clusterip", "hl", "-n", "out", "--clusterip=None"]),
      "service/hl created\n",
    );
    same(
      k(["create", "service", "externalname", "ex", "-n", "out", "--external-name=example.com"]),
      "service/ex created\n",
    );
    const svcs = items(["get", "svc", "-n", "out"]);
    assert.deepEqual(
      svcs.map((x) => x.metadata.name),
      ["ex", "hl", "np", "web"],
    );
    const spec = (name: string): Record<string, unknown> => svcs.find((x) => x.metadata.name === name)!.spec!;
    const sel = (name: string): string => formatLabels(spec(name).selector as Record<string, string>);
    const nodePort = (spec("np").ports as { nodePort: number }[])[0]!.nodePort;
    const rows: Cell[][] = [
      ["ex", "ExternalName", "<none>", "example.com", "<none>", TIME, sel("ex")],
      ["hl", "ClusterIP", "None", "<none>", "<none>", TIME, sel("hl")],
      ["np", "NodePort", String(spec("np").clusterIP), "<none>", `81:${nodePort}/TCP`, TIME, sel("np")],
      ["web", "ClusterIP", String(spec("web").clusterIP), "<none>", "80/TCP", TIME, sel("web")],
    ];
    const header = ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"];
    assertTable(k(["get", "svc", "-n", "out", "-o", "wide"]), [[...header, "SELECTOR"], ...rows]);
    assertTable(k(["get", "svc", "-n", "out"]), [header, ...rows.map((r) => r.slice(0, 6))]);
    assertTable(k(["get", "svc", "-n", "out", "--sort-by=.spec.type"]), [
      header,
      ...[rows[1]!, rows[3]!, rows[0]!, rows[2]!].map((r) => r.slice(0, 6)),
    ]);
    same(k(["get", "svc", "-n", "out", "-o", "name"]), "service/ex\nservice/hl\nservice/np\nservice/web\n");
    assertTable(k(["get", "svc", "-n", "out", "--show-labels"]), [
      [...header, "LABELS"],
      ...rows.map((r, i) => [...r.slice(0, 6), formatLabels(svcs[i]!.metadata.labels)]),
    ]);
    assertTable(
      k(["get", "svc", "-n", "out", "-o", "custom-columns=NAME:.metadata.name,PORTS:.spec.ports[*].port"]),
      [
        ["NAME", "PORTS"],
        ["ex", "<none>"],
        ["hl", "<none>"],
        ["np", "81"],
        ["web", "80"],
      ],
    );
  });

  it("configmaps and secrets: get, -o name, --show-labels, custom-columns", () => {
    same(
      k(["create", "configmap", "c1", "-n", "out", "--from-literal=a=1", "--from-literal=b=2"]),
      "configmap/c1 created\n",
    );
    same(k(["label", "configmap", "c1", "-n", "out", "app=out"]), "configmap/c1 labeled\n");
    assertTable(k(["get", "cm", "-n", "out", "-l", "app=out"]), [
      ["NAME", "DATA", "AGE"],
      ["c1", "2", TIME],
    ]);
    assertTable(k(["get", "cm", "-n", "out", "-l", "app=out", "-o", "wide", "--show-labels"]), [
      ["NAME", "DATA", "AGE", "LABELS"],
      ["c1", "2", TIME, "app=out"],
    ]);
    same(k(["get", "cm", "-n", "out", "-l", "app=out", "-o", "name"]), "configmap/c1\n");
    assertTable(
      k([
        "get",
        "cm",
        "-n",
        "out",
        "-l",
        "app=out",
        "--sort-by=.data.a",
        "-o",
        "custom-columns=NAME:.metadata.name,A:.data.a",
      ]),
      [
        ["NAME", "A"],
        ["c1", "1"],
      ],
    );
    same(k(["create", "secret", "generic", "s1", "-n", "out", "--from-literal=a=b"]), "secret/s1 created\n");
    same(
      k([
        "create",
        "secret",
        "docker-registry",
        "reg",
        "-n",
        "out",
        "--docker-server=r.example",
        "--docker-username=u",
        "--docker-password=p",
      ]),
      "secret/reg created\n",
    );
    const secrets: Cell[][] = [
      ["reg", "kubernetes.io/dockerconfigjson", "1", TIME],
      ["s1", "Opaque", "1", TIME],
    ];
    assertTable(k(["get", "secrets", "-n", "out"]), [["NAME", "TYPE", "DATA", "AGE"], ...secrets]);
    assertTable(k(["get", "secrets", "-n", "out", "--sort-by=.type"]), [
      ["NAME", "TYPE", "DATA", "AGE"],
      secrets[1]!,
      secrets[0]!,
    ]);
    assertTable(k(["get", "secrets", "-n", "out", "--show-labels"]), [
      ["NAME", "TYPE", "DATA", "AGE", "LABELS"],
      ...secrets.map((r) => [...r, "<none>"]),
    ]);
    same(k(["get", "secrets", "-n", "out", "-o", "name"]), "secret/reg\nsecret/s1\n");
    assertTable(k(["get", "secrets", "-n", "out", "-o", "custom-columns=NAME:.metadata.name,TYPE:.type"]), [
      ["NAME", "TYPE"],
      ["reg", "kubernetes.io/dockerconfigjson"],
      ["s1", "Opaque"],
    ]);
  });

  it("namespaces and nodes: get, -o wide, -o name, --show-labels, custom-columns", () => {
    const names = ["default", "kube-node-lease", "kube-public", "kube-system", "out"];
    assertTable(k(["get", "ns"]), [
      ["NAME", "STATUS", "AGE"],
      ...names.map((n): Cell[] => [n, "Active", TIME]),
    ]);
    assertTable(k(["get", "ns", "-o", "wide", "--show-labels"]), [
      ["NAME", "STATUS", "AGE", "LABELS"],
      ...names.map((n): Cell[] => [n, "Active", TIME, `kubernetes.io/metadata.name=${n}`]),
    ]);
    same(k(["get", "ns", "-o", "name"]), names.map((n) => `namespace/${n}\n`).join(""));
    assertTable(
      k([
        "get",
        "ns",
        "--sort-by=.metadata.name",
        "-o",
        "custom-columns=NAME:.metadata.name,PHASE:.status.phase",
      ]),
      [["NAME", "PHASE"], ...names.map((n) => [n, "Active"])],
    );

    const nodes = items(["get", "nodes"]);
    assert.deepEqual(
      nodes.map((n) => n.metadata.name),
      ["kites-sim-1", "kites-sim-2"],
    );
    const info = (n: Obj): Record<string, string> => n.status!.nodeInfo as Record<string, string>;
    const address = (n: Obj, type: string): string =>
      (n.status!.addresses as { type: string; address: string }[]).find((a) => a.type === type)?.address ??
      "<none>";
    const roles = (n: Obj): string => {
      const r = Object.keys(n.metadata.labels ?? {})
        .filter((l) => l.startsWith("node-role.kubernetes.io/"))
        .map((l) => l.slice("node-role.kubernetes.io/".length));
      return r.length ? r.sort().join(",") : "<none>";
    };
    const row = (n: Obj): Cell[] => [n.metadata.name, "Ready", roles(n), TIME, info(n).kubeletVersion!];
    const header = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"];
    assertTable(k(["get", "nodes"]), [header, ...nodes.map(row)]);
    assertTable(k(["get", "nodes", "-o", "wide"]), [
      [...header, "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"],
      ...nodes.map((n) => [
        ...row(n),
        address(n, "InternalIP"),
        address(n, "ExternalIP"),
        info(n).osImage || "<unknown>",
        info(n).kernelVersion || "<unknown>",
        info(n).containerRuntimeVersion!,
      ]),
    ]);
    assertTable(k(["get", "nodes", "--show-labels"]), [
      [...header, "LABELS"],
      ...nodes.map((n) => [...row(n), formatLabels(n.metadata.labels)]),
    ]);
    same(k(["get", "nodes", "-o", "name"]), "node/kites-sim-1\nnode/kites-sim-2\n");
    assertTable(k(["get", "nodes", "--sort-by=.metadata.name"]), [header, ...nodes.map(row)]);
    assertTable(k(["get", "nodes", "-o", "custom-columns=NAME:.metadata.name,CPU:.status.capacity.cpu"]), [
      ["NAME", "CPU"],
      ...nodes.map((n) => [n.metadata.name, String((n.status!.capacity as Record<string, string>).cpu)]),
    ]);
    ok(["cordon", "kites-sim-2"]);
    assertTable(k(["get", "node", "kites-sim-2"]), [
      header,
      ["kites-sim-2", "Ready,SchedulingDisabled", roles(nodes[1]!), TIME, info(nodes[1]!).kubeletVersion!],
    ]);
    ok(["uncordon", "kites-sim-2"]);
  });

  it("jobs: -o wide, -o name, custom-columns", async () => {
    same(k(["create", "job", "j1", "-n", "out", "--image=busybox"]), "job.batch/j1 created\n");
    for (
      let i = 0;
      i < 100 && !ok(["get", "job", "j1", "-n", "out", "-o", "jsonpath={.status.startTime}"]);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const job = json(["get", "job", "j1", "-n", "out"]);
    assertTable(k(["get", "jobs", "-n", "out", "-o", "wide"]), [
      ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"],
      [
        "j1",
        "Running",
        "0/1",
        TIME,
        TIME,
        "j1",
        "busybox",
        `batch.kubernetes.io/controller-uid=${job.metadata.uid}`,
      ],
    ]);
    same(k(["get", "jobs", "-n", "out", "-o", "name"]), "job.batch/j1\n");
    assertTable(k(["get", "jobs", "-n", "out", "--show-labels", "--sort-by=.metadata.name"]), [
      ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", "LABELS"],
      ["j1", "Running", "0/1", TIME, TIME, formatLabels(job.metadata.labels)],
    ]);
    assertTable(
      k([
        "get",
        "jobs",
        "-n",
        "out",
        "-o",
        "custom-columns=NAME:.metadata.name,PARALLELISM:.spec.parallelism",
      ]),
      [
        ["NAME", "PARALLELISM"],
        ["j1", "1"],
      ],
    );
  });

  it("jobs in other states: Complete, Failed, Suspended", () => {
    ok(["create", "namespace", "jobs"]);
    const job = (name: string, spec: string, exit: string): string => `apiVersion: batch/v1
kind: Job
metadata: {name: ${name}, namespace: jobs}
spec:
${spec}  template:
    metadata:
      annotations: {kites.io/sim-exit-code: "${exit}"}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
`;
    same(
      k(["create", "-f", "-"], {
        stdin: [
          job("done", "", "0"),
          job("failed", "  backoffLimit: 0\n", "1"),
          job("held", "  suspend: true\n", "0"),
        ].join("---\n"),
      }),
      "job.batch/done created\njob.batch/failed created\njob.batch/held created\n",
    );
    ok(["wait", "-n", "jobs", "--for=condition=Complete", "job/done", "--timeout=60s"]);
    ok(["wait", "-n", "jobs", "--for=condition=Failed", "job/failed", "--timeout=60s"]);
    ok(["wait", "-n", "jobs", "--for=condition=Suspended", "job/held", "--timeout=60s"]);
    const jobs = items(["get", "jobs", "-n", "jobs"]);
    const done = jobs[0]!.status as { startTime: string; completionTime: string };
    // Upstream's HumanDuration of completionTime - startTime, under two minutes: whole seconds.
    const took = `${Math.trunc((Date.parse(done.completionTime) - Date.parse(done.startTime)) / 1000)}s`;
    assertTable(k(["get", "jobs", "-n", "jobs"]), [
      ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
      ["done", "Complete", "1/1", took, TIME],
      ["failed", "Failed", "0/1", TIME, TIME],
      ["held", "Suspended", "0/1", "", TIME],
    ]);
  });

  it("an empty list and a missing namespace", () => {
    same(k(["get", "pods", "-n", "nope"]), "", "No resources found in nope namespace.\n", 0);
    same(k(["get", "cm", "-n", "out", "-l", "app=none"]), "", "No resources found in out namespace.\n", 0);
    // kubectl (1.27 too) looks the namespace up after a NotFound, and reports that instead.
    for (const version of ["1.33", "1.27"]) {
      if (kubectlMissing(version)) continue;
      same(
        k(["get", "pod", "x", "-n", "nope"], { version }),
        "",
        'Error from server (NotFound): namespaces "nope" not found\n',
      );
    }
    same(
      k(["create", "configmap", "x", "-n", "nope"]),
      "",
      'error: failed to create configmap: namespaces "nope" not found\n',
    );
    same(
      k(["create", "namespace", "Bad"]),
      "",
      `The Namespace "Bad" is invalid: metadata.name: Invalid value: "Bad": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')\n`,
    );
  });

  it("events: get, -o wide, -o name, custom-columns, --sort-by", () => {
    ok(["create", "namespace", "ev"]);
    const events = `apiVersion: v1
kind: Event
metadata: {name: ev1, namespace: ev}
involvedObject: {kind: Pod, name: p1, namespace: ev, fieldPath: "spec.containers{c}"}
reason: Pulled
message: "  image pulled  "
type: Normal
count: 3
firstTimestamp: "2020-01-01T00:00:00Z"
lastTimestamp: "2020-01-02T00:00:00Z"
source: {component: kubelet, host: node-a}
---
apiVersion: v1
kind: Event
metadata: {name: ev2, namespace: ev}
involvedObject: {kind: Pod, name: p2, namespace: ev}
reason: Failed
message: bad
type: Warning
firstTimestamp: "2021-01-01T00:00:00Z"
source: {component: ctl}
`;
    same(k(["create", "-f", "-"], { stdin: events }), "event/ev1 created\nevent/ev2 created\n");
    const rows: Cell[][] = [
      [TIME, "Normal", "Pulled", "pod/p1", "image pulled"],
      [TIME, "Warning", "Failed", "pod/p2", "bad"],
    ];
    assertTable(k(["get", "events", "-n", "ev"]), [
      ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
      ...rows,
    ]);
    assertTable(k(["get", "events", "-n", "ev", "-o", "wide"]), [
      [
        "LAST SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "SUBOBJECT",
        "SOURCE",
        "MESSAGE",
        "FIRST SEEN",
        "COUNT",
        "NAME",
      ],
      [
        TIME,
        "Normal",
        "Pulled",
        "pod/p1",
        "spec.containers{c}",
        "kubelet, node-a",
        "image pulled",
        TIME,
        "3",
        "ev1",
      ],
      [TIME, "Warning", "Failed", "pod/p2", "", "ctl", "bad", TIME, "1", "ev2"],
    ]);
    assertTable(
      k([
        "get",
        "events",
        "-n",
        "ev",
        "--sort-by=.type",
        "-o",
        "custom-columns=NAME:.metadata.name,TYPE:.type",
      ]),
      [
        ["NAME", "TYPE"],
        ["ev1", "Normal"],
        ["ev2", "Warning"],
      ],
    );
    assertTable(k(["get", "events", "-n", "ev", "--sort-by=.reason"]), [
      ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
      rows[1]!,
      rows[0]!,
    ]);
    same(k(["get", "events", "-n", "ev", "-o", "name"]), "event/ev1\nevent/ev2\n");
  });

  for (const version of ["1.33", "1.27"]) {
    describe(`one-line results and errors with kubectl ${version}`, { skip: kubectlMissing(version) }, () => {
      const ns = `lines-${version.replace(".", "")}`;
      const kv = (args: string[], stdin?: string): KubectlResult =>
        k([...args, "-n", ns], { version, ...(stdin === undefined ? {} : { stdin }) });
      const cm = (name: string, value: string): string =>
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  a: "${value}"\n`;

      before(() => {
        ok(["create", "namespace", ns]);
      });

      it("create, apply, replace, patch, label, annotate, wait, delete", async () => {
        same(
          kv(
            ["create", "-f", "-"],
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fin, finalizers: [kites.io/hold]}\n",
          ),
          "configmap/fin created\n",
        );
        same(kv(["delete", "configmap", "fin", "--wait=false"]), 'configmap "fin" deleted\n');
        const waiting = s.kubectlAsync(["wait", "-n", ns, "--for=delete", "configmap/fin", "--timeout=30s"], {
          version,
        });
        // Time for kubectl to find the object and start watching it (as kubectl-workflows does).
        await new Promise((r) => setTimeout(r, 1500));
        same(
          kv([
            "patch",
            "configmap",
            "fin",
            "--type=json",
            "-p",
            '[{"op":"remove","path":"/metadata/finalizers"}]',
          ]),
          "configmap/fin patched\n",
        );
        const waited = await waiting;
        assert.equal(waited.stdout, "configmap/fin condition met\n", waited.stderr);
        same(kv(["create", "-f", "-"], cm("c1", "1")), "configmap/c1 created\n");
        same(kv(["create", "configmap", "c2", "--from-literal=a=1"]), "configmap/c2 created\n");
        same(kv(["apply", "-f", "-"], cm("c3", "1")), "configmap/c3 created\n");
        same(kv(["apply", "-f", "-"], cm("c3", "1")), "configmap/c3 unchanged\n");
        same(kv(["apply", "-f", "-"], cm("c3", "2")), "configmap/c3 configured\n");
        same(kv(["apply", "--server-side", "-f", "-"], cm("c4", "1")), "configmap/c4 serverside-applied\n");
        same(kv(["replace", "-f", "-"], cm("c1", "9")), "configmap/c1 replaced\n");
        same(kv(["patch", "configmap", "c1", "-p", '{"data":{"a":"8"}}']), "configmap/c1 patched\n");
        same(
          kv(["patch", "configmap", "c1", "-p", '{"data":{"a":"8"}}']),
          "configmap/c1 patched (no change)\n",
        );
        same(
          kv([
            "patch",
            "configmap",
            "c1",
            "--type=json",
            "-p",
            '[{"op":"replace","path":"/data/a","value":"7"}]',
          ]),
          "configmap/c1 patched\n",
        );
        same(
          kv(["patch", "configmap", "c1", "--type=merge", "-p", '{"data":{"a":"7"}}']),
          "configmap/c1 patched (no change)\n",
        );
        same(kv(["label", "configmap", "c1", "x=y"]), "configmap/c1 labeled\n");
        same(kv(["label", "configmap", "c1", "x=y"]), "configmap/c1 not labeled\n");
        same(
          kv(["label", "configmap", "c1", "x=z"]),
          "",
          "error: 'x' already has a value (y), and --overwrite is false\n",
        );
        same(kv(["label", "configmap", "c1", "x=z", "--overwrite"]), "configmap/c1 labeled\n");
        same(kv(["label", "configmap", "c1", "x-"]), "configmap/c1 unlabeled\n");
        // kubectl 1.27 itself prints "annotate" (kubernetes/kubernetes#119846, fixed in 1.28).
        const annotated = version === "1.27" ? "annotate" : "annotated";
        same(kv(["annotate", "configmap", "c1", "note=hi"]), `configmap/c1 ${annotated}\n`);
        same(kv(["annotate", "configmap", "c1", "note-"]), `configmap/c1 ${annotated}\n`);
        same(
          kv(["wait", "--for=jsonpath={.data.a}=7", "configmap/c1", "--timeout=10s"]),
          "configmap/c1 condition met\n",
        );
        same(kv(["auth", "can-i", "create", "pods"]), "yes\n");
        same(kv(["auth", "can-i", "delete", "deployments.apps"]), "yes\n");
        same(kv(["delete", "configmap", "c1"]), 'configmap "c1" deleted\n');
        same(kv(["delete", "configmap", "c2", "c3"]), 'configmap "c2" deleted\nconfigmap "c3" deleted\n');
      });

      it("server-side dry runs", () => {
        same(
          kv(["create", "configmap", "dry", "--from-literal=a=b", "--dry-run=server"]),
          "configmap/dry created (server dry run)\n",
        );
        // c4 was made by server-side apply, which (upstream too) writes no last-applied annotation.
        same(
          kv(["apply", "-f", "-", "--dry-run=server"], cm("c4", "5")),
          "configmap/c4 configured (server dry run)\n",
          "Warning: resource configmaps/c4 is missing the kubectl.kubernetes.io/last-applied-configuration annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.\n",
          0,
        );
        same(
          kv(["delete", "configmap", "c4", "--dry-run=server"]),
          'configmap "c4" deleted (server dry run)\n',
        );
        same(
          kv(["get", "configmap", "dry"]),
          "",
          'Error from server (NotFound): configmaps "dry" not found\n',
        );
        same(kv(["get", "configmap", "c4", "-o", "jsonpath={.data.a}"]), "1");
      });

      it("NotFound, AlreadyExists, Invalid and Conflict errors", () => {
        same(kv(["get", "pod", "x"]), "", 'Error from server (NotFound): pods "x" not found\n');
        same(
          kv(["get", "pods", "x", "y"]),
          "",
          'Error from server (NotFound): pods "x" not found\nError from server (NotFound): pods "y" not found\n',
        );
        same(
          kv(["delete", "deployment", "x"]),
          "",
          'Error from server (NotFound): deployments.apps "x" not found\n',
        );
        same(
          kv(["create", "-f", "-"], cm("c4", "1")),
          "",
          'Error from server (AlreadyExists): error when creating "STDIN": configmaps "c4" already exists\n',
        );
        same(
          kv(["create", "configmap", "c4"]),
          "",
          'error: failed to create configmap: configmaps "c4" already exists\n',
        );
        same(
          kv(
            ["create", "-f", "-"],
            '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c5"},"data":{"a b":"x"}}',
          ),
          "",
          `The ConfigMap "c5" is invalid: data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')\n`,
        );
        same(
          kv(
            ["create", "-f", "-"],
            "apiVersion: v1\nkind: Pod\nmetadata: {name: BadName}\nspec:\n  containers: [{name: c, image: ''}]\n",
          ),
          "",
          'The Pod "BadName" is invalid: \n' +
            `* metadata.name: Invalid value: "BadName": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n` +
            "* spec.containers[0].image: Required value\n",
        );
        same(
          kv(
            ["create", "-f", "-"],
            "apiVersion: v1\nkind: Service\nmetadata: {name: s1}\nspec:\n  ports: [{port: 0}]\n",
          ),
          "",
          'The Service "s1" is invalid: \n' +
            "* spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive\n" +
            "* spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive\n",
        );
        // A 1.33 server checks env names with RelaxedEnvironmentVariableValidation (on since 1.32).
        same(
          kv(
            ["create", "-f", "-"],
            "apiVersion: v1\nkind: Pod\nmetadata: {name: env}\nspec:\n  containers:\n  - {name: c, image: busybox, env: [{name: 1A, value: x}, {name: a=b, value: x}]}\n",
          ),
          "",
          `The Pod "env" is invalid: spec.containers[0].env[1].name: Invalid value: "a=b": a valid environment variable name must consist only of printable ASCII characters other than '='\n`,
        );
        same(
          kv(["replace", "-f", "-"], cm("zz", "1")),
          "",
          'Error from server (NotFound): error when replacing "STDIN": configmaps "zz" not found\n',
        );
        same(
          kv(["patch", "configmap", "zz", "-p", "{}"]),
          "",
          'Error from server (NotFound): configmaps "zz" not found\n',
        );
        same(kv(["create", "deployment", "d1", "--image=busybox"]), "deployment.apps/d1 created\n");
        same(kv(["scale", "deployment", "d1", "--replicas=3"]), "deployment.apps/d1 scaled\n");
        same(
          kv(["patch", "deployment", "d1", "-p", '{"spec":{"replicas":-1}}']),
          "",
          'The Deployment "d1" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0\n',
        );
        // A field owned by an Update manager: upstream names it with its API version.
        same(kv(["create", "configmap", "u1", "--from-literal=a=1"]), "configmap/u1 created\n");
        const ssa = kv(["apply", "--server-side", "-f", "-"], cm("u1", "2"));
        assert.equal(ssa.code, 1);
        assert.equal(
          ssa.stderr.split("\n")[0],
          'error: Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.a',
        );
        const rv = ok(["get", "configmap", "c4", "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}"]);
        ok(["label", "configmap", "c4", "-n", ns, "bump=1"]);
        same(
          kv(["label", "configmap", "c4", "y=1", `--resource-version=${rv}`]),
          "",
          'Error from server (Conflict): Operation cannot be fulfilled on configmaps "c4": the object has been modified; please apply your changes to the latest version and try again\n',
        );
      });
    });
  }

  describe("published CA, Go-syntax values, kubectl 1.27", () => {
    it("lists kube-root-ca.crt in every namespace", () => {
      assertTable(k(["get", "configmaps", "-n", "out"]), [
        ["NAME", "DATA", "AGE"],
        ["c1", "2", TIME],
        ["kube-root-ca.crt", "1", TIME],
      ]);
    });

    it("prints a map value in Invalid errors in Go syntax", () => {
      same(
        k(["create", "-n", "out", "-f", "-"], {
          stdin:
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d2}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: c}}\n    spec: {containers: [{name: c, image: x}]}\n",
        }),
        "",
        'The Deployment "d2" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"a":"c"}: `selector` does not match template `labels`\n',
      );
    });

    it("accepts kubectl 1.27's create -f with default validation", { skip: kubectlMissing("1.27") }, () => {
      same(
        k(["create", "-n", "out", "-f", "-"], {
          version: "1.27",
          stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: v127}\n",
        }),
        "configmap/v127 created\n",
      );
    });
  });
});
