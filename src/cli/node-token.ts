/**
 * @module How a `kites agent` on another machine joins a server, as k3s does it: the server
 * keeps a node token `K10<sha256 of the CA certificate>::node:<secret>` in `DIR/node-token`
 * and serves its CA at `GET /cacerts` without authentication; the agent fetches the CA over
 * an unverified connection, accepts it only if its hash matches the token, and from then on
 * talks to the server over verified TLS with the secret as its bearer token.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";

/** The user a node token authenticates as. */
export const NODE_TOKEN_USER = "kites-node";

export const caHash = (caPem: string): string => createHash("sha256").update(caPem).digest("hex");

/** Reads or creates the server's node token for this CA; returns it and its secret. */
export function ensureNodeToken(dataDir: string, caPem: string): { token: string; secret: string } {
  const file = join(dataDir, "node-token");
  const existing = existsSync(file) ? parseNodeToken(readFileSync(file, "utf8").trim()) : undefined;
  const secret = existing?.secret ?? randomBytes(24).toString("hex");
  const token = `K10${caHash(caPem)}::node:${secret}`;
  if (!existing || existing.caHash !== caHash(caPem)) writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, secret };
}

/** The parts of a node token; a bare secret (no CA hash) is accepted too. */
export function parseNodeToken(token: string): { caHash?: string; secret: string } {
  const m = /^K10([0-9a-f]{64})::[^:]+:(.+)$/.exec(token);
  if (m) return { caHash: m[1]!, secret: m[2]! };
  return { secret: token };
}

/** Fetches the server's CA from `/cacerts` and checks it against the token's hash. */
export async function fetchClusterCA(
  server: string,
  expectedHash: string,
  timeoutMs = 10_000,
): Promise<string> {
  const pem = await new Promise<string>((resolve, reject) => {
    const req = request(
      new URL("/cacerts", server),
      { rejectUnauthorized: false, timeout: timeoutMs },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () =>
          res.statusCode === 200
            ? resolve(body)
            : reject(new Error(`GET /cacerts answered ${res.statusCode}`)),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from ${server} in ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
  if (caHash(pem) !== expectedHash) {
    throw new Error(`the CA served by ${server} does not match the token's hash: refusing to trust it`);
  }
  return pem;
}
