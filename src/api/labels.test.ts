import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FieldPath, formatFieldError } from "./field-errors.ts";
import {
  LabelSelectorError,
  type Labels,
  Requirement,
  everything,
  labelSelectorAsSelector,
  newRequirement,
  nothing,
  parseSelector,
  selectorFromSet,
  validateLabelSelector,
  validatedSelectorFromSet,
} from "./labels.ts";

const KEY_NAME_ERROR =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_ERROR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

function throwsMessage(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof LabelSelectorError, `not a LabelSelectorError: ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  });
}

describe("parseSelector round trips (upstream TestSelectorParse)", () => {
  const good = ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"];
  for (const s of good) {
    it(JSON.stringify(s), () => assert.equal(parseSelector(s).toString(), s.replaceAll(" ", "")));
  }

  it("sorts requirements by key (upstream TestDeterministicParse)", () => {
    assert.equal(parseSelector("x=a,a=x").toString(), "a=x,x=a");
    assert.equal(parseSelector("a=x,x=a").toString(), "a=x,x=a");
  });

  it("prints the canonical form of the brief's example", () => {
    const s = parseSelector(" g , a = b,c!=d,e in ( y , x ),f notin (z),!h, i==j ");
    assert.equal(s.toString(), "a=b,c!=d,e in (x,y),f notin (z),g,!h,i==j");
  });
});

describe("parseSelector set syntax (upstream TestSetSelectorParser)", () => {
  const table: [string, string][] = [
    ["\rx", "x"],
    ["this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash"],
    [
      "this-is-another-dns.domain.com/key-with-dash in (so,what)",
      "this-is-another-dns.domain.com/key-with-dash in (so,what)",
    ],
    [
      "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
      "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)",
    ],
    ["foo  in\t (abc)", "foo in (abc)"],
    ["x notin\n (abc)", "x notin (abc)"],
    ["x  notin\t\t\t(abc,def)", "x notin (abc,def)"],
    ["x in (abc,)", "x in (,abc)"],
    ["x in ()", "x in ()"],
    ["x notin (abc,,def),bar,z in (),w", "bar,w,x notin (,abc,def),z in ()"],
    ["x,y in (a)", "x,y in (a)"],
    ["x=a,y!=b,z in (h,i,j)", "x=a,y!=b,z in (h,i,j)"],
    ["x in (b,a,b)", "x in (a,b)"],
    ["x in (,)", "x in ()"],
    ["x in (,,a)", "x in (,a)"],
    ["notin=in", "notin=in"],
    ["in in (in,notin)", "in in (in,notin)"],
    ["a\0,b", "a"],
  ];
  for (const [input, want] of table) {
    it(JSON.stringify(input), () => assert.equal(parseSelector(input).toString(), want));
  }

  it("keeps values parsed from a set deduplicated", () => {
    const [r] = parseSelector("x in (b,a,b,)").requirements;
    assert.deepEqual(r?.values, ["", "a", "b"]);
  });
});

describe("parseSelector errors", () => {
  const table: [string, string][] = [
    ["x=a||y=b", 'unable to parse requirement: values[0][x]: Invalid value: "a||y": ' + VALUE_ERROR],
    ["x==a==b", "found '==', expected: ',' or 'end of string'"],
    ["!x=a", "found '=', expected: ',' or 'end of string'"],
    [
      "x<a",
      "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer",
    ],
    ["a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ["x=a,", "found '', expected: identifier after ','"],
    ["a,,b", "found ',', expected: identifier after ','"],
    ["!", "unable to parse requirement: found '', expected: identifier"],
    ["!!x", "unable to parse requirement: found '!', expected: identifier"],
    ["(", "found '(', expected: !, identifier, or 'end of string'"],
    [",a", "found ',', expected: !, identifier, or 'end of string'"],
    ["x in a", "unable to parse requirement: found 'a' expected: '('"],
    ["x in (a", "unable to parse requirement: found '', expected: ',' or ')'"],
    ["x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"],
    ["x in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ["x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"],
    ["x=(", "unable to parse requirement: found '(', expected: identifier"],
    ["x in", "unable to parse requirement: found '' expected: '('"],
    ["x y z", "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"],
    ["app:monolith", `unable to parse requirement: <nil>: Invalid value: "app:monolith": ${KEY_NAME_ERROR}`],
    [
      "a/b/c=d",
      "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ],
    ["x in (a@b)", `unable to parse requirement: values[0][x]: Invalid value: "a@b": ${VALUE_ERROR}`],
  ];
  for (const [input, message] of table) {
    it(JSON.stringify(input), () => throwsMessage(() => parseSelector(input), message));
  }
});

describe("matching", () => {
  const table: [string, Labels, boolean][] = [
    ["", { x: "y" }, true],
    ["x=y", { x: "y" }, true],
    ["x=y,z=w", { x: "y", z: "w" }, true],
    ["x!=y,z!=w", { x: "z", z: "a" }, true],
    ["notin=in", { notin: "in" }, true],
    ["x", { x: "z" }, true],
    ["!x", { y: "z" }, true],
    ["x>1", { x: "2" }, true],
    ["x<1", { x: "0" }, true],
    ["x=z", {}, false],
    ["x=y", { x: "z" }, false],
    ["x=y,z=w", { x: "w", z: "w" }, false],
    ["x!=y,z!=w", { x: "z", z: "w" }, false],
    ["x", { y: "z" }, false],
    ["!x", { x: "z" }, false],
    ["x>1", { x: "0" }, false],
    ["x<1", { x: "2" }, false],
    ["x>1", { x: "v2" }, false],
    ["x>1", {}, false],
    ["x<5", { x: "-4" }, true],
    ["x>5", { x: "+6" }, true],
    ["x<9223372036854775807", { x: "9223372036854775806" }, true],
    ["x>1", { x: "99999999999999999999" }, false],
    ["foo=bar,baz=blah", { foo: "bar", baz: "blah" }, true],
    ["foo=bar,foobar=bar,baz=blah", { foo: "bar", baz: "blah" }, false],
    ["x in (foo),y notin (alpha)", { x: "foo", y: "baz" }, true],
    ["x in (foo),y in (alpha)", { x: "foo", y: "baz" }, false],
    ["x notin (),y", { y: "" }, true],
    ["!x,y", { y: "" }, true],
    ["x notin (),!y", { y: "" }, false],
    ["x in ()", { y: "baz" }, false],
    ["x in ()", { x: "" }, true],
    ["x notin (a)", undefined, true],
    ["x", undefined, false],
    ["", undefined, true],
    ["constructor", {}, false],
    ["!toString", {}, true],
    ["x in (a,b,c,d,e,f,g,h,i,j)", { x: "j" }, true],
    ["x in (a,b,c,d,e,f,g,h,i,j)", { x: "k" }, false],
    ["x notin (a,b,c,d,e,f,g,h,i,j)", { x: "j" }, false],
  ];
  for (const [sel, labels, want] of table) {
    it(`${JSON.stringify(sel)} on ${JSON.stringify(labels)}`, () =>
      assert.equal(parseSelector(sel).matches(labels), want));
  }
});

describe("newRequirement (upstream TestRequirementConstructor)", () => {
  const ok: [string, Requirement["operator"], string[]][] = [
    ["x", "in", ["foo"]],
    ["x", "notin", ["foo"]],
    ["x", "exists", []],
    ["x", "!", []],
    ["1foo", "in", ["bar"]],
    ["1234", "in", ["bar"]],
    ["y", "gt", ["1"]],
    ["z", "lt", ["6"]],
    ["x", "=", [""]],
  ];
  for (const [key, op, values] of ok) {
    it(`accepts ${key} ${op} ${JSON.stringify(values)}`, () => {
      const r = newRequirement(key, op, values);
      assert.equal(r.key, key);
      assert.deepEqual(r.values, values);
    });
  }

  const bad: [string, Requirement["operator"], string[], string][] = [
    [
      "x",
      "in",
      [],
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      "x",
      "notin",
      [],
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      "x",
      "=",
      ["a", "b"],
      'values: Invalid value: []string{"a", "b"}: exact-match compatibility requires one single value',
    ],
    [
      "x",
      "exists",
      ["a"],
      'values: Invalid value: []string{"a"}: values set must be empty for exists and does not exist',
    ],
    [
      "foo",
      "gt",
      ["bar"],
      "values[0]: Invalid value: \"bar\": for 'Gt', 'Lt' operators, the value must be an integer",
    ],
    [
      "barz",
      "lt",
      ["1", "2"],
      "values: Invalid value: []string{\"1\", \"2\"}: for 'Gt', 'Lt' operators, exactly one value is required",
    ],
    [
      "a".repeat(254),
      "exists",
      [],
      `key: Invalid value: "${"a".repeat(254)}": name part must be no more than 63 characters`,
    ],
    [
      "a b",
      "in",
      [],
      `[key: Invalid value: "a b": ${KEY_NAME_ERROR}, values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty]`,
    ],
    ["k", "in", ["ok", "no way"], `values[1][k]: Invalid value: "no way": ${VALUE_ERROR}`],
  ];
  for (const [key, op, values, message] of bad) {
    it(`rejects ${key.slice(0, 10)} ${op} ${JSON.stringify(values)}`, () =>
      throwsMessage(() => newRequirement(key, op, values), message));
  }

  it("reports an unknown operator as upstream's NotSupported", () => {
    throwsMessage(
      () => newRequirement("x", "~" as Requirement["operator"], ["a"]),
      'operator: Unsupported value: "~": supported values: "in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"',
    );
  });
});

describe("Selector", () => {
  it("prints requirements sorted by key with sorted set values (upstream TestToString)", () => {
    const cases: [Requirement[], string][] = [
      [
        [
          newRequirement("x", "in", ["def", "abc"]),
          newRequirement("y", "notin", ["jkl"]),
          newRequirement("z", "exists"),
        ],
        "x in (abc,def),y notin (jkl),z",
      ],
      [
        [
          newRequirement("z", "!"),
          newRequirement("y", "!=", ["jkl"]),
          newRequirement("x", "notin", ["abc", "def"]),
        ],
        "x notin (abc,def),y!=jkl,!z",
      ],
      [
        [
          newRequirement("x", "notin", ["abc"]),
          newRequirement("y", "in", ["jkl", "mno"]),
          newRequirement("z", "notin", [""]),
        ],
        "x notin (abc),y in (jkl,mno),z notin ()",
      ],
      [
        [
          newRequirement("x", "=", ["abc"]),
          newRequirement("y", "==", ["jkl"]),
          newRequirement("z", "!=", ["a"]),
          newRequirement("z", "exists"),
        ],
        "x=abc,y==jkl,z!=a,z",
      ],
      [
        [newRequirement("x", "gt", ["2"]), newRequirement("y", "lt", ["8"]), newRequirement("z", "exists")],
        "x>2,y<8,z",
      ],
    ];
    for (const [reqs, want] of cases)
      assert.equal(
        everything()
          .add(...reqs)
          .toString(),
        want,
      );
  });

  it("does not reorder the requirement's own values when printing", () => {
    const r = newRequirement("x", "in", ["b", "a"]);
    assert.equal(r.toString(), "x in (a,b)");
    assert.deepEqual(r.values, ["b", "a"]);
  });

  it("answers requiresExactMatch like upstream", () => {
    const s = parseSelector("a=1,b==2,c in (3),d in (4,5),e!=6,f");
    assert.equal(s.requiresExactMatch("a"), "1");
    assert.equal(s.requiresExactMatch("b"), "2");
    assert.equal(s.requiresExactMatch("c"), "3");
    assert.equal(s.requiresExactMatch("d"), undefined);
    assert.equal(s.requiresExactMatch("e"), undefined);
    assert.equal(s.requiresExactMatch("f"), undefined);
    assert.equal(s.requiresExactMatch("zz"), undefined);
    // Only the first requirement on the key counts.
    assert.equal(parseSelector("a!=1,a=2").requiresExactMatch("a"), undefined);
  });

  it("distinguishes everything from nothing", () => {
    assert.equal(everything().empty(), true);
    assert.equal(everything().matches({ a: "b" }), true);
    assert.equal(nothing().empty(), false);
    assert.equal(nothing().matches({}), false);
    assert.equal(nothing().isNothing(), true);
    assert.equal(nothing().toString(), "");
    assert.equal(nothing().add(newRequirement("a", "exists")).matches({ a: "" }), false);
    assert.equal(parseSelector("").empty(), true);
    assert.equal(parseSelector("a").empty(), false);
  });

  it("builds from a set", () => {
    assert.equal(selectorFromSet({ b: "2", a: "1" }).toString(), "a=1,b=2");
    assert.equal(selectorFromSet({ a: "1" }).matches({ a: "1", b: "2" }), true);
    assert.equal(selectorFromSet({ a: "1" }).matches({ a: "2" }), false);
    assert.equal(selectorFromSet({}).empty(), true);
    assert.equal(selectorFromSet(undefined).empty(), true);
    assert.equal(selectorFromSet({ "bad key": "x" }).toString(), "bad key=x");
    throwsMessage(
      () => validatedSelectorFromSet({ "bad key": "x" }),
      `key: Invalid value: "bad key": ${KEY_NAME_ERROR}`,
    );
    assert.equal(validatedSelectorFromSet({ a: "1" }).toString(), "a=1");
  });
});

describe("labelSelectorAsSelector", () => {
  it("matches nothing for null and everything for an empty selector", () => {
    assert.equal(labelSelectorAsSelector(null).matches({ a: "b" }), false);
    assert.equal(labelSelectorAsSelector(undefined).isNothing(), true);
    assert.equal(labelSelectorAsSelector({}).matches({ a: "b" }), true);
    assert.equal(labelSelectorAsSelector({ matchLabels: {}, matchExpressions: [] }).empty(), true);
  });

  it("combines matchLabels and matchExpressions", () => {
    const s = labelSelectorAsSelector({
      matchLabels: { app: "web", tier: "front" },
      matchExpressions: [
        { key: "env", operator: "In", values: ["prod", "staging"] },
        { key: "canary", operator: "DoesNotExist" },
        { key: "zone", operator: "NotIn", values: ["b"] },
        { key: "owner", operator: "Exists", values: [] },
      ],
    });
    assert.equal(s.toString(), "app=web,!canary,env in (prod,staging),owner,tier=front,zone notin (b)");
    assert.equal(s.matches({ app: "web", tier: "front", env: "prod", owner: "me" }), true);
    assert.equal(s.matches({ app: "web", tier: "front", env: "prod", owner: "me", zone: "b" }), false);
    assert.equal(s.matches({ app: "web", tier: "front", env: "dev", owner: "me" }), false);
    assert.equal(s.matches({ app: "web", tier: "front", env: "prod", owner: "me", canary: "" }), false);
    assert.equal(s.matches({ app: "web", env: "prod", owner: "me" }), false);
  });

  it("reports errors as upstream", () => {
    throwsMessage(
      () => labelSelectorAsSelector({ matchExpressions: [{ key: "a", operator: "In" }] }),
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    );
    throwsMessage(
      () => labelSelectorAsSelector({ matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] }),
      '"Gt" is not a valid label selector operator',
    );
    throwsMessage(
      () => labelSelectorAsSelector({ matchExpressions: [{ key: "a", operator: "toString" }] }),
      '"toString" is not a valid label selector operator',
    );
    throwsMessage(
      () => labelSelectorAsSelector({ matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] }),
      'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
    );
    throwsMessage(
      () => labelSelectorAsSelector({ matchLabels: { a: "b c" } }),
      `values[0][a]: Invalid value: "b c": ${VALUE_ERROR}`,
    );
  });
});

describe("validateLabelSelector", () => {
  const path = FieldPath.root("spec").child("selector");

  it("accepts valid and absent selectors", () => {
    assert.deepEqual(validateLabelSelector(undefined, path), []);
    assert.deepEqual(validateLabelSelector(null, path), []);
    assert.deepEqual(
      validateLabelSelector(
        {
          matchLabels: { app: "web" },
          matchExpressions: [{ key: "example.com/env", operator: "In", values: ["a", ""] }],
        },
        path,
      ),
      [],
    );
  });

  it("reports each problem at its field", () => {
    const errs = validateLabelSelector(
      {
        matchLabels: { "bad key": "ok", good: "bad value" },
        matchExpressions: [
          { key: "a", operator: "In" },
          { key: "b", operator: "Exists", values: ["x"] },
          { key: "c", operator: "Gt", values: ["1"] },
          { key: "", operator: "NotIn", values: ["no way"] },
        ],
      },
      path,
    ).map(formatFieldError);
    assert.deepEqual(errs, [
      `spec.selector.matchLabels: Invalid value: "bad key": ${KEY_NAME_ERROR}`,
      `spec.selector.matchLabels: Invalid value: "bad value": ${VALUE_ERROR}`,
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      'spec.selector.matchExpressions[2].operator: Invalid value: "Gt": not a valid selector operator',
      'spec.selector.matchExpressions[3].key: Invalid value: "": name part must be non-empty',
      `spec.selector.matchExpressions[3].key: Invalid value: "": ${KEY_NAME_ERROR}`,
      `spec.selector.matchExpressions[3].values[0]: Invalid value: "no way": ${VALUE_ERROR}`,
    ]);
  });

  it("can allow invalid label values in expressions", () => {
    const sel = { matchExpressions: [{ key: "a", operator: "In", values: ["no way"] }] };
    assert.equal(validateLabelSelector(sel, path).length, 1);
    assert.deepEqual(validateLabelSelector(sel, path, { allowInvalidLabelValueInSelector: true }), []);
  });
});
