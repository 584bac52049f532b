/**
 * @module The Ingress proxy's request path: route lookup, endpoint choice and forwarding.
 * Requests stream both ways (no buffering) over keep-alive connections to the pod endpoint
 * (an undici `Pool` per endpoint, `upstream-pool.ts`); hop-by-hop headers are dropped and X-Forwarded-For/-Proto/-Host/-Port
 * and X-Real-Ip set (any the client sent are replaced: clients are not trusted, as
 * ingress-nginx's and Traefik's defaults). Upgrades (WebSocket) are passed through on a
 * connection of their own. Answers of its own: 404 (no rule for the host and path, no default
 * backend), 503 (the route's Service has no ready endpoint), 502 (the endpoint refused or
 * dropped the connection before answering, or sent no valid HTTP/1.1 answer), 504 (no connection
 * within the connect timeout, or no answer within the read timeout). A request without a body
 * that fails on a reused keep-alive connection (the endpoint closed it meanwhile) is retried
 * once on a fresh connection. */
import {
  request,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { Dispatcher } from "undici";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { BackendPool, Upstream } from "./backends.ts";
import { requestHost, requestPath } from "./path-match.ts";
import type { Route } from "./route-table.ts";

/** Finds the route of a request; the route table's `lookup`. */
export interface RouteLookup {
  lookup(host: string, path: string): Route<BackendPool> | undefined;
}

/** Counters of what the proxy answered (for tests, benchmarks and metrics). */
export interface ProxyStats {
  forwarded: number;
  notFound: number;
  unavailable: number;
  badGateway: number;
  gatewayTimeout: number;
  retried: number;
  upgrades: number;
}

/** Lower-cased names of headers the proxy never forwards (or sets itself). */
const DROP_REQUEST = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-forwarded-port",
  "x-real-ip",
]);
const DROP_RESPONSE = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "trailer",
]);
/** Lengths of the names above, so most headers are passed without lower-casing them. */
const DROP_REQUEST_LENGTHS = new Set([...DROP_REQUEST].map((n) => n.length));
const DROP_RESPONSE_LENGTHS = new Set([...DROP_RESPONSE].map((n) => n.length));

/** Methods a request without body may be retried with. */
const IDEMPOTENT_NO_BODY = new Set(["GET", "HEAD", "OPTIONS"]);

export function newProxyStats(): ProxyStats {
  return {
    forwarded: 0,
    notFound: 0,
    unavailable: 0,
    badGateway: 0,
    gatewayTimeout: 0,
    retried: 0,
    upgrades: 0,
  };
}

function clientAddress(socket: Socket): string {
  const a = socket.remoteAddress ?? "";
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}

/** Appends the X-Forwarded-* and X-Real-Ip headers (replacing any the client sent). */
function pushForwarded(out: string[], socket: Socket, proto: string, host: string | undefined): void {
  const ip = clientAddress(socket);
  out.push(
    "X-Forwarded-For",
    ip,
    "X-Real-Ip",
    ip,
    "X-Forwarded-Proto",
    proto,
    "X-Forwarded-Host",
    host ?? "",
    "X-Forwarded-Port",
    String(socket.localPort ?? ""),
  );
}

/** The headers of an upgrade request sent upstream, as a flat raw list (names keep the client's case). */
function upstreamHeaders(req: IncomingMessage, proto: string, upgrade: string | undefined): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (DROP_REQUEST_LENGTHS.has(name.length)) {
      const lower = name.toLowerCase();
      if (DROP_REQUEST.has(lower)) continue;
      if (lower === "host") host = raw[i + 1];
    } else if (host === undefined && name.length === 4 && name.toLowerCase() === "host") host = raw[i + 1];
    out.push(name, raw[i + 1]!);
  }
  pushForwarded(out, req.socket, proto, host);
  if (upgrade !== undefined) out.push("Connection", "Upgrade", "Upgrade", upgrade);
  return out;
}

