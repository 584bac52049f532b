/**
 * @module The node agent's streaming server (upstream's kubelet server on port 10250, the
 * part the API server proxies to): HTTPS with a serving certificate from the cluster CA that
 * only accepts clients presenting a certificate signed by that CA. Routes:
 * `GET /containerLogs/NS/POD/CONTAINER`, `/exec/NS/POD/CONTAINER?command=…`,
 * `/attach/NS/POD/CONTAINER`, `/portForward/NS/POD`, `/healthz`, and the Summary API
 * `GET /stats/summary` (`?only_cpu_and_memory=true`) when given a stats provider. Exec, attach and
 * port-forward are upgrades — WebSocket (channel protocol v1–v5, or port-forward's SPDY
 * tunnel) or SPDY/3.1. Errors before an upgrade are plain text with upstream's status codes,
 * which the API server turns into a `Status`.
 */
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { createWebSocketStream } from "ws";
import type { Pod } from "../../api/types/core-v1.ts";
import type { ContainerRuntime, ContainerStatus } from "../../runtime/types.ts";
import {
  PORT_FORWARD_PROTOCOL,
  PORT_FORWARD_TUNNEL_PROTOCOL,
  REMOTE_COMMAND_PROTOCOLS,
  SPDY_REMOTE_COMMAND_PROTOCOLS,
} from "../../streaming/channel.ts";
import { SpdySession } from "../../streaming/spdy/session.ts";
import { findLogSource, LogParamError, parseLogQuery, streamLogFile } from "./container-logs.ts";
import { parsePorts, podDialer, servePortForwardSpdy, servePortForwardWebSocket } from "./port-forward.ts";
import {
  parseStreamOptions,
  runAttach,
  runExec,
  type CommandStreams,
  type StreamOptions,
} from "./remote-command.ts";
import type { StatsProvider } from "../stats/stats-provider.ts";
import { acceptSpdy, isSpdyUpgrade, spdyCommandStreams } from "./spdy-streams.ts";
import { WebSocketUpgrader, websocketCommandStreams } from "./websocket-streams.ts";

export interface KubeletServerOptions {
  runtime: ContainerRuntime;
  /** The pods this node runs, by namespace and name (the agent's informer cache). */
  pods: (namespace: string, name: string) => Pod | undefined;
  tls: { ca: string; cert: string; key: string };
  /** Default 10250; 0 picks a free port (see `port` after `start`). */
  port?: number;
  /** Default 0.0.0.0. */
  host?: string;
  /** Milliseconds between liveness checks while following a log (tests shorten it). */
  followPollMs?: number;
  /** Serves `/stats/summary`; without it the route is 404. */
  stats?: Pick<StatsProvider, "summary">;
}

/** An error answered before any upgrade: plain text and a status code. */
class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface Route {
  kind: "containerLogs" | "exec" | "attach" | "portForward" | "healthz" | "statsSummary";
  namespace: string;
  pod: string;
  container: string;
  query: URLSearchParams;
}

function parseRoute(url: string): Route | undefined {
  const u = new URL(url, "https://kubelet");
  const parts = u.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const [kind, namespace = "", pod = "", ...rest] = parts;
  if (kind === "healthz" && parts.length === 1)
    return { kind, namespace, pod, container: "", query: u.searchParams };
  if (kind === "stats" && namespace === "summary" && parts.length === 2)
    return { kind: "statsSummary", namespace: "", pod: "", container: "", query: u.searchParams };
  if (kind !== "containerLogs" && kind !== "exec" && kind !== "attach" && kind !== "portForward")
    return undefined;
  if (!namespace || !pod) return undefined;
  // Upstream also accepts `/exec/NS/POD/UID/CONTAINER`; the container is the last segment.
  const container = rest.length ? rest[rest.length - 1]! : "";
  if (kind !== "portForward" && !container) return undefined;
  return { kind, namespace, pod, container, query: u.searchParams };
}

