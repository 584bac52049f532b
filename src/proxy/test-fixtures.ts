/**
 * @module Small builders of Services and EndpointSlices shared by the proxy's tests.
 */
import type { Service } from "../api/types/core-v1.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";

/** A Service in `default`. */
export function svc(name: string, spec: Service["spec"], status?: Service["status"]): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default" },
    spec,
    ...(status ? { status } : {}),
  };
}

/** One slice endpoint. */
type Ep = EndpointSlice["endpoints"][number];

/** An IPv4 EndpointSlice of `service` in `default`. */
export function slice(
  service: string,
  ports: { name?: string; port: number; protocol?: string }[],
  endpoints: Ep[],
  name = `${service}-abc`,
): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, namespace: "default", labels: { "kubernetes.io/service-name": service } },
    addressType: "IPv4",
    ports,
    endpoints,
  };
}

/** A ready endpoint at `ip`. */
export const ready = (ip: string): Ep => ({ addresses: [ip], conditions: { ready: true } });
