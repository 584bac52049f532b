/**
 * @module A small load-balancer status controller in the manner of k3s's servicelb: every
 * `type: LoadBalancer` Service without a `loadBalancerClass` is answered on the node's own
 * address (the service proxy programs `nodeIP:port` like any load-balancer IP), so its
 * `status.loadBalancer.ingress` lists `{ip: nodeIP}`. As servicelb, a Service asking for a
 * port that an older LoadBalancer Service already holds on the node stays pending (no
 * ingress) until the port is free. Several nodes each add their own address; a Service that
 * stops being a LoadBalancer loses this node's entry. Services with a class are left to
 * their own controller.
 */
import type { LoadBalancerIngress, Service } from "../api/types/core-v1.ts";
import { isNotFound } from "../api/status-error.ts";
import { Controller, type Request } from "../client/controller.ts";
import { objectKey, type Informer } from "../client/informer.ts";
import type { Client } from "../client/types.ts";

export interface LoadBalancerStatusOptions {
  client: Client;
  services: Informer<Service>;
  /** The address this node answers LoadBalancer ports on. */
  nodeIP: string;
}

/** Whether this controller serves `svc` (LoadBalancer, no class). */
export function isOurLoadBalancer(svc: Service): boolean {
  return svc.spec?.type === "LoadBalancer" && !svc.spec.loadBalancerClass;
}

function portsOf(svc: Service): string[] {
  return (svc.spec?.ports ?? []).map((p) => `${p.protocol ?? "TCP"}/${p.port}`);
}

function olderFirst(a: Service, b: Service): number {
  const ta = a.metadata.creationTimestamp ?? "";
  const tb = b.metadata.creationTimestamp ?? "";
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = objectKey(a);
  const kb = objectKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * The LoadBalancer Services that get this node's address: oldest first, each admitted when
 * none of its ports is taken by one admitted before it. Returns their keys.
 */
export function admittedLoadBalancers(services: readonly Service[]): Set<string> {
  const taken = new Set<string>();
  const admitted = new Set<string>();
  for (const svc of services.filter(isOurLoadBalancer).sort(olderFirst)) {
    const ports = portsOf(svc);
    if (ports.some((p) => taken.has(p))) continue;
    for (const p of ports) taken.add(p);
    admitted.add(objectKey(svc));
  }
  return admitted;
}

/** The servicelb-style status controller. */
export class LoadBalancerStatusController {
  readonly controller: Controller;
  private readonly services: Informer<Service>;
  private readonly client: Client;
  private readonly nodeIP: string;

  constructor(o: LoadBalancerStatusOptions) {
    this.services = o.services;
    this.client = o.client;
    this.nodeIP = o.nodeIP;
    this.controller = new Controller({
      name: "kites-servicelb",
      reconcile: (req) => this.reconcile(req),
    });
    const all = (): void => {
      for (const s of this.services.list()) if (isOurLoadBalancer(s)) this.controller.enqueue(s);
    };
    this.services.addHandlers({
      add: (s) => this.controller.enqueue(s),
      update: (old, s) => {
        this.controller.enqueue(s);
        // A LoadBalancer that changes ports or stops being one may free a port for another.
        if (isOurLoadBalancer(old) && (!isOurLoadBalancer(s) || portsOf(old).join() !== portsOf(s).join()))
          all();
      },
      delete: (s) => {
        if (isOurLoadBalancer(s)) all();
      },
    });
  }

  start(signal: AbortSignal): void {
    this.services.start(signal);
    this.controller.start(signal);
  }

  /** Makes one Service's ingress list match whether this node answers for it. */
  async reconcile(req: Request): Promise<void> {
    const svc = this.services.get(req.namespace, req.name);
    if (!svc) return;
    const ingress: LoadBalancerIngress[] = svc.status?.loadBalancer?.ingress ?? [];
    const mine = ingress.some((i) => i.ip === this.nodeIP);
    let next: LoadBalancerIngress[] | undefined;
    if (isOurLoadBalancer(svc)) {
      const want = admittedLoadBalancers(this.services.list()).has(objectKey(svc));
      if (want && !mine) {
        next = [...ingress, { ip: this.nodeIP }].sort((a, b) => ((a.ip ?? "") < (b.ip ?? "") ? -1 : 1));
      } else if (!want && mine) {
        next = ingress.filter((i) => i.ip !== this.nodeIP);
      }
    } else if (svc.spec?.type !== "LoadBalancer" && mine) {
      next = ingress.filter((i) => i.ip !== this.nodeIP);
    }
    if (!next) return;
    const copy = structuredClone(svc);
    copy.status = { ...copy.status, loadBalancer: next.length > 0 ? { ingress: next } : {} };
    try {
      await this.client.resource<Service>("", "services").updateStatus(copy);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }
}
