/**
 * @module The certificate the Ingress proxy presents when no Ingress TLS entry covers the
 * requested server name (or the client sent none): a self-signed one made at start with
 * Debian's `openssl`, as ingress-nginx serves its "Fake Certificate". Never written to the
 * data dir: a fresh one each start, in a temp dir removed at once.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** PEM certificate and key. */
export interface PemPair {
  cert: string;
  key: string;
}

/**
 * A self-signed certificate (P-256 key, ten years) for `commonName`, with the given DNS
 * names as subjectAltName. Throws when `openssl` is missing or fails.
 */
export async function selfSignedCert(commonName: string, dnsNames: readonly string[] = []): Promise<PemPair> {
  const dir = await mkdtemp(join(tmpdir(), "kites-ingress-cert-"));
  try {
    const keyFile = join(dir, "tls.key");
    const certFile = join(dir, "tls.crt");
    const args = [
      "req",
      "-x509",
      "-nodes",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "3650",
      "-subj",
      `/CN=${commonName}`,
    ];
    if (dnsNames.length > 0)
      args.push("-addext", `subjectAltName=${dnsNames.map((d) => `DNS:${d}`).join(",")}`);
    await run("openssl", args);
    const [cert, key] = await Promise.all([readFile(certFile, "utf8"), readFile(keyFile, "utf8")]);
    return { cert, key };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The default certificate's subject, as ingress-nginx names its own. */
export const DEFAULT_CERT_CN = "Kites Ingress Controller Fake Certificate";
