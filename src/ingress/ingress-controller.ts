/**
 * @module The Ingress controller of IngressClass `kites`: an HTTP and an HTTPS listener on
 * the node (80/443 by default) that route requests by the served Ingresses' rules straight to
 * ready pod endpoints, kept current from shared informers (Ingresses, IngressClasses, Services,
 * EndpointSlices, TLS Secrets), plus the status writer and the `kites` IngressClass. `kites
 * server`/`kites agent` start it with `startIngressController`; it stops on `signal` or `stop()`.
 */
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { deepEqual } from "../api/meta.ts";
import type { Secret, Service } from "../api/types/core-v1.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import type { Controller } from "../client/controller.ts";
import { objectKey, type Informer, type InformerFactory } from "../client/informer.ts";
import type { Client } from "../client/types.ts";
import { BackendPools, type BackendPool } from "./backends.ts";
import { DEFAULT_CERT_CN, selfSignedCert } from "./default-cert.ts";
import { ensureIngressClass, IngressClassSelector } from "./ingress-class.ts";
import { ingressStatusController } from "./ingress-status.ts";
import {
  LEGACY_CLASS_ANNOTATION,
  NETWORKING_GROUP,
  TLS_SECRET_TYPE,
  type Ingress,
  type IngressClass,
} from "./ingress-types.ts";
import { newProxyStats, proxyHandler, upgradeHandler, type ProxyStats } from "./proxy.ts";
import { RouteTable } from "./route-table.ts";
import { TlsCertificates } from "./tls-certs.ts";

export interface IngressControllerOptions {
  /** API client (status writes, the IngressClass). */
  client: Client;
  /** The shared informer cache; the informers this controller uses are started by it. */
  informers: InformerFactory;
  /** The address published in Ingress status (the node IP). */
  nodeIP: string;
  /** HTTP port (default 80; 0 picks a free one). */
  httpPort?: number;
  /** HTTPS port (default 443; 0 picks a free one). */
  httpsPort?: number;
  /** Address both listeners bind (default: every address of the node). */
  bindAddress?: string;
  signal: AbortSignal;
}

/** A running Ingress controller. */
export interface IngressController {
  /** The ports actually listened on (useful when 0 was asked). */
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly stats: ProxyStats;
  /** The route table (read-only use: `lookup`, `size`). */
  readonly routes: RouteTable<BackendPool>;
  /** Closes the listeners and upstream connections; resolves when closed. Idempotent. */
  stop(): Promise<void>;
}

/** Idle client connections are kept this long (nginx's keepalive_timeout). */
const CLIENT_KEEPALIVE_MS = 75_000;

/**
 * Starts the Ingress controller: ensures the `kites` IngressClass, waits for its informers to
 * sync, builds the routes and resolves once both listeners accept connections.
 */
export async function startIngressController(opts: IngressControllerOptions): Promise<IngressController> {
  const { client, informers } = opts;
  const life = new AbortController();
  const onAbort = (): void => void stop();
  opts.signal.addEventListener("abort", onAbort, { once: true });
  const signal = life.signal;

  const ingresses = informers.informer<Ingress>(NETWORKING_GROUP, "ingresses");
  const classes = informers.informer<IngressClass>(NETWORKING_GROUP, "ingressclasses");
  const services = informers.informer<Service>("", "services");
  const slices = informers.informer<EndpointSlice>("discovery.k8s.io", "endpointslices");
  const secrets = informers.informer<Secret>("", "secrets", { fieldSelector: `type=${TLS_SECRET_TYPE}` });
  const mine: Informer<never>[] = [
    ingresses,
    classes,
    services,
    slices,
    secrets,
  ] as unknown as Informer<never>[];
  for (const inf of mine) inf.start(opts.signal);

  const [defaultCert] = await Promise.all([
    selfSignedCert(DEFAULT_CERT_CN, ["ingress.local"]),
    ensureClassWithRetry(client, opts.signal),
    Promise.all(mine.map((i) => i.synced)),
  ]);

  const pools = new BackendPools(services, slices);
  const routes = new RouteTable<BackendPool>(pools);
  const selector = new IngressClassSelector();
  const stats = newProxyStats();
  const status: Controller = ingressStatusController({
    client,
    ingresses,
    serves: (key) => routes.has(key),
    address: opts.nodeIP,
  });

  const sync = (ing: Ingress): void => {
    if (selector.serves(ing)) routes.set(ing);
    else routes.delete(objectKey(ing));
    status.enqueue(ing);
  };
  const resyncAll = (): void => {
    for (const ing of ingresses.list()) sync(ing);
  };
  selector.update(classes.list());
  const onClass = (): void => {
    if (selector.update(classes.list())) resyncAll();
  };
  classes.addHandlers({ add: onClass, update: onClass, delete: onClass });
  ingresses.addHandlers({
    add: sync,
    update: (old, ing) => {
      // Status writes (ours included) change nothing the routes depend on.
      if (
        deepEqual(old.spec, ing.spec) &&
        old.metadata.annotations?.[LEGACY_CLASS_ANNOTATION] ===
          ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION]
      ) {
        status.enqueue(ing);
        return;
      }
      sync(ing);
    },
    delete: (ing) => routes.delete(objectKey(ing)),
  });

  const certs = new TlsCertificates(secrets, routes, defaultCert);
  const httpServer = createHttpServer({ keepAliveTimeout: CLIENT_KEEPALIVE_MS });
  httpServer.on("request", proxyHandler(routes, "http", stats));
  const tunnels = new Set<Duplex>();
  httpServer.on("upgrade", upgradeHandler(routes, "http", stats, tunnels));
  const httpsServer = createHttpsServer({
    keepAliveTimeout: CLIENT_KEEPALIVE_MS,
    SNICallback: certs.sniCallback,
    cert: defaultCert.cert,
    key: defaultCert.key,
    ALPNProtocols: ["http/1.1"],
  });
  httpsServer.on("request", proxyHandler(routes, "https", stats));
  httpsServer.on("upgrade", upgradeHandler(routes, "https", stats, tunnels));

  let stopped: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopped ??= (async () => {
      opts.signal.removeEventListener("abort", onAbort);
      life.abort();
      const closing = Promise.all([closeServer(httpServer), closeServer(httpsServer)]);
      for (const s of tunnels) s.destroy();
      await closing;
      pools.close();
    })();
    return stopped;
  }

  try {
    await Promise.all([
      listen(httpServer, opts.httpPort ?? 80, opts.bindAddress),
      listen(httpsServer, opts.httpsPort ?? 443, opts.bindAddress),
    ]);
  } catch (e) {
    await stop();
    throw e;
  }
  status.start(signal);
  const httpPort = (httpServer.address() as AddressInfo).port;
  const httpsPort = (httpsServer.address() as AddressInfo).port;
  return { httpPort, httpsPort, stats, routes, stop };
}

function listen(server: HttpServer | HttpsServer, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once("error", onError);
    server.listen({ port, ...(host ? { host } : {}) }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

function closeServer(server: HttpServer | HttpsServer): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function ensureClassWithRetry(client: Client, signal: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureIngressClass(client);
      return;
    } catch (e) {
      if (attempt >= 5 || signal.aborted) throw e;
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}
