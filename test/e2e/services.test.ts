/**
 * @module e2e as root: Services, cluster DNS and Ingress on a real node, driven by kubectl as
 * a user would. Web pods (busybox httpd answering with their name) behind a ClusterIP Service
 * are reached by name from another pod; a headless Service resolves to pod IPs; NodePort and
 * LoadBalancer answer on the node address; a Service with no endpoints refuses at once; a pod
 * that turns unready stops receiving traffic; an Ingress routes two hosts and two paths over
 * HTTP and HTTPS. Afterwards the node is clean (containers, netns, bridge, nftables table).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { after, before, describe, it } from "node:test";
import { kubectlMissing, startServer, type TestServer } from "./harness.ts";
import { cleanNode, lockNode, notRoot } from "./node-harness.ts";

const POD_CIDR = "10.244.204.0/24";
const HTTP_PORT = 18980;
const HTTPS_PORT = 18943;
const skip = kubectlMissing() ?? notRoot();

/** A Deployment of busybox httpd pods answering `<pod name>` on :8080, and its Service. */
const web = (name: string, replicas: number, extra = ""): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: busybox
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && touch /tmp/ready && exec httpd -f -p 8080 -h /www"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          exec: {command: ["test", "-f", "/tmp/ready"]}
          periodSeconds: 1
${extra}`;

const service = (name: string, spec: string): string => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  selector: {app: ${name.replace(/-(headless|np|lb)$/, "")}}
${spec}`;

