/**
 * @module Completion indexes of Indexed Jobs: `status.completedIndexes` is upstream's
 * compressed interval list (`1,3-5,7`); a pod's index is read from its
 * `batch.kubernetes.io/job-completion-index` annotation (or label). Pure functions.
 */
import type { Pod } from "../../api/types/core-v1.ts";

/** Annotation (and, since 1.28, label) holding a pod's completion index. */
export const JOB_COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index";

/** Parses `1,3-5` into a set of indexes below `limit` (bad parts are skipped). */
export function parseIndexes(s: string | undefined, limit = Number.MAX_SAFE_INTEGER): Set<number> {
  const out = new Set<number>();
  if (!s) return out;
  for (const part of s.split(",")) {
    const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b && i < limit; i++) out.add(i);
  }
  return out;
}

/** Formats indexes as upstream's interval list, ascending. */
export function formatIndexes(set: ReadonlySet<number>): string {
  const sorted = [...set].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i]!;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) end = sorted[++i]!;
    parts.push(start === end ? String(start) : `${start}-${end}`);
    i++;
  }
  return parts.join(",");
}

/** A pod's completion index, or -1 when it has none or it does not parse. */
export function podIndex(pod: Pod): number {
  const v = pod.metadata.annotations?.[JOB_COMPLETION_INDEX] ?? pod.metadata.labels?.[JOB_COMPLETION_INDEX];
  if (v === undefined || !/^[0-9]+$/.test(v)) return -1;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : -1;
}
