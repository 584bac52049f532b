/**
 * @module A Job's podFailurePolicy applied to one failed pod, as upstream's
 * pod_failure_policy.go: rules are tried in order and the first that matches decides —
 * `onExitCodes` (In / NotIn over non-zero exit codes of the app containers, then the init
 * containers, optionally of one named container) or `onPodConditions` (a condition such as
 * DisruptionTarget with the given status). Actions: FailJob (with upstream's message),
 * Ignore (not counted against backoffLimit), Count, FailIndex (treated as Count here:
 * backoffLimitPerIndex is not implemented).
 */
import type { PodFailurePolicy, PodFailurePolicyRule } from "../../api/types/batch-v1.ts";
import type { ContainerStatus, Pod } from "../../api/types/core-v1.ts";

/** What the policy says about a failed pod. */
export interface PolicyMatch {
  action: "FailJob" | "Ignore" | "Count" | "FailIndex";
  /** For FailJob: the Failed condition's message. */
  message: string;
  ruleIndex: number;
}

function matchingContainer(
  statuses: readonly ContainerStatus[] | undefined,
  rule: PodFailurePolicyRule,
): { name: string; exitCode: number } | undefined {
  const req = rule.onExitCodes!;
  for (const s of statuses ?? []) {
    if (req.containerName && req.containerName !== s.name) continue;
    const code = s.state?.terminated?.exitCode;
    if (code === undefined || code === 0) continue;
    const listed = req.values.includes(code);
    if ((req.operator === "In" && listed) || (req.operator === "NotIn" && !listed))
      return { name: s.name, exitCode: code };
  }
  return undefined;
}

/** The first rule of `policy` matching the failed `pod`, if any. */
export function matchPodFailurePolicy(
  policy: PodFailurePolicy | undefined,
  pod: Pod,
): PolicyMatch | undefined {
  if (!policy) return undefined;
  const ref = `${pod.metadata.namespace}/${pod.metadata.name}`;
  const rules = policy.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    const action = rule.action as PolicyMatch["action"];
    if (rule.onExitCodes) {
      const c =
        matchingContainer(pod.status?.containerStatuses, rule) ??
        matchingContainer(pod.status?.initContainerStatuses, rule);
      if (c) {
        return {
          action,
          ruleIndex: i,
          message: `Container ${c.name} for pod ${ref} failed with exit code ${c.exitCode} matching ${action} rule at index ${i}`,
        };
      }
      continue;
    }
    for (const pattern of rule.onPodConditions ?? []) {
      const want = pattern.status || "True";
      const cond = pod.status?.conditions?.find((c) => c.type === pattern.type && c.status === want);
      if (cond) {
        return {
          action,
          ruleIndex: i,
          message: `Pod ${ref} has condition ${pattern.type} matching ${action} rule at index ${i}`,
        };
      }
    }
  }
  return undefined;
}
