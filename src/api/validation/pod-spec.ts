/**
 * @module Validation of pod specs and pod templates, after upstream's ValidatePodSpec and
 * ValidatePodTemplateSpec (pkg/apis/core/validation): containers and init containers, ports,
 * env, volume mounts, resources, probes, volumes, policies, scheduling constraints. It
 * expects a defaulted spec, as upstream does (defaulting runs first), and reports every
 * problem as a field error in upstream's wording. Workload kinds (Deployment, Job, …) call
 * `validatePodTemplateSpec`; the Pod kind calls `validatePodSpec` with `resourceIsPod`.
 */
import type {
  Affinity,
  Container,
  EnvVar,
  ObjectFieldSelector,
  PodAffinityTerm,
  PodSpec,
  PodTemplateSpec,
  Probe,
  ResourceRequirements,
  Toleration,
  Volume,
} from "../types/core-v1.ts";
import {
  type FieldError,
  FieldPath,
  duplicate,
  forbidden,
  invalidValue,
  notSupported,
  required,
} from "../field-errors.ts";
import { validateLabelSelector } from "../labels.ts";
import {
  inclusiveRangeError,
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isRelaxedEnvVarName,
  isQualifiedName,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  validateAnnotations,
  validateLabels,
} from "./names.ts";
import { cmp, parseQuantity } from "../quantity.ts";

/** `Not found` error (upstream's field.NotFound); field-errors.ts has no helper for it. */
export function notFound(path: FieldPath, value: unknown): FieldError {
  return { type: "FieldValueNotFound", field: String(path), value, detail: "" };
}

/** One Invalid error per RFC 1123 label problem. */
export function dns1123Label(value: string, path: FieldPath): FieldError[] {
  return isDNS1123Label(value).map((m) => invalidValue(path, value, m));
}

/** One Invalid error per qualified-name problem (upstream's ValidateLabelName). */
export function qualifiedName(value: string, path: FieldPath): FieldError[] {
  return isQualifiedName(value).map((m) => invalidValue(path, value, m));
}

/** `must be greater than or equal to 0`, upstream's ValidateNonnegativeField. */
export function nonNegative(value: number, path: FieldPath): FieldError[] {
  return value < 0 ? [invalidValue(path, value, "must be greater than or equal to 0")] : [];
}

/** A port given by number (1–65535) or by IANA name, as in probes and Service targetPort. */
export function validatePortNumOrName(port: unknown, path: FieldPath): FieldError[] {
  if (typeof port === "number") return isValidPortNum(port).map((m) => invalidValue(path, port, m));
  if (typeof port === "string") return isValidPortName(port).map((m) => invalidValue(path, port, m));
  return [{ type: "InternalError", field: String(path), detail: `unknown type: ${typeof port}` }];
}

