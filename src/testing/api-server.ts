/**
 * @module For integration tests of components: a real API server in this process on a
 * loopback port, over an in-memory datastore, with the system namespaces, and a
 * `RestClient` connected to it with a bearer token. `stop()` shuts everything down and
 * removes the temp dir (certificates).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureSystemNamespaces, ensureSystemServices } from "../apiserver/bootstrap.ts";
import { ensurePki } from "../apiserver/pki.ts";
import { ApiServer } from "../apiserver/server.ts";
import { RestClient, type ConnectionConfig } from "../client/rest-client.ts";
import { openBackend } from "../storage/open.ts";

export interface TestApiServer {
  server: ApiServer;
  connection: ConnectionConfig;
  client: RestClient;
  stop(): Promise<void>;
}

export async function startTestApiServer(): Promise<TestApiServer> {
  const dir = mkdtempSync(join(tmpdir(), "kites-test-api-"));
  const backend = await openBackend("memory://");
  const pki = ensurePki(dir, ["127.0.0.1"]);
  const token = randomBytes(16).toString("hex");
  const server = new ApiServer({
    backend,
    pki,
    tokens: new Map([[token, "kites-test"]]),
    host: "127.0.0.1",
    port: 0,
  });
  await server.start();
  await ensureSystemNamespaces(server);
  await ensureSystemServices(server, "127.0.0.1", server.port);
  const connection: ConnectionConfig = {
    server: `https://127.0.0.1:${server.port}`,
    ca: pki.caCert,
    token,
    userAgent: "kites-test",
  };
  const client = new RestClient(connection);
  return {
    server,
    connection,
    client,
    async stop() {
      client.close();
      await server.stop();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