/** The upstream's response headers minus hop-by-hop ones, as a flat raw list. */
function downstreamHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (DROP_RESPONSE_LENGTHS.has(name.length) && DROP_RESPONSE.has(name.toLowerCase())) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

function plain(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "X-Content-Type-Options": "nosniff",
  });
  res.end(body);
}

/** Lower-cased names of request headers undici frames itself (or refuses). */
const FRAMING = new Set(["transfer-encoding", "expect", "host"]);

/**
 * The headers sent to the pod as a flat raw list: the client's minus hop-by-hop ones, then the
 * forwarding headers. Reports whether the request has a body.
 */
function forwardHeaders(req: IncomingMessage, proto: string): { headers: string[]; body: boolean } {
  const raw = req.rawHeaders;
  const headers: string[] = [];
  let host: string | undefined;
  let body = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const len = name.length;
    if (len === 4 || len === 6 || len === 14 || len === 17 || DROP_REQUEST_LENGTHS.has(len)) {
      const lower = name.toLowerCase();
      if (lower === "content-length") {
        if (raw[i + 1] !== "0") body = true;
      } else if (FRAMING.has(lower)) {
        if (lower === "host") host = raw[i + 1];
        else if (lower === "transfer-encoding") {
          // Sent chunked by undici; Transfer-Encoding overrides Content-Length.
          body = true;
          continue;
        } else continue;
      } else if (DROP_REQUEST.has(lower)) continue;
    }
    headers.push(name, raw[i + 1]!);
  }
  if (body && req.headers["transfer-encoding"] !== undefined) {
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i]!.length === 14 && headers[i]!.toLowerCase() === "content-length") {
        headers.splice(i, 2);
        break;
      }
    }
  }
  pushForwarded(headers, req.socket, proto, host);
  return { headers, body };
}

/** The upstream's response headers minus hop-by-hop ones, as a flat list. */
function responseHeaders(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (DROP_RESPONSE_LENGTHS.has(name.length) && DROP_RESPONSE.has(name)) continue;
    const v = headers[name];
    if (v === undefined) continue;
    if (typeof v === "string") out.push(name, v);
    else for (const one of v) out.push(name, one);
  }
  return out;
}

/** undici error codes meaning the pod was too slow (504 rather than 502). */
const TIMEOUTS = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ETIMEDOUT",
]);
/** undici error codes of a connection that broke (a reused keep-alive one may have been closed). */
const SOCKET_ERRORS = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE", "UND_ERR_CLOSED"]);

/**
 * The `request` handler of the proxy's HTTP or HTTPS server (`proto` is what
 * X-Forwarded-Proto says).
 */
export function proxyHandler(
  routes: RouteLookup,
  proto: "http" | "https",
  stats: ProxyStats,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const route = routes.lookup(requestHost(req.headers.host), requestPath(req.url));
    if (!route) {
      stats.notFound++;
      req.resume();
      plain(res, 404, "404 page not found\n");
      return;
    }
    const up = route.backend?.next();
    if (!up) {
      stats.unavailable++;
      req.resume();
      plain(res, 503, "503 Service Unavailable\n");
      return;
    }
    const { headers, body } = forwardHeaders(req, proto);
    const method = req.method ?? "GET";
    forward(req, res, up, method, headers, body, !body && IDEMPOTENT_NO_BODY.has(method), stats);
  };
}