/** Why `v` is not a quantity (upstream's parse error text), or undefined when it parses. */
export function quantityError(v: unknown): string | undefined {
  if (typeof v !== "string" && typeof v !== "number") return "must be a quantity";
  try {
    parseQuantity(v);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** A quantity in upstream's canonical form (`500m`, `1Gi`), as its messages print it. */
export function quantityString(v: unknown): string {
  return parseQuantity(v as string | number).toString();
}

/** Compares two quantities that parse. */
export function cmpQuantity(a: unknown, b: unknown): number {
  return cmp(parseQuantity(a as string | number), parseQuantity(b as string | number));
}

/** Options for `validatePodSpec`. */
export interface PodSpecOptions {
  /** The spec belongs to a Pod (not a template): hostPort must equal containerPort with hostNetwork. */
  resourceIsPod?: boolean;
}

const MAX_INT32 = 2147483647;

/** Lists `'a', 'b'` sorted, as upstream's `sets.List` does before NotSupported. */
function sorted(values: readonly string[]): string[] {
  return [...values].sort();
}

function validateEnumRequired(
  value: string | undefined,
  valid: readonly string[],
  path: FieldPath,
): FieldError[] {
  if (!value) return [required(path, "")];
  if (!valid.includes(value)) return [notSupported(path, value, valid)];
  return [];
}

const PROTOCOLS = ["SCTP", "TCP", "UDP"];

function validateContainerPorts(c: Container, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (c.ports ?? []).forEach((port, i) => {
    const p = path.index(i);
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length) for (const m of msgs) errs.push(invalidValue(p.child("name"), port.name, m));
      else if (names.has(port.name)) errs.push(duplicate(p.child("name"), port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(required(p.child("containerPort"), ""));
    else
      for (const m of isValidPortNum(port.containerPort))
        errs.push(invalidValue(p.child("containerPort"), port.containerPort, m));
    if (port.hostPort)
      for (const m of isValidPortNum(port.hostPort))
        errs.push(invalidValue(p.child("hostPort"), port.hostPort, m));
    if (!port.protocol) errs.push(required(p.child("protocol"), ""));
    else if (!PROTOCOLS.includes(port.protocol))
      errs.push(notSupported(p.child("protocol"), port.protocol, PROTOCOLS));
    if (port.hostIP)
      for (const m of isValidIP(port.hostIP)) errs.push(invalidValue(p.child("hostIP"), port.hostIP, m));
  });
  return errs;
}

const ENV_FIELD_PATHS = sorted([
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
  "spec.nodeName",
  "spec.serviceAccountName",
  "status.hostIP",
  "status.hostIPs",
  "status.podIP",
  "status.podIPs",
]);
/** Field paths the v1 downward API converts (upstream's ConvertDownwardAPIFieldLabel). */
const CONVERTIBLE_FIELD_PATHS = new Set([
  "metadata.annotations",
  "metadata.labels",
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
  "spec.nodeName",
  "spec.restartPolicy",
  "spec.serviceAccountName",
  "spec.schedulerName",
  "status.phase",
  "status.hostIP",
  "status.hostIPs",
  "status.podIP",
  "status.podIPs",
]);

function splitSubscript(fieldPath: string): [string, string] | undefined {
  const open = fieldPath.indexOf("['");
  if (open < 0 || !fieldPath.endsWith("']")) return undefined;
  return [fieldPath.slice(0, open), fieldPath.slice(open + 2, -2)];
}

/** Validates a downward-API `fieldRef` against the allowed paths (`expressions`). */
export function validateObjectFieldSelector(
  fs: ObjectFieldSelector,
  expressions: readonly string[],
  path: FieldPath,
): FieldError[] {
  if (!fs.apiVersion) return [required(path.child("apiVersion"), "")];
  if (!fs.fieldPath) return [required(path.child("fieldPath"), "")];
  const sub = splitSubscript(fs.fieldPath);
  const base = sub ? sub[0] : fs.fieldPath;
  if (fs.apiVersion !== "v1") {
    return [
      invalidValue(
        path.child("fieldPath"),
        fs.fieldPath,
        `error converting fieldPath: unsupported pod version: ${fs.apiVersion}`,
      ),
    ];
  }
  if (
    !CONVERTIBLE_FIELD_PATHS.has(base) ||
    (sub && base !== "metadata.labels" && base !== "metadata.annotations")
  ) {
    return [
      invalidValue(
        path.child("fieldPath"),
        fs.fieldPath,
        `error converting fieldPath: field label not supported: ${fs.fieldPath}`,
      ),
    ];
  }
  if (sub) {
    const key = base === "metadata.annotations" ? sub[1].toLowerCase() : sub[1];
    return qualifiedName(key, path);
  }
  if (!expressions.includes(base)) return [notSupported(path.child("fieldPath"), base, expressions)];
  return [];
}

const RESOURCE_FIELD_REFS = sorted([
  "limits.cpu",
  "limits.memory",
  "limits.ephemeral-storage",
  "requests.cpu",
  "requests.memory",
  "requests.ephemeral-storage",
]);

function validateKeySelector(
  name: string | undefined,
  key: string | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  for (const m of isDNS1123Subdomain(name ?? "")) errs.push(invalidValue(path.child("name"), name ?? "", m));
  if (!key) errs.push(required(path.child("key"), ""));
  else for (const m of isConfigMapKey(key)) errs.push(invalidValue(path.child("key"), key, m));
  return errs;
}

function validateEnvVar(ev: EnvVar, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!ev.name) errs.push(required(path.child("name"), ""));
  else for (const m of isRelaxedEnvVarName(ev.name)) errs.push(invalidValue(path.child("name"), ev.name, m));
  const vf = ev.valueFrom;
  if (!vf) return errs;
  const vp = path.child("valueFrom");
  let sources = 0;
  if (vf.fieldRef) {
    sources++;
    errs.push(...validateObjectFieldSelector(vf.fieldRef, ENV_FIELD_PATHS, vp.child("fieldRef")));
  }
  if (vf.resourceFieldRef) {
    sources++;
    const r = vf.resourceFieldRef;
    const rp = vp.child("resourceFieldRef");
    if (!r.resource) errs.push(required(rp.child("resource"), ""));
    else if (
      !RESOURCE_FIELD_REFS.includes(r.resource) &&
      !/^(requests|limits)\.hugepages-/.test(r.resource)
    ) {
      errs.push(notSupported(rp.child("resource"), r.resource, RESOURCE_FIELD_REFS));
    }
  }
  if (vf.configMapKeyRef) {
    sources++;
    errs.push(
      ...validateKeySelector(vf.configMapKeyRef.name, vf.configMapKeyRef.key, vp.child("configMapKeyRef")),
    );
  }
  if (vf.secretKeyRef) {
    sources++;
    errs.push(...validateKeySelector(vf.secretKeyRef.name, vf.secretKeyRef.key, vp.child("secretKeyRef")));
  }
  if (sources === 0) {
    errs.push(
      invalidValue(
        vp,
        "",
        "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
      ),
    );
  } else if (ev.value) {
    errs.push(invalidValue(vp, "", "may not be specified when `value` is not empty"));
  } else if (sources > 1) {
    errs.push(invalidValue(vp, "", "may not have more than one field specified at a time"));
  }
  return errs;
}

function validateEnvFrom(c: Container, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  (c.envFrom ?? []).forEach((ef, i) => {
    const p = path.index(i);
    if (ef.prefix)
      for (const m of isRelaxedEnvVarName(ef.prefix))
        errs.push(invalidValue(p.child("prefix"), ef.prefix, m));
    let sources = 0;
    for (const [key, ref] of [
      ["configMapRef", ef.configMapRef],
      ["secretRef", ef.secretRef],
    ] as const) {
      if (!ref) continue;
      sources++;
      if (!ref.name) errs.push(required(p.child(key, "name"), ""));
      else
        for (const m of isDNS1123Subdomain(ref.name))
          errs.push(invalidValue(p.child(key, "name"), ref.name, m));
    }
    if (sources === 0)
      errs.push(invalidValue(path, "", "must specify one of: `configMapRef` or `secretRef`"));
    else if (sources > 1)
      errs.push(invalidValue(path, "", "may not have more than one field specified at a time"));
  });
  return errs;
}

function validateVolumeMounts(c: Container, volumes: ReadonlySet<string>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const mountPaths = new Set<string>();
  (c.volumeMounts ?? []).forEach((m, i) => {
    const p = path.index(i);
    if (!m.name) errs.push(required(p.child("name"), ""));
    if (!volumes.has(m.name ?? "")) errs.push(notFound(p.child("name"), m.name ?? ""));
    if (!m.mountPath) errs.push(required(p.child("mountPath"), ""));
    if (mountPaths.has(m.mountPath ?? ""))
      errs.push(invalidValue(p.child("mountPath"), m.mountPath ?? "", "must be unique"));
    mountPaths.add(m.mountPath ?? "");
    if (m.subPath) {
      if (m.subPath.startsWith("/"))
        errs.push(invalidValue(path.child("subPath"), m.subPath, "must be a relative path"));
      if (m.subPath.split("/").includes(".."))
        errs.push(invalidValue(path.child("subPath"), m.subPath, "must not contain '..'"));
    }
    if (m.subPathExpr && m.subPath) {
      errs.push(
        invalidValue(p.child("subPathExpr"), m.subPathExpr, "subPathExpr and subPath are mutually exclusive"),
      );
    }
    if (m.mountPropagation && !["None", "HostToContainer", "Bidirectional"].includes(m.mountPropagation)) {
      errs.push(
        notSupported(path.child("mountPropagation"), m.mountPropagation, [
          "Bidirectional",
          "HostToContainer",
          "None",
        ]),
      );
    }
  });
  return errs;
}

const CONTAINER_RESOURCES = new Set(["cpu", "memory", "ephemeral-storage"]);
const STANDARD_RESOURCES = new Set([
  ...CONTAINER_RESOURCES,
  "requests.cpu",
  "requests.memory",
  "requests.ephemeral-storage",
  "requests.storage",
  "limits.cpu",
  "limits.memory",
  "limits.ephemeral-storage",
  "pods",
  "services",
  "replicationcontrollers",
  "resourcequotas",
  "secrets",
  "configmaps",
  "persistentvolumeclaims",
  "storage",
]);

function isHugePages(name: string): boolean {
  return name.startsWith("hugepages-");
}
function isNativeResource(name: string): boolean {
  return !name.includes("/") || name.includes("kubernetes.io/");
}
/** Whether requests may be below limits for the resource (native resources except hugepages). */
function overcommitAllowed(name: string): boolean {
  return isNativeResource(name) && !isHugePages(name);
}

function validateContainerResourceName(name: string, path: FieldPath): FieldError[] {
  const errs = qualifiedName(name, path);
  if (errs.length) return errs;
  if (!name.includes("/")) {
    if (!STANDARD_RESOURCES.has(name) && !isHugePages(name) && !name.startsWith("requests.hugepages-")) {
      errs.push(invalidValue(path, name, "must be a standard resource type or fully qualified"));
    }
    if (!CONTAINER_RESOURCES.has(name) && !isHugePages(name)) {
      errs.push(invalidValue(path, name, "must be a standard resource for containers"));
    }
  } else if (!isNativeResource(name) && name.startsWith("requests.")) {
    errs.push(invalidValue(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

function validateQuantityValue(name: string, value: unknown, path: FieldPath): FieldError[] {
  const bad = quantityError(value);
  if (bad) return [invalidValue(path, value, bad)];
  const s = quantityString(value);
  const errs: FieldError[] = [];
  if (cmpQuantity(s, "0") < 0) errs.push(invalidValue(path, s, "must be greater than or equal to 0"));
  if (!isNativeResource(name) && parseQuantity(value as string | number).milliValue() % 1000n !== 0n) {
    errs.push(invalidValue(path, s, "must be an integer"));
  }
  return errs;
}

/** Validates a container's `resources`: names, quantities, and requests against limits. */
export function validateResourceRequirements(
  res: ResourceRequirements | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const limits = res?.limits ?? {};
  const requests = res?.requests ?? {};
  const limPath = path.child("limits");
  const reqPath = path.child("requests");
  for (const [name, q] of Object.entries(limits)) {
    errs.push(...validateContainerResourceName(name, limPath.key(name)));
    errs.push(...validateQuantityValue(name, q, limPath.key(name)));
  }
  for (const [name, q] of Object.entries(requests)) {
    const p = reqPath.key(name);
    errs.push(...validateContainerResourceName(name, p));
    const qErrs = validateQuantityValue(name, q, p);
    errs.push(...qErrs);
    if (qErrs.length) continue;
    const limit = limits[name];
    if (limit !== undefined && !quantityError(limit)) {
      const rq = quantityString(q);
      const lq = quantityString(limit);
      const c = cmpQuantity(rq, lq);
      if (c !== 0 && !overcommitAllowed(name)) {
        errs.push(invalidValue(reqPath, rq, `must be equal to ${name} limit of ${lq}`));
      } else if (c > 0) {
        errs.push(invalidValue(reqPath, rq, `must be less than or equal to ${name} limit of ${lq}`));
      }
    } else if (limit === undefined && !overcommitAllowed(name)) {
      errs.push(required(limPath, "Limit must be set for non overcommitable resources"));
    }
  }
  return errs;
}

interface HandlerLike {
  exec?: { command?: string[] };
  httpGet?: { path?: string; port: number | string; scheme?: string; httpHeaders?: { name: string }[] };
  tcpSocket?: { port: number | string };
  grpc?: { port: number };
  sleep?: { seconds: number };
}

function validateHandler(h: HandlerLike, gracePeriod: number | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  const one = (key: string, check: () => FieldError[]): void => {
    if (n > 0) errs.push(forbidden(path.child(key), "may not specify more than 1 handler type"));
    else {
      n++;
      errs.push(...check());
    }
  };
  if (h.exec)
    one("exec", () => (h.exec?.command?.length ? [] : [required(path.child("exec", "command"), "")]));
  if (h.httpGet) {
    const g = h.httpGet;
    one("httpGet", () => {
      const p = path.child("httpGet");
      const e: FieldError[] = [];
      if (!g.path) e.push(required(p.child("path"), ""));
      e.push(...validatePortNumOrName(g.port, p.child("port")));
      if (!["HTTP", "HTTPS"].includes(g.scheme ?? ""))
        e.push(notSupported(p.child("scheme"), g.scheme ?? "", ["HTTP", "HTTPS"]));
      return e;
    });
  }
  if (h.tcpSocket) {
    const t = h.tcpSocket;
    one("tcpSocket", () => validatePortNumOrName(t.port, path.child("tcpSocket", "port")));
  }
  if (h.grpc) {
    const g = h.grpc;
    one("grpc", () => validatePortNumOrName(g.port, path.child("grpc", "port")));
  }
  if (h.sleep) {
    const s = h.sleep;
    one("sleep", () => {
      if (gracePeriod === undefined || (s.seconds > 0 && s.seconds <= gracePeriod)) return [];
      const msg = `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`;
      return [invalidValue(path.child("sleep"), s.seconds, msg)];
    });
  }
  if (n === 0) errs.push(required(path, "must specify a handler type"));
  return errs;
}

type ProbeKind = "livenessProbe" | "readinessProbe" | "startupProbe";

function validateProbe(
  probe: Probe | undefined,
  kind: ProbeKind,
  gracePeriod: number | undefined,
  path: FieldPath,
): FieldError[] {
  if (!probe) return [];
  const errs = validateHandler(probe, gracePeriod, path);
  for (const f of [
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
  ] as const) {
    errs.push(...nonNegative(probe[f] ?? 0, path.child(f)));
  }
  const tgps = probe.terminationGracePeriodSeconds;
  if (tgps !== undefined && tgps !== null && tgps <= 0) {
    errs.push(invalidValue(path.child("terminationGracePeriodSeconds"), tgps, "must be greater than 0"));
  }
  if (kind !== "readinessProbe" && probe.successThreshold !== 1) {
    errs.push(invalidValue(path.child("successThreshold"), probe.successThreshold ?? 0, "must be 1"));
  }
  if (kind === "readinessProbe" && tgps !== undefined && tgps !== null) {
    errs.push(
      invalidValue(path.child("terminationGracePeriodSeconds"), tgps, "must not be set for readinessProbes"),
    );
  }
  return errs;
}

const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
const TERMINATION_MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"];

function validateContainerCommon(c: Container, volumes: ReadonlySet<string>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(required(path.child("name"), ""));
  else errs.push(...dns1123Label(c.name, path.child("name")));
  if (!c.image) errs.push(required(path.child("image"), ""));
  errs.push(
    ...validateEnumRequired(
      c.terminationMessagePolicy,
      TERMINATION_MESSAGE_POLICIES,
      path.child("terminationMessagePolicy"),
    ),
  );
  errs.push(...validateContainerPorts(c, path.child("ports")));
  (c.env ?? []).forEach((ev, i) => errs.push(...validateEnvVar(ev, path.child("env").index(i))));
  errs.push(...validateEnvFrom(c, path.child("envFrom")));
  errs.push(...validateVolumeMounts(c, volumes, path.child("volumeMounts")));
  errs.push(...validateEnumRequired(c.imagePullPolicy, PULL_POLICIES, path.child("imagePullPolicy")));
  errs.push(...validateResourceRequirements(c.resources, path.child("resources")));
  const sc = c.securityContext;
  if (sc?.runAsUser !== undefined && (sc.runAsUser < 0 || sc.runAsUser > MAX_INT32)) {
    errs.push(
      invalidValue(
        path.child("securityContext", "runAsUser"),
        sc.runAsUser,
        inclusiveRangeError(0, MAX_INT32),
      ),
    );
  }
  if (sc?.runAsGroup !== undefined && (sc.runAsGroup < 0 || sc.runAsGroup > MAX_INT32)) {
    errs.push(
      invalidValue(
        path.child("securityContext", "runAsGroup"),
        sc.runAsGroup,
        inclusiveRangeError(0, MAX_INT32),
      ),
    );
  }
  if (sc?.allowPrivilegeEscalation === false && sc.privileged === true) {
    errs.push(
      invalidValue(
        path.child("securityContext"),
        sc,
        "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
      ),
    );
  }
  return errs;
}

function hostPortConflicts(containers: Container[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, ci) => {
    (c.ports ?? []).forEach((p, pi) => {
      if (!p.hostPort) return;
      const key = `${p.protocol ?? ""}/${p.hostIP ?? ""}/${p.hostPort}`;
      if (seen.has(key)) errs.push(duplicate(path.index(ci).child("ports").index(pi).child("hostPort"), key));
      else seen.add(key);
    });
  });
  return errs;
}

function validateContainers(
  spec: PodSpec,
  volumes: ReadonlySet<string>,
  grace: number | undefined,
  path: FieldPath,
): FieldError[] {
  const containers = spec.containers ?? [];
  if (containers.length === 0) return [required(path, "")];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, volumes, p));
    if (names.has(c.name)) errs.push(duplicate(p.child("name"), c.name));
    else names.add(c.name);
    if (c.lifecycle?.postStart)
      errs.push(...validateHandler(c.lifecycle.postStart, grace, p.child("lifecycle", "postStart")));
    if (c.lifecycle?.preStop)
      errs.push(...validateHandler(c.lifecycle.preStop, grace, p.child("lifecycle", "preStop")));
    for (const k of ["livenessProbe", "readinessProbe", "startupProbe"] as const) {
      errs.push(...validateProbe(c[k], k, grace, p.child(k)));
    }
    if ((c as { restartPolicy?: string }).restartPolicy !== undefined) {
      errs.push(forbidden(p.child("restartPolicy"), "may not be set for non-init containers"));
    }
  });
  errs.push(...hostPortConflicts(containers, path));
  return errs;
}

function validateInitContainers(
  spec: PodSpec,
  volumes: ReadonlySet<string>,
  grace: number | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set((spec.containers ?? []).map((c) => c.name));
  (spec.initContainers ?? []).forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, volumes, p));
    const restartPolicy = (c as { restartPolicy?: string }).restartPolicy;
    if (restartPolicy !== undefined && restartPolicy !== "Always") {
      errs.push(notSupported(p.child("restartPolicy"), restartPolicy, ["Always"]));
    }
    if (names.has(c.name)) errs.push(duplicate(p.child("name"), c.name));
    else if (c.name) names.add(c.name);
    errs.push(...hostPortConflicts([c], path));
    if (restartPolicy === "Always") {
      if (c.lifecycle?.postStart)
        errs.push(...validateHandler(c.lifecycle.postStart, grace, p.child("lifecycle", "postStart")));
      if (c.lifecycle?.preStop)
        errs.push(...validateHandler(c.lifecycle.preStop, grace, p.child("lifecycle", "preStop")));
      for (const k of ["livenessProbe", "readinessProbe", "startupProbe"] as const) {
        errs.push(...validateProbe(c[k], k, grace, p.child(k)));
      }
    } else {
      for (const k of ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"] as const) {
        if (c[k])
          errs.push(forbidden(p.child(k), "may not be set for init containers without restartPolicy=Always"));
      }
    }
  });
  return errs;
}

