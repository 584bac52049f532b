/**
 * @module The REST client: `Client` over HTTPS to a Kubernetes API server (ours or any
 * other), with the paths, verbs and content types kubectl uses. One keep-alive agent per
 * client; JSON bodies; errors come back as the server's `Status` in a `StatusError`; watches
 * are read as newline-delimited JSON events as they arrive. Built from a kubeconfig
 * (`fromKubeconfig`) or from explicit connection settings (in-process components).
 */
import { readFileSync } from "node:fs";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent, request as httpsRequest, type RequestOptions } from "node:https";
import { parse as parseYaml } from "yaml";
import { kindByGroupResource, type KindInfo } from "../api/kinds.ts";
import type { KubeObject } from "../api/object.ts";
import { notFound, StatusError, type Status } from "../api/status-error.ts";
import { EventChannel } from "./event-channel.ts";
import type {
  Client,
  DeleteOptions,
  ListOptions,
  ListResult,
  PatchOptions,
  PatchType,
  ResourceClient,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from "./types.ts";

/** How to reach and authenticate to an API server. */
export interface ConnectionConfig {
  /** `https://host:port` */
  server: string;
  /** PEM of the CA that signed the server's certificate. */
  ca: string;
  /** Client certificate and key (PEM), or a bearer token. */
  cert?: string;
  key?: string;
  token?: string;
  /** Sent as User-Agent and used as the default field manager. */
  userAgent?: string;
  /** Concurrent connections to the server (default 64). */
  maxSockets?: number;
  /**
   * A unix socket of the same API server, spoken to in plain HTTP (the in-process components'
   * loopback, which skips TLS); `server` still names the server in messages.
   */
  socketPath?: string;
}

const PATCH_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
  apply: "application/apply-patch+yaml",
};

/** Reads the current context of a kubeconfig file into connection settings. */
export function connectionFromKubeconfig(path: string, userAgent?: string): ConnectionConfig {
  const doc = parseYaml(readFileSync(path, "utf8")) as {
    "current-context"?: string;
    contexts?: { name: string; context: { cluster: string; user: string } }[];
    clusters?: {
      name: string;
      cluster: { server: string; "certificate-authority-data"?: string; "certificate-authority"?: string };
    }[];
    users?: {
      name: string;
      user: { "client-certificate-data"?: string; "client-key-data"?: string; token?: string };
    }[];
  };
  const ctx = doc.contexts?.find((c) => c.name === doc["current-context"]) ?? doc.contexts?.[0];
  const cluster = doc.clusters?.find((c) => c.name === ctx?.context.cluster) ?? doc.clusters?.[0];
  const user = doc.users?.find((u) => u.name === ctx?.context.user) ?? doc.users?.[0];
  if (!cluster) throw new Error(`${path}: no cluster in kubeconfig`);
  const b64 = (s: string | undefined): string | undefined =>
    s ? Buffer.from(s, "base64").toString("utf8") : undefined;
  const ca =
    b64(cluster.cluster["certificate-authority-data"]) ??
    (cluster.cluster["certificate-authority"]
      ? readFileSync(cluster.cluster["certificate-authority"], "utf8")
      : "");
  const cert = b64(user?.user["client-certificate-data"]);
  const key = b64(user?.user["client-key-data"]);
  return {
    server: cluster.cluster.server,
    ca,
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(user?.user.token ? { token: user.user.token } : {}),
    ...(userAgent ? { userAgent } : {}),
  };
}

interface Response {
  status: number;
  body: string;
}

export class RestClient implements Client {
  readonly userAgent: string;
  private readonly agent: Agent | HttpAgent;
  private readonly request: typeof httpsRequest;
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly clients = new Map<string, RestResourceClient>();

  constructor(private readonly config: ConnectionConfig) {
    this.userAgent = config.userAgent ?? "kites";
    this.url = new URL(config.server);
    const maxSockets = config.maxSockets ?? 64;
    this.agent = config.socketPath
      ? new HttpAgent({ keepAlive: true, maxSockets })
      : new Agent({
          keepAlive: true,
          maxSockets,
          ca: config.ca,
          ...(config.cert ? { cert: config.cert } : {}),
          ...(config.key ? { key: config.key } : {}),
        });
    this.request = config.socketPath ? httpRequest : httpsRequest;
    this.headers = {
      "user-agent": this.userAgent,
      accept: "application/json",
      ...(config.token ? { authorization: `Bearer ${config.token}` } : {}),
    };
  }

