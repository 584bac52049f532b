/**
 * @module A server-side apply request (`PATCH` with `application/apply-patch+yaml`): parses the
 * applied configuration, requires a field manager, and applies it to the live object — or
 * creates the object when there is none, as upstream does (201).
 */
import type { KubeObject } from "../../api/object.ts";
import { isNotFound, StatusError } from "../../api/status-error.ts";
import { parseYaml } from "../body.ts";
import type { ResourceStore, WriteOptions } from "../registry/store.ts";
import type { CachedObject } from "../registry/codec.ts";
import type { RequestInfo } from "../request-info.ts";
import { applyObject } from "./apply.ts";

/** Applies `body` for `?fieldManager=`, honouring `?force=true`; `check` sees the applied config first. */
export async function serverSideApply(
  store: ResourceStore,
  ri: RequestInfo,
  body: string,
  q: URLSearchParams,
  opts: WriteOptions,
  check: (applied: KubeObject) => void,
): Promise<{ obj: CachedObject; created: boolean }> {
  const manager = q.get("fieldManager");
  if (!manager) {
    throw new StatusError(
      422,
      "Invalid",
      `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch`,
    );
  }
  const parsed = parseYaml(body);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new StatusError(
      400,
      "BadRequest",
      "error decoding YAML: the applied configuration must be an object",
    );
  }
  const applied = parsed as KubeObject;
  applied.metadata ??= {};
  applied.metadata.name ??= ri.name;
  check(applied);
  const info = store.info;
  const target = {
    group: info.group,
    version: info.version,
    kind: info.kind,
    manager,
    force: q.get("force") === "true",
    hasStatusSubresource: info.hasStatusSubresource,
    ...(ri.subresource ? { subresource: ri.subresource } : {}),
  };
  const wopts: WriteOptions = { ...opts, applied: true };
  try {
    const obj = await store.guaranteedUpdate(
      ri.namespace,
      ri.name,
      (cur) => applyObject(cur, applied, { ...target, now: new Date() }),
      wopts,
    );
    return { obj, created: false };
  } catch (e) {
    if (!isNotFound(e) || ri.subresource) throw e;
  }
  const created = applyObject(undefined, applied, { ...target, now: new Date() });
  return { obj: await store.create(ri.namespace, created, wopts), created: true };
}
