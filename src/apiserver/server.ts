/**
 * @module The API server: HTTPS with the cluster CA, authentication (client certificates and
 * static bearer tokens; anonymous requests refused), and routing to discovery, health,
 * OpenAPI, the node proxy, the built-in metrics API and the resource handler. Every error leaves as a Kubernetes `Status`.
 */
import { setMaxListeners } from "node:events";
import { chmodSync, rmSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import { createServer, type Server } from "node:https";
import type { TLSSocket } from "node:tls";
import type { AddressInfo } from "node:net";
import { kindByGroupResource, type KindInfo } from "../api/kinds.ts";
import { rulesFor } from "../api/rules.ts";
import { forbidden, internalError, notFound, StatusError, unauthorized } from "../api/status-error.ts";
import type { Backend } from "../storage/backend.ts";
import { AllowAuthenticated, type Authorizer, type UserInfo } from "./auth/authorizer.ts";
import { answerReview } from "./auth/reviews.ts";
import { decodeObject, readBody } from "./body.ts";
import { Discovery } from "./discovery.ts";
import { OpenApi } from "./openapi.ts";
import { codecFor } from "./registry/codec.ts";
import { ResourceStore } from "./registry/store.ts";
import { ServiceAllocator } from "./registry/service-allocator.ts";
import { serviceStrategy, strategyFor, type KindStrategy } from "./registry/strategies.ts";
import { admitPodPriority } from "./admission/priority.ts";
import { ApiMetrics } from "./metrics.ts";
import { parseRequestInfo, type RequestInfo } from "./request-info.ts";
import { ResourceHandler } from "./resource-handler.ts";
import { WatchCache } from "./watch-cache.ts";
import type { ClusterPki } from "./pki.ts";
import type { Duplex } from "node:stream";
import type { Node, Pod, Service } from "../api/types/core-v1.ts";
import { MetricsApi } from "./metrics-api/metrics-api.ts";
import type { Summary } from "../kubelet/stats/summary-types.ts";
import {
  fetchFromNode,
  nodeProxyTarget,
  proxyNodeRequest,
  podStreamTarget,
  proxyPodStream,
  proxyPodUpgrade,
  writeStatusToSocket,
  type NodeProxyDeps,
} from "./node-proxy.ts";

export interface ApiServerConfig {
  backend: Backend;
  pki: ClusterPki;
  /** Static bearer tokens and the user each stands for. */
  tokens: Map<string, string>;
  host: string;
  port: number;
  /**
   * A unix socket path on which the same API is also served in plain HTTP, for the in-process
   * components (no TLS on their loopback); they still authenticate with a token.
   */
  loopbackSocket?: string;
}

function sendStatus(res: ServerResponse, err: StatusError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify(err.status);
  res.writeHead(err.code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/** A running API server. */
export class ApiServer {
  private server: Server | undefined;
  private loopback: HttpServer | undefined;
  private readonly stores = new Map<KindInfo, ResourceStore>();
  private readonly discovery = new Discovery();
  private readonly openapi = new OpenApi();
  private readonly handler: ResourceHandler;
  private readonly abort = new AbortController();
  private readonly authorizer: Authorizer = AllowAuthenticated;
  private readonly metrics = new ApiMetrics();
  port = 0;

  /** Upgraded connections to node agents (exec, attach, port-forward), closed on stop. */
  private readonly podStreams = new Set<Duplex>();
  /** How `pods/log|exec|attach|portforward` reach the pod's node agent. */
  private readonly nodeProxy: NodeProxyDeps;
  /** `metrics.k8s.io`, served from the node agents' Summaries. */
  private readonly metricsApi: MetricsApi;

  constructor(private readonly config: ApiServerConfig) {
    // Every open watch listens on the stop signal.
    setMaxListeners(0, this.abort.signal);
    this.handler = new ResourceHandler((info) => this.store(info), config.backend, this.abort.signal);
    this.nodeProxy = {
      getPod: async (ns, name) =>
        (await this.store(kindByGroupResource("", "pods")!).get(ns, name)).obj as unknown as Pod,
      getNode: async (name) => {
        try {
          return (await this.store(kindByGroupResource("", "nodes")!).get("", name)).obj as unknown as Node;
        } catch (e) {
          if (e instanceof StatusError && e.code === 404) return undefined;
          throw e;
        }
      },
      tls: { ca: config.pki.caCert, cert: config.pki.kubeletClientCert, key: config.pki.kubeletClientKey },
      sockets: this.podStreams,
    };
    this.metricsApi = new MetricsApi({
      listNodes: async () => this.cachedList("nodes", ""),
      listPods: async (ns) => this.cachedList("pods", ns),
      fetchSummary: (node) =>
        fetchFromNode<Summary>(this.nodeProxy, node, "/stats/summary?only_cpu_and_memory=true"),
    });
  }

  /** Core objects of a resource from its watch cache (consistent read), optionally of one namespace. */
  private async cachedList<T>(resource: string, namespace: string): Promise<T[]> {
    const info = kindByGroupResource("", resource)!;
    const store = this.store(info);
    await store.cache.sync();
    const prefix = namespace ? `${info.storageRoot}${namespace}/` : info.storageRoot;
    return store.cache.list(prefix).map((o) => o.obj as unknown as T);
  }

  /** An Upgrade request (exec, attach, port-forward over WebSocket or SPDY): authenticated, authorized, proxied. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "https://kites");
    const user = this.authenticate(req);
    if (!user) return writeStatusToSocket(socket, unauthorized());
    const target = podStreamTarget(url);
    if (!target) {
      return writeStatusToSocket(
        socket,
        new StatusError(404, "NotFound", "the server could not find the requested resource"),
      );
    }
    const ri = parseRequestInfo("POST", url.pathname.replace(/\/+$/, ""), url.searchParams);
    const decision = this.authorizer.authorize({ user, ...ri });
    if (!decision.allowed) {
      return writeStatusToSocket(
        socket,
        forbidden(
          { group: "", resource: "pods" },
          ri.name,
          `User "${user.username}" cannot create resource "pods/${ri.subresource}" in API group ""`,
        ),
      );
    }
    void proxyPodUpgrade(req, socket, head, target, this.nodeProxy);
  }

  /** The store of a kind, created (with its watch cache) on first use. */
  store(info: KindInfo): ResourceStore {
    let s = this.stores.get(info);
    if (!s) {
      const cache = new WatchCache(this.config.backend, info.storageRoot, this.abort.signal, codecFor(info));
      s = new ResourceStore(
        info,
        this.config.backend,
        cache,
        rulesFor(info),
        (ns, k) => this.admitNamespace(ns, k),
        this.stateStrategy(info),
      );
      this.stores.set(info, s);
    }
    return s;
  }

  /** The strategy of a kind whose writes need this server's state; undefined for the static ones. */
  private stateStrategy(info: KindInfo): KindStrategy | undefined {
    if (info.group !== "") return undefined;
    if (info.resource === "services") return this.serviceStrategy(info);
    if (info.resource === "pods") {
      const classes = kindByGroupResource("scheduling.k8s.io", "priorityclasses")!;
      return { ...strategyFor(info), admit: (obj) => admitPodPriority(obj, this.store(classes)) };
    }
    return undefined;
  }

  /** Services get their cluster IP and node ports from this server's allocator, restored from storage. */
  private serviceStrategy(info: KindInfo): KindStrategy {
    const codec = codecFor(info);
    return serviceStrategy(new ServiceAllocator(), async () => {
      const { kvs } = await this.config.backend.list(info.storageRoot);
      return kvs.map((kv) => codec.decode(kv).obj as unknown as Service);
    });
  }

  /** NamespaceLifecycle admission: creates need an existing, non-terminating namespace. */
  private async admitNamespace(namespace: string, info: KindInfo): Promise<void> {
    const nsInfo = kindByGroupResource("", "namespaces")!;
    const ns = this.store(nsInfo);
    let obj;
    try {
      obj = (await ns.get("", namespace)).obj;
    } catch (e) {
      if (e instanceof StatusError && e.code === 404)
        throw notFound({ group: "", resource: "namespaces" }, namespace);
      throw e;
    }
    if (obj.metadata.deletionTimestamp) {
      throw forbidden(
        { group: info.group, resource: info.resource },
        "",
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  /** The certificate user of each TLS connection, worked out once per connection. */
  private readonly certUsers = new WeakMap<TLSSocket, UserInfo | null>();

  private authenticate(req: IncomingMessage): UserInfo | undefined {
    const sock = req.socket as TLSSocket;
    let certUser = this.certUsers.get(sock);
    if (certUser === undefined) {
      certUser = this.certificateUser(sock);
      this.certUsers.set(sock, certUser);
    }
    if (certUser) return certUser;
    const auth = req.headers.authorization;
    if (auth?.startsWith("Bearer ")) {
      const user = this.config.tokens.get(auth.slice(7).trim());
      if (user) return { username: user, groups: ["system:masters"] };
    }
    return undefined;
  }

  /** The user a verified client certificate names (CN, and O as groups), or null. */
  private certificateUser(sock: TLSSocket): UserInfo | null {
    if (sock.authorized) {
      const cert = sock.getPeerCertificate();
      const subject = cert.subject as unknown as Record<string, string | string[]> | undefined;
      const cn = subject?.CN;
      const o = subject?.O;
      if (cn) return { username: String(cn), groups: o === undefined ? [] : Array.isArray(o) ? o : [o] };
    }
    return null;
  }

  /** Times and counts a request under upstream's metric labels once it is answered. */
  private observe(req: IncomingMessage, res: ServerResponse, ri: RequestInfo): void {
    const start = performance.now();
    const method = req.method ?? "GET";
    const verb = !ri.isResource
      ? method
      : ri.verb === "list" || ri.verb === "watch" || ri.verb === "deletecollection"
        ? ri.verb.toUpperCase()
        : method === "PATCH" && req.headers["content-type"]?.startsWith("application/apply-patch")
          ? "APPLY"
          : method;
    const resource = ri.subresource ? `${ri.resource}/${ri.subresource}` : ri.resource;
    if (verb === "WATCH") this.metrics.watch(resource, 1);
    res.once("close", () => {
      if (verb === "WATCH") this.metrics.watch(resource, -1);
      this.metrics.request(verb, resource, res.statusCode, (performance.now() - start) / 1000);
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://kites");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const ri = parseRequestInfo(req.method ?? "GET", path, url.searchParams);
    this.observe(req, res, ri);
    if (path === "/healthz" || path === "/livez" || path === "/readyz") {
      await this.health(path.slice(1), url.searchParams.has("verbose"), res);
      return;
    }
    // The CA, for agents joining with a node token (which carries its hash), as k3s serves it.
    if (path === "/cacerts" && req.method === "GET") {
      res.writeHead(200, {
        "Content-Type": "text/plain",
        "Content-Length": Buffer.byteLength(this.config.pki.caCert),
      });
      res.end(this.config.pki.caCert);
      return;
    }
    const user = this.authenticate(req);
    if (!user) throw unauthorized();
    if (req.method === "GET" && (path === "/api" || path === "/apis")) {
      const av = Discovery.aggregatedVersion(req.headers.accept);
      if (av) {
        const body = this.discovery.aggregated.get(`${path}:${av}`)!;
        res.writeHead(200, {
          "Content-Type": `application/json;g=apidiscovery.k8s.io;v=${av};as=APIGroupDiscoveryList`,
          "Content-Length": Buffer.byteLength(body),
        });
        res.end(body);
        return;
      }
    }
    if (req.method === "GET") {
      const doc = this.discovery.byPath.get(path);
      if (doc) {
        res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(doc) });
        res.end(doc);
        return;
      }
      if (path.startsWith("/openapi/")) {
        const out = this.openapi.respond(path, req.headers);
        if (!out) throw new StatusError(404, "NotFound", "the server could not find the requested resource");
        res.writeHead(out.status, out.headers);
        res.end(out.body);
        return;
      }
    }
    if (req.method === "POST" && path.endsWith("reviews")) {
      const answer = answerReview(
        path,
        decodeObject(await readBody(req), req.headers["content-type"]),
        user,
        this.authorizer,
      );
      if (answer) {
        const body = JSON.stringify(answer);
        res.writeHead(201, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
        res.end(body);
        return;
      }
    }
    if (req.method === "GET" && path === "/metrics") {
      const text = this.metrics.render();
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(text);
      return;
    }
    if (!ri.isResource)
      throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    const decision = this.authorizer.authorize({ user, ...ri });
    if (!decision.allowed) {
      throw forbidden(
        { group: ri.group, resource: ri.resource },
        ri.name,
        `User "${user.username}" cannot ${ri.verb} resource "${ri.resource}" in API group "${ri.group}"`,
      );
    }
    const stream = podStreamTarget(url);
    if (stream) {
      await proxyPodStream(req, res, stream, this.nodeProxy);
      return;
    }
    const nodeTarget = ri.resource === "nodes" ? nodeProxyTarget(url) : undefined;
    if (nodeTarget) {
      await proxyNodeRequest(req, res, nodeTarget, this.nodeProxy);
      return;
    }
    if (ri.group === "metrics.k8s.io") {
      const out = await this.metricsApi.serve(req.method ?? "GET", path, url.searchParams);
      if (!out) throw new StatusError(404, "NotFound", "the server could not find the requested resource");
      const body = JSON.stringify(out);
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    await this.handler.handle(req, res, ri, url.searchParams);
  }

  /**
   * The health endpoints, with upstream's text: each check on its own line in verbose mode;
   * `datastore` reads the datastore's revision and fails when it cannot.
   */
  private async health(name: string, verbose: boolean, res: ServerResponse): Promise<void> {
    const checks: [string, string | undefined][] = [["ping", undefined]];
    try {
      await this.config.backend.get("/kites/healthz");
      checks.push(["datastore", undefined]);
    } catch (e) {
      checks.push(["datastore", e instanceof Error ? e.message : String(e)]);
    }
    const failed = checks.filter(([, err]) => err !== undefined);
    const lines = checks.map(([n, err]) =>
      err === undefined ? `[+]${n} ok` : `[-]${n} failed: reason withheld`,
    );
    const body =
      verbose || failed.length
        ? `${lines.join("\n")}\n${name} check ${failed.length ? "failed" : "passed"}\n`
        : "ok";
    res.writeHead(failed.length ? 500 : 200, { "Content-Type": "text/plain; charset=utf-8" });
    res.end(body);
  }

  /** Starts listening; resolves once the socket is bound. */
  async start(): Promise<void> {
    const { pki } = this.config;
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      this.route(req, res).catch((e: unknown) => {
        if (e instanceof StatusError) sendStatus(res, e);
        else {
          console.error("apiserver: internal error:", e);
          sendStatus(res, internalError(e instanceof Error ? e.message : String(e)));
        }
      });
    };
    const serve = async (
      server: Server | HttpServer,
      at: { path: string } | { port: number; host: string },
    ): Promise<void> => {
      server.keepAliveTimeout = 60_000;
      server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
        this.upgrade(req, socket, head),
      );
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(at, () => resolve());
      });
    };
    this.server = createServer(
      {
        key: pki.serverKey,
        cert: pki.serverCert,
        ca: pki.caCert,
        requestCert: true,
        rejectUnauthorized: false,
      },
      onRequest,
    );
    await serve(this.server, { port: this.config.port, host: this.config.host });
    this.port = (this.server.address() as AddressInfo).port;
    if (this.config.loopbackSocket) {
      // The datastore's lock makes this the only server of its data dir: a socket left there is stale.
      rmSync(this.config.loopbackSocket, { force: true });
      this.loopback = createHttpServer(onRequest);
      await serve(this.loopback, { path: this.config.loopbackSocket });
      chmodSync(this.config.loopbackSocket, 0o600);
    }
    // Warm the caches kubectl touches first.
    for (const resource of ["namespaces", "pods"]) this.store(kindByGroupResource("", resource)!);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const sock of this.podStreams) sock.destroy();
    for (const s of [this.server, this.loopback]) {
      if (!s) continue;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}
