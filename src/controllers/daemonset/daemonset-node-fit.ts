/**
 * @module Whether a DaemonSet should run a pod on a node, judged as the scheduler would for
 * the node-level predicates upstream's DaemonSet controller checks: `spec.nodeName`,
 * nodeSelector plus required node affinity (label expressions In/NotIn/Exists/DoesNotExist/
 * Gt/Lt and `metadata.name` field expressions), and NoSchedule/NoExecute taints against the
 * pod's tolerations. The answer has upstream's two halves: `shouldRun` (a pod belongs here)
 * and `shouldContinueRunning` (an existing pod may stay: only untolerated NoExecute taints
 * evict it). Pure functions.
 */
import type {
  Node,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  PodSpec,
  Taint,
  Toleration,
} from "../../api/types/core-v1.ts";

/** The answer for one node. */
export interface NodeFit {
  shouldRun: boolean;
  shouldContinueRunning: boolean;
}

/** Whether `tol` tolerates `taint` (upstream's `Toleration.ToleratesTaint`). */
export function toleratesTaint(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key !== undefined && tol.key !== "" && tol.key !== taint.key) return false;
  const op = tol.operator || "Equal";
  if (op === "Exists") return true;
  if (op === "Equal") return (tol.value ?? "") === (taint.value ?? "");
  return false;
}

/** The first taint passing `filter` that no toleration tolerates. */
export function findUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  filter: (t: Taint) => boolean,
): Taint | undefined {
  if (!taints) return undefined;
  for (const t of taints) {
    if (!filter(t)) continue;
    if (!(tolerations ?? []).some((tol) => toleratesTaint(tol, t))) return t;
  }
  return undefined;
}

function parseIntStrict(s: string): number | undefined {
  return /^-?[0-9]+$/.test(s) ? Number(s) : undefined;
}

/** One label requirement against a node's labels. */
function labelRequirementMatches(
  req: NodeSelectorRequirement,
  labels: Readonly<Record<string, string>>,
): boolean {
  const has = Object.hasOwn(labels, req.key);
  const v = labels[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case "In":
      return has && values.includes(v!);
    case "NotIn":
      return !has || !values.includes(v!);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
    case "Lt": {
      if (!has || values.length !== 1) return false;
      const a = parseIntStrict(v!);
      const b = parseIntStrict(values[0]!);
      if (a === undefined || b === undefined) return false;
      return req.operator === "Gt" ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** One field requirement (only `metadata.name` is supported, as upstream). */
function fieldRequirementMatches(req: NodeSelectorRequirement, node: Node): boolean {
  if (req.key !== "metadata.name") return false;
  const name = node.metadata.name ?? "";
  const values = req.values ?? [];
  if (req.operator === "In") return values.includes(name);
  if (req.operator === "NotIn") return !values.includes(name);
  return false;
}

/** A node selector term: all expressions and fields hold; an empty term matches nothing. */
export function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  for (const r of exprs) if (!labelRequirementMatches(r, labels)) return false;
  for (const r of fields) if (!fieldRequirementMatches(r, node)) return false;
  return true;
}

/** nodeSelector and required node affinity (any term) both hold. */
export function fitsNodeAffinity(spec: PodSpec | undefined, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) {
    const terms = required.nodeSelectorTerms ?? [];
    if (!terms.some((t) => termMatches(t, node))) return false;
  }
  return true;
}

const schedulingEffects = (t: Taint): boolean => t.effect === "NoSchedule" || t.effect === "NoExecute";
const noExecute = (t: Taint): boolean => t.effect === "NoExecute";

/**
 * Upstream's `NodeShouldRunDaemonPod` for a pod spec that already carries the DaemonSet's
 * automatic tolerations.
 */
export function nodeShouldRunDaemonPod(spec: PodSpec | undefined, node: Node): NodeFit {
  const nodeName = spec?.nodeName;
  if (nodeName && nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!fitsNodeAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints;
  if (findUntoleratedTaint(taints, spec?.tolerations, schedulingEffects)) {
    return {
      shouldRun: false,
      shouldContinueRunning: !findUntoleratedTaint(taints, spec?.tolerations, noExecute),
    };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}
