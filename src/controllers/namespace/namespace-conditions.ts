/**
 * @module The status conditions the namespace controller keeps on a terminating namespace,
 * with upstream's types, reasons and messages: each of the five is True with the failure's
 * reason while something is wrong, and False with its "ok" reason otherwise.
 */
import { formatTimestamp } from "../../api/meta.ts";
import type { NamespaceCondition } from "../../api/types/core-v1.ts";

type ConditionType =
  | "NamespaceDeletionDiscoveryFailure"
  | "NamespaceDeletionGroupVersionParsingFailure"
  | "NamespaceDeletionContentFailure"
  | "NamespaceContentRemaining"
  | "NamespaceFinalizersRemaining";

const ORDER: readonly ConditionType[] = [
  "NamespaceDeletionDiscoveryFailure",
  "NamespaceDeletionGroupVersionParsingFailure",
  "NamespaceDeletionContentFailure",
  "NamespaceContentRemaining",
  "NamespaceFinalizersRemaining",
];

const OK: Record<ConditionType, { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: {
    reason: "ResourcesDiscovered",
    message: "All resources successfully discovered",
  },
  NamespaceDeletionGroupVersionParsingFailure: {
    reason: "ParsedGroupVersions",
    message: "All legacy kube types successfully parsed",
  },
  NamespaceDeletionContentFailure: {
    reason: "ContentDeleted",
    message: "All content successfully deleted, may be waiting on finalization",
  },
  NamespaceContentRemaining: { reason: "ContentRemoved", message: "All content successfully removed" },
  NamespaceFinalizersRemaining: {
    reason: "ContentHasNoFinalizers",
    message: "All content-preserving finalizers finished",
  },
};

/** What one deletion pass found. */
export interface DeletionTotals {
  /** `resource.group` → objects still there. */
  remaining: Map<string, number>;
  /** finalizer → objects still carrying it. */
  finalizers: Map<string, number>;
  /** Per-resource deletion errors. */
  errors: string[];
}

/** The failing conditions a pass's totals call for (upstream's ProcessContentTotals and ProcessDeleteContentErr). */
function failures(totals: DeletionTotals): Map<ConditionType, { reason: string; message: string }> {
  const out = new Map<ConditionType, { reason: string; message: string }>();
  if (totals.errors.length > 0) {
    out.set("NamespaceDeletionContentFailure", {
      reason: "ContentDeletionFailed",
      message: `Failed to delete all resource types, ${totals.errors.length} remaining: ${
        totals.errors.length === 1 ? totals.errors[0] : `[${totals.errors.join(", ")}]`
      }`,
    });
  }
  const remaining = [...totals.remaining]
    .filter(([, n]) => n > 0)
    .map(([gr, n]) => `${gr} has ${n} resource instances`)
    .sort();
  if (remaining.length > 0) {
    out.set("NamespaceContentRemaining", {
      reason: "SomeResourcesRemain",
      message: `Some resources are remaining: ${remaining.join(", ")}`,
    });
  }
  const fins = [...totals.finalizers]
    .filter(([, n]) => n > 0)
    .map(([f, n]) => `${f} in ${n} resource instances`)
    .sort();
  if (fins.length > 0) {
    out.set("NamespaceFinalizersRemaining", {
      reason: "SomeFinalizersRemain",
      message: `Some content in the namespace has finalizers remaining: ${fins.join(", ")}`,
    });
  }
  return out;
}

/**
 * Returns `conditions` updated for a pass's totals (a new array; the input is not touched),
 * and whether anything changed. lastTransitionTime moves only when a status flips.
 */
export function updateConditions(
  conditions: readonly NamespaceCondition[] | undefined,
  totals: DeletionTotals,
  now: Date,
): { conditions: NamespaceCondition[]; changed: boolean } {
  const out = (conditions ?? []).map((c) => ({ ...c }));
  const failing = failures(totals);
  let changed = false;
  for (const type of ORDER) {
    const f = failing.get(type);
    const want = { status: f ? "True" : "False", ...(f ?? OK[type]) };
    const cur = out.find((c) => c.type === type);
    if (!cur) {
      out.push({ type, ...want, lastTransitionTime: formatTimestamp(now) });
      changed = true;
    } else if (cur.status !== want.status || cur.reason !== want.reason || cur.message !== want.message) {
      if (cur.status !== want.status) cur.lastTransitionTime = formatTimestamp(now);
      cur.status = want.status;
      cur.reason = want.reason;
      cur.message = want.message;
      changed = true;
    }
  }
  return { conditions: out, changed };
}
