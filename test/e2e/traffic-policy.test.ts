/**
 * @module e2e as root: Services with Local traffic policies on a real node, driven by
 * kubectl. On one node every endpoint is local, so an `internalTrafficPolicy: Local`
 * ClusterIP and an `externalTrafficPolicy: Local` NodePort reach every pod, through the
 * proxy's `local-…` chains; afterwards the node is clean.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { kubectlMissing, startServer, type TestServer } from "./harness.ts";
import { cleanNode, lockNode, notRoot } from "./node-harness.ts";

const POD_CIDR = "10.244.205.0/24";
const HTTP_PORT = 18981;
const HTTPS_PORT = 18944;
const skip = kubectlMissing() ?? notRoot();

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: busybox
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-itp}
spec:
  selector: {app: web}
  internalTrafficPolicy: Local
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-etp}
spec:
  type: NodePort
  selector: {app: web}
  externalTrafficPolicy: Local
  ports: [{port: 80, targetPort: http}]
`;

describe("Local traffic policies on a real node", { skip }, () => {
  let s: TestServer;
  let release: (() => void) | undefined;
  const k = (args: string[], stdin?: string): string => {
    const r = s.kubectl(args, stdin === undefined ? {} : { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const fromClient = (ip: string, port: number): string =>
    k([
      "exec",
      "client",
      "--",
      "sh",
      "-c",
      `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${ip} ${port} | tr -d '\\r' | sed '1,/^$/d'`,
    ]).trim();

  before(async () => {
    release = await lockNode();
    s = await startServer({
      agent: true,
      args: [
        ...["--pod-cidr", POD_CIDR, "--node-name", "e2e-tp", "--kubelet-port", "0"],
        ...["--ingress-http-port", String(HTTP_PORT), "--ingress-https-port", String(HTTPS_PORT)],
      ],
    });
    k(["wait", "--for=condition=Ready", "node/e2e-tp", "--timeout=60s"]);
    k(["apply", "-f", "-"], WEB);
    k(["run", "client", "--image=busybox", "--restart=Never", "--", "sleep", "3600"]);
    k(["rollout", "status", "deploy/web", "--timeout=90s"]);
    k(["wait", "--for=condition=Ready", "pod/client", "--timeout=60s"]);
  });
  after(async () => {
    try {
      if (s) s.kubectl(["delete", "deploy,pods,svc", "--all", "--wait=true", "--timeout=60s"]);
    } finally {
      await s?.stop({ keep: true });
      if (s) await cleanNode(s.dataDir, POD_CIDR);
      release?.();
    }
  });

  const pods = (): string[] =>
    k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"]).split(" ").sort();

  it("internalTrafficPolicy Local: the cluster IP reaches the node's pods through a local chain", async () => {
    const ip = k(["get", "svc", "web-itp", "-o", "jsonpath={.spec.clusterIP}"]);
    const names = new Set<string>();
    for (let i = 0; i < 40 && names.size < 2; i++) {
      const got = fromClient(ip, 80);
      if (got) names.add(got);
      else await new Promise((r) => setTimeout(r, 250)); // endpoints still arriving
    }
    assert.deepEqual([...names].sort(), pods());
    const table = execFileSync("nft", ["list", "table", "ip", "kites-proxy"]).toString();
    assert.match(table, /chain local-[A-Z2-7]{8}-default\/web-itp\/tcp\//);
  });

  it("externalTrafficPolicy Local: the NodePort answers from the node and from a pod", async () => {
    const port = Number(k(["get", "svc", "web-etp", "-o", "jsonpath={.spec.ports[0].nodePort}"]));
    assert.ok(port >= 30000 && port <= 32767, String(port));
    let body = "";
    for (let i = 0; i < 40 && !body; i++) {
      body = await fetch(`http://127.0.0.1:${port}/`).then(
        (r) => r.text(),
        () => "",
      );
      if (!body) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(pods().includes(body.trim()), body);
    assert.ok(pods().includes(fromClient(POD_CIDR.replace(/0\/24$/, "1"), port)));
    const table = execFileSync("nft", ["list", "table", "ip", "kites-proxy"]).toString();
    assert.match(table, /chain external-[A-Z2-7]{8}-default\/web-etp\/tcp\/ \{[^}]*goto local-/);
  });
});
