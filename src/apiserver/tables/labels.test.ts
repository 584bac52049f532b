import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { LabelSelector } from "../../api/types/meta-v1.ts";
import { formatLabels, formatLabelSelector, selectorString } from "./labels.ts";

describe("formatLabels", () => {
  const cases: [Record<string, string> | undefined, string][] = [
    [undefined, "<none>"],
    [{}, "<none>"],
    [{ b: "2", a: "1" }, "a=1,b=2"],
    [{ "app.kubernetes.io/name": "web", empty: "" }, "app.kubernetes.io/name=web,empty="],
  ];
  for (const [labels, want] of cases) {
    it(want, () => assert.equal(formatLabels(labels), want));
  }
});

describe("label selectors", () => {
  const cases: [string, LabelSelector | undefined, string | undefined, string][] = [
    ["absent", undefined, "", "<none>"],
    ["empty", {}, "", "<none>"],
    [
      "match labels sorted by key",
      { matchLabels: { tier: "front", app: "web" } },
      "app=web,tier=front",
      "app=web,tier=front",
    ],
    [
      "expressions with sorted values",
      {
        matchExpressions: [
          { key: "env", operator: "NotIn", values: ["qa", "dev"] },
          { key: "canary", operator: "DoesNotExist" },
          { key: "zone", operator: "In", values: ["b"] },
          { key: "arch", operator: "Exists" },
        ],
      },
      "arch,!canary,env notin (dev,qa),zone in (b)",
      "arch,!canary,env notin (dev,qa),zone in (b)",
    ],
    [
      "labels and expressions together",
      {
        matchLabels: { app: "web" },
        matchExpressions: [{ key: "app", operator: "In", values: ["web", "api"] }],
      },
      "app=web,app in (api,web)",
      "app=web,app in (api,web)",
    ],
    [
      "unknown operator",
      { matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] },
      undefined,
      "<error>",
    ],
    ["In without values", { matchExpressions: [{ key: "a", operator: "In" }] }, undefined, "<error>"],
    [
      "Exists with values",
      { matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] },
      undefined,
      "<error>",
    ],
  ];
  for (const [name, sel, raw, formatted] of cases) {
    it(name, () => {
      assert.equal(selectorString(sel), raw);
      assert.equal(formatLabelSelector(sel), formatted);
    });
  }

  it("does not reorder the selector's own values", () => {
    const sel: LabelSelector = { matchExpressions: [{ key: "env", operator: "In", values: ["b", "a"] }] };
    selectorString(sel);
    assert.deepEqual(sel.matchExpressions?.[0]?.values, ["b", "a"]);
  });
});
