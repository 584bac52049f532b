/**
 * @module Label maps and label selectors as table cells, spelled the way upstream's
 * `labels.FormatLabels`, `metav1.FormatLabelSelector` and `Selector.String()` spell them:
 * `app=web,tier=front`, `env in (prod,staging)`, `!canary`, `<none>`.
 */
import type { LabelSelector } from "../../api/types/meta-v1.ts";

/** A label map as `k1=v1,k2=v2` with keys sorted; `<none>` when empty or absent. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined | null): string {
  if (!labels) return "<none>";
  const keys = Object.keys(labels);
  if (keys.length === 0) return "<none>";
  keys.sort();
  let out = "";
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) out += ",";
    out += `${k}=${labels[k]}`;
  }
  return out;
}

interface Requirement {
  key: string;
  text: string;
}

function compareKeys(a: Requirement, b: Requirement): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * A label selector in selector syntax, requirements sorted by key and `in`/`notin` values
 * sorted: `app=web,env in (prod,staging),!canary`. An absent or empty selector is `""`.
 * Returns `undefined` when the selector cannot be converted (unknown operator, `In` without
 * values, `Exists` with values), where upstream's conversion fails.
 */
export function selectorString(sel: LabelSelector | undefined | null): string | undefined {
  if (!sel) return "";
  const reqs: Requirement[] = [];
  if (sel.matchLabels) {
    for (const key of Object.keys(sel.matchLabels)) {
      reqs.push({ key, text: `${key}=${sel.matchLabels[key]}` });
    }
  }
  for (const expr of sel.matchExpressions ?? []) {
    const values = expr.values ?? [];
    switch (expr.operator) {
      case "In":
      case "NotIn": {
        if (values.length === 0) return undefined;
        const op = expr.operator === "In" ? " in " : " notin ";
        const sorted = values.length > 1 ? [...values].sort() : values;
        reqs.push({ key: expr.key, text: `${expr.key}${op}(${sorted.join(",")})` });
        break;
      }
      case "Exists":
        if (values.length > 0) return undefined;
        reqs.push({ key: expr.key, text: expr.key });
        break;
      case "DoesNotExist":
        if (values.length > 0) return undefined;
        reqs.push({ key: expr.key, text: `!${expr.key}` });
        break;
      default:
        return undefined;
    }
  }
  if (reqs.length === 0) return "";
  reqs.sort(compareKeys);
  let out = "";
  for (let i = 0; i < reqs.length; i++) {
    if (i > 0) out += ",";
    out += reqs[i]!.text;
  }
  return out;
}

/** A label selector for a SELECTOR cell: `<none>` when it selects by nothing, `<error>` when invalid. */
export function formatLabelSelector(sel: LabelSelector | undefined | null): string {
  const s = selectorString(sel);
  if (s === undefined) return "<error>";
  return s === "" ? "<none>" : s;
}
