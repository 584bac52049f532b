/**
 * @module Applies a PATCH body to the current object by its Content-Type: JSON patch, JSON
 * merge patch or strategic merge patch. Server-side apply is not served yet (415 names it).
 */
import type { KindInfo } from "../../api/kinds.ts";
import type { KubeObject } from "../../api/object.ts";
import { badRequest, StatusError } from "../../api/status-error.ts";
import { parseJson } from "../body.ts";
import { applyJsonPatch } from "./json-patch.ts";
import { applyMergePatch } from "./merge-patch.ts";
import { applyStrategicMergePatch } from "./strategic-merge-patch.ts";
import { patchSchemaFor } from "./strategies.ts";

/** Returns `cur` with the patch applied; `type` is the request's media type. */
export function applyPatch(info: KindInfo, cur: KubeObject, type: string, body: string): KubeObject {
  const patch = parseJson(body);
  let out: unknown;
  switch (type) {
    case "application/json-patch+json":
      out = applyJsonPatch(cur, patch);
      break;
    case "application/merge-patch+json":
      out = applyMergePatch(cur, patch);
      break;
    case "application/strategic-merge-patch+json":
      out = applyStrategicMergePatch(cur, patch, patchSchemaFor(info.group, info.version, info.kind));
      break;
    case "application/apply-patch+yaml":
      throw new StatusError(
        415,
        "UnsupportedMediaType",
        "server-side apply to this subresource is not supported by kites yet",
      );
    default:
      throw new StatusError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
      );
  }
  if (out === null || typeof out !== "object" || Array.isArray(out))
    throw badRequest("the patch did not produce an object");
  return out as KubeObject;
}