function sendText(res: ServerResponse, code: number, text: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(code, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

function rawText(socket: Duplex, code: number, text: string): void {
  const reason = { 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error" }[code] ?? "Error";
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

/** The node agent's HTTPS streaming server. */
export class KubeletServer {
  private server: Server | undefined;
  private readonly ws = new WebSocketUpgrader();
  private readonly sockets = new Set<Duplex>();
  port = 0;
  /** Upgrades accepted so far, by transport (for metrics and tests). */
  readonly upgrades = { websocket: 0, spdy: 0, spdyOverWebsocket: 0 };

  constructor(private readonly opts: KubeletServerOptions) {}

  async start(): Promise<void> {
    const { tls } = this.opts;
    const server = createServer({
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      requestCert: true,
      rejectUnauthorized: true,
    });
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((e: unknown) => {
        if (e instanceof HttpError) sendText(res, e.code, e.message);
        else sendText(res, 500, e instanceof Error ? e.message : String(e));
      });
    });
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
      socket.on("error", () => undefined);
      this.upgrade(req, socket, head).catch((e: unknown) => {
        if (socket.writable)
          rawText(socket, e instanceof HttpError ? e.code : 500, e instanceof Error ? e.message : String(e));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port ?? 10250, this.opts.host ?? "0.0.0.0", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    this.ws.close();
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private pod(ns: string, name: string): Pod {
    const pod = this.opts.pods(ns, name);
    if (!pod?.metadata.uid) throw new HttpError(404, `pod "${name}" in namespace "${ns}" not found`);
    return pod;
  }

  /** The running attempt of a container, or upstream's error. */
  private async running(pod: Pod, container: string): Promise<ContainerStatus> {
    const list = await this.opts.runtime.listContainers(pod.metadata.uid);
    let best: ContainerStatus | undefined;
    for (const c of list)
      if (c.name === container && c.state === "running" && (!best || c.attempt > best.attempt)) best = c;
    if (!best) throw new HttpError(500, `container not found ("${container}")`);
    return best;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = parseRoute(req.url ?? "/");
    if (!route) throw new HttpError(404, "404 page not found");
    if (route.kind === "healthz") {
      sendText(res, 200, "ok");
      return;
    }
    if (route.kind === "statsSummary") {
      if (!this.opts.stats) throw new HttpError(404, "404 page not found");
      if (req.method !== "GET") throw new HttpError(405, `${req.method} not allowed`);
      const only = route.query.get("only_cpu_and_memory") === "true";
      const body = JSON.stringify(await this.opts.stats.summary({ onlyCpuAndMemory: only }));
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (route.kind !== "containerLogs") throw new HttpError(400, "Upgrade request required");
    if (req.method !== "GET") throw new HttpError(405, `${req.method} not allowed`);
    const pod = this.pod(route.namespace, route.pod);
    let logReq;
    try {
      logReq = parseLogQuery(route.query);
    } catch (e) {
      if (e instanceof LogParamError) throw new HttpError(400, e.message);
      throw e;
    }
    const all = [
      ...(pod.spec?.initContainers ?? []),
      ...(pod.spec?.containers ?? []),
      ...(pod.spec?.ephemeralContainers ?? []),
    ];
    if (!all.some((c) => c.name === route.container)) {
      throw new HttpError(400, `container ${route.container} is not valid for pod ${route.pod}`);
    }
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const waiting = statuses.find((s) => s.name === route.container)?.state?.waiting?.reason;
    const src = await findLogSource(
      this.opts.runtime,
      { uid: pod.metadata.uid!, name: route.pod, waitingReason: waiting },
      route.container,
      logReq.previous,
    );
    if (!src.ok) throw new HttpError(400, src.message);
    res.writeHead(200, { "Content-Type": "text/plain", "Cache-Control": "no-cache" });
    res.flushHeaders();
    const abort = new AbortController();
    res.once("close", () => abort.abort());
    const runtime = this.opts.runtime;
    await streamLogFile(
      src.logPath,
      logReq,
      res,
      async () => (await runtime.containerStatus(src.containerId))?.state === "running",
      abort.signal,
      this.opts.followPollMs,
    );
    res.end();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const route = parseRoute(req.url ?? "/");
    if (!route || route.kind === "healthz" || route.kind === "containerLogs" || route.kind === "statsSummary")
      throw new HttpError(404, "404 page not found");
    const pod = this.pod(route.namespace, route.pod);
    const podDesc = `${route.pod}_${route.namespace}, uid ${pod.metadata.uid}`;
    const spdy = isSpdyUpgrade(req);
    if (route.kind === "portForward") {
      const sandbox = (await this.opts.runtime.listSandboxes()).find((s) => s.uid === pod.metadata.uid);
      if (!sandbox) throw new HttpError(500, `pod ${route.pod} is not running on this node`);
      const dial = podDialer(sandbox);
      if (spdy) {
        const acc = acceptSpdy(req, socket, head, [PORT_FORWARD_PROTOCOL]);
        if (acc) {
          this.upgrades.spdy++;
          servePortForwardSpdy(acc.session, dial, podDesc);
        }
        return;
      }
      const offered = WebSocketUpgrader.offered(req);
      if (offered.includes(PORT_FORWARD_TUNNEL_PROTOCOL)) {
        const acc = await this.ws.accept(req, socket, head, [PORT_FORWARD_TUNNEL_PROTOCOL]);
        if (acc) {
          this.upgrades.spdyOverWebsocket++;
          servePortForwardSpdy(new SpdySession(createWebSocketStream(acc.ws)), dial, podDesc);
        }
        return;
      }
      const ports = parsePorts(route.query);
      if (typeof ports === "string") throw new HttpError(400, ports);
      const acc = await this.ws.accept(req, socket, head, [PORT_FORWARD_PROTOCOL, "v4.channel.k8s.io"]);
      if (acc) {
        this.upgrades.websocket++;
        servePortForwardWebSocket(acc.ws, ports, dial, podDesc);
      }
      return;
    }
    const opts = parseStreamOptions(route.query);
    const command = route.query.getAll("command");
    if (route.kind === "exec" && command.length === 0)
      throw new HttpError(400, "you must specify at least 1 command");
    if (!opts.stdin && !opts.stdout && !opts.stderr)
      throw new HttpError(400, "you must specify at least 1 of stdin, stdout, stderr");
    const container = await this.running(pod, route.container);
    let streams: CommandStreams | undefined;
    if (spdy) {
      const acc = acceptSpdy(req, socket, head, SPDY_REMOTE_COMMAND_PROTOCOLS);
      if (!acc) return;
      this.upgrades.spdy++;
      try {
        streams = await spdyCommandStreams(acc.session, acc.protocol, opts);
      } catch {
        return; // the client left or never opened its streams; the session is closed
      }
    } else {
      const acc = await this.ws.accept(req, socket, head, REMOTE_COMMAND_PROTOCOLS);
      if (!acc) return;
      this.upgrades.websocket++;
      streams = websocketCommandStreams(acc.ws, acc.protocol, opts);
    }
    await this.run(route, container, command, opts, streams);
  }

  private run(
    route: Route,
    c: ContainerStatus,
    command: string[],
    opts: StreamOptions,
    streams: CommandStreams,
  ): Promise<void> {
    if (route.kind === "exec") return runExec(this.opts.runtime, c.id, command, opts, streams);
    return runAttach(this.opts.runtime, c.id, c.logPath, opts, streams);
  }
}
