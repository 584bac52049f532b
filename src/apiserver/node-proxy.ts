/**
 * @module The pod streaming subresources — `log`, `exec`, `attach`, `portforward` — proxied
 * from the API server to the node agent that runs the pod, as upstream's apiserver does:
 * validate the container against the pod spec (upstream's messages), find the node's
 * InternalIP and `daemonEndpoints.kubeletEndpoint.Port` (default 10250), and call the agent
 * over TLS with the API server's client certificate. Logs are streamed through as they come
 * (a `follow` stays open); exec/attach/port-forward upgrades are forwarded and then the two
 * raw sockets are spliced (upstream's UpgradeAwareHandler), so kubectl and the agent speak
 * WebSocket or SPDY end to end. The agent's serving certificate is checked against the
 * cluster CA; its host name is not (agents on other machines are reached by IP).
 */
import { request as httpsRequest, Agent } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { badRequest, internalError, notFound, StatusError } from "../api/status-error.ts";
import type { Node, Pod } from "../api/types/core-v1.ts";

/** The subresources this module serves. */
export type PodStreamSubresource = "log" | "exec" | "attach" | "portforward";

/** True for `pods/log|exec|attach|portforward`. */
export function isPodStreamSubresource(
  resource: string,
  subresource: string,
): subresource is PodStreamSubresource {
  return (
    resource === "pods" &&
    (subresource === "log" ||
      subresource === "exec" ||
      subresource === "attach" ||
      subresource === "portforward")
  );
}

/** What the proxy needs from the API server: object lookups and the client certificate. */
export interface NodeProxyDeps {
  /** The pod; throws the store's 404 StatusError when absent. */
  getPod(namespace: string, name: string): Promise<Pod>;
  /** The node, or undefined when it does not exist. */
  getNode(name: string): Promise<Node | undefined>;
  /** The API server's client certificate towards agents (`kubeletClientCert/Key`); `ca` is not used to verify agents. */
  tls: { ca: string; cert: string; key: string };
  /** Spliced upgrade sockets are kept here while open, so a stopping server can destroy them. */
  sockets?: Set<Duplex>;
}

/** One streaming request: which pod, which subresource, and its query. */
export interface PodStreamTarget {
  namespace: string;
  name: string;
  subresource: PodStreamSubresource;
  query: URLSearchParams;
}

/**
 * The streaming target a request URL names (`/api/v1/namespaces/NS/pods/NAME/log|exec|attach|portforward`),
 * or undefined for any other path.
 */
export function podStreamTarget(url: URL): PodStreamTarget | undefined {
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(log|exec|attach|portforward)\/?$/.exec(
    url.pathname,
  );
  if (!m) return undefined;
  return {
    namespace: decodeURIComponent(m[1]!),
    name: decodeURIComponent(m[2]!),
    subresource: m[3] as PodStreamSubresource,
    query: url.searchParams,
  };
}

const DEFAULT_KUBELET_PORT = 10250;
const PASS_LOG = ["follow", "previous", "tailLines", "sinceSeconds", "sinceTime", "timestamps", "limitBytes"];
const PASS_EXEC = ["command", "stdin", "stdout", "stderr", "tty"];