  static fromKubeconfig(path: string, userAgent?: string): RestClient {
    return new RestClient(connectionFromKubeconfig(path, userAgent));
  }

  resource<T extends KubeObject = KubeObject>(group: string, resource: string): ResourceClient<T> {
    const id = `${group}/${resource}`;
    let c = this.clients.get(id);
    if (!c) {
      const info = kindByGroupResource(group, resource);
      if (!info) throw notFound({ group, resource }, resource);
      c = new RestResourceClient(this, info);
      this.clients.set(id, c);
    }
    return c as unknown as ResourceClient<T>;
  }

  /** Closes idle connections. */
  close(): void {
    this.agent.destroy();
  }

  private options(method: string, path: string, extra: Record<string, string>): RequestOptions {
    if (this.config.socketPath)
      return {
        method,
        socketPath: this.config.socketPath,
        path,
        agent: this.agent,
        headers: { ...this.headers, ...extra },
      };
    return {
      method,
      host: this.url.hostname.replace(/^\[|\]$/g, ""),
      port: this.url.port || 443,
      path,
      agent: this.agent,
      headers: { ...this.headers, ...extra },
      servername: isIp(this.url.hostname) ? undefined : this.url.hostname,
    };
  }

  /** One request; resolves with the whole body; non-2xx becomes a StatusError. */
  do(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Response> {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    // Content-Length always: node sends DELETE bodies without chunked framing otherwise.
    const extra: Record<string, string> =
      payload !== undefined
        ? { "content-type": contentType, "content-length": String(Buffer.byteLength(payload)) }
        : {};
    return new Promise((resolve, reject) => {
      const req = this.request(this.options(method, path, extra), (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ status, body: text });
          else reject(statusError(status, text || `${method} ${path}: HTTP ${status}`));
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** Opens a streaming GET (watch); resolves with the response once headers arrive. */
  stream(path: string, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.request({ ...this.options("GET", path, {}), signal }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(res);
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => reject(statusError(status, Buffer.concat(chunks).toString("utf8"))));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":") || host.startsWith("[");
}

function statusError(code: number, text: string): StatusError {
  try {
    const s = JSON.parse(text) as Status;
    if (s && s.kind === "Status") {
      return new StatusError(s.code ?? code, s.reason || "Unknown", s.message ?? text, s.details);
    }
  } catch {
    // not a Status body
  }
  return new StatusError(code, code === 404 ? "NotFound" : "InternalError", text.trim() || `HTTP ${code}`);
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

class RestResourceClient implements ResourceClient<KubeObject> {
  private readonly base: string;

  constructor(
    private readonly rest: RestClient,
    readonly info: KindInfo,
  ) {
    this.base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  }

  /** The collection path (all namespaces when `namespace` is undefined). */
  private collection(namespace: string | undefined): string {
    if (!this.info.namespaced || namespace === undefined) return `${this.base}/${this.info.resource}`;
    return `${this.base}/namespaces/${encodeURIComponent(namespace)}/${this.info.resource}`;
  }

  private item(namespace: string | undefined, name: string, subresource?: string): string {
    const ns = this.info.namespaced ? (namespace ?? "default") : undefined;
    return `${this.collection(ns)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ""}`;
  }

  private writeQuery(opts: WriteOptions & { force?: boolean }): string {
    return query({
      fieldManager: opts.fieldManager ?? this.rest.userAgent,
      dryRun: opts.dryRun ? "All" : undefined,
      force: opts.force,
    });
  }

  async get(namespace: string | undefined, name: string): Promise<KubeObject> {
    const res = await this.rest.do("GET", this.item(namespace, name));
    return JSON.parse(res.body) as KubeObject;
  }

  async list(namespace?: string, opts: ListOptions = {}): Promise<ListResult<KubeObject>> {
    const res = await this.rest.do("GET", this.collection(namespace) + query({ ...opts }));
    const list = JSON.parse(res.body) as {
      items: KubeObject[];
      metadata: { resourceVersion?: string; continue?: string };
    };
    const apiVersion = this.info.apiVersion;
    const kind = this.info.kind;
    for (const o of list.items) {
      o.apiVersion ??= apiVersion;
      o.kind ??= kind;
    }
    return {
      items: list.items,
      resourceVersion: list.metadata.resourceVersion ?? "",
      ...(list.metadata.continue ? { continue: list.metadata.continue } : {}),
    };
  }

  watch(
    namespace: string | undefined,
    opts: WatchOptions,
    signal: AbortSignal,
  ): AsyncIterable<WatchEvent<KubeObject>> {
    const channel = new EventChannel<WatchEvent<KubeObject>>();
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const path = this.collection(namespace) + query({ watch: 1, ...opts });
    const finish = (): void => {
      signal.removeEventListener("abort", onAbort);
      channel.close();
    };
    this.rest.stream(path, controller.signal).then(
      (res) => {
        let rest = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          rest += chunk;
          let nl = rest.indexOf("\n");
          let start = 0;
          while (nl >= 0) {
            const line = rest.slice(start, nl);
            start = nl + 1;
            if (line.trim()) {
              try {
                channel.push(JSON.parse(line) as WatchEvent<KubeObject>);
              } catch {
                controller.abort();
              }
            }
            nl = rest.indexOf("\n", start);
          }
          rest = rest.slice(start);
        });
        res.on("end", finish);
        res.on("error", finish);
        res.on("close", finish);
      },
      (err: unknown) => {
        if (err instanceof StatusError) {
          channel.push({ type: "ERROR", object: err.status as unknown as KubeObject });
        }
        finish();
      },
    );
    return channel;
  }

  async create(obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const ns = this.info.namespaced ? (obj.metadata.namespace ?? "default") : undefined;
    const body = {
      ...obj,
      apiVersion: obj.apiVersion ?? this.info.apiVersion,
      kind: obj.kind ?? this.info.kind,
    };
    const res = await this.rest.do("POST", this.collection(ns) + this.writeQuery(opts), body);
    return JSON.parse(res.body) as KubeObject;
  }

  async update(obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const path = this.item(obj.metadata.namespace, obj.metadata.name!) + this.writeQuery(opts);
    const res = await this.rest.do("PUT", path, obj);
    return JSON.parse(res.body) as KubeObject;
  }

  updateStatus(obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    return this.updateSubresource(obj, "status", opts);
  }

  async updateSubresource(
    obj: KubeObject,
    subresource: string,
    opts: WriteOptions = {},
  ): Promise<KubeObject> {
    const path = this.item(obj.metadata.namespace, obj.metadata.name!, subresource) + this.writeQuery(opts);
    const res = await this.rest.do("PUT", path, obj);
    return JSON.parse(res.body) as KubeObject;
  }

  async patch(
    namespace: string | undefined,
    name: string,
    type: PatchType,
    body: unknown,
    opts: PatchOptions = {},
  ): Promise<KubeObject> {
    const path = this.item(namespace, name, opts.subresource) + this.writeQuery(opts);
    const res = await this.rest.do("PATCH", path, body, PATCH_TYPES[type]);
    return JSON.parse(res.body) as KubeObject;
  }

  async delete(
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<KubeObject | undefined> {
    const body = {
      kind: "DeleteOptions",
      apiVersion: "v1",
      ...opts,
      ...(opts.dryRun ? { dryRun: ["All"] } : {}),
    };
    const res = await this.rest.do("DELETE", this.item(namespace, name), body);
    const out = JSON.parse(res.body) as KubeObject;
    return out.kind === "Status" ? undefined : out;
  }

  async createSubresource(
    namespace: string | undefined,
    name: string,
    subresource: string,
    body: unknown,
  ): Promise<unknown> {
    const res = await this.rest.do("POST", this.item(namespace, name, subresource), body);
    return res.body ? (JSON.parse(res.body) as unknown) : undefined;
  }
}
