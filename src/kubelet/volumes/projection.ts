/**
 * @module The files of configMap, secret, downwardAPI and projected volumes, computed from the
 * API objects as upstream's volume plugins do: all keys or the listed `items` (a missing key
 * is an error unless optional), `defaultMode` (0644) and per-item `mode`, downward API fields
 * and resources, service account tokens. The result is a payload for the atomic writer.
 */
import type {
  ConfigMapProjection,
  DownwardAPIVolumeFile,
  KeyToPath,
  Pod,
  SecretProjection,
  ServiceAccountTokenProjection,
} from "../../api/types/core-v1.ts";
import type { ObjectSource } from "../env.ts";
import { containerResourceValue, podFieldValue } from "../field-ref.ts";
import type { FileProjection } from "./atomic-writer.ts";

/** Issues a service account token for a pod (TokenRequest); throws when it cannot. */
export type TokenSource = (pod: Pod, source: ServiceAccountTokenProjection) => Promise<string>;

/** What payload computation needs. */
export interface ProjectionContext {
  objects: ObjectSource;
  podIPs: string[];
  hostIPs: string[];
  allocatable: Readonly<Record<string, string>>;
  token?: TokenSource;
}

const DEFAULT_MODE = 0o644;

function keyed(
  kind: "configmap" | "secret",
  values: ReadonlyMap<string, Buffer>,
  items: readonly KeyToPath[] | undefined,
  defaultMode: number,
  out: Map<string, FileProjection>,
): void {
  if (!items || items.length === 0) {
    for (const [k, v] of values) out.set(k, { data: v, mode: defaultMode });
    return;
  }
  for (const it of items) {
    const v = values.get(it.key);
    if (v === undefined) {
      throw new Error(
        `${kind} references non-existent ${kind === "configmap" ? "config" : "secret"} key: ${it.key}`,
      );
    }
    out.set(it.path, { data: v, mode: it.mode ?? defaultMode });
  }
}

/** Adds a ConfigMap's files; a missing ConfigMap is empty when optional and an error otherwise. */
export function configMapFiles(
  pod: Pod,
  src: ConfigMapProjection,
  defaultMode: number | undefined,
  ctx: ProjectionContext,
  out: Map<string, FileProjection>,
): void {
  const ns = pod.metadata.namespace ?? "default";
  const name = src.name ?? "";
  const cm = ctx.objects.configMap(ns, name);
  if (!cm) {
    if (src.optional) return;
    throw new Error(`configmap "${name}" not found`);
  }
  const values = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) values.set(k, Buffer.from(v, "utf8"));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) values.set(k, Buffer.from(v, "base64"));
  if (src.optional && src.items?.some((i) => !values.has(i.key))) {
    keyed(
      "configmap",
      values,
      src.items.filter((i) => values.has(i.key)),
      defaultMode ?? DEFAULT_MODE,
      out,
    );
    return;
  }
  keyed("configmap", values, src.items, defaultMode ?? DEFAULT_MODE, out);
}

/** Adds a Secret's files; a missing Secret is empty when optional and an error otherwise. */
export function secretFiles(
  pod: Pod,
  src: SecretProjection,
  defaultMode: number | undefined,
  ctx: ProjectionContext,
  out: Map<string, FileProjection>,
): void {
  const ns = pod.metadata.namespace ?? "default";
  const name = src.name ?? "";
  const s = ctx.objects.secret(ns, name);
  if (!s) {
    if (src.optional) return;
    throw new Error(`secret "${name}" not found`);
  }
  const values = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.data ?? {})) values.set(k, Buffer.from(v, "base64"));
  for (const [k, v] of Object.entries(s.stringData ?? {}))
    if (!values.has(k)) values.set(k, Buffer.from(v, "utf8"));
  const items = src.optional ? src.items?.filter((i) => values.has(i.key)) : src.items;
  keyed("secret", values, items, defaultMode ?? DEFAULT_MODE, out);
}

/** Adds downward API files. */
export function downwardApiFiles(
  pod: Pod,
  items: readonly DownwardAPIVolumeFile[],
  defaultMode: number | undefined,
  ctx: ProjectionContext,
  out: Map<string, FileProjection>,
): void {
  for (const it of items) {
    let value: string;
    if (it.fieldRef) value = podFieldValue(pod, it.fieldRef.fieldPath, ctx);
    else if (it.resourceFieldRef) {
      const cname = it.resourceFieldRef.containerName ?? "";
      const c =
        pod.spec?.containers.find((x) => x.name === cname) ??
        pod.spec?.initContainers?.find((x) => x.name === cname);
      if (!c) throw new Error(`container ${JSON.stringify(cname)} not found in pod`);
      value = containerResourceValue(
        c,
        it.resourceFieldRef.resource,
        it.resourceFieldRef.divisor,
        ctx.allocatable,
      );
    } else continue;
    out.set(it.path, { data: Buffer.from(value, "utf8"), mode: it.mode ?? defaultMode ?? DEFAULT_MODE });
  }
}

/** The payload of a volume of a projected-file kind, or undefined for other kinds. */
export async function volumePayload(
  pod: Pod,
  volumeName: string,
  ctx: ProjectionContext,
): Promise<Map<string, FileProjection> | undefined> {
  const v = pod.spec?.volumes?.find((x) => x.name === volumeName);
  if (!v) return undefined;
  const out = new Map<string, FileProjection>();
  if (v.configMap) {
    configMapFiles(pod, v.configMap, v.configMap.defaultMode, ctx, out);
    return out;
  }
  if (v.secret) {
    secretFiles(
      pod,
      { name: v.secret.secretName, items: v.secret.items, optional: v.secret.optional },
      v.secret.defaultMode,
      ctx,
      out,
    );
    return out;
  }
  if (v.downwardAPI) {
    downwardApiFiles(pod, v.downwardAPI.items ?? [], v.downwardAPI.defaultMode, ctx, out);
    return out;
  }
  if (v.projected) {
    const mode = v.projected.defaultMode;
    for (const s of v.projected.sources ?? []) {
      if (s.configMap) configMapFiles(pod, s.configMap, mode, ctx, out);
      else if (s.secret) secretFiles(pod, s.secret, mode, ctx, out);
      else if (s.downwardAPI) downwardApiFiles(pod, s.downwardAPI.items ?? [], mode, ctx, out);
      else if (s.serviceAccountToken) {
        if (!ctx.token) throw new Error("service account tokens are not available on this node");
        const token = await ctx.token(pod, s.serviceAccountToken);
        out.set(s.serviceAccountToken.path, { data: Buffer.from(token, "utf8"), mode: mode ?? DEFAULT_MODE });
      }
    }
    return out;
  }
  return undefined;
}
