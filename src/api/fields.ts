/**
 * @module Field selectors, as upstream's `k8s.io/apimachinery/pkg/fields`:
 * `metadata.name=x,spec.nodeName!=,status.phase==Running`, with `\` escaping `\,` `\=` `\\`
 * in values, only the `=`, `==` and `!=` operators, and upstream's error messages. The caller
 * supplies the object's selectable field values (`{"metadata.name": "x", …}`); a field the
 * caller does not supply counts as the empty string, as upstream's `fields.Set`.
 * `requiresExactMatch` lets storage pick an index (e.g. `spec.nodeName`).
 */

import { compareGoStrings } from "./go-order.ts";

/** Field selector operators; `==` means the same as `=`. */
export type FieldOperator = "=" | "==" | "!=";

/** One term: the field, whether it must equal (`=`) or differ from (`!=`) the value. */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: "=" | "!=";
  readonly value: string;
}

/** A bad field selector; `message` is upstream's text where upstream has one. */
export class FieldSelectorError extends Error {
  override readonly name = "FieldSelectorError";
}

/** The selectable fields of one object, by dotted path. */
export type Fields = Readonly<Record<string, string>>;

/** Escapes `\`, `,` and `=` with a backslash so a literal value survives parsing. */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/**
 * Undoes {@link escapeFieldValue}. Throws on an unknown escape
 * (`invalid field selector: invalid escape sequence: \x`) or a bare `,`/`=`
 * (`invalid field selector: unescaped character in value: 61`, the code point as upstream prints it).
 */
export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = "";
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== "\\" && c !== "," && c !== "=") {
        throw new FieldSelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      inSlash = false;
    } else if (c === "\\") {
      inSlash = true;
    } else if (c === "," || c === "=") {
      throw new FieldSelectorError(
        `invalid field selector: unescaped character in value: ${c.codePointAt(0)}`,
      );
    } else {
      out += c;
    }
  }
  if (inSlash) throw new FieldSelectorError("invalid field selector: invalid escape sequence: \\");
  return out;
}

/**
 * Rewrites one term (upstream's `TransformFunc`), e.g. to map a legacy field name; a result
 * with both field and value empty drops the term. Throw to reject the term.
 */
export type FieldTransform = (field: string, value: string) => [field: string, value: string];

/** A compiled field selector: the AND of its requirements, in the order they were parsed. */
export class FieldSelector {
  private constructor(readonly requirements: readonly FieldRequirement[]) {}

  /** @internal */
  static of(reqs: FieldRequirement[]): FieldSelector {
    return new FieldSelector(Object.freeze(reqs));
  }

  /** Whether `fields` satisfy every requirement; a missing field is the empty string. */
  matches(fields: Fields): boolean {
    const reqs = this.requirements;
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i]!;
      const v = Object.hasOwn(fields, r.field) ? fields[r.field] : "";
      if ((v === r.value) !== (r.operator === "=")) return false;
    }
    return true;
  }

  /** True when nothing is required. */
  empty(): boolean {
    return this.requirements.length === 0;
  }

  /** The value the first `=` term on `field` demands, if any. */
  requiresExactMatch(field: string): string | undefined {
    for (const r of this.requirements) if (r.field === field && r.operator === "=") return r.value;
    return undefined;
  }

  /** Applies `fn` to every term (upstream's `Transform`); terms mapped to `("", "")` are dropped. */
  transform(fn: FieldTransform): FieldSelector {
    const out: FieldRequirement[] = [];
    for (const r of this.requirements) {
      const [field, value] = fn(r.field, r.value);
      if (field !== "" || value !== "") out.push({ field, operator: r.operator, value });
    }
    return FieldSelector.of(out);
  }

  /** `a=b,c!=d` with values escaped (`==` prints as `=`). */
  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(",");
  }
}

const EVERYTHING = FieldSelector.of([]);

/** The selector that matches every object. */
export function everythingFields(): FieldSelector {
  return EVERYTHING;
}

/** Splits on commas not preceded by an escaping backslash; escapes stay in the terms. */
function splitTerms(s: string): string[] {
  if (s === "") return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === "\\") inSlash = true;
    else if (c === ",") {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

const TERM_OPERATORS = ["!=", "==", "="] as const;

/** Splits a term at the first operator; the field part has no escaping. */
function splitTerm(term: string): [string, "!=" | "==" | "=", string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of TERM_OPERATORS) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

/**
 * Parses a field selector as upstream's `fields.ParseSelector`: terms sorted, no whitespace
 * trimming, empty terms skipped, values unescaped. Throws {@link FieldSelectorError}, e.g.
 * `invalid selector: 'a'; can't understand 'a'`.
 */
export function parseFieldSelector(selector: string, transform?: FieldTransform): FieldSelector {
  const parts = splitTerms(selector).sort(compareGoStrings);
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === "") continue;
    const split = splitTerm(part);
    if (!split) throw new FieldSelectorError(`invalid selector: '${selector}'; can't understand '${part}'`);
    const [field, op, rhs] = split;
    reqs.push({ field, operator: op === "!=" ? "!=" : "=", value: unescapeFieldValue(rhs) });
  }
  const sel = FieldSelector.of(reqs);
  return sel.transform(transform ?? ((f, v) => [f, v]));
}

/** Every entry as an `=` term (upstream's `SelectorFromSet`); terms sorted by field. */
export function fieldSelectorFromSet(set: Fields | undefined): FieldSelector {
  if (!set) return EVERYTHING;
  const reqs = Object.keys(set)
    .sort(compareGoStrings)
    .map((field): FieldRequirement => ({ field, operator: "=", value: set[field]! }));
  return FieldSelector.of(reqs);
}

/**
 * Builds a selector from requirements given as data (e.g. decoded from an API request),
 * checking each operator. Field selectors support only `=`, `==` and `!=`; anything else
 * throws {@link FieldSelectorError} (`field selector operator "in" is not supported …`).
 */
export function fieldSelectorFromRequirements(
  reqs: readonly { field: string; operator: string; value: string }[],
): FieldSelector {
  return FieldSelector.of(
    reqs.map((r): FieldRequirement => {
      if (r.operator !== "=" && r.operator !== "==" && r.operator !== "!=") {
        throw new FieldSelectorError(
          `field selector operator ${JSON.stringify(r.operator)} is not supported: only "=", "==" and "!=" are`,
        );
      }
      return { field: r.field, operator: r.operator === "!=" ? "!=" : "=", value: r.value };
    }),
  );
}

/** A selector requiring `field` to equal `value` (upstream's `OneTermEqualSelector`). */
export function oneTermEqualSelector(field: string, value: string): FieldSelector {
  return FieldSelector.of([{ field, operator: "=", value }]);
}

/** The AND of several selectors (upstream's `AndSelectors`). */
export function andFieldSelectors(...selectors: FieldSelector[]): FieldSelector {
  return FieldSelector.of(selectors.flatMap((s) => s.requirements));
}