function validateTaintEffect(effect: string, path: FieldPath): FieldError[] {
  const valid = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
  return valid.includes(effect) ? [] : [notSupported(path, effect, valid)];
}

/** Validates tolerations as upstream's ValidateTolerations (including its quirky paths). */
export function validateTolerations(tolerations: readonly Toleration[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  tolerations.forEach((t, i) => {
    const p = path.index(i);
    if (t.key) errs.push(...qualifiedName(t.key, p.child("key")));
    if (!t.key && t.operator !== "Exists") {
      errs.push(
        invalidValue(
          p.child("operator"),
          t.operator ?? "",
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== "NoExecute") {
      errs.push(
        invalidValue(
          p.child("effect"),
          t.effect ?? "",
          "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ),
      );
    }
    switch (t.operator ?? "") {
      case "Equal":
      case "": {
        const msgs = isValidLabelValue(t.value ?? "");
        if (msgs.length) errs.push(invalidValue(p.child("operator"), t.value ?? "", msgs.join(";")));
        break;
      }
      case "Exists":
        if (t.value)
          errs.push(
            invalidValue(p.child("operator"), t.value, "value must be empty when `operator` is 'Exists'"),
          );
        break;
      default:
        errs.push(notSupported(p.child("operator"), t.operator, ["Equal", "Exists"]));
    }
    if (t.effect) errs.push(...validateTaintEffect(t.effect, p.child("effect")));
  });
  return errs;
}

interface SelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

function validateNodeSelectorRequirement(
  rq: SelectorRequirement,
  checkValues: boolean,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const n = rq.values?.length ?? 0;
  switch (rq.operator) {
    case "In":
    case "NotIn":
      if (n === 0)
        errs.push(required(path.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case "Exists":
    case "DoesNotExist":
      if (n > 0)
        errs.push(
          forbidden(
            path.child("values"),
            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
          ),
        );
      break;
    case "Gt":
    case "Lt":
      if (n !== 1)
        errs.push(
          required(path.child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"),
        );
      break;
    default:
      errs.push(invalidValue(path.child("operator"), rq.operator, "not a valid selector operator"));
  }
  errs.push(...qualifiedName(rq.key, path.child("key")));
  if (checkValues) {
    (rq.values ?? []).forEach((v, i) => {
      for (const m of isValidLabelValue(v)) errs.push(invalidValue(path.child("values").index(i), v, m));
    });
  }
  return errs;
}

interface NodeSelectorTermLike {
  matchExpressions?: SelectorRequirement[];
  matchFields?: SelectorRequirement[];
}

function validateNodeSelectorTerm(
  term: NodeSelectorTermLike,
  checkValues: boolean,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  (term.matchExpressions ?? []).forEach((rq, j) =>
    errs.push(...validateNodeSelectorRequirement(rq, checkValues, path.child("matchExpressions").index(j))),
  );
  (term.matchFields ?? []).forEach((rq, j) => {
    const p = path.child("matchFields").index(j);
    if (rq.operator !== "In" && rq.operator !== "NotIn") {
      errs.push(invalidValue(p.child("operator"), rq.operator, "not a valid selector operator"));
    } else if (rq.values?.length !== 1) {
      errs.push(
        required(
          p.child("values"),
          "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
        ),
      );
    }
    if (rq.key !== "metadata.name")
      errs.push(invalidValue(p.child("key"), rq.key, "not a valid field selector key"));
    else {
      (rq.values ?? []).forEach((v, i) => {
        for (const m of isDNS1123Subdomain(v)) errs.push(invalidValue(p.child("values").index(i), v, m));
      });
    }
  });
  return errs;
}

function validatePodAffinityTerm(term: PodAffinityTerm, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (term.labelSelector)
    errs.push(...validateLabelSelector(term.labelSelector, path.child("labelSelector")));
  if (term.namespaceSelector)
    errs.push(...validateLabelSelector(term.namespaceSelector, path.child("namespaceSelector")));
  for (const ns of term.namespaces ?? []) {
    for (const m of isDNS1123Label(ns)) errs.push(invalidValue(path.child("namespace"), ns, m));
  }
  if (!term.topologyKey) errs.push(required(path.child("topologyKey"), "can not be empty"));
  errs.push(...qualifiedName(term.topologyKey ?? "", path.child("topologyKey")));
  return errs;
}

function validateWeight(weight: number, path: FieldPath): FieldError[] {
  return weight <= 0 || weight > 100 ? [invalidValue(path, weight, "must be in the range 1-100")] : [];
}

/** Validates node, pod and pod anti-affinity. */
export function validateAffinity(affinity: Affinity | undefined, path: FieldPath): FieldError[] {
  if (!affinity) return [];
  const errs: FieldError[] = [];
  const na = affinity.nodeAffinity;
  if (na) {
    const np = path.child("nodeAffinity");
    const req = na.requiredDuringSchedulingIgnoredDuringExecution;
    if (req) {
      const tp = np.child("requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms");
      if (!req.nodeSelectorTerms?.length)
        errs.push(required(tp, "must have at least one node selector term"));
      (req.nodeSelectorTerms ?? []).forEach((t, i) =>
        errs.push(...validateNodeSelectorTerm(t, true, tp.index(i))),
      );
    }
    (na.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) => {
      const p = np.child("preferredDuringSchedulingIgnoredDuringExecution").index(i);
      errs.push(...validateWeight(t.weight, p.child("weight")));
      errs.push(...validateNodeSelectorTerm(t.preference, false, p.child("preference")));
    });
  }
  for (const key of ["podAffinity", "podAntiAffinity"] as const) {
    const pa = affinity[key];
    if (!pa) continue;
    const pp = path.child(key);
    (pa.requiredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) =>
      errs.push(
        ...validatePodAffinityTerm(t, pp.child("requiredDuringSchedulingIgnoredDuringExecution").index(i)),
      ),
    );
    (pa.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) => {
      const p = pp.child("preferredDuringSchedulingIgnoredDuringExecution").index(i);
      errs.push(...validateWeight(t.weight, p.child("weight")));
      errs.push(...validatePodAffinityTerm(t.podAffinityTerm, p.child("podAffinityTerm")));
    });
  }
  return errs;
}

/** Upstream's volume source keys, in the order its validateVolumeSource checks them. */
const VOLUME_SOURCES: readonly (readonly [key: string, errPath: string])[] = [
  ["emptyDir", "emptyDir"],
  ["hostPath", "hostPath"],
  ["gitRepo", "gitRepo"],
  ["gcePersistentDisk", "gcePersistentDisk"],
  ["awsElasticBlockStore", "awsElasticBlockStore"],
  ["secret", "secret"],
  ["nfs", "nfs"],
  ["iscsi", "iscsi"],
  ["glusterfs", "glusterfs"],
  ["flocker", "flocker"],
  ["persistentVolumeClaim", "persistentVolumeClaim"],
  ["rbd", "rbd"],
  ["cinder", "cinder"],
  ["cephfs", "cephFS"],
  ["quobyte", "quobyte"],
  ["downwardAPI", "downwarAPI"],
  ["fc", "fc"],
  ["flexVolume", "flexVolume"],
  ["configMap", "configMap"],
  ["azureFile", "azureFile"],
  ["vsphereVolume", "vsphereVolume"],
  ["photonPersistentDisk", "photonPersistentDisk"],
  ["portworxVolume", "portworxVolume"],
  ["azureDisk", "azureDisk"],
  ["storageos", "storageos"],
  ["projected", "projected"],
  ["scaleIO", "scaleIO"],
  ["csi", "csi"],
  ["ephemeral", "ephemeral"],
  ["image", "image"],
];

const FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive";
const HOST_PATH_TYPES = [
  "",
  "BlockDevice",
  "CharDevice",
  "Directory",
  "DirectoryOrCreate",
  "File",
  "FileOrCreate",
  "Socket",
];

function validateFileMode(mode: number | undefined, path: FieldPath): FieldError[] {
  return mode !== undefined && mode !== null && (mode > 0o777 || mode < 0)
    ? [invalidValue(path, mode, FILE_MODE_ERROR)]
    : [];
}

function noBacksteps(target: string, path: FieldPath): FieldError[] {
  return target.split("/").includes("..") ? [invalidValue(path, target, "must not contain '..'")] : [];
}

/** Upstream's validateLocalNonReservedPath: relative, no `..` element, not starting with `..`. */
function localNonReservedPath(target: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith("/")) errs.push(invalidValue(path, target, "must be a relative path"));
  errs.push(...noBacksteps(target, path));
  if (target.startsWith("..") && !target.startsWith("../"))
    errs.push(invalidValue(path, target, "must not start with '..'"));
  return errs;
}

interface KeyToPathLike {
  key?: string;
  path?: string;
  mode?: number;
}

function validateItems(items: readonly KeyToPathLike[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  (items ?? []).forEach((kp, i) => {
    const p = path.index(i);
    if (!kp.key) errs.push(required(p.child("key"), ""));
    if (!kp.path) errs.push(required(p.child("path"), ""));
    else errs.push(...localNonReservedPath(kp.path, p.child("path")));
    errs.push(...validateFileMode(kp.mode, p.child("mode")));
  });
  return errs;
}

interface DownwardItemLike {
  path?: string;
  fieldRef?: ObjectFieldSelector;
  resourceFieldRef?: { containerName?: string; resource?: string };
  mode?: number;
}

const VOLUME_FIELD_PATHS = sorted([...ENV_FIELD_PATHS, "metadata.annotations", "metadata.labels"]).filter(
  (p) => !p.startsWith("status.") && p !== "spec.nodeName" && p !== "spec.serviceAccountName",
);

function validateDownwardItems(
  items: readonly DownwardItemLike[] | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  (items ?? []).forEach((item, i) => {
    const p = path.index(i);
    if (!item.path) errs.push(required(p.child("path"), ""));
    else errs.push(...localNonReservedPath(item.path, p.child("path")));
    errs.push(...validateFileMode(item.mode, p.child("mode")));
    if (item.fieldRef) {
      errs.push(...validateObjectFieldSelector(item.fieldRef, VOLUME_FIELD_PATHS, p.child("fieldRef")));
      if (item.resourceFieldRef) {
        errs.push(
          invalidValue(p, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"),
        );
      }
    } else if (item.resourceFieldRef) {
      if (!item.resourceFieldRef.containerName)
        errs.push(required(p.child("resourceFieldRef", "containerName"), ""));
    } else {
      errs.push(required(p, "one of fieldRef and resourceFieldRef is required"));
    }
  });
  return errs;
}

type VolumeLike = Volume & Record<string, unknown>;

function validateVolumeSource(v: VolumeLike, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  for (const [key, errPath] of VOLUME_SOURCES) {
    if (v[key] === undefined || v[key] === null) continue;
    if (n > 0) {
      errs.push(forbidden(path.child(errPath), "may not specify more than 1 volume type"));
      continue;
    }
    n++;
    const p = path.child(key);
    if (v.hostPath && key === "hostPath") {
      if (!v.hostPath.path) {
        errs.push(required(p.child("path"), ""));
      } else {
        errs.push(...noBacksteps(v.hostPath.path, p.child("path")));
        const t = v.hostPath.type ?? "";
        if (!HOST_PATH_TYPES.includes(t)) errs.push(notSupported(p.child("type"), t, HOST_PATH_TYPES));
      }
    } else if (v.secret && key === "secret") {
      if (!v.secret.secretName) errs.push(required(p.child("secretName"), ""));
      errs.push(...validateFileMode(v.secret.defaultMode, p.child("defaultMode")));
      errs.push(...validateItems(v.secret.items, p.child("items")));
    } else if (v.configMap && key === "configMap") {
      if (!v.configMap.name) errs.push(required(p.child("name"), ""));
      errs.push(...validateFileMode(v.configMap.defaultMode, p.child("defaultMode")));
      errs.push(...validateItems(v.configMap.items, p.child("items")));
    } else if (v.persistentVolumeClaim && key === "persistentVolumeClaim") {
      if (!v.persistentVolumeClaim.claimName) errs.push(required(p.child("claimName"), ""));
    } else if (v.nfs && key === "nfs") {
      if (!v.nfs.server) errs.push(required(p.child("server"), ""));
      if (!v.nfs.path) errs.push(required(p.child("path"), ""));
      else if (!v.nfs.path.startsWith("/"))
        errs.push(invalidValue(p.child("path"), v.nfs.path, "must be an absolute path"));
    } else if (v.downwardAPI && key === "downwardAPI") {
      errs.push(...validateFileMode(v.downwardAPI.defaultMode, p.child("defaultMode")));
      errs.push(...validateDownwardItems(v.downwardAPI.items, p));
    } else if (v.projected && key === "projected") {
      errs.push(...validateFileMode(v.projected.defaultMode, p.child("defaultMode")));
      (v.projected.sources ?? []).forEach((src, i) => {
        const sp = p.child("sources").index(i);
        if (src.secret) errs.push(...validateItems(src.secret.items, sp.child("secret", "items")));
        if (src.configMap) errs.push(...validateItems(src.configMap.items, sp.child("configMap", "items")));
        if (src.downwardAPI)
          errs.push(...validateDownwardItems(src.downwardAPI.items, sp.child("downwardAPI")));
        const sat = src.serviceAccountToken;
        if (sat) {
          if (!sat.path) errs.push(required(sp.child("serviceAccountToken", "path"), ""));
          const exp = sat.expirationSeconds;
          if (exp !== undefined && exp < 600) {
            errs.push(
              invalidValue(
                sp.child("serviceAccountToken", "expirationSeconds"),
                exp,
                "may not specify a duration less than 10 minutes",
              ),
            );
          }
        }
      });
    } else if (v.gitRepo && key === "gitRepo") {
      if (!v.gitRepo.repository) errs.push(required(p.child("repository"), ""));
    }
  }
  if (n === 0) errs.push(required(path, "must specify a volume type"));
  return errs;
}

/** Validates pod volumes; returns the names of valid ones (what mounts may refer to) and the errors. */
export function validateVolumes(
  volumes: readonly Volume[],
  path: FieldPath,
): { names: Set<string>; errors: FieldError[] } {
  const names = new Set<string>();
  const errors: FieldError[] = [];
  volumes.forEach((vol, i) => {
    const p = path.index(i);
    const el = validateVolumeSource(vol as VolumeLike, p);
    if (!vol.name) el.push(required(p.child("name"), ""));
    else el.push(...dns1123Label(vol.name, p.child("name")));
    if (names.has(vol.name)) el.push(duplicate(p.child("name"), vol.name));
    if (el.length === 0) names.add(vol.name);
    else errors.push(...el);
  });
  return { names, errors };
}

function validateDNSConfig(spec: PodSpec, path: FieldPath): FieldError[] {
  const cfg = spec.dnsConfig;
  if (spec.dnsPolicy === "None") {
    if (!cfg) return [required(path, "must provide `dnsConfig` when `dnsPolicy` is None")];
    if (!cfg.nameservers?.length) {
      return [
        required(
          path.child("nameservers"),
          "must provide at least one DNS nameserver when `dnsPolicy` is None",
        ),
      ];
    }
  }
  if (!cfg) return [];
  const errs: FieldError[] = [];
  const ns = cfg.nameservers ?? [];
  if (ns.length > 3)
    errs.push(invalidValue(path.child("nameservers"), ns, "must not have more than 3 nameservers"));
  ns.forEach((ip, i) => {
    for (const m of isValidIP(ip)) errs.push(invalidValue(path.child("nameservers").index(i), ip, m));
  });
  const searches = cfg.searches ?? [];
  if (searches.length > 32)
    errs.push(invalidValue(path.child("searches"), searches, "must not have more than 32 search paths"));
  if (searches.join(" ").length > 2048) {
    errs.push(
      invalidValue(
        path.child("searches"),
        searches,
        "must not have more than 2048 characters (including spaces) in the search list",
      ),
    );
  }
  searches.forEach((s, i) => {
    const trimmed = s.endsWith(".") ? s.slice(0, -1) : s;
    for (const m of isDNS1123Subdomain(trimmed))
      errs.push(invalidValue(path.child("searches").index(i), trimmed, m));
  });
  (cfg.options ?? []).forEach((o, i) => {
    if (!o.name) errs.push(required(path.child("options").index(i), "must not be empty"));
  });
  return errs;
}

/**
 * Validates a pod spec as upstream's ValidatePodSpec does. `path` is where the spec sits
 * (`spec` for a Pod, `spec.template.spec` for a Deployment). Expects defaults applied.
 */
export function validatePodSpec(spec: PodSpec, path: FieldPath, opts: PodSpecOptions = {}): FieldError[] {
  const errs: FieldError[] = [];
  const grace = spec.terminationGracePeriodSeconds ?? undefined;
  if (grace === undefined) errs.push(required(path.child("terminationGracePeriodSeconds"), ""));
  else errs.push(...nonNegative(grace, path.child("terminationGracePeriodSeconds")));
  const { names: volumes, errors: volErrs } = validateVolumes(spec.volumes ?? [], path.child("volumes"));
  errs.push(...volErrs);
  errs.push(...validateContainers(spec, volumes, grace, path.child("containers")));
  errs.push(...validateInitContainers(spec, volumes, grace, path.child("initContainers")));
  if (spec.hostNetwork) {
    (spec.containers ?? []).forEach((c, i) => {
      (c.ports ?? []).forEach((port, j) => {
        const hp = port.hostPort ?? 0;
        if ((opts.resourceIsPod || hp !== 0) && hp !== port.containerPort) {
          const p = path.child("containers").index(i).child("ports").index(j).child("hostPort");
          errs.push(invalidValue(p, hp, "must match `containerPort` when `hostNetwork` is true"));
        }
      });
    });
  }
  errs.push(
    ...validateEnumRequired(
      spec.restartPolicy,
      ["Always", "OnFailure", "Never"],
      path.child("restartPolicy"),
    ),
  );
  errs.push(
    ...validateEnumRequired(
      spec.dnsPolicy,
      ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
      path.child("dnsPolicy"),
    ),
  );
  errs.push(...validateLabels(spec.nodeSelector, path.child("nodeSelector")));
  const psc = spec.securityContext;
  for (const f of ["runAsUser", "runAsGroup", "fsGroup"] as const) {
    const v = psc?.[f];
    if (v !== undefined && v !== null && (v < 0 || v > MAX_INT32)) {
      errs.push(invalidValue(path.child("securityContext", f), v, inclusiveRangeError(0, MAX_INT32)));
    }
  }
  if (spec.shareProcessNamespace && spec.hostPID) {
    errs.push(
      invalidValue(
        path.child("securityContext", "shareProcessNamespace"),
        true,
        "ShareProcessNamespace and HostPID cannot both be enabled",
      ),
    );
  }
  errs.push(...validateAffinity(spec.affinity, path.child("affinity")));
  errs.push(...validateDNSConfig(spec, path.child("dnsConfig")));
  (spec.readinessGates ?? []).forEach((g, i) =>
    errs.push(
      ...qualifiedName(g.conditionType, path.child("readinessGates").index(i).child("conditionType")),
    ),
  );
  const gates = new Set<string>();
  (spec.schedulingGates ?? []).forEach((g, i) => {
    errs.push(...qualifiedName(g.name, path.child("schedulingGates").index(i)));
    if (gates.has(g.name)) errs.push(duplicate(path.child("schedulingGates").index(i), g.name));
    gates.add(g.name);
  });
  if (spec.serviceAccountName) {
    for (const m of isDNS1123Subdomain(spec.serviceAccountName)) {
      errs.push(invalidValue(path.child("serviceAccountName"), spec.serviceAccountName, m));
    }
  }
  if (spec.nodeName) {
    for (const m of isDNS1123Subdomain(spec.nodeName))
      errs.push(invalidValue(path.child("nodeName"), spec.nodeName, m));
  }
  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null && (ads < 1 || ads > MAX_INT32)) {
    errs.push(invalidValue(path.child("activeDeadlineSeconds"), ads, inclusiveRangeError(1, MAX_INT32)));
  }
  if (spec.hostname) errs.push(...dns1123Label(spec.hostname, path.child("hostname")));
  if (spec.subdomain) errs.push(...dns1123Label(spec.subdomain, path.child("subdomain")));
  if (spec.tolerations?.length)
    errs.push(...validateTolerations(spec.tolerations, path.child("tolerations")));
  (spec.hostAliases ?? []).forEach((ha, i) => {
    const p = path.child("hostAliases").index(i);
    for (const m of isValidIP(ha.ip ?? "")) errs.push(invalidValue(p.child("ip"), ha.ip ?? "", m));
    (ha.hostnames ?? []).forEach((h, j) => {
      for (const m of isDNS1123Subdomain(h)) errs.push(invalidValue(p.child("hostnames").index(j), h, m));
    });
  });
  if (spec.priorityClassName) {
    for (const m of isDNS1123Subdomain(spec.priorityClassName)) {
      errs.push(invalidValue(path.child("priorityClassName"), spec.priorityClassName, m));
    }
  }
  if (spec.runtimeClassName) {
    for (const m of isDNS1123Subdomain(spec.runtimeClassName)) {
      errs.push(invalidValue(path.child("runtimeClassName"), spec.runtimeClassName, m));
    }
  }
  if (spec.preemptionPolicy) {
    errs.push(
      ...validateEnumRequired(
        spec.preemptionPolicy,
        ["PreemptLowerPriority", "Never"],
        path.child("preemptionPolicy"),
      ),
    );
  }
  if (spec.os) {
    if (!spec.os.name) errs.push(required(path.child("os", "name"), "cannot be empty"));
    else if (!["linux", "windows"].includes(spec.os.name))
      errs.push(notSupported(path.child("os"), spec.os.name, ["linux", "windows"]));
  }
  return errs;
}

/**
 * Validates a pod template as upstream's ValidatePodTemplateSpec: template labels and
 * annotations, the spec, and no ephemeral containers. `path` is where the template sits
 * (`spec.template`).
 */
export function validatePodTemplateSpec(tpl: PodTemplateSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateLabels(tpl.metadata?.labels, path.child("labels")));
  errs.push(...validateAnnotations(tpl.metadata?.annotations, path.child("annotations")));
  const spec = tpl.spec ?? { containers: [] };
  errs.push(...validatePodSpec(spec, path.child("spec")));
  if (spec.ephemeralContainers?.length) {
    errs.push(
      forbidden(
        path.child("spec", "ephemeralContainers"),
        "ephemeral containers not allowed in pod template",
      ),
    );
  }
  return errs;
}