/** An HTTP GET to the Ingress with a Host header (fetch may not set Host, so node:http). */
function httpGet(host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: HTTP_PORT, path, headers: { host } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** An HTTPS GET to the Ingress with SNI `host`; resolves status, body and the certificate's CN. */
function httpsGet(host: string, path: string): Promise<{ status: number; body: string; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port: HTTPS_PORT,
        path,
        servername: host,
        headers: { host },
        rejectUnauthorized: false,
      },
      (res) => {
        // The certificate is read now: the socket is detached from the response by its end.
        const cert = (res.socket as TLSSocket).getPeerCertificate();
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body, cn: String(cert.subject?.CN ?? "") }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("Services, cluster DNS and Ingress on a real node", { skip }, () => {
  let s: TestServer;
  let release: (() => void) | undefined;
  const tls = mkdtempSync(join(tmpdir(), "kites-e2e-tls-"));
  const k = (args: string[], stdin?: string): string => {
    const r = s.kubectl(args, stdin === undefined ? {} : { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (yaml: string): string => k(["apply", "-f", "-"], yaml);
  /** Runs `sh -c script` in the client pod; returns stdout (or throws with stderr). */
  const inClient = (script: string): string => k(["exec", "client", "--", "sh", "-c", script]);
  /**
   * An HTTP GET of `/` at `host:port` from the client pod; returns the body. The name is
   * resolved by the pod through the cluster DNS and its search path with busybox's nslookup,
   * and the request made with busybox nc (Debian's static busybox wget crashes in glibc's
   * static getaddrinfo, whatever the address).
   */
  const httpFromClient = (host: string, port = 80): string =>
    inClient(
      (/^[\d.]+$/.test(host)
        ? `ip=${host}; `
        : `ip=$(nslookup ${host} | awk '/^Address/ && !/:53$/ {a=$2} END {print a}'); `) +
        `[ -n "$ip" ] || { echo "no address for ${host}" >&2; exit 2; }; ` +
        `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 $ip ${port} | tr -d '\\r' | sed '1,/^$/d'`,
    );
  const endpointsOf = (svc: string): string[] =>
    k([
      "get",
      "endpointslices",
      "-l",
      `kubernetes.io/service-name=${svc}`,
      "-o",
      "jsonpath={.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}",
    ])
      .split(" ")
      .filter(Boolean);

  before(async () => {
    release = await lockNode();
    s = await startServer({
      agent: true,
      args: [
        ...["--pod-cidr", POD_CIDR, "--node-name", "e2e-svc", "--kubelet-port", "0"],
        ...["--ingress-http-port", String(HTTP_PORT), "--ingress-https-port", String(HTTPS_PORT)],
      ],
    });
    k(["wait", "--for=condition=Ready", "node/e2e-svc", "--timeout=60s"]);
    apply(web("web", 2));
    apply(web("api", 1));
    apply(service("web", "  ports: [{name: http, port: 80, targetPort: http}]"));
    apply(service("api", "  ports: [{port: 8080, targetPort: 8080}]"));
    k(["run", "client", "--image=busybox", "--restart=Never", "--", "sleep", "3600"]);
    k(["rollout", "status", "deploy/web", "--timeout=90s"]);
    k(["rollout", "status", "deploy/api", "--timeout=90s"]);
    k(["wait", "--for=condition=Ready", "pod/client", "--timeout=60s"]);
  });
  after(async () => {
    try {
      if (s) s.kubectl(["delete", "deploy,pods,svc,ingress", "--all", "--wait=true", "--timeout=60s"]);
    } finally {
      await s?.stop({ keep: true });
      if (s) await cleanNode(s.dataDir, POD_CIDR);
      rmSync(tls, { recursive: true, force: true });
      release?.();
    }
  });

  it("the API server allocates cluster IPs; kube-dns sits at 10.96.0.10 with the node's DNS behind it", () => {
    assert.match(k(["get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"]), /^10\.(9[6-9]|1[01][0-9])\./);
    assert.equal(
      k(["get", "svc", "kube-dns", "-n", "kube-system", "-o", "jsonpath={.spec.clusterIP}"]),
      "10.96.0.10",
    );
    assert.deepEqual(
      k([
        "get",
        "endpointslices",
        "-n",
        "kube-system",
        "-l",
        "kubernetes.io/service-name=kube-dns",
        "-o",
        "jsonpath={.items[*].endpoints[*].addresses[0]}",
      ]),
      "10.244.204.1",
    );
    const resolv = inClient("cat /etc/resolv.conf");
    assert.match(resolv, /nameserver 10\.96\.0\.10/);
    assert.match(resolv, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
    assert.match(resolv, /options ndots:5/);
  });

  it("a pod reaches a Service by name, and requests spread over its pods", () => {
    const names = new Set<string>();
    for (let i = 0; i < 20 && names.size < 2; i++) names.add(httpFromClient("web").trim());
    const pods = k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"]).split(" ");
    assert.deepEqual([...names].sort(), pods.sort());
    // The full name, another port, and the cluster IP itself.
    assert.match(httpFromClient("api.default.svc.cluster.local", 8080), /^api-/);
    const ip = k(["get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"]);
    assert.match(httpFromClient(ip), /^web-/);
  });

  it("DNS answers A, SRV and headless records, and NXDOMAIN for unknown names", () => {
    apply(service("web-headless", "  clusterIP: None\n  ports: [{name: http, port: 8080}]"));
    const podIPs = k(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}"])
      .split(" ")
      .sort();
    let answer = "";
    for (let i = 0; i < 20; i++) {
      answer = inClient("nslookup web-headless.default.svc.cluster.local 2>&1 || true");
      if (podIPs.every((ip) => answer.includes(ip))) break;
      execFileSync("sleep", ["0.5"]);
    }
    for (const ip of podIPs) assert.ok(answer.includes(ip), `headless answer lacks ${ip}: ${answer}`);
    const srv = inClient("nslookup -type=SRV _http._tcp.web.default.svc.cluster.local 2>&1 || true");
    assert.match(srv, /port = 80|80 web\.default\.svc\.cluster\.local/);
    assert.match(
      inClient("nslookup nothing-here.default.svc.cluster.local 2>&1 || true"),
      /NXDOMAIN|can't find/,
    );
  });

  it("NodePort and LoadBalancer answer on the node's address; LoadBalancer status shows it", async () => {
    apply(service("web-np", "  type: NodePort\n  ports: [{port: 80, targetPort: 8080}]"));
    apply(service("web-lb", "  type: LoadBalancer\n  ports: [{port: 18081, targetPort: 8080}]"));
    const nodePort = k(["get", "svc", "web-np", "-o", "jsonpath={.spec.ports[0].nodePort}"]);
    assert.match(nodePort, /^3\d{4}$/);
    k([
      "wait",
      "--for=jsonpath={.status.loadBalancer.ingress[0].ip}=127.0.0.1",
      "svc/web-lb",
      "--timeout=30s",
    ]);
    let body = "";
    for (let i = 0; i < 20 && !body; i++) {
      body = await fetch(`http://127.0.0.1:${nodePort}/`)
        .then((r) => r.text())
        .catch(() => "");
    }
    assert.match(body, /^web-/);
    const lb = await fetch("http://127.0.0.1:18081/").then((r) => r.text());
    assert.match(lb, /^web-/);
  });

  it("a Service with no endpoints refuses connections at once", () => {
    apply(`apiVersion: v1
kind: Service
metadata: {name: nobody}
spec:
  selector: {app: nobody}
  ports: [{port: 80}]
`);
    const ip = k(["get", "svc", "nobody", "-o", "jsonpath={.spec.clusterIP}"]);
    const out = inClient(`nc -w 10 ${ip} 80 </dev/null 2>&1; echo exit=$?`);
    assert.match(out, /Connection refused/);
    assert.match(out, /exit=1/);
  });

  it("a pod that turns unready stops receiving traffic", () => {
    const [first, second] = k([
      "get",
      "pods",
      "-l",
      "app=web",
      "-o",
      "jsonpath={.items[*].metadata.name}",
    ]).split(" ");
    k(["exec", first!, "--", "rm", "/tmp/ready"]);
    k(["wait", "--for=condition=Ready=false", `pod/${first}`, "--timeout=30s"]);
    const firstIP = k(["get", "pod", first!, "-o", "jsonpath={.status.podIP}"]);
    for (let i = 0; i < 40 && endpointsOf("web").includes(firstIP); i++) execFileSync("sleep", ["0.25"]);
    assert.ok(!endpointsOf("web").includes(firstIP), "the unready pod is still a ready endpoint");
    // The proxy follows the endpoints: every answer now comes from the ready pod.
    for (let i = 0; i < 8; i++) assert.equal(httpFromClient("web").trim(), second);
    k(["exec", first!, "--", "touch", "/tmp/ready"]);
    k(["wait", "--for=condition=Ready", `pod/${first}`, "--timeout=30s"]);
  });

  it("an Ingress routes two hosts and two paths over HTTP and HTTPS; unknown hosts get 404", async () => {
    for (const host of ["web.example.test", "api.example.test"]) {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-days",
          "1",
          "-subj",
          `/CN=${host}`,
          "-keyout",
          join(tls, `${host}.key`),
          "-out",
          join(tls, `${host}.crt`),
        ],
        { stdio: "ignore" },
      );
      k([
        "create",
        "secret",
        "tls",
        host.split(".")[0]!,
        `--cert=${join(tls, `${host}.crt`)}`,
        `--key=${join(tls, `${host}.key`)}`,
      ]);
    }
    apply(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: site}
spec:
  tls:
  - {hosts: [web.example.test], secretName: web}
  - {hosts: [api.example.test], secretName: api}
  rules:
  - host: web.example.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 8080}}}}
  - host: api.example.test
    http:
      paths:
      - {path: /, pathType: Exact, backend: {service: {name: api, port: {number: 8080}}}}
`);
    k([
      "wait",
      "--for=jsonpath={.status.loadBalancer.ingress[0].ip}=127.0.0.1",
      "ingress/site",
      "--timeout=30s",
    ]);
    assert.equal(
      k([
        "get",
        "ingressclass",
        "kites",
        "-o",
        "jsonpath={.metadata.annotations.ingressclass\\.kubernetes\\.io/is-default-class}",
      ]),
      "true",
    );
    const get = async (host: string, path: string): Promise<{ status: number; body: string }> => {
      for (let i = 0; ; i++) {
        const r = await httpGet(host, path);
        // Routes follow the informers: a 404 right after the apply is retried a bounded time.
        if (r.status !== 404 || i >= 20) return r;
        await new Promise((res) => setTimeout(res, 250));
      }
    };
    assert.match((await get("web.example.test", "/")).body, /^web-/);
    // busybox httpd has no /api: the request reached the api pod, which answers 404 itself.
    const viaApiPath = await httpGet("web.example.test", "/api/");
    assert.equal(viaApiPath.status, 404);
    assert.doesNotMatch(
      viaApiPath.body,
      /404 page not found/,
      "the 404 comes from the api pod's httpd, not the Ingress",
    );
    assert.match((await get("api.example.test", "/")).body, /^api-/);
    const unknown = await httpGet("nope.example.test", "/");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body, "404 page not found\n");
    const web = await httpsGet("web.example.test", "/");
    assert.equal(web.cn, "web.example.test");
    assert.match(web.body, /^web-/);
    const api = await httpsGet("api.example.test", "/");
    assert.equal(api.cn, "api.example.test");
    assert.match(api.body, /^api-/);
    assert.ok(readFileSync(join(tls, "web.example.test.crt"), "utf8").includes("BEGIN CERTIFICATE"));
  });
});
