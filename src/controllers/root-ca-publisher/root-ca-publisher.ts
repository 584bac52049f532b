/**
 * @module The root CA publisher (upstream's root-ca-cert-publisher): every active namespace
 * has a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster CA, so pods can verify the
 * API server at `kubernetes.default.svc`. Created when a namespace appears, put back when it
 * is deleted or edited. Namespaces being deleted are left alone.
 */
import { isAlreadyExists, isForbidden, isNotFound } from "../../api/status-error.ts";
import type { ConfigMap, Namespace } from "../../api/types/core-v1.ts";
import type { Request } from "../../client/controller.ts";
import type { Informer } from "../../client/informer.ts";
import type { Client } from "../../client/types.ts";

/** The ConfigMap every namespace gets, and its key. */
export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";
export const ROOT_CA_KEY = "ca.crt";
/** Upstream's annotation key; the text is ours. */
const DESCRIPTION_ANNOTATION = "kubernetes.io/description";
const DESCRIPTION =
  "The CA bundle that signs the kube-apiserver's serving certificate, for clients inside the cluster " +
  "(the kubernetes Service, kubernetes.default.svc).";

export interface RootCaPublisherConfig {
  client: Client;
  namespaces: Informer<Namespace>;
  configMaps: Informer<ConfigMap>;
  /** PEM of the cluster CA. */
  rootCA: string;
}

export class RootCaPublisher {
  constructor(private readonly config: RootCaPublisherConfig) {}

  /** Namespace adds and updates queue the namespace; a change to or deletion of the ConfigMap queues its namespace. */
  register(enqueue: (key: string) => void): void {
    this.config.namespaces.addHandlers({
      add: (ns) => enqueue(ns.metadata.name!),
      update: (_, ns) => enqueue(ns.metadata.name!),
    });
    const mine = (cm: ConfigMap): void => {
      if (cm.metadata.name === ROOT_CA_CONFIGMAP) enqueue(cm.metadata.namespace!);
    };
    this.config.configMaps.addHandlers({ update: (_, cm) => mine(cm), delete: mine });
  }

  /** Keys are namespace names. */
  async reconcile(req: Request): Promise<void> {
    const ns = this.config.namespaces.get(undefined, req.name);
    if (!ns || ns.metadata.deletionTimestamp || (ns.status?.phase ?? "Active") !== "Active") return;
    const cms = this.config.client.resource<ConfigMap>("", "configmaps");
    const cur = this.config.configMaps.get(req.name, ROOT_CA_CONFIGMAP);
    try {
      if (!cur) {
        await cms.create({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name: ROOT_CA_CONFIGMAP,
            namespace: req.name,
            annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION },
          },
          data: { [ROOT_CA_KEY]: this.config.rootCA },
        });
        return;
      }
      const data = cur.data ?? {};
      const keys = Object.keys(data);
      const dataOk = keys.length === 1 && data[ROOT_CA_KEY] === this.config.rootCA && !cur.binaryData;
      if (dataOk && cur.metadata.annotations?.[DESCRIPTION_ANNOTATION] !== undefined) return;
      // As upstream: the data is put back exactly; other metadata the user added stays.
      const next: ConfigMap = structuredClone(cur);
      next.data = { [ROOT_CA_KEY]: this.config.rootCA };
      delete next.binaryData;
      next.metadata.annotations = { ...next.metadata.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION };
      await cms.update(next);
    } catch (e) {
      // Our cache lags (it exists, or it was just changed), or the namespace went away or
      // started terminating: a later event brings us back if anything is left to do.
      if (isAlreadyExists(e) || isNotFound(e) || isForbidden(e)) return;
      throw e;
    }
  }
}
