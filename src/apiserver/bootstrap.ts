/**
 * @module What a fresh cluster starts with: the `default`, `kube-system`, `kube-public` and
 * `kube-node-lease` namespaces, created through the registry like any other object.
 */
import { kindByGroupResource } from "../api/kinds.ts";
import { isAlreadyExists } from "../api/status-error.ts";
import type { ApiServer } from "./server.ts";

export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

/** Creates the system namespaces that do not exist yet. */
export async function ensureSystemNamespaces(server: ApiServer): Promise<void> {
  const store = server.store(kindByGroupResource("", "namespaces")!);
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await store.create("", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
}
