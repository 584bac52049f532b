/**
 * @module The service accounts controller's starter, over the shared namespace and
 * ServiceAccount informers. The controller manager calls `startServiceAccountController`.
 */
import type { Namespace, ServiceAccount } from "../../api/types/core-v1.ts";
import { Controller } from "../../client/controller.ts";
import type { ControllerStarter } from "../context.ts";
import { ServiceAccountsReconciler } from "./serviceaccounts-controller.ts";

/** The `default` ServiceAccount in every namespace. */
export const startServiceAccountController: ControllerStarter = (ctx) => {
  const reconciler = new ServiceAccountsReconciler({
    client: ctx.client,
    namespaces: ctx.informers.informer<Namespace>("", "namespaces"),
    serviceAccounts: ctx.informers.informer<ServiceAccount>("", "serviceaccounts"),
  });
  const controller = new Controller({
    name: "serviceaccount-controller",
    workers: ctx.options.workers,
    reconcile: (req) => reconciler.reconcile(req),
  });
  reconciler.register((key) => controller.enqueue(key));
  return [controller];
};
