/**
 * @module Object builders shared by the cluster DNS tests (Services, EndpointSlices,
 * Namespaces), and a wait for informer-fed state to settle.
 */
import type { Namespace, Service, ServicePort } from "../api/types/core-v1.ts";
import type { Endpoint, EndpointPort, EndpointSlice } from "../api/types/discovery-v1.ts";

export function namespace(name: string): Namespace {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name } };
}

/** A ClusterIP Service (`clusterIP: "None"` for headless). */
export function service(ns: string, name: string, clusterIP: string, ports: ServicePort[] = []): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns },
    spec: {
      type: "ClusterIP",
      clusterIP,
      ...(clusterIP !== "None" ? { clusterIPs: [clusterIP] } : {}),
      ports,
    },
  };
}

export function externalName(ns: string, name: string, target: string): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns },
    spec: { type: "ExternalName", externalName: target },
  };
}

/** An endpoint; `ready` false leaves it out of DNS. */
export function endpoint(ip: string, ready = true, hostname?: string): Endpoint {
  return { addresses: [ip], conditions: { ready }, ...(hostname ? { hostname } : {}) };
}

export function slice(
  ns: string,
  name: string,
  svc: string,
  endpoints: Endpoint[],
  ports: EndpointPort[] = [],
): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, namespace: ns, labels: { "kubernetes.io/service-name": svc } },
    addressType: "IPv4",
    endpoints,
    ports,
  };
}

/** Waits (bounded) until `check` holds; throws with `what` when it never does. */
export async function eventually(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
