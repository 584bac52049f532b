import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect, type AddressInfo, type Socket } from "node:net";
import { test, type TestContext } from "node:test";
import type { TLSSocket } from "node:tls";
import type { Secret, Service } from "../api/types/core-v1.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import { InformerFactory } from "../client/informer.ts";
import type { Client } from "../client/types.ts";
import { DEFAULT_CERT_CN, selfSignedCert } from "./default-cert.ts";
import { startIngressController, type IngressController } from "./ingress-controller.ts";
import { FakeClient } from "../client/fake-client.ts";
import { waitFor } from "./ingress-test-support.ts";
import type { HTTPIngressPath, Ingress, IngressClass } from "./ingress-types.ts";

function haveOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A "pod": an HTTP server on 127.0.0.1 answering with its name, the path and the headers it got. */
interface Pod {
  name: string;
  port: number;
  server: Server;
  connections: number;
  requests: number;
}

async function startPod(t: TestContext, name: string): Promise<Pod> {
  const pod: Pod = { name, port: 0, server: undefined as unknown as Server, connections: 0, requests: 0 };
  pod.server = createServer((req, res) => {
    pod.requests++;
    if (req.method === "POST") {
      // Echo the body back as it streams in.
      res.writeHead(200, { "content-type": "application/octet-stream", "x-pod": name });
      req.pipe(res);
      return;
    }
    const body = JSON.stringify({ pod: name, url: req.url, headers: req.headers });
    res.writeHead(200, { "content-type": "application/json", "x-pod": name });
    res.end(body);
  });
  pod.server.on("connection", () => pod.connections++);
  pod.server.on("upgrade", (req, socket: Socket) => {
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\nX-Pod: ${name}\r\n\r\n`,
    );
    socket.on("data", (d: Buffer) => socket.write(`${name}:${d.toString()}`));
  });
  pod.server.listen(0, "127.0.0.1");
  await once(pod.server, "listening");
  pod.port = (pod.server.address() as AddressInfo).port;
  t.after(() => {
    pod.server.closeAllConnections();
    pod.server.close();
  });
  return pod;
}

function service(name: string, portName = "http", port = 80): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default" },
    spec: {
      ports: [{ name: portName, port, targetPort: portName, protocol: "TCP" }],
      clusterIP: "10.96.0.50",
    },
  };
}

function slice(
  svc: string,
  pods: { port: number; ready?: boolean; ip?: string }[],
  portName = "http",
): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: `${svc}-abcde`, namespace: "default", labels: { "kubernetes.io/service-name": svc } },
    addressType: "IPv4",
    // EndpointSlices carry one port per name; these tests give every pod of a Service the same port.
    ports: [{ name: portName, port: pods[0]?.port ?? 1, protocol: "TCP" }],
    endpoints: pods.map((p) => ({
      addresses: [p.ip ?? "127.0.0.1"],
      conditions: { ready: p.ready ?? true },
    })),
  };
}

const path = (p: string, svc: string, pathType = "Prefix"): HTTPIngressPath => ({
  path: p,
  pathType,
  backend: { service: { name: svc, port: { number: 80 } } },
});

interface Harness {
  client: Client;
  ctl: IngressController;
  ingresses: ReturnType<Client["resource"]>;
  create(o: Service | EndpointSlice | Secret | Ingress | IngressClass): Promise<void>;
}

async function start(t: TestContext): Promise<Harness> {
  const client = new FakeClient();
  const informers = new InformerFactory(client);
  const ac = new AbortController();
  const ctl = await startIngressController({
    client,
    informers,
    nodeIP: "127.0.0.1",
    httpPort: 0,
    httpsPort: 0,
    bindAddress: "127.0.0.1",
    signal: ac.signal,
  });
  t.after(async () => {
    ac.abort();
    await ctl.stop();
  });
  const create = async (o: Service | EndpointSlice | Secret | Ingress | IngressClass): Promise<void> => {
    const [group] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : [""];
    const plural = {
      Service: "services",
      EndpointSlice: "endpointslices",
      Secret: "secrets",
      Ingress: "ingresses",
      IngressClass: "ingressclasses",
    }[o.kind]!;
    await client.resource(group!, plural).create(o);
  };
  return { client, ctl, ingresses: client.resource("networking.k8s.io", "ingresses"), create };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(port: number, host: string, urlPath: string, agent?: import("node:http").Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: urlPath, headers: { host }, agent: agent ?? false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const podOf = (r: Reply): string => String(r.headers["x-pod"] ?? "");

/** Waits until the route for host+path resolves to `ready` endpoints. */
async function routeReady(h: Harness, host: string, p: string, ready = 1): Promise<void> {
  await waitFor(
    `route ${host}${p} with ${ready} endpoints`,
    () => (h.ctl.routes.lookup(host, p)?.backend?.endpoints.length ?? -1) === ready,
  );
}

test("ingress proxy: two hosts x two paths reach the right pods, with forwarding headers", async (t) => {
  if (!haveOpenssl()) return void console.warn("SKIPPED: openssl is not installed");
  const h = await start(t);
  const pods = await Promise.all(["a-api", "a-web", "b-api", "b-web"].map((n) => startPod(t, n)));
  for (const p of pods) {
    await h.create(service(p.name));
    await h.create(slice(p.name, [{ port: p.port }]));
  }
  await h.create({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "two-hosts", namespace: "default" },
    spec: {
      rules: [
        { host: "a.example.com", http: { paths: [path("/api", "a-api"), path("/", "a-web")] } },
        { host: "b.example.com", http: { paths: [path("/api", "b-api", "Exact"), path("/", "b-web")] } },
      ],
    },
  });
  await routeReady(h, "b.example.com", "/");
  const port = h.ctl.httpPort;
  assert.equal(podOf(await get(port, "a.example.com", "/api/users?x=1")), "a-api");
  assert.equal(podOf(await get(port, "a.example.com", "/apix")), "a-web", "Prefix is element-wise");
  assert.equal(
    podOf(await get(port, "A.Example.com:8080", "/")),
    "a-web",
    "host is case-insensitive, port ignored",
  );
  assert.equal(podOf(await get(port, "b.example.com", "/api")), "b-api");
  assert.equal(
    podOf(await get(port, "b.example.com", "/api/x")),
    "b-web",
    "Exact /api does not cover /api/x",
  );
  const r = await get(port, "a.example.com", "/api/users?x=1");
  const seen = JSON.parse(r.body) as { url: string; headers: IncomingHttpHeaders };
  assert.equal(seen.url, "/api/users?x=1", "path and query are passed unchanged");
  assert.equal(seen.headers.host, "a.example.com");
  assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1");
  assert.equal(seen.headers["x-forwarded-proto"], "http");
  assert.equal(seen.headers["x-forwarded-host"], "a.example.com");
  assert.equal(seen.headers["x-forwarded-port"], String(port));
});

test("ingress proxy: 404 for an unknown host, default backend when one is set, 503 without ready endpoints, 502 when the pod refuses", async (t) => {
  if (!haveOpenssl()) return void console.warn("SKIPPED: openssl is not installed");
  const h = await start(t);
  const web = await startPod(t, "web");
  await h.create(service("web"));
  await h.create(slice("web", [{ port: web.port }]));
  await h.create(service("down"));
  await h.create(slice("down", [{ port: web.port, ready: false }]));
  // A port nothing listens on: bind one, then close it.
  const closed = createServer();
  closed.listen(0, "127.0.0.1");
  await once(closed, "listening");
  const deadPort = (closed.address() as AddressInfo).port;
  closed.close();
  await h.create(service("dead"));
  await h.create(slice("dead", [{ port: deadPort }]));
  await h.create({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "i", namespace: "default" },
    spec: {
      ingressClassName: "kites",
      rules: [
        {
          host: "h.example.com",
          http: {
            paths: [
              path("/web", "web"),
              path("/down", "down"),
              path("/dead", "dead"),
              path("/nosvc", "missing"),
            ],
          },
        },
      ],
    },
  });
  await routeReady(h, "h.example.com", "/dead");
  const port = h.ctl.httpPort;
  assert.equal((await get(port, "unknown.example.com", "/")).status, 404);
  assert.equal((await get(port, "h.example.com", "/elsewhere")).status, 404, "known host, no matching path");
  assert.equal((await get(port, "h.example.com", "/web")).status, 200);
  assert.equal((await get(port, "h.example.com", "/down")).status, 503);
  assert.equal((await get(port, "h.example.com", "/nosvc")).status, 503);
  assert.equal((await get(port, "h.example.com", "/dead")).status, 502);

  await h.create({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "fallback", namespace: "default" },
    spec: { ingressClassName: "kites", defaultBackend: { service: { name: "web", port: { name: "http" } } } },
  });
  await waitFor("default backend", () => h.ctl.routes.lookup("unknown.example.com", "/") !== undefined);
  const r = await get(port, "unknown.example.com", "/anything");
  assert.equal(r.status, 200);
  assert.equal(podOf(r), "web", "default backend by port name");
});

test("ingress proxy: round-robin, an endpoint turning unready stops getting traffic, keep-alive connections are reused", async (t) => {
  if (!haveOpenssl()) return void console.warn("SKIPPED: openssl is not installed");
  const h = await start(t);
  // Two "pods" of one Service on the same port number cannot share 127.0.0.1, so each gets
  // its own loopback address (127.0.0.2 is loopback on Linux).
  const p1 = await startPod(t, "p1");
  const p2 = createPodOn(t, "p2", "127.0.0.2", p1.port);
  await p2.ready;
  await h.create(service("rr"));
  await h.create(slice("rr", [{ port: p1.port }, { port: p1.port, ip: "127.0.0.2" }]));
  await h.create({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "rr", namespace: "default" },
    spec: { rules: [{ host: "rr.example.com", http: { paths: [path("/", "rr")] } }] },
  });
  await routeReady(h, "rr.example.com", "/", 2);
  const port = h.ctl.httpPort;
  const seen = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    const pod = podOf(await get(port, "rr.example.com", "/"));
    seen.set(pod, (seen.get(pod) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(seen), { p1: 10, p2: 10 }, "round-robin over both endpoints");
  assert.deepEqual(
    [p1.connections, p2.pod.connections],
    [1, 1],
    "keep-alive: one upstream connection per pod for 20 requests",
  );

  await h.client
    .resource("discovery.k8s.io", "endpointslices")
    .update(slice("rr", [{ port: p1.port }, { port: p1.port, ip: "127.0.0.2", ready: false }]));
  await routeReady(h, "rr.example.com", "/", 1);
  const before = p2.pod.requests;
  for (let i = 0; i < 10; i++) assert.equal(podOf(await get(port, "rr.example.com", "/")), "p1");
  assert.equal(p2.pod.requests, before, "the unready endpoint got no request");
});

function createPodOn(
  t: TestContext,
  name: string,
  host: string,
  port: number,
): { pod: Pod; ready: Promise<void> } {
  const pod: Pod = { name, port, server: undefined as unknown as Server, connections: 0, requests: 0 };
  pod.server = createServer((req, res) => {
    pod.requests++;
    res.writeHead(200, { "x-pod": name });
    res.end(name);
  });
  pod.server.on("connection", () => pod.connections++);
  pod.server.listen(port, host);
  t.after(() => {
    pod.server.closeAllConnections();
    pod.server.close();
  });
  return { pod, ready: once(pod.server, "listening").then(() => undefined) };
}

test("ingress proxy: request bodies stream through; WebSocket-style upgrades pass through", async (t) => {
  if (!haveOpenssl()) return void console.warn("SKIPPED: openssl is not installed");
  const h = await start(t);
  const echo = await startPod(t, "echo");
  await h.create(service("echo"));
  await h.create(slice("echo", [{ port: echo.port }]));
  await h.create({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "echo", namespace: "default" },
    spec: { rules: [{ host: "echo.example.com", http: { paths: [path("/", "echo")] } }] },
  });
  await routeReady(h, "echo.example.com", "/");
  const port = h.ctl.httpPort;

  const big = Buffer.alloc(2 * 1024 * 1024, "k");
  const echoed = await new Promise<Buffer>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/upload",
        headers: { host: "echo.example.com" },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => resolve(Buffer.concat(chunks)));
      },
    );
    req.on("error", reject);
    // Chunked (no Content-Length): written in pieces.
    for (let i = 0; i < big.length; i += 65536) req.write(big.subarray(i, i + 65536));
    req.end();
  });
  assert.equal(echoed.length, big.length);
  assert.ok(echoed.equals(big));

  const sock = connect(port, "127.0.0.1");
  t.after(() => sock.destroy());
  await once(sock, "connect");
  sock.write(
    "GET /ws HTTP/1.1\r\nHost: echo.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
  );
  let got = "";
  sock.setEncoding("utf8");
  sock.on("data", (d: string) => (got += d));
  await waitFor("101 answer", () => got.includes("\r\n\r\n"));
  assert.match(got, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(got, /X-Pod: echo/);
  got = "";
  sock.write("hello");
  await waitFor("echo over the upgraded connection", () => got === "echo:hello");
});

test("ingress proxy: HTTPS picks each host's certificate by SNI, the default one otherwise", async (t) => {
  if (!haveOpenssl()) return void console.warn("SKIPPED: openssl is not installed");
  const h = await start(t);
  const web = await startPod(t, "secure");
  await h.create(service("secure"));
  await h.create(slice("secure", [{ port: web.port }]));
  for (const [name, cn] of [
    ["a-tls", "a.example.com"],
    ["b-tls", "b.example.com"],
  ] as const) {
    const pem = await selfSignedCert(cn, [cn]);
    await h.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: "default" },
      type: "kubernetes.io/tls",
      data: {
        "tls.crt": Buffer.from(pem.cert).toString("base64"),
        "tls.key": Buffer.from(pem.key).toString("base64"),
      },
    });
  }
  await h.create({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "tls", namespace: "default" },
    spec: {
      tls: [
        { hosts: ["a.example.com"], secretName: "a-tls" },
        { hosts: ["b.example.com"], secretName: "b-tls" },
      ],
      rules: ["a.example.com", "b.example.com"].map((host) => ({
        host,
        http: { paths: [path("/", "secure")] },
      })),
    },
  });
  await routeReady(h, "b.example.com", "/");
  await waitFor("TLS secrets cached", () => h.ctl.routes.tlsSecretFor("b.example.com") !== undefined);

  const fetchTls = (servername: string): Promise<{ cn: string; body: string }> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: "127.0.0.1",
          port: h.ctl.httpsPort,
          path: "/",
          servername,
          headers: { host: servername },
          rejectUnauthorized: false,
          agent: false,
        },
        (res) => {
          const cn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? "");
          let body = "";
          res.on("data", (d: Buffer) => (body += d.toString()));
          res.on("end", () => resolve({ cn, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });
  await waitFor(
    "a secret's certificate served",
    async () => (await fetchTls("a.example.com")).cn === "a.example.com",
  );
  const a = await fetchTls("a.example.com");
  assert.equal(a.cn, "a.example.com");
  assert.equal(
    (JSON.parse(a.body) as { headers: IncomingHttpHeaders }).headers["x-forwarded-proto"],
    "https",
  );
  assert.equal((await fetchTls("b.example.com")).cn, "b.example.com");
  assert.equal((await fetchTls("other.example.com")).cn, DEFAULT_CERT_CN);
});

test("ingress status: the served Ingress gets the node address; another class's Ingress is not served or touched", async (t) => {
  if (!haveOpenssl()) return void console.warn("SKIPPED: openssl is not installed");
  const h = await start(t);
  const classes = h.client.resource<IngressClass>("networking.k8s.io", "ingressclasses");
  assert.equal((await classes.get(undefined, "kites")).spec?.controller, "kites.io/ingress-controller");
  await h.create({
    apiVersion: "networking.k8s.io/v1",
    kind: "IngressClass",
    metadata: { name: "nginx" },
    spec: { controller: "k8s.io/ingress-nginx" },
  });
  const web = await startPod(t, "web");
  await h.create(service("web"));
  await h.create(slice("web", [{ port: web.port }]));
  const mk = (name: string, extra: Partial<Ingress["spec"]>): Ingress => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, namespace: "default" },
    spec: { rules: [{ host: `${name}.example.com`, http: { paths: [path("/", "web")] } }], ...extra },
  });
  await h.create(mk("mine", {}));
  await h.create(mk("theirs", { ingressClassName: "nginx" }));
  const api = h.client.resource<Ingress>("networking.k8s.io", "ingresses");
  await waitFor("status written", async () => {
    const ing = await api.get("default", "mine");
    return ing.status?.loadBalancer?.ingress?.[0]?.ip === "127.0.0.1";
  });
  assert.deepEqual((await api.get("default", "mine")).status?.loadBalancer, {
    ingress: [{ ip: "127.0.0.1" }],
  });
  assert.equal((await get(h.ctl.httpPort, "theirs.example.com", "/")).status, 404);
  assert.equal((await api.get("default", "theirs")).status?.loadBalancer?.ingress, undefined);

  // Moving "mine" to the other class takes it out of the table and clears our address.
  const cur = await api.get("default", "mine");
  cur.spec = { ...cur.spec, ingressClassName: "nginx" };
  await api.update(cur);
  await waitFor(
    "status cleared",
    async () => (await api.get("default", "mine")).status?.loadBalancer?.ingress === undefined,
  );
  assert.equal(h.ctl.routes.has("default/mine"), false);
  const rv = (await api.get("default", "mine")).metadata.resourceVersion;
  // No further writes once in the desired state.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await api.get("default", "mine")).metadata.resourceVersion, rv);
});
