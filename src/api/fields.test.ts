import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  FieldSelectorError,
  type Fields,
  andFieldSelectors,
  escapeFieldValue,
  everythingFields,
  fieldSelectorFromRequirements,
  fieldSelectorFromSet,
  oneTermEqualSelector,
  parseFieldSelector,
  unescapeFieldValue,
} from "./fields.ts";

function throwsMessage(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FieldSelectorError, `not a FieldSelectorError: ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  });
}

describe("escaping (upstream TestEscapeValue)", () => {
  const table: [string, string][] = [
    ["", ""],
    ["a", "a"],
    ["=", "\\="],
    [",", "\\,"],
    ["\\", "\\\\"],
    ["\\=\\,\\", "\\\\\\=\\\\\\,\\\\"],
    ["함=수", "함\\=수"],
  ];
  for (const [raw, escaped] of table) {
    it(JSON.stringify(raw), () => {
      assert.equal(escapeFieldValue(raw), escaped);
      assert.equal(unescapeFieldValue(escaped), raw);
    });
  }

  const invalid: [string, string][] = [
    ["\\", "invalid field selector: invalid escape sequence: \\"],
    ["\\\\\\", "invalid field selector: invalid escape sequence: \\"],
    ["\\a", "invalid field selector: invalid escape sequence: \\a"],
    ["a=b", "invalid field selector: unescaped character in value: 61"],
    ["a,b", "invalid field selector: unescaped character in value: 44"],
  ];
  for (const [value, message] of invalid) {
    it(`rejects ${JSON.stringify(value)}`, () => throwsMessage(() => unescapeFieldValue(value), message));
  }
});

describe("parseFieldSelector", () => {
  const roundTrips = [
    "x=a,y=b,z=c",
    "",
    "x!=a,y=b",
    "x=a||y\\=b",
    "x=a\\=\\=b",
    "metadata.name=x,spec.nodeName!=",
  ];
  for (const s of roundTrips) {
    it(`round trips ${JSON.stringify(s)}`, () => assert.equal(parseFieldSelector(s).toString(), s));
  }

  const normalized: [string, string][] = [
    ["x=a,a=x", "a=x,x=a"],
    ["status.phase==Running", "status.phase=Running"],
    [
      "metadata.name=x,spec.nodeName!=,status.phase==Running",
      "metadata.name=x,spec.nodeName!=,status.phase=Running",
    ],
    ["a=a,", "a=a"],
    [",a=a", "a=a"],
    ["k=\\,,k2=v2", "k2=v2,k=\\,"],
    ["k=\\\\,k2=v2", "k2=v2,k=\\\\"],
    ["k=\\\\\\,,k2=v2", "k2=v2,k=\\\\\\,"],
    ["함=수,목=록", "목=록,함=수"],
    ["a = b", "a = b"],
    ["=", ""],
    ["!=,a=b", "a=b"],
  ];
  for (const [input, want] of normalized) {
    it(`${JSON.stringify(input)} prints ${JSON.stringify(want)}`, () =>
      assert.equal(parseFieldSelector(input).toString(), want));
  }

  it("splits at the first operator and unescapes the value", () => {
    assert.deepEqual(parseFieldSelector("k=\\\\\\=\\,").requirements, [
      { field: "k", operator: "=", value: "\\=," },
    ]);
    assert.deepEqual(parseFieldSelector("c!=value").requirements, [
      { field: "c", operator: "!=", value: "value" },
    ]);
    assert.deepEqual(parseFieldSelector("b==value").requirements, [
      { field: "b", operator: "=", value: "value" },
    ]);
    assert.deepEqual(parseFieldSelector("a==").requirements, [{ field: "a", operator: "=", value: "" }]);
    // No trimming, as upstream.
    assert.deepEqual(parseFieldSelector(" a = b").requirements, [
      { field: " a ", operator: "=", value: " b" },
    ]);
  });

  const bad: [string, string][] = [
    ["x=a||y=b", "invalid field selector: unescaped character in value: 61"],
    ["x==a==b", "invalid field selector: unescaped character in value: 61"],
    ["x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"],
    ["x in (a)", "invalid selector: 'x in (a)'; can't understand 'x in (a)'"],
    ["x in (a,b,c)", "invalid selector: 'x in (a,b,c)'; can't understand 'b'"],
    ["x", "invalid selector: 'x'; can't understand 'x'"],
    ["x>1", "invalid selector: 'x>1'; can't understand 'x>1'"],
    ["k=\\a", "invalid field selector: invalid escape sequence: \\a"],
    ["k=\\", "invalid field selector: invalid escape sequence: \\"],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => throwsMessage(() => parseFieldSelector(input), message));
  }
});

describe("matches (upstream TestSelectorMatches)", () => {
  const fieldset: Fields = { foo: "bar", baz: "blah", complex: "=value\\,\\" };
  const table: [string, Fields, boolean][] = [
    ["", { x: "y" }, true],
    ["x=y", { x: "y" }, true],
    ["x=y,z=w", { x: "y", z: "w" }, true],
    ["x!=y,z!=w", { x: "z", z: "a" }, true],
    ["notin=in", { notin: "in" }, true],
    ["x=y", { x: "z" }, false],
    ["x=y,z=w", { x: "w", z: "w" }, false],
    ["x!=y,z!=w", { x: "z", z: "w" }, false],
    ["foo=bar", fieldset, true],
    ["baz=blah", fieldset, true],
    ["foo=bar,baz=blah", fieldset, true],
    ["foo=bar,baz=blah,complex=\\=value\\\\\\,\\\\", fieldset, true],
    ["foo=blah", fieldset, false],
    ["baz=bar", fieldset, false],
    ["foo=bar,foobar=bar,baz=blah", fieldset, false],
    // A field the caller does not supply is the empty string.
    ["spec.nodeName=", {}, true],
    ["spec.nodeName!=", {}, false],
    ["spec.nodeName!=", { "spec.nodeName": "node-1" }, true],
    ["spec.nodeName=node-1", { "spec.nodeName": "node-1", "metadata.name": "p" }, true],
    ["constructor=", {}, true],
  ];
  for (const [sel, fields, want] of table) {
    it(`${JSON.stringify(sel)} on ${JSON.stringify(fields)}`, () =>
      assert.equal(parseFieldSelector(sel).matches(fields), want));
  }
});

describe("requiresExactMatch (upstream TestRequiresExactMatch)", () => {
  const table: [string, string, string | undefined][] = [
    ["", "test", undefined],
    ["a=b", "test", undefined],
    ["test=b", "test", "b"],
    ["test=", "test", ""],
    ["test==b", "test", "b"],
    ["test!=b", "test", undefined],
    ["test!=", "test", undefined],
    ["spec.nodeName=n1,status.phase!=Failed", "spec.nodeName", "n1"],
    ["test!=a,test=b", "test", "b"],
  ];
  for (const [sel, field, want] of table) {
    it(`${JSON.stringify(sel)} for ${field}`, () =>
      assert.equal(parseFieldSelector(sel).requiresExactMatch(field), want));
  }
});

describe("transform (upstream TestTransform)", () => {
  const table: [string, (f: string, v: string) => [string, string], string, boolean][] = [
    ["", (f, v) => [f, v], "", true],
    ["a=b,c=d", (f, v) => [f, v], "a=b,c=d", false],
    ["a=b,c=d", (f, v) => (f === "a" ? ["e", "f"] : [f, v]), "e=f,c=d", false],
    ["a=b", () => ["", ""], "", true],
    ["a=b,c=d,e=f", (f, v) => (f === "c" ? ["", ""] : [f, v]), "a=b,e=f", false],
  ];
  for (const [sel, fn, want, empty] of table) {
    it(`${JSON.stringify(sel)} → ${JSON.stringify(want)}`, () => {
      const out = parseFieldSelector(sel, fn);
      assert.equal(out.toString(), want);
      assert.equal(out.empty(), empty);
      assert.equal(parseFieldSelector(sel).transform(fn).toString(), want);
    });
  }

  it("lets the transform reject a field", () => {
    const fn = (f: string, v: string): [string, string] => {
      if (f !== "metadata.name") throw new FieldSelectorError(`field label not supported: ${f}`);
      return [f, v];
    };
    throwsMessage(() => parseFieldSelector("spec.foo=x", fn), "field label not supported: spec.foo");
  });
});

describe("building selectors", () => {
  it("everything matches all and is empty", () => {
    assert.equal(everythingFields().matches({ x: "y" }), true);
    assert.equal(everythingFields().empty(), true);
    assert.equal(parseFieldSelector("a=b").empty(), false);
  });

  it("from a set (upstream TestSetMatches)", () => {
    const fields: Fields = { foo: "bar", baz: "blah" };
    const cases: [Fields | undefined, boolean][] = [
      [undefined, true],
      [{}, true],
      [{ foo: "bar" }, true],
      [{ baz: "blah" }, true],
      [{ foo: "bar", baz: "blah" }, true],
      [{ foo: "=blah" }, false],
      [{ foo: "=bar", foobar: "bar", baz: "blah" }, false],
    ];
    for (const [set, want] of cases)
      assert.equal(fieldSelectorFromSet(set).matches(fields), want, JSON.stringify(set));
    assert.equal(fieldSelectorFromSet({ b: "x,y", a: "1" }).toString(), "a=1,b=x\\,y");
  });

  it("one term and AND", () => {
    assert.equal(oneTermEqualSelector("x", "y").matches({ x: "y" }), true);
    assert.equal(oneTermEqualSelector("x", "y").matches({ x: "z" }), false);
    const both = andFieldSelectors(oneTermEqualSelector("a", "1"), parseFieldSelector("b!=2"));
    assert.equal(both.toString(), "a=1,b!=2");
    assert.equal(both.matches({ a: "1", b: "3" }), true);
    assert.equal(both.matches({ a: "1", b: "2" }), false);
  });

  it("from requirements, rejecting unsupported operators", () => {
    const sel = fieldSelectorFromRequirements([
      { field: "spec.nodeName", operator: "==", value: "n1" },
      { field: "status.phase", operator: "!=", value: "Failed" },
    ]);
    assert.equal(sel.toString(), "spec.nodeName=n1,status.phase!=Failed");
    assert.equal(sel.requiresExactMatch("spec.nodeName"), "n1");
    for (const op of ["in", "notin", "exists", ">", ""]) {
      throwsMessage(
        () => fieldSelectorFromRequirements([{ field: "a", operator: op, value: "b" }]),
        `field selector operator ${JSON.stringify(op)} is not supported: only "=", "==" and "!=" are`,
      );
    }
  });
});
