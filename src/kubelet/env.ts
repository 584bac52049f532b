/**
 * @module A container's environment as upstream's kubelet builds it
 * (makeEnvironmentVariables): `envFrom` sources first (with prefix; optional ones may be
 * missing; invalid names skipped and reported), then `env` in order with `$(VAR)` expansion
 * against what is defined so far and the service variables, `valueFrom` for configMapKeyRef,
 * secretKeyRef, fieldRef and resourceFieldRef, then the service link variables not already
 * defined. A missing required ConfigMap/Secret or key is a `CreateContainerConfigError`.
 */
import type { ConfigMap, Container, Pod, Secret, Service } from "../api/types/core-v1.ts";
import { expand } from "./expansion.ts";
import { containerResourceValue, podFieldValue } from "./field-ref.ts";

/** Where ConfigMaps and Secrets are read from (the agent's informer caches). */
export interface ObjectSource {
  configMap(namespace: string, name: string): ConfigMap | undefined;
  secret(namespace: string, name: string): Secret | undefined;
}

/** A problem that makes the container's config unusable: reason `CreateContainerConfigError`. */
export class ContainerConfigError extends Error {}

/** What env resolution needs besides the pod and container. */
export interface EnvContext {
  objects: ObjectSource;
  /** The `kubernetes` service of `default` and, with enableServiceLinks, the pod namespace's services. */
  services: readonly Service[];
  podIPs: string[];
  hostIPs: string[];
  /** Node allocatable, for unset limits in resourceFieldRef. */
  allocatable: Readonly<Record<string, string>>;
  /** Reports envFrom keys skipped as invalid names (an event upstream). */
  warn?: (reason: string, message: string) => void;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** True when `s` is a valid environment variable name (upstream IsEnvVarName). */
export function isEnvVarName(s: string): boolean {
  return ENV_NAME.test(s);
}

function decodeSecret(v: string): string {
  return Buffer.from(v, "base64").toString("utf8");
}

/** The value of `key` in a ConfigMap (data or binaryData). */
function configMapValue(cm: ConfigMap, key: string): string | undefined {
  const d = cm.data?.[key];
  if (d !== undefined) return d;
  const b = cm.binaryData?.[key];
  return b === undefined ? undefined : decodeSecret(b);
}

/** A secret's value by key, decoded (stringData is folded into data by the API server). */
function secretValue(s: Secret, key: string): string | undefined {
  const d = s.data?.[key];
  if (d !== undefined) return decodeSecret(d);
  return s.stringData?.[key];
}

/**
 * Docker-link style service variables (upstream envvars.FromServices): `X_SERVICE_HOST`,
 * `X_SERVICE_PORT`, `X_SERVICE_PORT_<NAME>`, `X_PORT`, `X_PORT_<p>_<PROTO>[_PROTO|_PORT|_ADDR]`.
 */
export function serviceEnv(services: readonly Service[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === "None") continue;
    const name = (svc.metadata.name ?? "").toUpperCase().replace(/-/g, "_");
    const ports = svc.spec?.ports ?? [];
    out.set(`${name}_SERVICE_HOST`, ip);
    const first = ports[0];
    if (first) out.set(`${name}_SERVICE_PORT`, String(first.port));
    for (const p of ports) {
      if (p.name) out.set(`${name}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, "_")}`, String(p.port));
    }
    const host = ip.includes(":") ? `[${ip}]` : ip;
    if (first) out.set(`${name}_PORT`, `${(first.protocol ?? "TCP").toLowerCase()}://${host}:${first.port}`);
    for (const p of ports) {
      const proto = p.protocol ?? "TCP";
      const prefix = `${name}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.set(prefix, `${proto.toLowerCase()}://${host}:${p.port}`);
      out.set(`${prefix}_PROTO`, proto.toLowerCase());
      out.set(`${prefix}_PORT`, String(p.port));
      out.set(`${prefix}_ADDR`, ip);
    }
  }
  return out;
}

/**
 * Resolves the container's environment, in order. Throws `ContainerConfigError` for a
 * missing required source.
 */
