/**
 * @module Validation of the core/v1 kinds on create and update, after upstream's
 * pkg/apis/core/validation: Pod (spec, and the narrow set of fields an update may change),
 * Namespace, Node, Service, Endpoints, ConfigMap, Secret, ServiceAccount, Event and
 * ReplicationController. `coreRules` plugs each kind's defaulting and validation into the
 * API machinery; every rule validates metadata too.
 */
import {
  type FieldError,
  FieldPath,
  duplicate,
  forbidden,
  goStringMap,
  invalidValue,
  notSupported,
  required,
  tooLong,
} from "../field-errors.ts";
import { type KindRules, kindRules } from "../object.ts";
import { deepEqual } from "../meta.ts";
import type {
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  Pod,
  PodSpec,
  ReplicationController,
  Secret,
  Service,
  ServiceAccount,
  Taint,
  Toleration,
} from "../types/core-v1.ts";
import {
  defaultEndpoints,
  defaultNamespace,
  defaultNode,
  defaultPod,
  defaultReplicationController,
  defaultSecret,
  defaultService,
} from "../defaults/core.ts";
import {
  isConfigMapKey,
  isDNS1123Subdomain,
  isValidCIDR,
  isValidIP,
  isValidLabelValue,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  parseableIP,
  validateLabels,
} from "./names.ts";
import {
  validateFinalizerName,
  validateImmutableField,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from "./object-meta.ts";
import {
  cmpQuantity,
  dns1123Label,
  nonNegative,
  qualifiedName,
  quantityError,
  quantityString,
  validatePodSpec,
  validatePodTemplateSpec,
  validatePortNumOrName,
} from "./pod-spec.ts";

const META = FieldPath.root("metadata");
const SPEC = FieldPath.root("spec");

// ---------------------------------------------------------------------------------------
// Pod

function validatePodMetaAndSpec(pod: Pod): FieldError[] {
  const errs = validateObjectMeta(pod.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META);
  const spec = pod.spec ?? { containers: [] };
  errs.push(...validatePodSpec(spec, SPEC, { resourceIsPod: true }));
  for (const key of ["containers", "initContainers"] as const) {
    (spec[key] ?? []).forEach((c, i) => {
      if (c.image && c.image.trim() !== c.image) {
        errs.push(
          invalidValue(
            SPEC.child(key).index(i).child("image"),
            c.image,
            "must not have leading or trailing whitespace",
          ),
        );
      }
    });
  }
  return errs;
}

/** Validates a Pod on create. */
export function validatePod(pod: Pod): FieldError[] {
  const errs = validatePodMetaAndSpec(pod);
  const spec = pod.spec;
  if (spec?.ephemeralContainers?.length)
    errs.push(forbidden(SPEC.child("ephemeralContainers"), "cannot be set on create"));
  if (spec?.nodeName && spec.schedulingGates?.length) {
    errs.push(forbidden(SPEC.child("nodeName"), "cannot be set until all schedulingGates have been cleared"));
  }
  return errs;
}

/** The pod-spec fields an update may change, as upstream lists them in its message. */
const UPDATABLE_POD_SPEC_FIELDS = [
  "`spec.containers[*].image`",
  "`spec.initContainers[*].image`",
  "`spec.activeDeadlineSeconds`",
  "`spec.tolerations` (only additions to existing tolerations)",
  "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
];

/** Go's zero values: absent, null, "", 0, false, and empty lists and maps compare equal. */
function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === "" || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v as object).length === 0;
  return false;
}

/** Upstream's Semantic.DeepEqual closely enough for specs: zero values are equal to absence. */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (isZero(a) && isZero(b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => semanticEqual(x, b[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(x), ...Object.keys(y)]))
    if (!semanticEqual(x[k], y[k])) return false;
  return true;
}

/** Lists the leaf differences between two values (`- path: old` / `+ path: new`), at most `max`. */
export function describeDiff(oldV: unknown, newV: unknown, prefix = "", max = 20): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, p: string): void => {
    if (out.length >= max || semanticEqual(a, b)) return;
    const bothObjects = typeof a === "object" && typeof b === "object" && a !== null && b !== null;
    if (bothObjects && Array.isArray(a) === Array.isArray(b)) {
      if (Array.isArray(a) && Array.isArray(b)) {
        for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], `${p}[${i}]`);
      } else {
        const x = a as Record<string, unknown>;
        const y = b as Record<string, unknown>;
        for (const k of new Set([...Object.keys(x), ...Object.keys(y)]))
          walk(x[k], y[k], p ? `${p}.${k}` : k);
      }
      return;
    }
    if (!isZero(a)) out.push(`- ${p}: ${JSON.stringify(a)}`);
    if (!isZero(b)) out.push(`+ ${p}: ${JSON.stringify(b)}`);
  };
  walk(oldV, newV, prefix);
  return out;
}

function tolerationMatchesIgnoringSeconds(a: Toleration, b: Toleration): boolean {
  return semanticEqual({ ...a, tolerationSeconds: undefined }, { ...b, tolerationSeconds: undefined });
}

