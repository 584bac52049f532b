/**
 * @module Validation of the small non-core kinds, as upstream's discovery, coordination,
 * scheduling and core events validation: EndpointSlice (address type, endpoint addresses,
 * ports), Lease (durations, strategy), PriorityClass (value range, reserved `system-`
 * names, immutable value) and events.k8s.io/v1 Event (required reporting fields, event
 * time). Event errors use the field names of upstream's internal Event (`message`,
 * `involvedObject`), as upstream's messages do. Exports `otherRules`, keyed by kind.
 */
import { BlockList } from "node:net";
import type { LeaseSpec } from "kubernetes-types/coordination/v1.js";
import {
  type FieldError,
  FieldPath,
  duplicate,
  forbidden,
  invalidValue,
  notSupported,
  required,
  tooMany,
} from "../field-errors.ts";
import { type KindRules, kindRules } from "../object.ts";
import { deepEqual } from "../meta.ts";
import type { Endpoint, EndpointPort, EndpointSlice } from "../types/discovery-v1.ts";
import type { Lease } from "../types/coordination-v1.ts";
import type { PriorityClass } from "../types/scheduling-v1.ts";
import type { Event } from "../types/events-v1.ts";
import { defaultEndpointSlice, defaultPriorityClass } from "../defaults/other.ts";
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isFullyQualifiedDomainName,
  isQualifiedName,
  isValidIP,
  isValidLabelValue,
  nameIsDNSSubdomain,
  parseableIP,
  validateLabels,
} from "./names.ts";
import { validateImmutableField, validateObjectMeta, validateObjectMetaUpdate } from "./object-meta.ts";

const META = FieldPath.root("metadata");
const root = (name: string): FieldPath => FieldPath.root(name);

function isSet<T>(v: T | undefined | null): v is T {
  return v !== undefined && v !== null;
}

// ---- EndpointSlice ------------------------------------------------------------------------

const ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"];
/** `IP` is refused on create but kept valid on update for slices stored before it was deprecated. */
const ADDRESS_TYPES_ON_UPDATE = ["FQDN", "IP", "IPv4", "IPv6"];
const PORT_PROTOCOLS = ["SCTP", "TCP", "UDP"];
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 100;
const MAX_ENDPOINTS = 1000;
const MAX_ZONE_HINTS = 8;

/** IPv4 in dotted-quad form, leading zeros read as decimal (as Go's sloppy parser). */
function asIPv4(s: string): string | undefined {
  const parts = s.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map((p) => String(Number(p))).join(".");
}

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) carries, as Go's To4. */
function mappedIPv4(s: string): string | undefined {
  const m = /^(?:0{0,4}:){0,5}:?(?:0{0,4}:)?ffff:([0-9.]+)$/i.exec(s);
  return m ? asIPv4(m[1]!) : undefined;
}

const SPECIAL = new BlockList();
SPECIAL.addAddress("0.0.0.0", "ipv4");
SPECIAL.addAddress("::", "ipv6");
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");
const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet("169.254.0.0", 16, "ipv4");
LINK_LOCAL.addSubnet("fe80::", 10, "ipv6");
const LINK_LOCAL_MULTICAST = new BlockList();
LINK_LOCAL_MULTICAST.addSubnet("224.0.0.0", 24, "ipv4");
LINK_LOCAL_MULTICAST.addSubnet("ff02::", 16, "ipv6");

