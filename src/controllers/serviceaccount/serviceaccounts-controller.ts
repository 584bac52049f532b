/**
 * @module The service accounts controller (upstream's serviceaccounts-controller): every
 * active namespace has a `default` ServiceAccount, created when the namespace appears and
 * recreated when it is deleted. Namespaces being deleted are left alone.
 */
import { isAlreadyExists, isForbidden, isNotFound } from "../../api/status-error.ts";
import type { Namespace, ServiceAccount } from "../../api/types/core-v1.ts";
import type { Request } from "../../client/controller.ts";
import type { Informer } from "../../client/informer.ts";
import type { Client } from "../../client/types.ts";

/** The accounts every namespace gets. */
export const MANAGED_SERVICE_ACCOUNTS = ["default"];

export interface ServiceAccountsConfig {
  client: Client;
  namespaces: Informer<Namespace>;
  serviceAccounts: Informer<ServiceAccount>;
}

export class ServiceAccountsReconciler {
  constructor(private readonly config: ServiceAccountsConfig) {}

  /** Namespace adds and updates queue the namespace; a managed account's deletion queues its namespace. */
  register(enqueue: (key: string) => void): void {
    this.config.namespaces.addHandlers({
      add: (ns) => enqueue(ns.metadata.name!),
      update: (_, ns) => enqueue(ns.metadata.name!),
    });
    this.config.serviceAccounts.addHandlers({
      delete: (sa) => {
        if (MANAGED_SERVICE_ACCOUNTS.includes(sa.metadata.name!)) enqueue(sa.metadata.namespace!);
      },
    });
  }

  /** Keys are namespace names. */
  async reconcile(req: Request): Promise<void> {
    const ns = this.config.namespaces.get(undefined, req.name);
    if (!ns || ns.metadata.deletionTimestamp || (ns.status?.phase ?? "Active") !== "Active") return;
    const sas = this.config.client.resource<ServiceAccount>("", "serviceaccounts");
    for (const name of MANAGED_SERVICE_ACCOUNTS) {
      if (this.config.serviceAccounts.get(req.name, name)) continue;
      try {
        await sas.create({
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: { name, namespace: req.name },
        });
      } catch (e) {
        // Already there (our cache lags), or the namespace went away or started terminating.
        if (isAlreadyExists(e) || isNotFound(e) || isForbidden(e)) continue;
        throw e;
      }
    }
  }
}