/** Validates a Pod update: everything `validatePod` checks, and upstream's immutability rules. */
export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata, META);
  errs.push(...validatePodMetaAndSpec(pod));
  const spec: PodSpec = pod.spec ?? { containers: [] };
  const oldSpec: PodSpec = old.spec ?? { containers: [] };
  for (const key of ["containers", "initContainers"] as const) {
    const now = spec[key] ?? [];
    if (now.length !== (oldSpec[key] ?? []).length) {
      errs.push(forbidden(SPEC.child(key), "pod updates may not add or remove containers"));
      return errs;
    }
  }
  const ads = spec.activeDeadlineSeconds ?? undefined;
  const oldAds = oldSpec.activeDeadlineSeconds ?? undefined;
  const adsPath = SPEC.child("activeDeadlineSeconds");
  if (ads !== undefined) {
    if (ads < 0 || ads > 2147483647) {
      errs.push(invalidValue(adsPath, ads, "must be between 0 and 2147483647, inclusive"));
      return errs;
    }
    if (oldAds !== undefined && oldAds < ads) {
      errs.push(invalidValue(adsPath, ads, "must be less than or equal to previous value"));
      return errs;
    }
  } else if (oldAds !== undefined) {
    errs.push(invalidValue(adsPath, null, "must not update from a positive integer to nil value"));
  }
  const tolerations = spec.tolerations ?? [];
  for (const o of oldSpec.tolerations ?? []) {
    if (!tolerations.some((t) => tolerationMatchesIgnoringSeconds(o, t))) {
      errs.push(
        forbidden(
          SPEC.child("tolerations"),
          "existing toleration can not be modified except its tolerationSeconds",
        ),
      );
      break;
    }
  }
  const oldGates = new Set((oldSpec.schedulingGates ?? []).map((g) => g.name));
  (spec.schedulingGates ?? []).forEach((g, i) => {
    if (!oldGates.has(g.name)) {
      const msg = `only deletion is allowed, but found new scheduling gate '${g.name}'`;
      errs.push(forbidden(SPEC.child("schedulingGates").index(i).child("name"), msg));
    }
  });
  if (semanticEqual(spec, oldSpec)) return errs;
  const munged: PodSpec = structuredClone(spec);
  munged.containers = munged.containers.map((c, i) => ({ ...c, image: oldSpec.containers[i]?.image }));
  if (munged.initContainers) {
    munged.initContainers = munged.initContainers.map((c, i) => ({
      ...c,
      image: oldSpec.initContainers?.[i]?.image,
    }));
  }
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  munged.schedulingGates = oldSpec.schedulingGates;
  munged.tolerations = oldSpec.tolerations;
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (
    oldGrace !== undefined &&
    oldGrace !== null &&
    oldGrace < 0 &&
    munged.terminationGracePeriodSeconds === 1
  ) {
    munged.terminationGracePeriodSeconds = oldGrace;
  }
  if (oldGates.size > 0) {
    const oldSel = oldSpec.nodeSelector ?? {};
    const onlyAdded = Object.entries(oldSel).every(([k, v]) => munged.nodeSelector?.[k] === v);
    if (!onlyAdded) {
      const msg = "only additions to spec.nodeSelector are allowed (no mutations or deletions)";
      errs.push(invalidValue(SPEC.child("nodeSelector"), munged.nodeSelector ?? {}, msg));
    }
    munged.nodeSelector = oldSpec.nodeSelector;
  }
  if (!semanticEqual(munged, oldSpec)) {
    const diff = describeDiff(oldSpec, munged, "spec").join("\n");
    errs.push(
      forbidden(
        SPEC,
        `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(",")}\n${diff}`,
      ),
    );
  }
  return errs;
}

// ---------------------------------------------------------------------------------------
// Namespace, Node, ServiceAccount

/** Validates a Namespace: an RFC 1123 label name, cluster-scoped, valid spec finalizers. */
export function validateNamespace(ns: Namespace): FieldError[] {
  const errs = validateObjectMeta(ns.metadata, { namespaced: false, nameFn: nameIsDNSLabel }, META);
  // Upstream reports spec finalizer problems at the list's path, without an index.
  for (const f of ns.spec?.finalizers ?? []) errs.push(...validateFinalizerName(f, SPEC.child("finalizers")));
  return errs;
}

