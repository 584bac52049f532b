/**
 * @module Downward API values shared by env (`fieldRef`, `resourceFieldRef`) and the
 * downwardAPI volume: pod fields by path, and container resources scaled by a divisor, with
 * upstream's rules (unset limits read as the node's allocatable, cpu rounds up to the divisor).
 */
import { parseQuantity, type Quantity } from "../api/quantity.ts";
import type { Container, Pod } from "../api/types/core-v1.ts";

/** A downward API reference that cannot be resolved (bad path or resource). */
export class FieldRefError extends Error {}

/** Upstream formats a label or annotation map as sorted `key="value"` lines. */
export function formatMap(m: Readonly<Record<string, string>> | undefined): string {
  if (!m) return "";
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${JSON.stringify(m[k])}`)
    .join("\n");
}

const SUBSCRIPT = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/;

/**
 * The value of `fieldPath` for `pod`. `podIP`/`hostIP` come from the node agent (the API
 * object may not have them yet when the first container starts).
 */
export function podFieldValue(
  pod: Pod,
  fieldPath: string,
  ips: { podIPs: string[]; hostIPs: string[] },
): string {
  const meta = pod.metadata;
  const sub = SUBSCRIPT.exec(fieldPath);
  if (sub) {
    const map = sub[1] === "metadata.labels" ? meta.labels : meta.annotations;
    return map?.[sub[2]!] ?? "";
  }
  switch (fieldPath) {
    case "metadata.name":
      return meta.name ?? "";
    case "metadata.namespace":
      return meta.namespace ?? "";
    case "metadata.uid":
      return meta.uid ?? "";
    case "metadata.labels":
      return formatMap(meta.labels);
    case "metadata.annotations":
      return formatMap(meta.annotations);
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.hostIP":
      return ips.hostIPs[0] ?? "";
    case "status.hostIPs":
      return ips.hostIPs.join(",");
    case "status.podIP":
      return ips.podIPs[0] ?? "";
    case "status.podIPs":
      return ips.podIPs.join(",");
    default:
      throw new FieldRefError(`unsupported fieldPath: ${fieldPath}`);
  }
}

const ceilDiv = (a: bigint, b: bigint): bigint => (b === 0n ? 0n : (a + b - 1n) / b);

/**
 * The value of `resource` (`limits.cpu`, `requests.memory`, …) of `container`, divided by
 * `divisor` and rounded up, as upstream's ExtractContainerResourceValue. Unset limits read as
 * the node's allocatable.
 */
export function containerResourceValue(
  container: Container,
  resource: string,
  divisor: string | number | undefined,
  allocatable: Readonly<Record<string, string>>,
): string {
  const div = parseQuantity(divisor === undefined || divisor === "" ? "1" : divisor);
  const dot = resource.indexOf(".");
  const kind = resource.slice(0, dot);
  const name = resource.slice(dot + 1);
  if (kind !== "limits" && kind !== "requests")
    throw new FieldRefError(`unsupported container resource: ${resource}`);
  const source = kind === "limits" ? container.resources?.limits : container.resources?.requests;
  let q: Quantity | undefined;
  const raw = source?.[name];
  if (raw !== undefined) q = parseQuantity(raw);
  else if (kind === "limits" && allocatable[name] !== undefined) q = parseQuantity(allocatable[name]!);
  if (name === "cpu") {
    const milli = q?.milliValue() ?? 0n;
    return String(ceilDiv(milli, div.milliValue()));
  }
  if (name === "memory" || name === "ephemeral-storage" || name.startsWith("hugepages-")) {
    return String(ceilDiv(q?.value() ?? 0n, div.value()));
  }
  throw new FieldRefError(`unsupported container resource: ${resource}`);
}
