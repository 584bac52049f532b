/**
 * @module Server-side printing on the wire: detects kubectl's request for a Table and renders
 * lists, single objects and watch events with the printers in `tables/`.
 */
import type { KindInfo } from "../api/kinds.ts";
import { toTable, type IncludeObject } from "./tables/index.ts";
import type { CachedObject } from "./watch-cache.ts";

/** True when the Accept header asks for `as=Table` in meta.k8s.io v1 (or v1beta1). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept || !accept.includes("as=Table")) return false;
  for (const part of accept.split(",")) {
    const p = part.replace(/\s+/g, "");
    if (p.includes("as=Table") && p.includes("g=meta.k8s.io")) return true;
  }
  return false;
}

export interface TableRenderer {
  /** A whole Table for a list or one object. */
  list(items: readonly CachedObject[], rev: number, continueToken: string): string;
  /** One watch event's object: a Table with one row (headers only on the first). */
  row(o: CachedObject): string;
}

/** Renders Tables for one kind, honouring `?includeObject=`. */
export function tableRenderer(info: KindInfo, q: URLSearchParams): TableRenderer {
  const includeObject = (q.get("includeObject") as IncludeObject | null) ?? "Metadata";
  let first = true;
  return {
    list(items, rev, continueToken) {
      return JSON.stringify(
        toTable(
          items.map((o) => o.obj),
          {
            group: info.group,
            kind: info.kind,
            now: new Date(),
            includeObject,
            resourceVersion: String(rev),
            ...(continueToken ? { continue: continueToken } : {}),
          },
        ),
      );
    },
    row(o) {
      const t = toTable([o.obj], {
        group: info.group,
        kind: info.kind,
        now: new Date(),
        includeObject,
        noHeaders: !first,
        resourceVersion: String(o.rev),
      });
      first = false;
      return JSON.stringify(t);
    },
  };
}