const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/** Validates node taints: key, value, effect, and unique by key and effect. */
export function validateTaints(taints: readonly Taint[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  taints.forEach((t, i) => {
    const p = path.index(i);
    errs.push(...qualifiedName(t.key ?? "", p.child("key")));
    const valueErrs = isValidLabelValue(t.value ?? "");
    if (valueErrs.length) errs.push(invalidValue(p.child("value"), t.value ?? "", valueErrs.join(";")));
    if (!t.effect) errs.push(required(p.child("effect"), ""));
    else if (!TAINT_EFFECTS.includes(t.effect))
      errs.push(notSupported(p.child("effect"), t.effect, TAINT_EFFECTS));
    const id = `${t.effect ?? ""}\u0000${t.key ?? ""}`;
    if (seen.has(id))
      errs.push({ ...duplicate(p, t), detail: "taints must be unique by key and effect pair" });
    else seen.add(id);
  });
  return errs;
}

function validateNodeResources(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  for (const field of ["capacity", "allocatable"] as const) {
    for (const [k, v] of Object.entries(node.status?.[field] ?? {})) {
      const p = FieldPath.root("status").child(field, k);
      const bad = quantityError(v);
      if (bad) errs.push(invalidValue(p, v, bad));
      else if (cmpQuantity(v, "0") < 0)
        errs.push(invalidValue(p, quantityString(v), "must be greater than or equal to 0"));
    }
  }
  return errs;
}

/** Validates a Node: DNS-subdomain name, taints, resource quantities, pod CIDRs. */
export function validateNode(node: Node): FieldError[] {
  const errs = validateObjectMeta(node.metadata, { namespaced: false, nameFn: nameIsDNSSubdomain }, META);
  // Upstream roots the taints path at metadata (`metadata.taints[0].key`); kept for fidelity.
  if (node.spec?.taints?.length) errs.push(...validateTaints(node.spec.taints, META.child("taints")));
  errs.push(...validateNodeResources(node));
  const cidrs = node.spec?.podCIDRs ?? [];
  const cidrPath = SPEC.child("podCIDRs");
  cidrs.forEach((c, i) => {
    for (const m of isValidCIDR(c)) errs.push(invalidValue(cidrPath.index(i), c, m));
  });
  if (cidrs.length > 1) {
    const v6 = cidrs.filter((c) => c.includes(":")).length;
    if (cidrs.length > 2 || v6 !== 1) {
      errs.push(invalidValue(cidrPath, cidrs, "may specify no more than one CIDR for each IP family"));
    }
    cidrs.forEach((c, i) => {
      if (cidrs.indexOf(c) !== i) errs.push(duplicate(cidrPath.index(i), c));
    });
  }
  return errs;
}

/** Validates a Node update: podCIDRs and providerID may only be set once; taints valid. */
export function validateNodeUpdate(node: Node, old: Node): FieldError[] {
  const errs = validateObjectMetaUpdate(node.metadata, old.metadata, META);
  errs.push(...validateNode(node));
  const oldCidrs = old.spec?.podCIDRs ?? [];
  const cidrs = node.spec?.podCIDRs ?? [];
  if (oldCidrs.length > 0 && (oldCidrs.length !== cidrs.length || oldCidrs.some((c, i) => c !== cidrs[i]))) {
    errs.push(
      forbidden(SPEC.child("podCIDRs"), 'node updates may not change podCIDR except from "" to valid'),
    );
  }
  const oldProvider = old.spec?.providerID ?? "";
  if (oldProvider && oldProvider !== (node.spec?.providerID ?? "")) {
    errs.push(
      forbidden(SPEC.child("providerID"), 'node updates may not change providerID except from "" to valid'),
    );
  }
  const seen = new Set<string>();
  (node.status?.addresses ?? []).forEach((a, i) => {
    const id = `${a.type}\u0000${a.address}`;
    if (seen.has(id)) errs.push(duplicate(FieldPath.root("status").child("addresses").index(i), a));
    seen.add(id);
  });
  return errs;
}

/** Validates a ServiceAccount: its metadata. */
export function validateServiceAccount(sa: ServiceAccount): FieldError[] {
  return validateObjectMeta(sa.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META);
}

// ---------------------------------------------------------------------------------------
// Service and Endpoints

const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];
/** The default NodePort range (`--service-node-port-range`). */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 };

function isHeadless(svc: Service): boolean {
  const ips = svc.spec?.clusterIPs ?? [];
  return ips.length === 1 && ips[0] === "None";
}

function ipErrors(ip: string, path: FieldPath): FieldError[] {
  return isValidIP(ip).map((m) => invalidValue(path, ip, m));
}

