/**
 * @module bench/apiserver HTTPS client: talks to the API server on 127.0.0.1 with the admin
 * client certificate and CA from the kubeconfig, over keep-alive agents (one for requests,
 * one for long-lived watches), with a time limit on every request.
 */
import type { IncomingMessage } from "node:http";
import { Agent, request } from "node:https";
import { readFileSync } from "node:fs";
import { parse } from "yaml";

/** An answer: status code, body bytes, and when it finished (performance.now()). */
export interface Reply {
  status: number;
  body: Buffer;
  doneAt: number;
}

interface Kubeconfig {
  clusters?: { cluster?: { server?: string; "certificate-authority-data"?: string } }[];
  users?: { user?: { "client-certificate-data"?: string; "client-key-data"?: string } }[];
}

const b64 = (s: string | undefined, what: string): Buffer => {
  if (!s) throw new Error(`kubeconfig has no ${what}`);
  return Buffer.from(s, "base64");
};

/** A client for one server, built from its kubeconfig. */
export class ApiClient {
  /** Agent for ordinary requests. */
  readonly agent: Agent;
  /** Agent for watches, which each hold a socket for their whole life. */
  readonly watchAgent: Agent;
  readonly port: number;

  constructor(kubeconfigPath: string, maxSockets: number, maxWatches: number) {
    const kc = parse(readFileSync(kubeconfigPath, "utf8")) as Kubeconfig;
    const cluster = kc.clusters?.[0]?.cluster;
    const user = kc.users?.[0]?.user;
    const url = new URL(cluster?.server ?? "");
    if (url.hostname !== "127.0.0.1") throw new Error(`refusing to talk to ${url.hostname}: loopback only`);
    this.port = Number(url.port);
    const tls = {
      ca: b64(cluster?.["certificate-authority-data"], "certificate-authority-data"),
      cert: b64(user?.["client-certificate-data"], "client-certificate-data"),
      key: b64(user?.["client-key-data"], "client-key-data"),
    };
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, ...tls });
    this.watchAgent = new Agent({ keepAlive: false, maxSockets: maxWatches + 10, ...tls });
  }

  /** Sends one request and reads the whole answer; rejects on a socket error or after `timeoutMs`. */
  call(
    method: string,
    path: string,
    body?: string,
    opts: { accept?: string; timeoutMs?: number } = {},
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { Accept: opts.accept ?? "application/json" };
      if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        headers["Content-Length"] = Buffer.byteLength(body);
      }
      const req = request(
        { host: "127.0.0.1", port: this.port, method, path, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), doneAt: performance.now() }),
          );
          res.on("error", reject);
        },
      );
      req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on("error", reject);
      req.end(body);
    });
  }

  /** Like `call`, but rejects unless the status is 2xx; resolves to the body as text. */
  async ok(method: string, path: string, body?: string, opts: { accept?: string; timeoutMs?: number } = {}) {
    const r = await this.call(method, path, body, opts);
    if (r.status < 200 || r.status > 299) {
      throw new Error(`${method} ${path}: HTTP ${r.status}: ${r.body.toString().slice(0, 300)}`);
    }
    return r.body.toString();
  }

  /** Opens a watch; resolves with the response stream once the headers (200) arrive. */
  watch(path: string, timeoutMs = 30_000): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: this.port, method: "GET", path, agent: this.watchAgent },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
            return;
          }
          clearTimeout(timer);
          resolve(res);
        },
      );
      const timer = setTimeout(() => req.destroy(new Error(`watch ${path}: no answer`)), timeoutMs);
      req.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end();
    });
  }

  /** Closes every socket of both agents. */
  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }
}