/** Upstream's container check: default to the only container, else name must exist. */
export function validateContainer(container: string, pod: Pod): string {
  const spec = pod.spec;
  const name = pod.metadata.name ?? "";
  const all = [
    ...(spec?.initContainers ?? []),
    ...(spec?.containers ?? []),
    ...(spec?.ephemeralContainers ?? []),
  ].map((c) => c.name);
  if (!container) {
    const main = spec?.containers ?? [];
    if (main.length === 1) return main[0]!.name;
    if (main.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
    throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${all.join(" ")}]`);
  }
  if (!all.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  return container;
}

/** Where the node agent of `nodeName` listens. */
async function agentAddress(deps: NodeProxyDeps, nodeName: string): Promise<{ host: string; port: number }> {
  const node = await deps.getNode(nodeName);
  if (!node) throw notFound({ group: "", resource: "nodes" }, nodeName);
  const addrs = node.status?.addresses ?? [];
  const pick =
    addrs.find((a) => a.type === "InternalIP") ??
    addrs.find((a) => a.type === "ExternalIP") ??
    addrs.find((a) => a.type === "Hostname");
  if (!pick) throw badRequest(`node ${nodeName} has no usable address`);
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_KUBELET_PORT;
  return { host: pick.address, port };
}

/** The agent path and query for a target, after validating it against the pod. */
async function agentLocation(
  target: PodStreamTarget,
  deps: NodeProxyDeps,
): Promise<{ host: string; port: number; path: string } | undefined> {
  const pod = await deps.getPod(target.namespace, target.name);
  const q = new URLSearchParams();
  const pass = (names: string[]): void => {
    for (const n of names) for (const v of target.query.getAll(n)) q.append(n, v);
  };
  const enc = encodeURIComponent;
  let path: string;
  if (target.subresource === "portforward") {
    for (const v of target.query.getAll("ports")) q.append("ports", v);
    path = `/portForward/${enc(target.namespace)}/${enc(target.name)}`;
  } else {
    const container = validateContainer(target.query.get("container") ?? "", pod);
    pass(target.subresource === "log" ? PASS_LOG : PASS_EXEC);
    const kind = target.subresource === "log" ? "containerLogs" : target.subresource;
    path = `/${kind}/${enc(target.namespace)}/${enc(target.name)}/${enc(container)}`;
  }
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) {
    // Upstream: a log of an unscheduled pod is empty; the others are refused.
    if (target.subresource === "log") return undefined;
    throw badRequest(`pod ${target.name} does not have a host assigned`);
  }
  const addr = await agentAddress(deps, nodeName);
  const qs = q.toString();
  return { ...addr, path: qs ? `${path}?${qs}` : path };
}

/** One TLS agent per credential set: log requests reuse connections to the node agents. */
const agents = new WeakMap<NodeProxyDeps["tls"], Agent>();
function agentFor(tls: NodeProxyDeps["tls"]): Agent {
  let a = agents.get(tls);
  if (!a) {
    a = new Agent({
      keepAlive: true,
      cert: tls.cert,
      key: tls.key,
      // As upstream without --kubelet-certificate-authority: agents may serve self-signed
      // certificates (a `kites agent` on another machine makes its own), so they are not verified.
      rejectUnauthorized: false,
    });
    agents.set(tls, a);
  }
  return a;
}

/** Upstream's translation of an agent's error answer into a Status. */
function agentError(code: number, body: string, target: PodStreamTarget): StatusError {
  const text = body.trim();
  if (code === 400) return badRequest(text);
  if (code === 500) return internalError(text);
  if (code === 404)
    return new StatusError(404, "NotFound", text, { name: target.name, kind: `pods/${target.subresource}` });
  return new StatusError(code, "InternalError", text || `the node agent answered ${code}`);
}

/**
 * Serves a non-upgrade request for a pod streaming subresource: `log` is proxied and
 * streamed; exec/attach/portforward without an Upgrade header get 400 as upstream.
 * Pre-proxy errors are thrown as `StatusError` for the caller to answer.
 */
export async function proxyPodStream(
  req: IncomingMessage,
  res: ServerResponse,
  target: PodStreamTarget,
  deps: NodeProxyDeps,
): Promise<void> {
  if (target.subresource !== "log") throw badRequest("Upgrade request required");
  if (req.method !== "GET")
    throw new StatusError(
      405,
      "MethodNotAllowed",
      "the server does not allow this method on the requested resource",
    );
  const loc = await agentLocation(target, deps);
  if (!loc) {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end();
    return;
  }
  const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
    const r = httpsRequest(
      { host: loc.host, port: loc.port, path: loc.path, method: "GET", agent: agentFor(deps.tls) },
      resolve,
    );
    r.on("error", (e) =>
      reject(
        new StatusError(
          502,
          "InternalError",
          `Get "https://${loc.host}:${loc.port}${loc.path}": ${e.message}`,
        ),
      ),
    );
    res.once("close", () => r.destroy());
    r.end();
  });
  if (upstream.statusCode !== 200) {
    let body = "";
    for await (const chunk of upstream) {
      if (body.length < 1024) body += (chunk as Buffer).toString();
    }
    throw agentError(upstream.statusCode ?? 500, body.slice(0, 1024), target);
  }
  res.writeHead(200, { "Content-Type": "text/plain", "Cache-Control": "no-cache" });
  res.flushHeaders();
  res.once("close", () => upstream.destroy());
  upstream.on("data", (d: Buffer) => {
    if (!res.write(d)) {
      upstream.pause();
      res.once("drain", () => upstream.resume());
    }
  });
  await new Promise<void>((resolve) => {
    upstream.once("end", resolve);
    upstream.once("close", resolve);
    upstream.once("error", () => resolve());
  });
  res.end();
}

/** Writes a Status as a complete HTTP response on a raw (not yet upgraded) socket. */
export function writeStatusToSocket(socket: Duplex, err: StatusError): void {
  const body = JSON.stringify(err.status);
  const reason =
    {
      400: "Bad Request",
      401: "Unauthorized",
      403: "Forbidden",
      404: "Not Found",
      500: "Internal Server Error",
    }[err.code] ?? "Error";
  socket.end(
    `HTTP/1.1 ${err.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Headers never forwarded to the agent (hop-by-hop handled by us, and the user's credentials). */
const DROP = new Set(["host", "authorization", "proxy-authorization", "content-length", "transfer-encoding"]);

/**
 * Serves an Upgrade request (WebSocket or SPDY) for exec/attach/portforward: forwards it to
 * the node agent and splices the sockets. Never throws: errors before the splice are
 * answered on `socket` as a `Status`.
 */
export async function proxyPodUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: PodStreamTarget,
  deps: NodeProxyDeps,
): Promise<void> {
  socket.on("error", () => undefined);
  try {
    if (target.subresource === "log") throw badRequest("log does not support upgrades");
    const loc = await agentLocation(target, deps);
    if (!loc) throw badRequest(`pod ${target.name} does not have a host assigned`);
    const backend = tlsConnect({
      host: loc.host,
      port: loc.port,
      cert: deps.tls.cert,
      key: deps.tls.key,
      // As upstream without --kubelet-certificate-authority: agents may serve self-signed
      // certificates (a `kites agent` on another machine makes its own), so they are not verified.
      rejectUnauthorized: false,
    });
    await new Promise<void>((resolve, reject) => {
      backend.once("secureConnect", () => resolve());
      backend.once("error", (e) =>
        reject(new StatusError(500, "InternalError", `error dialing backend: ${e.message}`)),
      );
    });
    backend.on("error", () => socket.destroy());
    const lines = [`${req.method ?? "GET"} ${loc.path} HTTP/1.1`, `Host: ${loc.host}:${loc.port}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      if (!DROP.has(name.toLowerCase())) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
    }
    backend.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length) backend.write(head);
    if (deps.sockets) {
      const set = deps.sockets;
      set.add(socket);
      socket.once("close", () => set.delete(socket));
    }
    socket.pipe(backend);
    backend.pipe(socket);
    socket.once("close", () => backend.destroy());
    backend.once("close", () => socket.destroy());
  } catch (e) {
    const err = e instanceof StatusError ? e : internalError(e instanceof Error ? e.message : String(e));
    if (socket.writable) writeStatusToSocket(socket, err);
  }
}

/** The `nodes/proxy` target a request URL names (`/api/v1/nodes/NAME/proxy[/PATH]`), or undefined. */
export function nodeProxyTarget(url: URL): { node: string; path: string } | undefined {
  const m = /^\/api\/v1\/nodes\/([^/]+)\/proxy(\/.*)?$/.exec(url.pathname);
  if (!m) return undefined;
  // Upstream's node proxy accepts NAME or NAME:PORT; the agent's port is the only one served.
  const node = decodeURIComponent(m[1]!).replace(/:\d+$/, "");
  return { node, path: (m[2] ?? "/") + url.search };
}

/** Sends one request to a node agent and resolves with its (unread) response. */
function agentRequest(
  deps: NodeProxyDeps,
  addr: { host: string; port: number },
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: IncomingMessage,
  timeoutMs?: number,
): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const r = httpsRequest(
      { host: addr.host, port: addr.port, path, method, headers, agent: agentFor(deps.tls) },
      resolve,
    );
    r.on("error", (e) =>
      reject(
        new StatusError(
          503,
          "ServiceUnavailable",
          `error trying to reach service: ${e.message}`,
        ),
      ),
    );
    if (timeoutMs) r.setTimeout(timeoutMs, () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    if (body) body.pipe(r);
    else r.end();
  });
}

/**
 * Serves `nodes/NAME/proxy/PATH` as upstream: the request (method, body, content type and
 * accept headers) is forwarded to the node agent's port and the answer streamed back as is.
 */
export async function proxyNodeRequest(
  req: IncomingMessage,
  res: ServerResponse,
  target: { node: string; path: string },
  deps: NodeProxyDeps,
): Promise<void> {
  const addr = await agentAddress(deps, target.node);
  const headers: Record<string, string> = {};
  for (const h of ["accept", "content-type", "content-length"]) {
    const v = req.headers[h];
    if (typeof v === "string") headers[h] = v;
  }
  const method = req.method ?? "GET";
  const upstream = await agentRequest(
    deps,
    addr,
    method,
    target.path,
    headers,
    method === "GET" || method === "HEAD" ? undefined : req,
  );
  res.once("close", () => upstream.destroy());
  const out: Record<string, string> = {};
  for (const h of ["content-type", "content-length", "cache-control"]) {
    const v = upstream.headers[h];
    if (typeof v === "string") out[h] = v;
  }
  res.writeHead(upstream.statusCode ?? 502, out);
  upstream.pipe(res);
  await new Promise<void>((resolve) => {
    upstream.once("end", resolve);
    upstream.once("close", resolve);
    upstream.once("error", () => resolve());
  });
}

/** Reads a JSON document from a node agent path (the metrics API's Summary scrapes). */
export async function fetchFromNode<T>(deps: NodeProxyDeps, node: Node, path: string): Promise<T> {
  const addrs = node.status?.addresses ?? [];
  const pick =
    addrs.find((a) => a.type === "InternalIP") ??
    addrs.find((a) => a.type === "ExternalIP") ??
    addrs.find((a) => a.type === "Hostname");
  if (!pick) throw badRequest(`node ${node.metadata.name ?? ""} has no usable address`);
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_KUBELET_PORT;
  // metrics-server's scrape timeout is 10 s: a hung agent must not hang `kubectl top`.
  const upstream = await agentRequest(
    deps,
    { host: pick.address, port },
    "GET",
    path,
    { accept: "application/json" },
    undefined,
    10_000,
  );
  const chunks: Buffer[] = [];
  for await (const c of upstream) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  if (upstream.statusCode !== 200) {
    throw new StatusError(upstream.statusCode ?? 500, "InternalError", `node ${node.metadata.name ?? ""}: ${text.slice(0, 200)}`);
  }
  return JSON.parse(text) as T;
}
