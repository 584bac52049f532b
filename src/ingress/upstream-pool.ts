/**
 * @module Keep-alive connections from the Ingress proxy to one pod endpoint, on undici (the
 * HTTP/1.1 client maintained by the Node.js project): one undici `Pool` per endpoint
 * `ip:port`, shared by every backend that routes to it. The proxy dispatches requests on it
 * with streamed request and response bodies (see proxy.ts).
 */
import { Pool } from "undici";

/** Timeouts of the connections to an endpoint. */
export interface PoolOptions {
  /** Idle keep-alive timeout, and read timeout while waiting for the pod (default 60 s). */
  timeoutMs?: number;
  /** Connect timeout (default 5 s, ingress-nginx's proxy-connect-timeout). */
  connectTimeoutMs?: number;
}

/** The keep-alive connections to one pod endpoint. */
export class UpstreamPool {
  /** The undici pool requests are dispatched on. */
  readonly dispatcher: Pool;
  /** `http://ip:port`. */
  readonly origin: string;

  /** `key` is the endpoint as `ip:port` (IPv6 in brackets). */
  constructor(key: string, options: PoolOptions = {}) {
    const timeout = options.timeoutMs ?? 60_000;
    this.origin = `http://${key}`;
    this.dispatcher = new Pool(this.origin, {
      connections: null,
      pipelining: 1,
      keepAliveTimeout: timeout,
      keepAliveMaxTimeout: timeout,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
    });
  }

  /** Lets in-flight requests finish, then closes every connection. */
  close(): void {
    this.dispatcher.close().catch(() => undefined);
  }
}
