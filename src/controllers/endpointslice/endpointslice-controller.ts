/**
 * @module The EndpointSlice controller (upstream's endpointslice-controller): for every
 * Service with a selector, discovery.k8s.io/v1 EndpointSlices holding the matching pods as
 * endpoints with conditions ready / serving / terminating, nodeName, zone, targetRef and
 * hostname, grouped by their resolved port set, at most 100 endpoints per slice. Slices are
 * labelled `kubernetes.io/service-name` and `endpointslice.kubernetes.io/managed-by`, owned by
 * the Service (the garbage collector removes them with it), and changed in place when
 * possible so that consumers see little churn. A Service without endpoints keeps one empty
 * placeholder slice, as upstream.
 */
import { deepEqual } from "../../api/meta.ts";
import { isNotFound } from "../../api/status-error.ts";
import type { Node, Pod, Service } from "../../api/types/core-v1.ts";
import type { Endpoint, EndpointPort, EndpointSlice } from "../../api/types/discovery-v1.ts";
import type { Request, Result } from "../../client/controller.ts";
import type { Informer } from "../../client/informer.ts";
import type { Client } from "../../client/types.ts";
import {
  findPort,
  HEADLESS_LABEL,
  isPodReady,
  podEndpointsChanged,
  podsForService,
  servicesForPod,
  shouldPodBeInEndpoints,
  shouldSetHostname,
  TriggerTimeTracker,
  TRIGGER_TIME_ANNOTATION,
} from "../endpoints/endpoints-pod-util.ts";
import { EndpointSliceTracker } from "./endpointslice-tracker.ts";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
export const CONTROLLER_NAME = "endpointslice-controller.k8s.io";
/** Upstream's --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
const ZONE_LABEL = "topology.kubernetes.io/zone";

type AddressType = "IPv4" | "IPv6";

export interface EndpointSliceControllerConfig {
  client: Client;
  services: Informer<Service>;
  pods: Informer<Pod>;
  slices: Informer<EndpointSlice>;
  /** For endpoint zones; optional. */
  nodes?: Informer<Node>;
  maxEndpointsPerSlice?: number;
}

/** Index of managed slices by `namespace/service`. */
const BY_SERVICE = "endpointslice-service";

function serviceKeyOfSlice(s: EndpointSlice): string | undefined {
  const labels = s.metadata.labels;
  if (labels?.[MANAGED_BY_LABEL] !== CONTROLLER_NAME) return undefined;
  const svc = labels[SERVICE_NAME_LABEL];
  return svc ? `${s.metadata.namespace}/${svc}` : undefined;
}

const portsKey = (ports: readonly EndpointPort[] | undefined): string =>
  (ports ?? [])
    .map((p) => `${p.name ?? ""}|${p.port ?? ""}|${p.protocol ?? ""}|${p.appProtocol ?? ""}`)
    .sort()
    .join(",");

const endpointKey = (e: Endpoint): string => e.targetRef?.uid ?? e.addresses[0] ?? "";

interface Group {
  ports: EndpointPort[];
  endpoints: Map<string, Endpoint>;
}

/** A slice write to make. */
interface Plan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

export class EndpointSliceReconciler {
  private readonly tracker = new EndpointSliceTracker();
  private readonly triggers = new TriggerTimeTracker();
  private readonly max: number;

  constructor(private readonly config: EndpointSliceControllerConfig) {
    this.max = config.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
    config.slices.addIndex(BY_SERVICE, (s) => {
      const k = serviceKeyOfSlice(s);
      return k ? [k] : [];
    });
  }

