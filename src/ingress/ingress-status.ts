/**
 * @module Writes `status.loadBalancer.ingress` of the Ingresses the proxy serves: the node's
 * address (`ip`, or `hostname` when it is not an IP), written through the status subresource
 * only when it differs. An Ingress this controller stops serving loses the address again if it
 * is exactly the one written here (another controller's status is left alone).
 */
import { isIP } from "node:net";
import { Controller, type Request } from "../client/controller.ts";
import type { Informer } from "../client/informer.ts";
import type { Client } from "../client/types.ts";
import { NETWORKING_GROUP, type Ingress, type IngressLoadBalancerIngress } from "./ingress-types.ts";

export interface IngressStatusOptions {
  client: Client;
  ingresses: Informer<Ingress>;
  /** Whether the proxy serves the Ingress `namespace/name`. */
  serves(key: string): boolean;
  /** The address to publish (the node IP). */
  address: string;
}

/** The work queue that keeps Ingress status current; `enqueue` an Ingress after each change. */
export function ingressStatusController(opts: IngressStatusOptions): Controller {
  const own: IngressLoadBalancerIngress = isIP(opts.address)
    ? { ip: opts.address }
    : { hostname: opts.address };
  const api = opts.client.resource<Ingress>(NETWORKING_GROUP, "ingresses");
  const isOwn = (list: readonly IngressLoadBalancerIngress[]): boolean =>
    list.length === 1 &&
    list[0]!.ip === own.ip &&
    list[0]!.hostname === own.hostname &&
    (list[0]!.ports ?? []).length === 0;
  return new Controller({
    name: "ingress-status",
    reconcile: async (req: Request) => {
      const ing = opts.ingresses.get(req.namespace, req.name);
      if (!ing) return;
      const current = ing.status?.loadBalancer?.ingress ?? [];
      const served = opts.serves(`${req.namespace}/${req.name}`);
      if (served === isOwn(current)) return;
      const next = structuredClone(ing);
      next.status = { ...next.status, loadBalancer: served ? { ingress: [{ ...own }] } : {} };
      await api.updateStatus(next);
    },
  });
}