/** Upstream's ValidateNonSpecialIP: no unspecified, loopback or link-local addresses. */
function validateNonSpecialIP(ip: string, path: FieldPath): FieldError[] {
  if (!parseableIP(ip)) return [invalidValue(path, ip, "must be a valid IP address")];
  const v4 = asIPv4(ip) ?? mappedIPv4(ip);
  const [addr, family] = v4 ? [v4, "ipv4" as const] : [ip, "ipv6" as const];
  const errs: FieldError[] = [];
  if (SPECIAL.check(addr, family)) errs.push(invalidValue(path, ip, `may not be unspecified (${ip})`));
  if (LOOPBACK.check(addr, family))
    errs.push(invalidValue(path, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)"));
  if (LINK_LOCAL.check(addr, family))
    errs.push(invalidValue(path, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
  if (LINK_LOCAL_MULTICAST.check(addr, family)) {
    errs.push(
      invalidValue(path, ip, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"),
    );
  }
  return errs;
}

function validateAddress(address: string, addressType: string, path: FieldPath): FieldError[] {
  switch (addressType) {
    case "IP":
      return isValidIP(address).map((m) => invalidValue(path, address, m));
    case "IPv4": {
      const ok = parseableIP(address) && (asIPv4(address) ?? mappedIPv4(address)) !== undefined;
      return [
        ...(ok ? [] : [invalidValue(path, address, "must be a valid IPv4 address")]),
        ...validateNonSpecialIP(address, path),
      ];
    }
    case "IPv6": {
      const ok = parseableIP(address) && asIPv4(address) === undefined && mappedIPv4(address) === undefined;
      return [
        ...(ok ? [] : [invalidValue(path, address, "must be a valid IPv6 address")]),
        ...validateNonSpecialIP(address, path),
      ];
    }
    case "FQDN":
      return isFullyQualifiedDomainName(path, address);
    default:
      // Unknown types are reported on addressType and their addresses left alone, as upstream.
      return [];
  }
}

function validateEndpoint(ep: Endpoint, addressType: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const addrPath = path.child("addresses");
  const addresses = ep.addresses ?? [];
  if (addresses.length === 0) errs.push(required(addrPath, "must contain at least 1 address"));
  else if (addresses.length > MAX_ADDRESSES) errs.push(tooMany(addrPath, addresses.length, MAX_ADDRESSES));
  addresses.forEach((a, i) => errs.push(...validateAddress(a, addressType, addrPath.index(i))));
  const topoPath = path.child("deprecatedTopology");
  const topology = ep.deprecatedTopology ?? {};
  const topoCount = Object.keys(topology).length;
  if (topoCount > MAX_TOPOLOGY_LABELS) errs.push(tooMany(topoPath, topoCount, MAX_TOPOLOGY_LABELS));
  errs.push(...validateLabels(topology, topoPath));
  if (isSet(ep.hostname))
    errs.push(
      ...isDNS1123Label(ep.hostname).map((m) => invalidValue(path.child("hostname"), ep.hostname, m)),
    );
  if (isSet(ep.nodeName))
    errs.push(
      ...nameIsDNSSubdomain(ep.nodeName, false).map((m) =>
        invalidValue(path.child("nodeName"), ep.nodeName, m),
      ),
    );
  const zones = ep.hints?.forZones;
  if (zones) {
    const fzPath = path.child("hints", "forZones");
    if (zones.length > MAX_ZONE_HINTS) {
      errs.push(tooMany(fzPath, zones.length, MAX_ZONE_HINTS));
    } else {
      const seen = new Set<string>();
      zones.forEach((z, i) => {
        const zp = fzPath.index(i).child("name");
        const name = z.name ?? "";
        if (seen.has(name)) errs.push(duplicate(zp, name));
        else seen.add(name);
        errs.push(...isValidLabelValue(name).map((m) => invalidValue(zp, name, m)));
      });
    }
  }
  return errs;
}

function validatePorts(ports: readonly EndpointPort[], path: FieldPath): FieldError[] {
  if (ports.length > MAX_PORTS) return [tooMany(path, ports.length, MAX_PORTS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = path.index(i);
    const name = port.name ?? "";
    if (name.length > 0)
      errs.push(...isDNS1123Label(name).map((m) => invalidValue(p.child("name"), name, m)));
    if (names.has(name)) errs.push(duplicate(p.child("name"), name));
    else names.add(name);
    if (!isSet(port.protocol)) errs.push(required(p.child("protocol"), ""));
    else if (!PORT_PROTOCOLS.includes(port.protocol))
      errs.push(notSupported(p.child("protocol"), port.protocol, PORT_PROTOCOLS));
    if (isSet(port.appProtocol)) {
      errs.push(
        ...isQualifiedName(port.appProtocol).map((m) =>
          invalidValue(p.child("appProtocol"), port.appProtocol, m),
        ),
      );
    }
  });
  return errs;
}

/** Upstream's ValidateEndpointSlice; `addressTypes` differ between create and update. */
export function validateEndpointSlice(obj: EndpointSlice, addressTypes: readonly string[]): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META);
  const addressType = obj.addressType ?? "";
  if (addressType === "") errs.push(required(root("addressType"), ""));
  else if (!addressTypes.includes(addressType))
    errs.push(notSupported(root("addressType"), addressType, addressTypes));
  const endpoints = obj.endpoints ?? [];
  const epPath = root("endpoints");
  if (endpoints.length > MAX_ENDPOINTS) errs.push(tooMany(epPath, endpoints.length, MAX_ENDPOINTS));
  else endpoints.forEach((ep, i) => errs.push(...validateEndpoint(ep, addressType, epPath.index(i))));
  errs.push(...validatePorts(obj.ports ?? [], root("ports")));
  return errs;
}

const endpointSliceRules: KindRules<EndpointSlice> = {
  defaults: defaultEndpointSlice,
  validate: (obj) => validateEndpointSlice(obj, ADDRESS_TYPES),
  validateUpdate(obj, old) {
    return [
      ...validateObjectMetaUpdate(obj.metadata, old.metadata, META),
      ...validateEndpointSlice(obj, ADDRESS_TYPES_ON_UPDATE),
      ...validateImmutableField(obj.addressType ?? "", old.addressType ?? "", root("addressType")),
    ];
  },
};

// ---- Lease --------------------------------------------------------------------------------

/** LeaseSpec with the coordinated-leader-election fields newer than our type package. */
type LeaseSpecWithStrategy = LeaseSpec & { strategy?: string; preferredHolder?: string };

const LEASE_STRATEGIES = ["OldestEmulationVersion"];

function validateLeaseSpec(spec: LeaseSpecWithStrategy | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const path = root("spec");
  const s = spec ?? {};
  if (isSet(s.leaseDurationSeconds) && s.leaseDurationSeconds <= 0) {
    errs.push(
      invalidValue(path.child("leaseDurationSeconds"), s.leaseDurationSeconds, "must be greater than 0"),
    );
  }
  if (isSet(s.leaseTransitions) && s.leaseTransitions < 0) {
    errs.push(
      invalidValue(path.child("leaseTransitions"), s.leaseTransitions, "must be greater than or equal to 0"),
    );
  }
  if (isSet(s.strategy)) {
    // Upstream nests the field name twice here (`spec.strategy.strategy`); kept for fidelity.
    const p = path.child("strategy", "strategy");
    if (!s.strategy.includes("/")) {
      if (!LEASE_STRATEGIES.includes(s.strategy)) errs.push(notSupported(p, s.strategy, LEASE_STRATEGIES));
    } else {
      errs.push(...isQualifiedName(s.strategy).map((m) => invalidValue(p, s.strategy, m)));
    }
  }
  if (isSet(s.preferredHolder) && s.preferredHolder !== "" && !s.strategy) {
    errs.push(forbidden(path.child("preferredHolder"), "may only be specified if `strategy` is defined"));
  }
  return errs;
}

const leaseRules: KindRules<Lease> = {
  validate(obj) {
    return [
      ...validateObjectMeta(obj.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META),
      ...validateLeaseSpec(obj.spec),
    ];
  },
  validateUpdate(obj, old) {
    return [...validateObjectMetaUpdate(obj.metadata, old.metadata, META), ...validateLeaseSpec(obj.spec)];
  },
};

// ---- PriorityClass ------------------------------------------------------------------------

/** Highest value a PriorityClass not named `system-…` may have. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** Value of the built-in `system-cluster-critical` class. */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;
const SYSTEM_PRIORITY_CLASSES: readonly { name: string; value: number }[] = [
  { name: "system-node-critical", value: SYSTEM_CRITICAL_PRIORITY + 1000 },
  { name: "system-cluster-critical", value: SYSTEM_CRITICAL_PRIORITY },
];

/** Why `name` with `value` is not a built-in system priority class, or undefined if it is one. */
function systemPriorityClassError(name: string, value: number, globalDefault: boolean): string | undefined {
  const known = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
  if (!known) return `${name} is not a known system priority class`;
  if (known.value !== value) return `value of ${name} PriorityClass must be ${known.value}`;
  if (globalDefault) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

function validatePreemptionPolicy(policy: string, path: FieldPath): FieldError[] {
  if (policy === "") return [required(path, "")];
  const valid = ["PreemptLowerPriority", "Never"];
  return valid.includes(policy) ? [] : [notSupported(path, policy, valid)];
}

function validatePriorityClass(obj: PriorityClass): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, { namespaced: false, nameFn: nameIsDNSSubdomain }, META);
  const name = obj.metadata.name ?? "";
  const value = obj.value ?? 0;
  if (name.startsWith("system-")) {
    const err = systemPriorityClassError(name, value, obj.globalDefault === true);
    if (err) {
      errs.push(
        forbidden(
          META.child("name"),
          `priority class names with 'system-' prefix are reserved for system use only. error: ${err}`,
        ),
      );
    }
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(
      forbidden(
        root("value"),
        `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`,
      ),
    );
  }
  if (isSet(obj.preemptionPolicy))
    errs.push(...validatePreemptionPolicy(obj.preemptionPolicy, root("preemptionPolicy")));
  return errs;
}

const priorityClassRules: KindRules<PriorityClass> = {
  defaults: defaultPriorityClass,
  validate: validatePriorityClass,
  validateUpdate(obj, old) {
    const errs = validateObjectMetaUpdate(obj.metadata, old.metadata, META);
    if ((obj.value ?? 0) !== (old.value ?? 0))
      errs.push(forbidden(root("value"), "may not be changed in an update."));
    errs.push(
      ...validateImmutableField(
        obj.preemptionPolicy ?? null,
        old.preemptionPolicy ?? null,
        root("preemptionPolicy"),
      ),
    );
    return errs;
  },
};

// ---- events.k8s.io/v1 Event ---------------------------------------------------------------

const REPORTING_INSTANCE_LENGTH_LIMIT = 128;
const ACTION_LENGTH_LIMIT = 128;
const REASON_LENGTH_LIMIT = 128;
const NOTE_LENGTH_LIMIT = 1024;

function byteLen(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** Checks every Event passes, whatever API version wrote it (upstream's legacyValidateEvent). */
function legacyValidateEvent(ev: Event): FieldError[] {
  const errs: FieldError[] = [];
  const namespace = ev.metadata.namespace ?? "";
  const regardingNs = ev.regarding?.namespace ?? "";
  const nsPath = root("involvedObject").child("namespace");
  if (!ev.eventTime) {
    if (regardingNs === "" ? namespace !== "" && namespace !== "default" : namespace !== regardingNs) {
      errs.push(invalidValue(nsPath, regardingNs, "does not match event.namespace"));
    }
  } else {
    if (regardingNs === "" && namespace !== "default" && namespace !== "kube-system") {
      errs.push(invalidValue(nsPath, regardingNs, "does not match event.namespace"));
    }
    const controller = ev.reportingController ?? "";
    if (controller === "") errs.push(required(root("reportingController"), ""));
    errs.push(
      ...isQualifiedName(controller).map((m) => invalidValue(root("reportingController"), controller, m)),
    );
    const limited: [string, string, number][] = [
      ["reportingInstance", ev.reportingInstance ?? "", REPORTING_INSTANCE_LENGTH_LIMIT],
      ["action", ev.action ?? "", ACTION_LENGTH_LIMIT],
      ["reason", ev.reason ?? "", REASON_LENGTH_LIMIT],
    ];
    for (const [field, v, limit] of limited) {
      if (v === "") errs.push(required(root(field), ""));
      if (byteLen(v) > limit)
        errs.push(invalidValue(root(field), "", `can have at most ${limit} characters`));
    }
    if (byteLen(ev.note ?? "") > NOTE_LENGTH_LIMIT) {
      errs.push(invalidValue(root("message"), "", `can have at most ${NOTE_LENGTH_LIMIT} characters`));
    }
  }
  errs.push(...isDNS1123Subdomain(namespace).map((m) => invalidValue(root("namespace"), namespace, m)));
  return errs;
}

function validateEventSeries(ev: Event): FieldError[] {
  if (!ev.series) return [];
  const errs: FieldError[] = [];
  if ((ev.series.count ?? 0) < 2) errs.push(invalidValue(root("series.count"), "", "should be at least 2"));
  if (!ev.series.lastObservedTime) errs.push(required(root("series.lastObservedTime"), ""));
  return errs;
}

/** Upstream's ValidateEventCreate for the events.k8s.io/v1 API (strict validation). */
function validateEvent(ev: Event): FieldError[] {
  const errs = legacyValidateEvent(ev);
  errs.push(...validateObjectMeta(ev.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META));
  errs.push(...validateEventSeries(ev));
  if (!ev.eventTime) errs.push(required(root("eventTime"), ""));
  if (ev.type !== "Normal" && ev.type !== "Warning")
    errs.push(invalidValue(root("type"), "", `has invalid value: ${ev.type ?? ""}`));
  if (ev.deprecatedFirstTimestamp) errs.push(invalidValue(root("firstTimestamp"), "", "needs to be unset"));
  if (ev.deprecatedLastTimestamp) errs.push(invalidValue(root("lastTimestamp"), "", "needs to be unset"));
  if ((ev.deprecatedCount ?? 0) !== 0) errs.push(invalidValue(root("count"), "", "needs to be unset"));
  if (ev.deprecatedSource?.component || ev.deprecatedSource?.host)
    errs.push(invalidValue(root("source"), "", "needs to be unset"));
  return errs;
}

/** Event fields frozen after create: [events.k8s.io/v1 name, upstream's internal name]. */
const EVENT_IMMUTABLE: readonly [keyof Event, string][] = [
  ["regarding", "involvedObject"],
  ["reason", "reason"],
  ["note", "message"],
  ["deprecatedSource", "source"],
  ["deprecatedFirstTimestamp", "firstTimestamp"],
  ["deprecatedLastTimestamp", "lastTimestamp"],
  ["deprecatedCount", "count"],
  ["type", "type"],
  ["eventTime", "eventTime"],
  ["action", "action"],
  ["related", "related"],
  ["reportingController", "reportingController"],
  ["reportingInstance", "reportingInstance"],
];

const eventRules: KindRules<Event> = {
  validate: validateEvent,
  validateUpdate(ev, old) {
    const errs = [...legacyValidateEvent(ev), ...validateObjectMetaUpdate(ev.metadata, old.metadata, META)];
    if (!deepEqual(ev.series ?? null, old.series ?? null)) errs.push(...validateEventSeries(ev));
    for (const [field, internal] of EVENT_IMMUTABLE) {
      errs.push(...validateImmutableField(ev[field] ?? null, old[field] ?? null, root(internal)));
    }
    return errs;
  },
};

/** Defaulting and validation for EndpointSlice, Lease, PriorityClass and events.k8s.io Event, keyed by kind. */
export const otherRules: Record<string, KindRules> = {
  EndpointSlice: kindRules(endpointSliceRules),
  Lease: kindRules(leaseRules),
  PriorityClass: kindRules(priorityClassRules),
  Event: kindRules(eventRules),
};