  register(enqueue: (key: string) => void): void {
    const { services, pods, slices } = this.config;
    const key = (o: { metadata: { namespace?: string; name?: string } }) =>
      `${o.metadata.namespace}/${o.metadata.name}`;
    services.addHandlers({
      add: (s) => enqueue(key(s)),
      update: (_, s) => enqueue(key(s)),
      delete: (s) => enqueue(key(s)),
    });
    const podChanged = (pod: Pod) => {
      for (const svc of servicesForPod(services, pod)) enqueue(key(svc));
    };
    pods.addHandlers({
      add: podChanged,
      update: (old, cur) => {
        if (!podEndpointsChanged(old, cur)) return;
        podChanged(cur);
        if (!deepEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {})) podChanged(old);
      },
      delete: podChanged,
    });
    const sliceChanged = (s: EndpointSlice, deleted: boolean) => {
      const k = serviceKeyOfSlice(s);
      if (k && !this.tracker.observe(k, s, deleted)) enqueue(k);
    };
    slices.addHandlers({
      add: (s) => sliceChanged(s, false),
      update: (_, s) => sliceChanged(s, false),
      delete: (s) => sliceChanged(s, true),
    });
  }

  async reconcile(req: Request): Promise<Result | void> {
    const { services, pods, slices } = this.config;
    const key = `${req.namespace}/${req.name}`;
    const svc = services.get(req.namespace, req.name);
    if (!svc) {
      // The garbage collector deletes the slices with their owner.
      this.tracker.forget(key);
      this.triggers.delete(key);
      return;
    }
    if (!svc.spec?.selector || svc.spec.type === "ExternalName") return;
    if (!this.tracker.synced(key, (name) => slices.get(req.namespace, name))) {
      // Our own writes are not in the cache yet: working from it now would duplicate slices.
      return { requeueAfterMs: 1000 };
    }
    const selected = podsForService(pods, svc);
    const addressType: AddressType = svc.spec.ipFamilies?.[0] === "IPv6" ? "IPv6" : "IPv4";
    const desired = this.desiredGroups(svc, selected, addressType);
    const existing = slices.byIndex(BY_SERVICE, key);
    const triggerTime = this.triggers.compute(key, svc, selected);
    const plan = this.plan(svc, desired, existing, addressType, triggerTime);
    await this.apply(key, plan);
  }

  /** The endpoints each resolved port set should hold. */
  private desiredGroups(svc: Service, pods: readonly Pod[], addressType: AddressType): Map<string, Group> {
    const groups = new Map<string, Group>();
    const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ips = (pod.status?.podIPs?.map((p) => p.ip) ?? [pod.status?.podIP ?? ""]).filter(
        (ip) => ip && (addressType === "IPv6") === ip.includes(":"),
      );
      if (ips.length === 0) continue;
      const ports: EndpointPort[] = [];
      for (const sp of svc.spec?.ports ?? []) {
        const port = findPort(pod, sp);
        if (port === undefined) continue;
        ports.push({
          name: sp.name ?? "",
          port,
          protocol: sp.protocol ?? "TCP",
          ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
        });
      }
      const serving = isPodReady(pod);
      const terminating = !!pod.metadata.deletionTimestamp;
      const nodeName = pod.spec?.nodeName;
      const zone = nodeName
        ? this.config.nodes?.get(undefined, nodeName)?.metadata.labels?.[ZONE_LABEL]
        : undefined;
      const ep: Endpoint = {
        addresses: [ips[0]!],
        conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
        ...(shouldSetHostname(pod, svc) ? { hostname: pod.spec!.hostname! } : {}),
        targetRef: {
          kind: "Pod",
          namespace: pod.metadata.namespace!,
          name: pod.metadata.name!,
          uid: pod.metadata.uid!,
        },
        ...(nodeName ? { nodeName } : {}),
        ...(zone ? { zone } : {}),
      };
      const k = portsKey(ports);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { ports, endpoints: new Map() }));
      g.endpoints.set(endpointKey(ep), ep);
    }
    return groups;
  }

  /** The labels every slice of a service carries. */
  private labels(svc: Service): Record<string, string> {
    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    labels[SERVICE_NAME_LABEL] = svc.metadata.name!;
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
    if (svc.spec?.clusterIP === "None") labels[HEADLESS_LABEL] = "";
    else delete labels[HEADLESS_LABEL];
    return labels;
  }

  private newSlice(
    svc: Service,
    ports: EndpointPort[],
    endpoints: Endpoint[],
    addressType: AddressType,
  ): EndpointSlice {
    return {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        generateName: `${svc.metadata.name!.slice(0, 62)}-`,
        namespace: svc.metadata.namespace!,
        labels: this.labels(svc),
        ownerReferences: [
          {
            apiVersion: "v1",
            kind: "Service",
            name: svc.metadata.name!,
            uid: svc.metadata.uid!,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      addressType,
      endpoints,
      ports,
    };
  }

  /** Works out the creates, updates and deletes that bring the slices to the desired state. */
  private plan(
    svc: Service,
    desired: Map<string, Group>,
    existing: EndpointSlice[],
    addressType: AddressType,
    triggerTime: string | undefined,
  ): Plan {
    const plan: Plan = { create: [], update: [], delete: [] };
    const labels = this.labels(svc);
    const byPorts = new Map<string, EndpointSlice[]>();
    for (const s of existing) {
      if (s.addressType !== addressType) {
        plan.delete.push(s);
        continue;
      }
      const k = portsKey(s.ports);
      const list = byPorts.get(k);
      if (list) list.push(s);
      else byPorts.set(k, [s]);
    }
    let total = 0;
    for (const [k, group] of desired) {
      total += group.endpoints.size;
      const remaining = new Map(group.endpoints);
      const updated: EndpointSlice[] = [];
      const untouched: EndpointSlice[] = [];
      for (const s of (byPorts.get(k) ?? []).sort((a, b) =>
        a.metadata.name!.localeCompare(b.metadata.name!),
      )) {
        const kept: Endpoint[] = [];
        let changed = false;
        for (const ep of s.endpoints ?? []) {
          const want = remaining.get(endpointKey(ep));
          if (!want) {
            changed = true;
            continue;
          }
          remaining.delete(endpointKey(ep));
          if (!deepEqual(ep, want)) changed = true;
          kept.push(want);
        }
        if (kept.length === 0) {
          plan.delete.push(s);
          continue;
        }
        const next = structuredClone(s);
        next.endpoints = kept;
        if (changed || !deepEqual(s.metadata.labels ?? {}, labels)) {
          next.metadata.labels = labels;
          updated.push(next);
        } else {
          untouched.push(next);
        }
      }
      byPorts.delete(k);
      // New endpoints go first into slices changing anyway, then into new slices.
      const fresh = [...remaining.values()].sort((a, b) =>
        (a.targetRef?.name ?? "").localeCompare(b.targetRef?.name ?? ""),
      );
      for (const s of updated) {
        while (fresh.length > 0 && s.endpoints.length < this.max) s.endpoints.push(fresh.shift()!);
      }
      // Then into untouched slices with room, when that avoids a new slice.
      for (const s of untouched) {
        if (fresh.length === 0) break;
        if (s.endpoints.length >= this.max) continue;
        while (fresh.length > 0 && s.endpoints.length < this.max) s.endpoints.push(fresh.shift()!);
        updated.push(s);
      }
      while (fresh.length > 0) {
        plan.create.push(this.newSlice(svc, group.ports, fresh.splice(0, this.max), addressType));
      }
      plan.update.push(...updated);
    }
    for (const stale of byPorts.values()) plan.delete.push(...stale);

    if (total === 0) {
      // No endpoints at all: exactly one empty placeholder slice remains.
      const isPlaceholder = (s: EndpointSlice) =>
        (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0;
      const keep = plan.delete.find((s) => s.addressType === addressType && isPlaceholder(s));
      if (keep) {
        plan.delete = plan.delete.filter((s) => s !== keep);
        if (!deepEqual(keep.metadata.labels ?? {}, labels)) {
          const next = structuredClone(keep);
          next.metadata.labels = labels;
          plan.update.push(next);
        }
      } else {
        const reuse = plan.delete.find((s) => s.addressType === addressType);
        if (reuse) {
          plan.delete = plan.delete.filter((s) => s !== reuse);
          const next = structuredClone(reuse);
          next.endpoints = [];
          next.ports = [];
          next.metadata.labels = labels;
          plan.update.push(next);
        } else {
          plan.create.push(this.newSlice(svc, [], [], addressType));
        }
      }
    }
    if (triggerTime) {
      for (const s of [...plan.create, ...plan.update]) {
        s.metadata.annotations = {
          ...(s.metadata.annotations ?? {}),
          [TRIGGER_TIME_ANNOTATION]: triggerTime,
        };
      }
    }
    return plan;
  }

  /** Creates first, then updates, then deletes (so consumers never see endpoints vanish early). */
  private async apply(key: string, plan: Plan): Promise<void> {
    const rc = this.config.client.resource<EndpointSlice>("discovery.k8s.io", "endpointslices");
    for (const s of plan.create) this.tracker.wrote(key, await rc.create(s));
    for (const s of plan.update) this.tracker.wrote(key, await rc.update(s));
    for (const s of plan.delete) {
      try {
        await rc.delete(s.metadata.namespace, s.metadata.name!, { preconditions: { uid: s.metadata.uid! } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      this.tracker.deleted(key, s.metadata.name!);
    }
  }
}
