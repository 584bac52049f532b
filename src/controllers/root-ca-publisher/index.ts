/**
 * @module The root CA publisher's starter, over the shared namespace and ConfigMap informers.
 * Not started without a root CA (as upstream's `--root-ca-file` unset).
 */
import type { ConfigMap, Namespace } from "../../api/types/core-v1.ts";
import { Controller } from "../../client/controller.ts";
import type { ControllerStarter } from "../context.ts";
import { RootCaPublisher } from "./root-ca-publisher.ts";

/** `kube-root-ca.crt` in every namespace. */
export const startRootCaPublisher: ControllerStarter = (ctx) => {
  if (!ctx.options.rootCA) return [];
  const publisher = new RootCaPublisher({
    client: ctx.client,
    namespaces: ctx.informers.informer<Namespace>("", "namespaces"),
    configMaps: ctx.informers.informer<ConfigMap>("", "configmaps"),
    rootCA: ctx.options.rootCA,
  });
  const controller = new Controller({
    name: "root-ca-certificate-publisher-controller",
    workers: ctx.options.workers,
    reconcile: (req) => publisher.reconcile(req),
  });
  publisher.register((key) => controller.enqueue(key));
  return [controller];
};