function validateClusterIPs(svc: Service): FieldError[] {
  const spec = svc.spec ?? {};
  if (spec.type === "ExternalName") return [];
  const errs: FieldError[] = [];
  const ipsPath = SPEC.child("clusterIPs");
  const ips = spec.clusterIPs ?? [];
  if (spec.clusterIP) {
    if (ips.length === 0) errs.push(required(ipsPath, ""));
    else if (ips[0] !== spec.clusterIP)
      errs.push(invalidValue(ipsPath, ips, "first value must match `clusterIP`"));
  } else if (ips.length) {
    errs.push(invalidValue(ipsPath, ips, "must be empty when `clusterIP` is not specified"));
  }
  const families = spec.ipFamilies ?? [];
  families.forEach((f, i) => {
    if (f !== "IPv4" && f !== "IPv6")
      errs.push(notSupported(SPEC.child("ipFamilies").index(i), f, ["IPv4", "IPv6"]));
    if (families.indexOf(f) !== i) errs.push(duplicate(SPEC.child("ipFamilies").index(i), f));
  });
  const policies = ["PreferDualStack", "RequireDualStack", "SingleStack"];
  if (spec.ipFamilyPolicy && !policies.includes(spec.ipFamilyPolicy)) {
    errs.push(notSupported(SPEC.child("ipFamilyPolicy"), spec.ipFamilyPolicy, policies));
  }
  let badIPs = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === "None") {
      if (ips.length > 1) {
        badIPs = true;
        errs.push(invalidValue(ipsPath, ips, "'None' must be the first and only value"));
      }
      return;
    }
    const e = ipErrors(ip, ipsPath.index(i));
    if (e.length) badIPs = true;
    errs.push(...e);
  });
  if (ips.length > 2) errs.push(invalidValue(ipsPath, ips, "may only hold up to 2 values"));
  if (badIPs) return errs;
  if (ips.length > 1 && ips.filter((ip) => ip.includes(":")).length !== 1) {
    errs.push(invalidValue(ipsPath, ips, "may specify no more than one IP for each IP family"));
  }
  if (!isHeadless(svc)) {
    ips.forEach((ip, i) => {
      const fam = families[i];
      if (fam === "IPv4" && ip.includes(":")) {
        errs.push(
          invalidValue(ipsPath.index(i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``),
        );
      }
      if (fam === "IPv6" && !ip.includes(":")) {
        errs.push(
          invalidValue(ipsPath.index(i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``),
        );
      }
    });
  }
  return errs;
}

/** Validates a Service on create (and, with `validateServiceUpdate`, on update). */
export function validateService(svc: Service): FieldError[] {
  const errs = validateObjectMeta(svc.metadata, { namespaced: true, nameFn: nameIsDNS1035Label }, META);
  const spec = svc.spec ?? {};
  const ports = spec.ports ?? [];
  const headless = isHeadless(svc);
  if (ports.length === 0 && !headless && spec.type !== "ExternalName")
    errs.push(required(SPEC.child("ports"), ""));
  if (headless && (spec.type === "LoadBalancer" || spec.type === "NodePort")) {
    const msg = `may not be set to 'None' for ${spec.type} services`;
    errs.push(invalidValue(SPEC.child("clusterIPs").index(0), "None", msg));
  }
  if (spec.type === "ExternalName") {
    if (spec.clusterIPs?.length)
      errs.push(forbidden(SPEC.child("clusterIPs"), "may not be set for ExternalName services"));
    if (spec.ipFamilies?.length)
      errs.push(forbidden(SPEC.child("ipFamilies"), "may not be set for ExternalName services"));
    if (spec.ipFamilyPolicy)
      errs.push(forbidden(SPEC.child("ipFamilyPolicy"), "may not be set for ExternalName services"));
    const cname = (spec.externalName ?? "").replace(/\.$/, "");
    if (!cname) errs.push(required(SPEC.child("externalName"), ""));
    else
      for (const m of isDNS1123Subdomain(cname))
        errs.push(invalidValue(SPEC.child("externalName"), cname, m));
  }
  const names = new Set<string>();
  ports.forEach((sp, i) => {
    const p = SPEC.child("ports").index(i);
    if (ports.length > 1 && !sp.name) errs.push(required(p.child("name"), ""));
    else if (sp.name) {
      errs.push(...dns1123Label(sp.name, p.child("name")));
      if (names.has(sp.name)) errs.push(duplicate(p.child("name"), sp.name));
      else names.add(sp.name);
    }
    if (!(Number.isInteger(sp.port) && sp.port >= 1 && sp.port <= 65535)) {
      errs.push(invalidValue(p.child("port"), sp.port, "must be between 1 and 65535, inclusive"));
    }
    if (!sp.protocol) errs.push(required(p.child("protocol"), ""));
    else if (!PROTOCOLS.includes(sp.protocol))
      errs.push(notSupported(p.child("protocol"), sp.protocol, PROTOCOLS));
    errs.push(...validatePortNumOrName(sp.targetPort ?? 0, p.child("targetPort")));
    if (sp.appProtocol) errs.push(...qualifiedName(sp.appProtocol, p.child("appProtocol")));
    if (sp.nodePort && (sp.nodePort < NODE_PORT_RANGE.min || sp.nodePort > NODE_PORT_RANGE.max)) {
      const msg = `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`;
      errs.push(invalidValue(p.child("nodePort"), sp.nodePort, msg));
    }
  });
  if (spec.selector) errs.push(...validateLabels(spec.selector, SPEC.child("selector")));
  const affinity = spec.sessionAffinity;
  if (!affinity) errs.push(required(SPEC.child("sessionAffinity"), ""));
  else if (affinity !== "ClientIP" && affinity !== "None") {
    errs.push(notSupported(SPEC.child("sessionAffinity"), affinity, ["ClientIP", "None"]));
  }
  const cfgPath = SPEC.child("sessionAffinityConfig");
  if (affinity === "ClientIP") {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    const when = "when session affinity type is ClientIP";
    if (!spec.sessionAffinityConfig) errs.push(required(cfgPath, when));
    else if (!spec.sessionAffinityConfig.clientIP) errs.push(required(cfgPath.child("clientIP"), when));
    else if (t === undefined) errs.push(required(cfgPath.child("clientIP", "timeoutSeconds"), when));
    else if (t <= 0 || t > 86400) {
      errs.push(
        invalidValue(
          cfgPath.child("clientIP", "timeoutSeconds"),
          t,
          "must be greater than 0 and less than 86400",
        ),
      );
    }
  } else if (affinity === "None" && spec.sessionAffinityConfig) {
    errs.push(forbidden(cfgPath, "must not be set when session affinity is None"));
  }
  errs.push(...validateClusterIPs(svc));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    const p = SPEC.child("externalIPs").index(i);
    const e = ipErrors(ip, p);
    errs.push(...(e.length ? e : nonSpecialIP(ip, p)));
  });
  if (!spec.type) errs.push(required(SPEC.child("type"), ""));
  else if (!SERVICE_TYPES.includes(spec.type))
    errs.push(notSupported(SPEC.child("type"), spec.type, SERVICE_TYPES));
  const nodePorts = new Set<string>();
  const portKeys = new Set<string>();
  ports.forEach((sp, i) => {
    const p = SPEC.child("ports").index(i);
    if (spec.type === "ClusterIP" && sp.nodePort) {
      errs.push(forbidden(p.child("nodePort"), "may not be used when `type` is 'ClusterIP'"));
    }
    if (sp.nodePort) {
      const k = `${sp.protocol}/${sp.nodePort}`;
      if (nodePorts.has(k)) errs.push(duplicate(p.child("nodePort"), sp.nodePort));
      nodePorts.add(k);
    }
    const k = `${sp.protocol}/${sp.port}`;
    if (portKeys.has(k)) errs.push(duplicate(p, { port: sp.port, protocol: sp.protocol }));
    portKeys.add(k);
  });
  const lbOnly = "may only be used when `type` is 'LoadBalancer'";
  if (spec.loadBalancerSourceRanges?.length) {
    const p = SPEC.child("LoadBalancerSourceRanges");
    if (spec.type !== "LoadBalancer") errs.push(forbidden(p, lbOnly));
    spec.loadBalancerSourceRanges.forEach((r, i) => {
      for (const m of isValidCIDR(r.trim())) errs.push(invalidValue(p.index(i), r.trim(), m));
    });
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.type !== "LoadBalancer") {
    errs.push(forbidden(SPEC.child("allocateLoadBalancerNodePorts"), lbOnly));
  }
  if (spec.type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts === undefined) {
    errs.push(required(FieldPath.root("allocateLoadBalancerNodePorts"), ""));
  }
  if (spec.loadBalancerClass !== undefined) {
    if (spec.type !== "LoadBalancer") errs.push(forbidden(SPEC.child("loadBalancerClass"), lbOnly));
    else errs.push(...qualifiedName(spec.loadBalancerClass, SPEC.child("loadBalancerClass")));
  }
  const external =
    spec.type === "LoadBalancer" ||
    spec.type === "NodePort" ||
    (spec.type === "ClusterIP" && (spec.externalIPs?.length ?? 0) > 0);
  const etp = spec.externalTrafficPolicy;
  if (!external) {
    if (etp)
      errs.push(
        invalidValue(
          SPEC.child("externalTrafficPolicy"),
          etp,
          "may only be set for externally-accessible services",
        ),
      );
  } else if (!etp) errs.push(required(SPEC.child("externalTrafficPolicy"), ""));
  else if (etp !== "Cluster" && etp !== "Local") {
    errs.push(notSupported(SPEC.child("externalTrafficPolicy"), etp, ["Cluster", "Local"]));
  }
  const needsHealthCheck = spec.type === "LoadBalancer" && etp === "Local";
  if (!needsHealthCheck && spec.healthCheckNodePort) {
    const msg = "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'";
    errs.push(invalidValue(SPEC.child("healthCheckNodePort"), spec.healthCheckNodePort, msg));
  }
  const itp = spec.internalTrafficPolicy;
  if (!itp && ["NodePort", "LoadBalancer", "ClusterIP"].includes(spec.type ?? "")) {
    errs.push(required(SPEC.child("internalTrafficPolicy"), ""));
  }
  if (itp && itp !== "Cluster" && itp !== "Local") {
    errs.push(notSupported(SPEC.child("internalTrafficPolicy"), itp, ["Cluster", "Local"]));
  }
  return errs;
}