export function resolveEnv(pod: Pod, container: Container, ctx: EnvContext): [string, string][] {
  const ns = pod.metadata.namespace ?? "default";
  const vars = new Map<string, string>();
  const svcEnv = serviceEnv(ctx.services);
  const lookup = (n: string): string | undefined => vars.get(n) ?? svcEnv.get(n);

  for (const src of container.envFrom ?? []) {
    const prefix = src.prefix ?? "";
    let entries: [string, string][] = [];
    let kind: string;
    let name: string;
    if (src.configMapRef) {
      kind = "configMap";
      name = src.configMapRef.name ?? "";
      const cm = ctx.objects.configMap(ns, name);
      if (!cm) {
        if (src.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      entries = Object.entries(cm.data ?? {});
    } else if (src.secretRef) {
      kind = "secret";
      name = src.secretRef.name ?? "";
      const s = ctx.objects.secret(ns, name);
      if (!s) {
        if (src.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      entries = Object.entries(s.data ?? {}).map(([k, v]) => [k, decodeSecret(v)]);
    } else continue;
    const invalid: string[] = [];
    for (const [k, v] of entries) {
      const key = prefix + k;
      if (!isEnvVarName(key)) {
        invalid.push(key);
        continue;
      }
      vars.set(key, v);
    }
    if (invalid.length > 0) {
      invalid.sort();
      ctx.warn?.(
        "InvalidEnvironmentVariableNames",
        `Keys [${invalid.join(", ")}] from the EnvFrom ${kind} ${ns}/${name} were skipped since they are considered invalid environment variable names.`,
      );
    }
  }

  for (const e of container.env ?? []) {
    const vf = e.valueFrom;
    if (!vf) {
      vars.set(e.name, expand(e.value ?? "", lookup));
      continue;
    }
    if (vf.fieldRef) {
      vars.set(e.name, podFieldValue(pod, vf.fieldRef.fieldPath, ctx));
    } else if (vf.resourceFieldRef) {
      const target = vf.resourceFieldRef.containerName
        ? (findContainer(pod, vf.resourceFieldRef.containerName) ?? container)
        : container;
      vars.set(
        e.name,
        containerResourceValue(
          target,
          vf.resourceFieldRef.resource,
          vf.resourceFieldRef.divisor,
          ctx.allocatable,
        ),
      );
    } else if (vf.configMapKeyRef) {
      const ref = vf.configMapKeyRef;
      const name = ref.name ?? "";
      const cm = ctx.objects.configMap(ns, name);
      if (!cm) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      const v = configMapValue(cm, ref.key);
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${name}`);
      }
      vars.set(e.name, v);
    } else if (vf.secretKeyRef) {
      const ref = vf.secretKeyRef;
      const name = ref.name ?? "";
      const s = ctx.objects.secret(ns, name);
      if (!s) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      const v = secretValue(s, ref.key);
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${name}`);
      }
      vars.set(e.name, v);
    }
  }

  const index = pod.metadata.annotations?.["batch.kubernetes.io/job-completion-index"];
  if (index !== undefined && !vars.has("JOB_COMPLETION_INDEX")) vars.set("JOB_COMPLETION_INDEX", index);

  const out: [string, string][] = [...vars];
  for (const [k, v] of svcEnv) if (!vars.has(k)) out.push([k, v]);
  return out;
}

function findContainer(pod: Pod, name: string): Container | undefined {
  return (
    pod.spec?.containers.find((c) => c.name === name) ??
    pod.spec?.initContainers?.find((c) => c.name === name)
  );
}

/**
 * The runtime's env list: the image's `NAME=value` entries, then the pod's, a later name
 * replacing an earlier one in place.
 */
export function mergeEnv(imageEnv: readonly string[], podEnv: readonly [string, string][]): string[] {
  const m = new Map<string, string>();
  for (const kv of imageEnv) {
    const i = kv.indexOf("=");
    if (i > 0) m.set(kv.slice(0, i), kv.slice(i + 1));
  }
  for (const [k, v] of podEnv) m.set(k, v);
  const out: string[] = [];
  for (const [k, v] of m) out.push(`${k}=${v}`);
  return out;
}
