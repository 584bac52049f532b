/**
 * @module Taint/toleration matching, as upstream's `v1helper.ToleratesTaint`.
 */
import type { Taint, Toleration } from "../../api/types/core-v1.ts";

/** Whether one toleration tolerates one taint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? "Equal") {
    case "Exists":
      return true;
    case "Equal":
    case "":
      return (t.value ?? "") === (taint.value ?? "");
    default:
      return false;
  }
}

/** Whether any of the tolerations tolerates the taint. */
export function tolerationsTolerate(ts: readonly Toleration[], taint: Taint): boolean {
  for (let i = 0; i < ts.length; i++) if (toleratesTaint(ts[i]!, taint)) return true;
  return false;
}

/** The first taint none of the tolerations tolerates, or undefined. */
export function firstUntolerated(taints: readonly Taint[], ts: readonly Toleration[]): Taint | undefined {
  for (let i = 0; i < taints.length; i++) if (!tolerationsTolerate(ts, taints[i]!)) return taints[i];
  return undefined;
}