function isInCIDR4(ip: string, base: number[], bits: number): boolean {
  const parts = ip.split(".").map(Number);
  let left = bits;
  for (let i = 0; i < 4 && left > 0; i++, left -= 8) {
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if (((parts[i] ?? 0) & mask) !== ((base[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Upstream's ValidateNonSpecialIP: no unspecified, loopback or link-local addresses. */
function nonSpecialIP(ip: string, path: FieldPath): FieldError[] {
  if (!parseableIP(ip)) return [invalidValue(path, ip, "must be a valid IP address")];
  const v6 = ip.includes(":");
  const lower = ip.toLowerCase();
  if (v6 ? /^[0:]+$/.test(lower) : ip.split(".").every((p) => Number(p) === 0)) {
    return [invalidValue(path, ip, `may not be unspecified (${ip})`)];
  }
  if (v6 ? /^[0:]*:0*1$/.test(lower) : isInCIDR4(ip, [127, 0, 0, 0], 8)) {
    return [invalidValue(path, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)")];
  }
  if (v6 ? /^fe[89ab]/.test(lower) : isInCIDR4(ip, [169, 254, 0, 0], 16)) {
    return [invalidValue(path, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")];
  }
  if (v6 ? /^ff02:/.test(lower) : isInCIDR4(ip, [224, 0, 0, 0], 24)) {
    return [invalidValue(path, ip, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")];
  }
  return [];
}

/** Validates a Service update: cluster IPs and IP families may not change once set. */
export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata, META);
  const spec = svc.spec ?? {};
  const oldSpec = old.spec ?? {};
  if (
    spec.type !== "ExternalName" &&
    oldSpec.type !== "ExternalName" &&
    !(isHeadless(svc) && isHeadless(old))
  ) {
    const ips = spec.clusterIPs ?? [];
    const oldIPs = oldSpec.clusterIPs ?? [];
    const p = SPEC.child("clusterIPs");
    if (oldIPs.length === ips.length) {
      oldIPs.forEach((ip, i) => {
        if (ip !== ips[i]) errs.push(invalidValue(p.index(i), ips, "may not change once set"));
      });
    } else if (oldIPs.length > ips.length) {
      if (ips.length === 0) errs.push(invalidValue(p.index(0), ips, "primary clusterIP can not be unset"));
      if (ips.length > 0 && ips[0] !== oldIPs[0])
        errs.push(invalidValue(p.index(0), ips, "may not change once set"));
      if (ips.length === 1 && spec.ipFamilyPolicy !== "SingleStack") {
        const msg = "must be set to 'SingleStack' when releasing the secondary clusterIP";
        errs.push(invalidValue(SPEC.child("ipFamilyPolicy"), spec.ipFamilyPolicy ?? null, msg));
      }
    } else if (oldIPs.length > 0 && ips[0] !== oldIPs[0]) {
      errs.push(invalidValue(p.index(0), ips, "may not change once set"));
    }
    const fams = spec.ipFamilies ?? [];
    const oldFams = oldSpec.ipFamilies ?? [];
    if (
      isHeadless(svc) === isHeadless(old) &&
      !isHeadless(svc) &&
      fams.length > 0 &&
      oldFams.length > 0 &&
      fams[0] !== oldFams[0]
    ) {
      errs.push(invalidValue(SPEC.child("ipFamilies").index(0), fams, "may not change once set"));
    }
  }
  const needsHC = (s: Service): boolean =>
    s.spec?.type === "LoadBalancer" && s.spec.externalTrafficPolicy === "Local";
  if (needsHC(svc) && needsHC(old) && spec.healthCheckNodePort !== oldSpec.healthCheckNodePort) {
    errs.push(forbidden(SPEC.child("healthCheckNodePort"), "field is immutable"));
  }
  if (
    oldSpec.type === "LoadBalancer" &&
    spec.type === "LoadBalancer" &&
    (spec.loadBalancerClass ?? null) !== (oldSpec.loadBalancerClass ?? null)
  ) {
    errs.push(
      invalidValue(
        SPEC.child("loadBalancerClass"),
        spec.loadBalancerClass ?? null,
        "may not change once set",
      ),
    );
  }
  errs.push(...validateService(svc));
  return errs;
}

/** Validates Endpoints: addresses (non-special IPs), hostnames, node names and ports. */
export function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs = validateObjectMeta(ep.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META);
  (ep.subsets ?? []).forEach((ss, i) => {
    const p = FieldPath.root("subsets").index(i);
    if (!ss.addresses?.length && !ss.notReadyAddresses?.length) {
      errs.push(required(p, "must specify `addresses` or `notReadyAddresses`"));
    }
    for (const key of ["addresses", "notReadyAddresses"] as const) {
      (ss[key] ?? []).forEach((a, j) => {
        const ap = p.child(key).index(j);
        errs.push(...ipErrors(a.ip, ap.child("ip")));
        if (a.hostname) errs.push(...dns1123Label(a.hostname, ap.child("hostname")));
        if (a.nodeName)
          for (const m of isDNS1123Subdomain(a.nodeName))
            errs.push(invalidValue(ap.child("nodeName"), a.nodeName, m));
        errs.push(...nonSpecialIP(a.ip, ap.child("ip")));
      });
    }
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => {
      const pp = p.child("ports").index(j);
      if (ports.length > 1 && !port.name) errs.push(required(pp.child("name"), ""));
      else if (port.name) errs.push(...dns1123Label(port.name, pp.child("name")));
      if (!(Number.isInteger(port.port) && port.port >= 1 && port.port <= 65535)) {
        errs.push(invalidValue(pp.child("port"), port.port, "must be between 1 and 65535, inclusive"));
      }
      if (!port.protocol) errs.push(required(pp.child("protocol"), ""));
      else if (!PROTOCOLS.includes(port.protocol))
        errs.push(notSupported(pp.child("protocol"), port.protocol, PROTOCOLS));
      if (port.appProtocol) errs.push(...qualifiedName(port.appProtocol, pp.child("appProtocol")));
    });
  });
  return errs;
}

// ---------------------------------------------------------------------------------------
// ConfigMap and Secret

/** Upstream's MaxSecretSize, also the ConfigMap limit: 1 MiB. */
export const MAX_SECRET_SIZE = 1024 * 1024;
const REDACTED = "<secret contents redacted>";

/**
 * Decodes base64 as Go's StdEncoding does when JSON carries a `[]byte` (padding required,
 * `\r` and `\n` skipped); returns the bytes or upstream's decode error text.
 */
export function decodeBase64(s: string): Buffer | string {
  const clean = s.replace(/[\r\n]/g, "");
  const m = /^[A-Za-z0-9+/]*={0,2}$/.exec(clean);
  if (!m || clean.length % 4 !== 0) {
    const bad = clean.search(/[^A-Za-z0-9+/=]|=[^=]/);
    const at = bad >= 0 ? bad + (clean[bad] === "=" ? 1 : 0) : clean.length - (clean.length % 4 || 4);
    return `illegal base64 data at input byte ${Math.max(0, at)}`;
  }
  return Buffer.from(clean, "base64");
}

/** Validates a ConfigMap: keys, no key in both data and binaryData, 1 MiB in total. */
export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs = validateObjectMeta(cm.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META);
  let total = 0;
  const data = FieldPath.root("data");
  const binary = FieldPath.root("binaryData");
  for (const [k, v] of Object.entries(cm.data ?? {})) {
    for (const m of isConfigMapKey(k)) errs.push(invalidValue(data.key(k), k, m));
    if (cm.binaryData && k in cm.binaryData)
      errs.push(invalidValue(data.key(k), k, "duplicate of key present in binaryData"));
    total += Buffer.byteLength(String(v), "utf8");
  }
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) {
    for (const m of isConfigMapKey(k)) errs.push(invalidValue(binary.key(k), k, m));
    const bytes = decodeBase64(String(v));
    if (typeof bytes === "string") errs.push(invalidValue(binary.key(k), REDACTED, bytes));
    else total += bytes.length;
  }
  if (total > MAX_SECRET_SIZE) errs.push(tooLong(FieldPath.root(""), "", MAX_SECRET_SIZE));
  return errs;
}

function immutableWhenSet(
  now: { immutable?: boolean },
  old: { immutable?: boolean },
  fields: [string, unknown, unknown][],
): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  const msg = "field is immutable when `immutable` is set";
  if (now.immutable !== true) errs.push(forbidden(FieldPath.root("immutable"), msg));
  for (const [name, a, b] of fields)
    if (!deepEqual(a ?? {}, b ?? {})) errs.push(forbidden(FieldPath.root(name), msg));
  return errs;
}

/** Validates a ConfigMap update: nothing may change once `immutable: true`. */
export function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): FieldError[] {
  const errs = validateObjectMetaUpdate(cm.metadata, old.metadata, META);
  errs.push(
    ...immutableWhenSet(cm, old, [
      ["data", cm.data, old.data],
      ["binaryData", cm.binaryData, old.binaryData],
    ]),
  );
  errs.push(...validateConfigMap(cm));
  return errs;
}

function jsonError(bytes: Buffer): string | undefined {
  try {
    JSON.parse(bytes.toString("utf8"));
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * Validates a Secret: keys, base64 values, 1 MiB in total, and the keys each well-known
 * type requires (`kubernetes.io/tls` needs `tls.crt` and `tls.key`, and so on).
 */
export function validateSecret(secret: Secret): FieldError[] {
  const errs = validateObjectMeta(secret.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META);
  const dataPath = FieldPath.root("data");
  const decoded = new Map<string, Buffer>();
  let total = 0;
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    for (const m of isConfigMapKey(k)) errs.push(invalidValue(dataPath.key(k), k, m));
    const bytes = decodeBase64(String(v));
    if (typeof bytes === "string") errs.push(invalidValue(dataPath.key(k), REDACTED, bytes));
    else {
      decoded.set(k, bytes);
      total += bytes.length;
    }
  }
  if (total > MAX_SECRET_SIZE) errs.push(tooLong(dataPath, "", MAX_SECRET_SIZE));
  const has = (k: string): boolean => secret.data !== undefined && k in secret.data;
  switch (secret.type) {
    case "kubernetes.io/service-account-token":
      if (!secret.metadata.annotations?.["kubernetes.io/service-account.name"]) {
        errs.push(required(META.child("annotations").key("kubernetes.io/service-account.name"), ""));
      }
      break;
    case "kubernetes.io/dockercfg":
    case "kubernetes.io/dockerconfigjson": {
      const key = secret.type === "kubernetes.io/dockercfg" ? ".dockercfg" : ".dockerconfigjson";
      const bytes = decoded.get(key);
      if (!has(key)) errs.push(required(dataPath.key(key), ""));
      else if (bytes) {
        const bad = jsonError(bytes);
        if (bad) errs.push(invalidValue(dataPath.key(key), REDACTED, bad));
      }
      break;
    }
    case "kubernetes.io/basic-auth":
      if (!has("username") && !has("password")) {
        errs.push(required(dataPath.key("username"), ""), required(dataPath.key("password"), ""));
      }
      break;
    case "kubernetes.io/ssh-auth":
      if (!decoded.get("ssh-privatekey")?.length) errs.push(required(dataPath.key("ssh-privatekey"), ""));
      break;
    case "kubernetes.io/tls":
      if (!has("tls.crt")) errs.push(required(dataPath.key("tls.crt"), ""));
      if (!has("tls.key")) errs.push(required(dataPath.key("tls.key"), ""));
      break;
  }
  return errs;
}

/** Validates a Secret update: `type` is immutable, and nothing may change once `immutable: true`. */
export function validateSecretUpdate(secret: Secret, old: Secret): FieldError[] {
  const errs = validateObjectMetaUpdate(secret.metadata, old.metadata, META);
  errs.push(...validateImmutableField(secret.type ?? "", old.type ?? "", FieldPath.root("type")));
  errs.push(...immutableWhenSet(secret, old, [["data", secret.data, old.data]]));
  errs.push(...validateSecret(secret));
  return errs;
}

// ---------------------------------------------------------------------------------------
// Event

/** Validates a core/v1 Event: namespace agreement with the involved object, and new-style fields. */
export function validateEvent(ev: Event): FieldError[] {
  const errs = validateObjectMeta(ev.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META);
  const ns = ev.metadata.namespace ?? "";
  const involvedNs = ev.involvedObject?.namespace ?? "";
  const nsPath = FieldPath.root("involvedObject").child("namespace");
  const mismatch = invalidValue(nsPath, involvedNs, "does not match event.namespace");
  if (!ev.eventTime) {
    if (involvedNs === "" ? ns !== "" && ns !== "default" : ns !== involvedNs) errs.push(mismatch);
  } else {
    if (involvedNs === "" && ns !== "default" && ns !== "kube-system") errs.push(mismatch);
    const rc = ev.reportingComponent ?? "";
    if (!rc) errs.push(required(FieldPath.root("reportingComponent"), ""));
    errs.push(...qualifiedName(rc, FieldPath.root("reportingComponent")));
    const limits: [string, string | undefined, number, boolean][] = [
      ["reportingInstance", ev.reportingInstance, 128, true],
      ["action", ev.action, 128, true],
      ["reason", ev.reason, 128, true],
      ["message", ev.message, 1024, false],
    ];
    for (const [name, value, max, needed] of limits) {
      if (needed && !value) errs.push(required(FieldPath.root(name), ""));
      if ((value ?? "").length > max)
        errs.push(invalidValue(FieldPath.root(name), "", `can have at most ${max} characters`));
    }
  }
  for (const m of isDNS1123Subdomain(ns)) errs.push(invalidValue(FieldPath.root("namespace"), ns, m));
  return errs;
}

// ---------------------------------------------------------------------------------------
// ReplicationController

/** Validates a ReplicationController: replicas, non-empty selector matching the template, template. */
export function validateReplicationController(rc: ReplicationController): FieldError[] {
  const errs = validateObjectMeta(rc.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META);
  const spec = rc.spec ?? {};
  errs.push(...nonNegative(spec.minReadySeconds ?? 0, SPEC.child("minReadySeconds")));
  const selector = spec.selector ?? {};
  if (Object.keys(selector).length === 0) errs.push(required(SPEC.child("selector"), ""));
  errs.push(...nonNegative(spec.replicas ?? 0, SPEC.child("replicas")));
  const tplPath = SPEC.child("template");
  const tpl = spec.template;
  if (!tpl) {
    errs.push(required(tplPath, ""));
    return errs;
  }
  const labels = tpl.metadata?.labels ?? {};
  if (Object.keys(selector).length > 0 && !Object.entries(selector).every(([k, v]) => labels[k] === v)) {
    errs.push(
      invalidValue(
        tplPath.child("metadata", "labels"),
        goStringMap(tpl.metadata?.labels),
        "`selector` does not match template `labels`",
      ),
    );
  }
  errs.push(...validatePodTemplateSpec(tpl, tplPath));
  const restart = tpl.spec?.restartPolicy ?? "";
  if (restart !== "Always")
    errs.push(notSupported(tplPath.child("spec", "restartPolicy"), restart, ["Always"]));
  if (tpl.spec?.activeDeadlineSeconds !== undefined) {
    const msg = "activeDeadlineSeconds in ReplicationController is not Supported";
    errs.push(forbidden(tplPath.child("spec", "activeDeadlineSeconds"), msg));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------
// The rule table

function withMetaUpdate<T extends { metadata: Pod["metadata"] }>(validate: (o: T) => FieldError[]) {
  return (obj: T, old: T): FieldError[] => [
    ...validateObjectMetaUpdate(obj.metadata, old.metadata, META),
    ...validate(obj),
  ];
}

/** Defaulting and validation for the core/v1 kinds, keyed by kind. */
export const coreRules: Record<string, KindRules> = {
  Pod: kindRules<Pod>({ defaults: defaultPod, validate: validatePod, validateUpdate: validatePodUpdate }),
  Namespace: kindRules<Namespace>({
    defaults: defaultNamespace,
    validate: validateNamespace,
    validateUpdate: withMetaUpdate(validateNamespace),
  }),
  Node: kindRules<Node>({
    defaults: defaultNode,
    validate: validateNode,
    validateUpdate: validateNodeUpdate,
  }),
  Service: kindRules<Service>({
    defaults: defaultService,
    validate: validateService,
    validateUpdate: validateServiceUpdate,
  }),
  Endpoints: kindRules<Endpoints>({
    defaults: defaultEndpoints,
    validate: validateEndpoints,
    validateUpdate: withMetaUpdate(validateEndpoints),
  }),
  ConfigMap: kindRules<ConfigMap>({ validate: validateConfigMap, validateUpdate: validateConfigMapUpdate }),
  Secret: kindRules<Secret>({
    defaults: defaultSecret,
    validate: validateSecret,
    validateUpdate: validateSecretUpdate,
  }),
  ServiceAccount: kindRules<ServiceAccount>({
    validate: validateServiceAccount,
    validateUpdate: withMetaUpdate(validateServiceAccount),
  }),
  Event: kindRules<Event>({ validate: validateEvent, validateUpdate: withMetaUpdate(validateEvent) }),
  ReplicationController: kindRules<ReplicationController>({
    defaults: defaultReplicationController,
    validate: validateReplicationController,
    validateUpdate: withMetaUpdate(validateReplicationController),
  }),
};
