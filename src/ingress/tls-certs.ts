/**
 * @module Certificates for the Ingress HTTPS listener, chosen per connection by SNI: the
 * server name is looked up in the route table's TLS hosts (exact, then the `*.foo.com`
 * wildcard covering it), whose Secret (type `kubernetes.io/tls`, data `tls.crt`/`tls.key`,
 * in the Ingress's namespace) becomes the connection's certificate. Contexts are built once
 * per Secret revision; a missing or broken Secret, or an unknown name, gets the default
 * self-signed certificate.
 */
import { createSecureContext, type SecureContext } from "node:tls";
import type { Secret } from "../api/types/core-v1.ts";
import type { Informer } from "../client/informer.ts";
import type { PemPair } from "./default-cert.ts";

/** Where SNI names are looked up: `namespace/name` of the Secret for a server name. */
export interface TlsHostLookup {
  tlsSecretFor(serverName: string): string | undefined;
}

export class TlsCertificates {
  readonly defaultContext: SecureContext;
  private readonly contexts = new Map<string, { rv: string; ctx: SecureContext | undefined }>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly secrets: Informer<Secret>,
    private readonly hosts: TlsHostLookup,
    readonly defaultCert: PemPair,
  ) {
    this.defaultContext = createSecureContext(defaultCert);
    const forget = (s: Secret): void => {
      this.contexts.delete(`${s.metadata.namespace ?? ""}/${s.metadata.name}`);
    };
    secrets.addHandlers({ update: (_, s) => forget(s), delete: forget });
  }

  /** `SNICallback` of the HTTPS server. */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    cb(null, this.contextFor(servername));
  };

  /** The context for a server name (the default one when nothing matches). */
  contextFor(servername: string): SecureContext {
    if (!servername) return this.defaultContext;
    const name = servername.toLowerCase();
    const secretKey = this.hosts.tlsSecretFor(name.endsWith(".") ? name.slice(0, -1) : name);
    if (secretKey === undefined) return this.defaultContext;
    return this.secretContext(secretKey) ?? this.defaultContext;
  }

  private secretContext(key: string): SecureContext | undefined {
    const slash = key.indexOf("/");
    const secret = this.secrets.get(key.slice(0, slash), key.slice(slash + 1));
    if (!secret) {
      this.warnOnce(key, `ingress: TLS secret ${key} not found; serving the default certificate`);
      return undefined;
    }
    const rv = secret.metadata.resourceVersion ?? "";
    const cached = this.contexts.get(key);
    if (cached && cached.rv === rv) return cached.ctx;
    let ctx: SecureContext | undefined;
    const crt = secret.data?.["tls.crt"];
    const pem = secret.data?.["tls.key"];
    if (!crt || !pem) {
      this.warnOnce(
        key,
        `ingress: TLS secret ${key} has no tls.crt/tls.key; serving the default certificate`,
      );
    } else {
      try {
        ctx = createSecureContext({ cert: Buffer.from(crt, "base64"), key: Buffer.from(pem, "base64") });
        this.warned.delete(key);
      } catch (e) {
        this.warnOnce(key, `ingress: TLS secret ${key} is not a usable certificate: ${(e as Error).message}`);
      }
    }
    this.contexts.set(key, { rv, ctx });
    return ctx;
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    console.warn(message);
  }
}
