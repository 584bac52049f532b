/**
 * @module Publishes where this node's DNS server listens: an EndpointSlice (`kube-dns-node`)
 * in kube-system for the selector-less `kube-dns` Service (clusterIP 10.96.0.10), so the
 * service proxy DNATs 10.96.0.10:53 to the server like any other Service. The slice is
 * created, corrected when someone changes it and re-created when deleted, through the
 * shared EndpointSlice informer and a controller loop (retries with backoff).
 *
 * The EndpointSlice controller leaves it alone: it only reconciles Services with a selector
 * and only touches slices labelled `endpointslice.kubernetes.io/managed-by:
 * endpointslice-controller.k8s.io`; this one is labelled `kites-dns` and has no owner
 * reference, so the garbage collector has nothing to collect it for either.
 */
import { deepEqual } from "../api/meta.ts";
import { isAlreadyExists, isNotFound } from "../api/status-error.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import { Controller } from "../client/controller.ts";
import type { Informer } from "../client/informer.ts";
import type { Client } from "../client/types.ts";

/** The published slice's name. */
export const PUBLISHED_SLICE_NAME = "kube-dns-node";
/** Its `endpointslice.kubernetes.io/managed-by` label value. */
export const MANAGED_BY = "kites-dns";
const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";

/** Where the DNS server is reachable, and which Service fronts it. */
export interface PublishSettings {
  /** Namespace of the Service (kube-system). */
  namespace: string;
  /** The Service's name (kube-dns). */
  service: string;
  /** The address the server listens on (the bridge gateway). */
  ip: string;
  /** The port it listens on (default 53). */
  port?: number;
  /** The slice's name (default `kube-dns-node`; one per node when several nodes publish). */
  sliceName?: string;
  /** The endpoint's nodeName (topology for the service proxy). */
  nodeName?: string;
}

/** The slice as it should be. */
export function desiredSlice(p: PublishSettings): EndpointSlice {
  const port = p.port ?? 53;
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: p.sliceName ?? PUBLISHED_SLICE_NAME,
      namespace: p.namespace,
      labels: { [SERVICE_NAME_LABEL]: p.service, [MANAGED_BY_LABEL]: MANAGED_BY },
    },
    addressType: p.ip.includes(":") ? "IPv6" : "IPv4",
    endpoints: [
      { addresses: [p.ip], conditions: { ready: true }, ...(p.nodeName ? { nodeName: p.nodeName } : {}) },
    ],
    ports: [
      { name: "dns", port, protocol: "UDP" },
      { name: "dns-tcp", port, protocol: "TCP" },
    ],
  };
}

/** True when `cur` already says what `want` says (other labels and fields may differ). */
function upToDate(cur: EndpointSlice, want: EndpointSlice): boolean {
  const labels = cur.metadata.labels ?? {};
  for (const [k, v] of Object.entries(want.metadata.labels ?? {})) if (labels[k] !== v) return false;
  return (
    cur.addressType === want.addressType &&
    deepEqual(cur.endpoints ?? [], want.endpoints) &&
    deepEqual(cur.ports ?? [], want.ports ?? [])
  );
}

/**
 * Keeps the slice in place until `signal` aborts; returns the controller (its `idle()`
 * serves tests).
 */
export function startSlicePublisher(opts: {
  client: Client;
  slices: Informer<EndpointSlice>;
  publish: PublishSettings;
  signal: AbortSignal;
}): Controller {
  const { client, slices, publish, signal } = opts;
  const rc = client.resource<EndpointSlice>("discovery.k8s.io", "endpointslices");
  const want = desiredSlice(publish);
  const name = want.metadata.name!;
  const key = `${publish.namespace}/${name}`;

  const write = async (cur: EndpointSlice | undefined): Promise<void> => {
    if (!cur) {
      try {
        await rc.create(want);
        return;
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        // Our cache is behind: work from the live object.
        cur = await rc.get(publish.namespace, name);
      }
    }
    if (upToDate(cur, want)) return;
    if (cur.addressType !== want.addressType) {
      // addressType is immutable: replace the slice.
      try {
        await rc.delete(publish.namespace, name, {
          preconditions: { uid: cur.metadata.uid! },
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      await rc.create(want);
      return;
    }
    const next = structuredClone(cur);
    next.metadata.labels = { ...(cur.metadata.labels ?? {}), ...want.metadata.labels };
    next.endpoints = want.endpoints;
    next.ports = want.ports;
    await rc.update(next);
  };

  const controller = new Controller({
    name: "kites-dns-publisher",
    reconcile: () => write(slices.get(publish.namespace, name)),
  });
  const mine = (s: EndpointSlice): boolean =>
    s.metadata.namespace === publish.namespace && s.metadata.name === name;
  slices.addHandlers({
    add: (s) => mine(s) && controller.enqueue(key),
    update: (_, s) => mine(s) && controller.enqueue(key),
    delete: (s) => mine(s) && controller.enqueue(key),
  });
  controller.start(signal);
  controller.enqueue(key);
  return controller;
}
