/**
 * @module The cluster's certificates: a CA, the API server's serving certificate and an
 * admin client certificate (O=system:masters), generated with Debian's `openssl` on first
 * start and reused after. Files live in `<data-dir>/tls/`; private keys are mode 0600.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";

export interface ClusterPki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  /** Serving certificate of the node agent's streaming server (logs, exec, attach, …). */
  kubeletCert: string;
  kubeletKey: string;
  /** The API server's client certificate towards node agents. */
  kubeletClientCert: string;
  kubeletClientKey: string;
  dir: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const err = e as Error & { stderr?: Buffer };
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString().trim() || err.message}`);
  }
}

/** Issues `name.crt`/`name.key` signed by the CA in `dir`. */
function issue(dir: string, name: string, subject: string, ext: string): void {
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`], dir);
  openssl(["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "3650",
      "-sha256",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    ],
    dir,
  );
  rmSync(join(dir, `${name}.csr`));
  rmSync(join(dir, `${name}.ext`));
  chmodSync(join(dir, `${name}.key`), 0o600);
}

/** The SANs the serving certificate must carry for `hosts` (names and IPs). */
function sanList(hosts: string[]): string {
  const names = new Set([
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "127.0.0.1",
    "10.96.0.1",
    ...hosts,
  ]);
  return [...names].map((h) => (/^[0-9.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(",");
}

/** Loads the cluster's certificates from `dataDir/tls`, creating what is missing. */
export function ensurePki(dataDir: string, hosts: string[]): ClusterPki {
  const dir = join(dataDir, "tls");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const has = (f: string): boolean => existsSync(join(dir, f));
  if (!has("ca.crt") || !has("ca.key")) {
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"], dir);
    chmodSync(join(dir, "ca.key"), 0o600);
    openssl(
      [
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-subj",
        "/CN=kites-ca",
        "-days",
        "3650",
        "-sha256",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        "ca.crt",
      ],
      dir,
    );
    for (const f of ["server.crt", "admin.crt", "kubelet.crt", "kubelet-client.crt"])
      rmSync(join(dir, f), { force: true });
  }
  const wanted = sanList(hosts);
  const serverCovers = (): boolean => {
    if (!has("server.crt") || !has("server.key")) return false;
    const san = new X509Certificate(readFileSync(join(dir, "server.crt"))).subjectAltName ?? "";
    return wanted.split(",").every((w) => san.includes(w.replace(/^IP:/, "IP Address:")));
  };
  if (!serverCovers()) {
    issue(
      dir,
      "server",
      "/CN=kube-apiserver",
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${wanted}\n`,
    );
  }
  if (!has("admin.crt") || !has("admin.key")) {
    issue(
      dir,
      "admin",
      "/O=system:masters/CN=kites-admin",
      "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
    );
  }
  // The node agent's streaming server (logs, exec, …) and the API server's client certificate
  // for it, as upstream's kubelet serving cert and apiserver-kubelet-client.
  if (!has("kubelet.crt") || !has("kubelet.key")) {
    issue(
      dir,
      "kubelet",
      "/CN=kites-kubelet",
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${sanList(hosts)}\n`,
    );
  }
  if (!has("kubelet-client.crt") || !has("kubelet-client.key")) {
    issue(
      dir,
      "kubelet-client",
      "/O=system:masters/CN=kube-apiserver-kubelet-client",
      "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
    );
  }
  const read = (f: string): string => readFileSync(join(dir, f), "utf8");
  return {
    dir,
    caCert: read("ca.crt"),
    serverCert: read("server.crt"),
    serverKey: read("server.key"),
    adminCert: read("admin.crt"),
    adminKey: read("admin.key"),
    kubeletCert: read("kubelet.crt"),
    kubeletKey: read("kubelet.key"),
    kubeletClientCert: read("kubelet-client.crt"),
    kubeletClientKey: read("kubelet-client.key"),
  };
}

/** A kubeconfig for the admin user against `server` (an https URL). */
export function adminKubeconfig(pki: ClusterPki, server: string): string {
  const b64 = (s: string): string => Buffer.from(s).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: kites",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pki.caCert)}`,
    "users:",
    "- name: kites-admin",
    "  user:",
    `    client-certificate-data: ${b64(pki.adminCert)}`,
    `    client-key-data: ${b64(pki.adminKey)}`,
    "contexts:",
    "- name: kites",
    "  context:",
    "    cluster: kites",
    "    user: kites-admin",
    "current-context: kites",
    "",
  ].join("\n");
}