function forward(
  req: IncomingMessage,
  res: ServerResponse,
  up: Upstream,
  method: string,
  headers: string[],
  body: boolean,
  retryable: boolean,
  stats: ProxyStats,
): void {
  let controller: Dispatcher.DispatchController | undefined;
  let responded = false;
  let done = false;
  const onClose = (): void => {
    if (!done && controller && !controller.aborted) controller.abort(new Error("client closed"));
  };
  res.once("close", onClose);
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
      if (res.destroyed) c.abort(new Error("client closed"));
    },
    onResponseStart(c, status, upHeaders, reason) {
      if (status < 200) return;
      responded = true;
      stats.forwarded++;
      res.sendDate = false; // the endpoint's own Date header is passed on
      const out = responseHeaders(upHeaders);
      if (reason) res.writeHead(status, reason, out);
      else res.writeHead(status, out);
    },
    onResponseData(c, chunk) {
      if (!res.write(chunk)) {
        c.pause();
        res.once("drain", () => c.resume());
      }
    },
    onResponseEnd() {
      done = true;
      res.removeListener("close", onClose);
      res.end();
    },
    onResponseError(_c, err) {
      done = true;
      res.removeListener("close", onClose);
      if (responded || res.headersSent) {
        res.destroy();
        return;
      }
      if (res.destroyed || res.writableEnded) return;
      const code = (err as NodeJS.ErrnoException).code ?? "";
      if (retryable && SOCKET_ERRORS.has(code)) {
        // The pod closed an idle keep-alive connection just as it was reused: retry once.
        stats.retried++;
        forward(req, res, up, method, headers, body, false, stats);
        return;
      }
      if (TIMEOUTS.has(code)) {
        stats.gatewayTimeout++;
        plain(res, 504, "504 Gateway Timeout\n");
      } else {
        stats.badGateway++;
        plain(res, 502, "502 Bad Gateway\n");
      }
    },
  };
  up.pool.dispatcher.dispatch(
    { origin: up.pool.origin, path: req.url ?? "/", method, headers, body: body ? req : null },
    handler,
  );
  if (!body) req.resume();
}

/**
 * The `upgrade` handler (WebSocket and other Upgrade requests): forwards the request on a
 * fresh connection and, once the endpoint answers 101, splices the two sockets. Client sockets
 * are kept in `tunnels` while open (the server no longer tracks them; `stop` destroys them).
 */
export function upgradeHandler(
  routes: RouteLookup,
  proto: "http" | "https",
  stats: ProxyStats,
  tunnels: Set<Duplex>,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on("error", () => socket.destroy());
    tunnels.add(socket);
    socket.on("close", () => tunnels.delete(socket));
    const route = routes.lookup(requestHost(req.headers.host), requestPath(req.url));
    const up = route?.backend?.next();
    if (!route || !up) {
      const status = route ? "503 Service Unavailable" : "404 Not Found";
      if (route) stats.unavailable++;
      else stats.notFound++;
      socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    const upReq: ClientRequest = request({
      host: up.host,
      port: up.port,
      method: req.method,
      path: req.url,
      headers: upstreamHeaders(req, proto, req.headers.upgrade ?? "websocket"),
      agent: false,
      setHost: false,
    });
    upReq.on("upgrade", (upRes: IncomingMessage, upSocket: Duplex, upHead: Buffer) => {
      stats.upgrades++;
      let head101 = `HTTP/1.1 ${upRes.statusCode ?? 101} ${upRes.statusMessage ?? "Switching Protocols"}\r\n`;
      const raw = upRes.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) head101 += `${raw[i]}: ${raw[i + 1]}\r\n`;
      socket.write(head101 + "\r\n");
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      upSocket.on("error", () => socket.destroy());
      socket.on("close", () => upSocket.destroy());
      upSocket.on("close", () => socket.destroy());
      upSocket.pipe(socket);
      socket.pipe(upSocket);
    });
    upReq.on("response", (upRes: IncomingMessage) => {
      // The endpoint declined the upgrade: relay its answer and close.
      stats.forwarded++;
      let head = `HTTP/1.1 ${upRes.statusCode ?? 502} ${upRes.statusMessage ?? ""}\r\n`;
      const raw = downstreamHeaders(upRes.rawHeaders);
      for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
      socket.write(head + "Connection: close\r\n\r\n");
      upRes.pipe(socket);
    });
    upReq.on("error", () => {
      stats.badGateway++;
      if (socket.writable)
        socket.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      else socket.destroy();
    });
    socket.on("close", () => upReq.destroy());
    upReq.end();
  };
}
