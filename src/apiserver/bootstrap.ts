/**
 * @module What a fresh cluster starts with, created through the registry like any other
 * object: the `default`, `kube-system`, `kube-public` and `kube-node-lease` namespaces; the
 * built-in `system-node-critical` and `system-cluster-critical` PriorityClasses; the
 * `default/kubernetes` Service (10.96.0.1:443) whose Endpoints and EndpointSlice name the API
 * server's address, kept true at every start as upstream's endpoint reconciler does; and the
 * `kube-system/kube-dns` Service at 10.96.0.10 that pods' resolv.conf points at (the cluster
 * DNS publishes its own endpoints, see src/dns).
 */
import { kindByGroupResource } from "../api/kinds.ts";
import type { KubeObject } from "../api/object.ts";
import { isAlreadyExists, isNotFound } from "../api/status-error.ts";
import { SYSTEM_PRIORITY_CLASSES } from "./admission/priority.ts";
import type { ApiServer } from "./server.ts";

export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

/** The first address of the service CIDR, as upstream: the API server's own Service. */
export const KUBERNETES_SERVICE_IP = "10.96.0.1";
/** The tenth, as kubeadm and k3s: the cluster DNS Service. */
export const CLUSTER_DNS_IP = "10.96.0.10";

async function createIfMissing(
  server: ApiServer,
  resource: string,
  group: string,
  obj: KubeObject,
): Promise<void> {
  const store = server.store(kindByGroupResource(group, resource)!);
  // Look first: creating an existing Service again fails in its IP allocation (Invalid)
  // before the datastore could answer AlreadyExists.
  try {
    await store.get(obj.metadata.namespace ?? "", obj.metadata.name ?? "");
    return;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  try {
    await store.create(obj.metadata.namespace ?? "", obj);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

/** Creates the system namespaces, and the built-in PriorityClasses, that do not exist yet. */
export async function ensureSystemNamespaces(server: ApiServer): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) {
    await createIfMissing(server, "namespaces", "", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name },
    });
  }
  for (const { name, value } of SYSTEM_PRIORITY_CLASSES) {
    await createIfMissing(server, "priorityclasses", "scheduling.k8s.io", {
      apiVersion: "scheduling.k8s.io/v1",
      kind: "PriorityClass",
      metadata: { name },
      value,
      description: "Used for system critical pods that must not be moved from their current node.",
    } as KubeObject);
  }
}

/** Writes `obj` (create, or replace what is there unless it already says the same). */
async function reconcile(server: ApiServer, resource: string, group: string, obj: KubeObject): Promise<void> {
  const store = server.store(kindByGroupResource(group, resource)!);
  const ns = obj.metadata.namespace ?? "";
  const name = obj.metadata.name ?? "";
  try {
    await store.guaranteedUpdate(ns, name, (cur) => ({
      ...cur,
      ...obj,
      metadata: { ...cur.metadata, ...obj.metadata },
    }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await createIfMissing(server, resource, group, obj);
  }
}

/**
 * The `kubernetes` and `kube-dns` Services, and the API server's endpoints at
 * `address:port` (what in-cluster clients dial through 10.96.0.1:443).
 */
export async function ensureSystemServices(server: ApiServer, address: string, port: number): Promise<void> {
  const labels = { component: "apiserver", provider: "kubernetes" };
  await createIfMissing(server, "services", "", {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "kubernetes", namespace: "default", labels },
    spec: {
      type: "ClusterIP",
      clusterIP: KUBERNETES_SERVICE_IP,
      ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: port }],
      sessionAffinity: "None",
    },
  } as KubeObject);
  // A server on loopback only cannot be reached from pods: its Service has no endpoints then
  // (endpoints may not name loopback addresses).
  if (!address.startsWith("127.") && address !== "::1")
    await publishApiServerEndpoints(server, address, port);
  await createIfMissing(server, "services", "", {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "kube-dns",
      namespace: "kube-system",
      labels: {
        "k8s-app": "kube-dns",
        "kubernetes.io/name": "CoreDNS",
        "kubernetes.io/cluster-service": "true",
      },
    },
    spec: {
      type: "ClusterIP",
      clusterIP: CLUSTER_DNS_IP,
      ports: [
        { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
        { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
      ],
    },
  } as KubeObject);
}

/** The `kubernetes` Endpoints and EndpointSlice naming the API server at `address:port`. */
async function publishApiServerEndpoints(server: ApiServer, address: string, port: number): Promise<void> {
  await reconcile(server, "endpoints", "", {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: {
      name: "kubernetes",
      namespace: "default",
      labels: { "endpointslice.kubernetes.io/skip-mirror": "true" },
    },
    subsets: [{ addresses: [{ ip: address }], ports: [{ name: "https", port, protocol: "TCP" }] }],
  } as KubeObject);
  await reconcile(server, "endpointslices", "discovery.k8s.io", {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: "kubernetes",
      namespace: "default",
      labels: {
        "kubernetes.io/service-name": "kubernetes",
        "endpointslice.kubernetes.io/managed-by": "kites-apiserver",
      },
    },
    addressType: "IPv4",
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
    ports: [{ name: "https", port, protocol: "TCP" }],
  } as KubeObject);
}
