/**
 * @module Validation of networking.k8s.io/v1 Ingress and IngressClass, following upstream's
 * networking validation: rule hosts are DNS-1123 subdomains (one leading `*.` wildcard
 * allowed) and never IPs; each path is absolute with a supported pathType (Exact and Prefix
 * paths may not hold `//`, `/./`, `/../` or end in `/.`/`/..`); a backend names a service
 * (with a port number or a port name, not both) or a resource, not both; at least a rule or
 * a default backend; TLS hosts follow the host rules. IngressClass needs a
 * domain-prefixed controller, which never changes.
 */
import { type FieldError, FieldPath, invalidValue, notSupported, required } from "../field-errors.ts";
import { type KindRules, kindRules } from "../object.ts";
import type { Ingress, IngressBackend, IngressClass } from "../types/networking-v1.ts";
import { isDNS1123Label, isDNS1123Subdomain, nameIsDNSSubdomain, parseableIP } from "./names.ts";
import { validateImmutableField, validateObjectMeta, validateObjectMetaUpdate } from "./object-meta.ts";

const META = FieldPath.root("metadata");
const SPEC = FieldPath.root("spec");
const PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"];
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const WILDCARD_MSG =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function validateHost(host: string, path: FieldPath): FieldError[] {
  if (parseableIP(host)) return [invalidValue(path, host, "must be a DNS name, not an IP address")];
  if (host.startsWith("*.")) {
    return isDNS1123Subdomain(host.slice(2)) ? [] : [invalidValue(path, host, WILDCARD_MSG)];
  }
  if (host.includes("*")) return [invalidValue(path, host, WILDCARD_MSG)];
  return isDNS1123Subdomain(host) ? [] : [invalidValue(path, host, DNS1123_SUBDOMAIN_MSG)];
}

function validateBackend(b: IngressBackend, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (b.service && b.resource) {
    errs.push(invalidValue(path, "", "cannot set both resource and service backends"));
    return errs;
  }
  if (b.resource) {
    if (!b.resource.kind) errs.push(required(path.child("resource", "kind"), ""));
    if (!b.resource.name) errs.push(required(path.child("resource", "name"), ""));
    return errs;
  }
  if (!b.service) return [invalidValue(path, "", "resource or service backend is required")];
  const svc = b.service;
  if (!svc.name) errs.push(required(path.child("service", "name"), ""));
  else if (!isDNS1123Label(svc.name)) {
    errs.push(
      invalidValue(
        path.child("service", "name"),
        svc.name,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
      ),
    );
  }
  const port = svc.port;
  const portPath = path.child("service", "port");
  if (!port || (port.name === undefined && port.number === undefined)) {
    errs.push(invalidValue(portPath, "", "port name or number is required"));
  } else if (port.name && port.number) {
    errs.push(invalidValue(portPath, "", "cannot set both port name & port number"));
  } else if (port.number !== undefined && (port.number < 1 || port.number > 65535)) {
    errs.push(invalidValue(portPath.child("number"), port.number, "must be between 1 and 65535, inclusive"));
  }
  return errs;
}

const BAD_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
const BAD_SUFFIXES = ["/..", "/."];

function validateIngress(ing: Ingress): FieldError[] {
  const errs = validateObjectMeta(ing.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }, META);
  const spec = ing.spec ?? {};
  if (!spec.defaultBackend && !spec.rules?.length) {
    errs.push(
      invalidValue(
        SPEC.child("rules"),
        spec.rules ?? [],
        "either `defaultBackend` or `rules` must be specified",
      ),
    );
  }
  if (spec.defaultBackend) errs.push(...validateBackend(spec.defaultBackend, SPEC.child("defaultBackend")));
  if (spec.ingressClassName !== undefined && !isDNS1123Subdomain(spec.ingressClassName)) {
    errs.push(invalidValue(SPEC.child("ingressClassName"), spec.ingressClassName, DNS1123_SUBDOMAIN_MSG));
  }
  (spec.rules ?? []).forEach((rule, i) => {
    const rp = SPEC.child("rules").index(i);
    if (rule.host) errs.push(...validateHost(rule.host, rp.child("host")));
    if (!rule.http) return;
    const paths = rule.http.paths ?? [];
    if (paths.length === 0) errs.push(required(rp.child("http", "paths"), ""));
    paths.forEach((p, j) => {
      const pp = rp.child("http", "paths").index(j);
      if (!p.pathType) errs.push(required(pp.child("pathType"), "pathType must be specified"));
      else if (!PATH_TYPES.includes(p.pathType))
        errs.push(notSupported(pp.child("pathType"), p.pathType, PATH_TYPES));
      const path = p.path ?? "";
      if (p.pathType === "Exact" || p.pathType === "Prefix" || p.pathType === "ImplementationSpecific") {
        if (!path.startsWith("/"))
          errs.push(invalidValue(pp.child("path"), path, "must be an absolute path"));
        else if (p.pathType !== "ImplementationSpecific") {
          const bad =
            BAD_SEQUENCES.find((b) => path.includes(b)) ?? BAD_SUFFIXES.find((b) => path.endsWith(b));
          if (bad) errs.push(invalidValue(pp.child("path"), path, `must not contain '${bad}'`));
        }
      }
      errs.push(...validateBackend(p.backend ?? {}, pp.child("backend")));
    });
  });
  (spec.tls ?? []).forEach((t, i) => {
    (t.hosts ?? []).forEach((h, j) =>
      errs.push(...validateHost(h, SPEC.child("tls").index(i).child("hosts").index(j))),
    );
  });
  return errs;
}

const ingressRules: KindRules<Ingress> = {
  validate: validateIngress,
  validateUpdate(ing, old) {
    return [
      ...validateObjectMetaUpdate(ing.metadata, old.metadata, META),
      ...validateIngress(ing).filter((e) => !e.field.startsWith("metadata")),
    ];
  },
};

function validateIngressClass(ic: IngressClass): FieldError[] {
  const errs = validateObjectMeta(ic.metadata, { namespaced: false, nameFn: nameIsDNSSubdomain }, META);
  const controller = ic.spec?.controller ?? "";
  const path = SPEC.child("controller");
  if (!controller) errs.push(required(path, ""));
  else if (controller.length > 250)
    errs.push(invalidValue(path, controller, "must be no more than 250 characters"));
  else {
    const slash = controller.indexOf("/");
    if (slash <= 0 || !isDNS1123Subdomain(controller.slice(0, slash))) {
      errs.push(invalidValue(path, controller, 'must be a domain-prefixed path (such as "acme.io/foo")'));
    }
  }
  return errs;
}

const ingressClassRules: KindRules<IngressClass> = {
  validate: validateIngressClass,
  validateUpdate(ic, old) {
    return [
      ...validateObjectMetaUpdate(ic.metadata, old.metadata, META),
      ...validateIngressClass(ic).filter((e) => !e.field.startsWith("metadata")),
      ...validateImmutableField(
        ic.spec?.controller ?? null,
        old.spec?.controller ?? null,
        SPEC.child("controller"),
      ),
    ];
  },
};

/** Validation for networking.k8s.io/v1 kinds, keyed by kind. */
export const networkingRules: Record<string, KindRules> = {
  Ingress: kindRules(ingressRules),
  IngressClass: kindRules(ingressClassRules),
};
