/**
 * @module Label selectors, as upstream's `k8s.io/apimachinery/pkg/labels` and the metav1
 * helpers define them: the string syntax (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) with
 * upstream's parser and its error messages, building a selector from a `LabelSelector` object
 * (`LabelSelectorAsSelector`: null matches nothing, empty matches everything), matching,
 * the canonical string (requirements sorted by key), and `validateLabelSelector` for API
 * validation of `LabelSelector` fields.
 *
 * A {@link Selector} is immutable and precompiled: `matches` walks an array of requirements
 * without allocating.
 */
import { compareGoStrings } from "./go-order.ts";
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { type FieldError, type FieldPath, forbidden, invalidValue, required } from "./field-errors.ts";
import { isQualifiedName, isValidLabelValue, validateLabels } from "./validation/names.ts";

/**
 * Requirement operators, spelled as upstream's `selection.Operator`. `gt` and `lt` come only
 * from the string syntax (`a>1`); `LabelSelector` objects cannot express them.
 */
export type LabelOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

const BINARY_OPERATORS: readonly LabelOperator[] = ["in", "notin", "=", "==", "!=", "gt", "lt"];
const VALID_OPERATORS: readonly LabelOperator[] = [...BINARY_OPERATORS, "exists", "!"];

/** A bad selector string or requirement; `message` is upstream's text. */
export class LabelSelectorError extends Error {
  override readonly name = "LabelSelectorError";
}

/** Labels as objects carry them; absent means no labels. */
export type Labels = Readonly<Record<string, string>> | undefined;

/** Go's `%#v` of a string slice, as upstream's field errors print one. */
function goSlice(values: readonly string[] | undefined): string {
  if (!values || values.length === 0) return "[]string(nil)";
  return `[]string{${values.map((v) => JSON.stringify(v)).join(", ")}}`;
}

/** Upstream's aggregate error text: one message alone, several (deduplicated) in brackets. */
function aggregate(msgs: readonly string[]): string {
  const unique = [...new Set(msgs)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(", ")}]`;
}

/** `Invalid value` field error text with upstream's value printing. */
function invalidText(path: string, value: string, detail: string): string {
  return `${path}: Invalid value: ${value}: ${detail}`;
}

function keyErrors(key: string, path: string): string | undefined {
  const errs = isQualifiedName(key);
  return errs.length ? invalidText(path, JSON.stringify(key), errs.join("; ")) : undefined;
}

const INT64_TEXT = /^[+-]?[0-9]+$/;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Go's `strconv.ParseInt(s, 10, 64)`, or undefined when it would fail. */
function parseInt64(s: string): bigint | undefined {
  if (!INT64_TEXT.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

const OP_IN = 0;
const OP_NOT_IN = 1;
const OP_EXISTS = 2;
const OP_NOT_EXISTS = 3;
const OP_GT = 4;
const OP_LT = 5;

const OPCODES: Record<LabelOperator, number> = {
  "=": OP_IN,
  "==": OP_IN,
  in: OP_IN,
  "!=": OP_NOT_IN,
  notin: OP_NOT_IN,
  exists: OP_EXISTS,
  "!": OP_NOT_EXISTS,
  gt: OP_GT,
  lt: OP_LT,
};

/** Above this many values, membership is checked through a Set. */
const SET_THRESHOLD = 8;

/** One requirement: a key, an operator and its values. Build with {@link newRequirement}. */
export class Requirement {
  readonly #opcode: number;
  readonly #set: ReadonlySet<string> | undefined;
  readonly #bound: bigint | undefined;

  /** @internal Unvalidated; use {@link newRequirement}. */
  constructor(
    readonly key: string,
    readonly operator: LabelOperator,
    readonly values: readonly string[],
  ) {
    this.#opcode = OPCODES[operator];
    this.#set = values.length > SET_THRESHOLD ? new Set(values) : undefined;
    this.#bound = this.#opcode === OP_GT || this.#opcode === OP_LT ? parseInt64(values[0] ?? "") : undefined;
  }

  #has(v: string): boolean {
    if (this.#set) return this.#set.has(v);
    const vs = this.values;
    for (let i = 0; i < vs.length; i++) if (vs[i] === v) return true;
    return false;
  }

  /** Whether `labels` satisfy this requirement, as upstream's `Requirement.Matches`. */
  matches(labels: Labels): boolean {
    const present = labels !== undefined && Object.hasOwn(labels, this.key);
    switch (this.#opcode) {
      case OP_IN:
        return present && this.#has(labels[this.key]!);
      case OP_NOT_IN:
        return !present || !this.#has(labels[this.key]!);
      case OP_EXISTS:
        return present;
      case OP_NOT_EXISTS:
        return !present;
      default: {
        if (!present || this.#bound === undefined || this.values.length !== 1) return false;
        const v = parseInt64(labels[this.key]!);
        if (v === undefined) return false;
        return this.#opcode === OP_GT ? v > this.#bound : v < this.#bound;
      }
    }
  }

  /** Upstream's text: `a=b`, `a!=b`, `a in (x,y)`, `a`, `!a`, `a>1`; set values sorted. */
  toString(): string {
    const op = this.operator;
    if (op === "exists") return this.key;
    if (op === "!") return `!${this.key}`;
    const vs = this.values.length === 1 ? this.values[0]! : [...this.values].sort(compareGoStrings).join(",");
    switch (op) {
      case "in":
        return `${this.key} in (${vs})`;
      case "notin":
        return `${this.key} notin (${vs})`;
      case "gt":
        return `${this.key}>${vs}`;
      case "lt":
        return `${this.key}<${vs}`;
      default:
        return `${this.key}${op}${vs}`;
    }
  }
}

/** Messages for a requirement, as upstream's `NewRequirement` (paths `key`, `values`, …). */
function requirementErrors(key: string, op: string, values: readonly string[] | undefined): string[] {
  const errs: string[] = [];
  const keyErr = keyErrors(key, "key");
  if (keyErr) errs.push(keyErr);
  const n = values?.length ?? 0;
  switch (op) {
    case "in":
    case "notin":
      if (n === 0)
        errs.push(
          invalidText("values", goSlice(values), "for 'in', 'notin' operators, values set can't be empty"),
        );
      break;
    case "=":
    case "==":
    case "!=":
      if (n !== 1)
        errs.push(
          invalidText("values", goSlice(values), "exact-match compatibility requires one single value"),
        );
      break;
    case "exists":
    case "!":
      if (n !== 0)
        errs.push(
          invalidText("values", goSlice(values), "values set must be empty for exists and does not exist"),
        );
      break;
    case "gt":
    case "lt":
      if (n !== 1)
        errs.push(
          invalidText("values", goSlice(values), "for 'Gt', 'Lt' operators, exactly one value is required"),
        );
      values?.forEach((v, i) => {
        if (parseInt64(v) === undefined) {
          errs.push(
            invalidText(
              `values[${i}]`,
              JSON.stringify(v),
              "for 'Gt', 'Lt' operators, the value must be an integer",
            ),
          );
        }
      });
      break;
    default:
      errs.push(
        `operator: Unsupported value: ${JSON.stringify(op)}: supported values: ${VALID_OPERATORS.map((o) => JSON.stringify(o)).join(", ")}`,
      );
  }
  values?.forEach((v, i) => {
    const vErrs = isValidLabelValue(v);
    if (vErrs.length) errs.push(invalidText(`values[${i}][${key}]`, JSON.stringify(v), vErrs.join("; ")));
  });
  return errs;
}

/**
 * Builds a validated requirement (upstream's `NewRequirement`). Throws
 * {@link LabelSelectorError} with upstream's aggregated message, e.g.
 * `values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty`.
 */
export function newRequirement(
  key: string,
  operator: LabelOperator,
  values: readonly string[] = [],
): Requirement {
  const errs = requirementErrors(key, operator, values);
  if (errs.length) throw new LabelSelectorError(aggregate(errs));
  return new Requirement(key, operator, [...values]);
}

function sortByKey(reqs: Requirement[]): Requirement[] {
  // Array.prototype.sort is stable: equal keys keep their order.
  return reqs.sort((a, b) => compareGoStrings(a.key, b.key));
}

/**
 * A compiled label selector: the AND of its requirements, sorted by key. The `nothing`
 * selector (from a null `LabelSelector`) matches no labels at all.
 */
export class Selector {
  private constructor(
    /** The requirements, sorted by key. */
    readonly requirements: readonly Requirement[],
    private readonly nothing: boolean,
  ) {}

  /** @internal */
  static of(reqs: Requirement[], nothing = false): Selector {
    return new Selector(Object.freeze(sortByKey(reqs)), nothing);
  }

  /** Whether every requirement holds for `labels`. */
  matches(labels: Labels): boolean {
    if (this.nothing) return false;
    const reqs = this.requirements;
    for (let i = 0; i < reqs.length; i++) if (!reqs[i]!.matches(labels)) return false;
    return true;
  }

  /** True when the selector does not restrict anything (false for the nothing selector). */
  empty(): boolean {
    return !this.nothing && this.requirements.length === 0;
  }

  /** Whether this is the selector that matches nothing. */
  isNothing(): boolean {
    return this.nothing;
  }

  /** A new selector with more requirements (upstream's `Add`); the nothing selector stays so. */
  add(...reqs: Requirement[]): Selector {
    if (this.nothing) return this;
    return Selector.of([...this.requirements, ...reqs]);
  }

  /**
   * If the first requirement on `label` demands exactly one value (`=`, `==`, or `in` with one
   * value), that value; otherwise undefined. Used to pick an index.
   */
  requiresExactMatch(label: string): string | undefined {
    for (const r of this.requirements) {
      if (r.key !== label) continue;
      if ((r.operator === "=" || r.operator === "==" || r.operator === "in") && r.values.length === 1) {
        return r.values[0];
      }
      return undefined;
    }
    return undefined;
  }

  /** Upstream's canonical text: requirements by key, comma-joined; `""` when empty or nothing. */
  toString(): string {
    return this.nothing ? "" : this.requirements.join(",");
  }
}

const EVERYTHING = Selector.of([]);
const NOTHING = Selector.of([], true);

/** The selector that matches all labels. */
export function everything(): Selector {
  return EVERYTHING;
}

/** The selector that matches no labels. */
export function nothing(): Selector {
  return NOTHING;
}

/** `k=v` for each entry, unvalidated (upstream's `SelectorFromSet`); empty matches everything. */
export function selectorFromSet(set: Labels): Selector {
  if (!set) return EVERYTHING;
  const reqs = Object.entries(set).map(([k, v]) => new Requirement(k, "=", [v]));
  return reqs.length ? Selector.of(reqs) : EVERYTHING;
}

/** Like {@link selectorFromSet} but validates keys and values; throws {@link LabelSelectorError}. */
export function validatedSelectorFromSet(set: Labels): Selector {
  if (!set) return EVERYTHING;
  const reqs = Object.entries(set).map(([k, v]) => newRequirement(k, "=", [v]));
  return reqs.length ? Selector.of(reqs) : EVERYTHING;
}

const OBJECT_OPERATORS: Record<string, LabelOperator> = {
  In: "in",
  NotIn: "notin",
  Exists: "exists",
  DoesNotExist: "!",
};

/**
 * Upstream's `LabelSelectorAsSelector`: null or undefined matches nothing, an empty selector
 * everything; otherwise matchLabels as `=` and matchExpressions (In, NotIn, Exists,
 * DoesNotExist). Throws {@link LabelSelectorError} on an unknown operator
 * (`"Gt" is not a valid label selector operator`) or an invalid requirement.
 */
export function labelSelectorAsSelector(ls: LabelSelector | null | undefined): Selector {
  if (!ls) return NOTHING;
  const matchLabels = ls.matchLabels ? Object.entries(ls.matchLabels) : [];
  const exprs = ls.matchExpressions ?? [];
  if (matchLabels.length + exprs.length === 0) return EVERYTHING;
  const reqs: Requirement[] = [];
  for (const [k, v] of matchLabels) reqs.push(newRequirement(k, "=", [v]));
  for (const expr of exprs) {
    const op = Object.hasOwn(OBJECT_OPERATORS, expr.operator) ? OBJECT_OPERATORS[expr.operator] : undefined;
    if (!op)
      throw new LabelSelectorError(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    reqs.push(newRequirement(expr.key, op, expr.values ?? []));
  }
  return Selector.of(reqs);
}

/** Options for {@link validateLabelSelector}, as upstream's LabelSelectorValidationOptions. */
export interface LabelSelectorValidationOptions {
  /** Skip label-value checks in matchExpressions (only for existing, already-invalid data). */
  allowInvalidLabelValueInSelector?: boolean;
}

/**
 * Validates a `LabelSelector` field as upstream's metav1 `ValidateLabelSelector`: matchLabels
 * keys and values, and for each matchExpressions entry its operator, values and key.
 */
export function validateLabelSelector(
  sel: LabelSelector | null | undefined,
  path: FieldPath,
  opts: LabelSelectorValidationOptions = {},
): FieldError[] {
  if (!sel) return [];
  const errs = validateLabels(sel.matchLabels, path.child("matchLabels"));
  (sel.matchExpressions ?? []).forEach((expr, i) => {
    const p = path.child("matchExpressions").index(i);
    const values = expr.values ?? [];
    switch (expr.operator) {
      case "In":
      case "NotIn":
        if (values.length === 0) {
          errs.push(required(p.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
        }
        break;
      case "Exists":
      case "DoesNotExist":
        if (values.length > 0) {
          errs.push(
            forbidden(
              p.child("values"),
              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
          );
        }
        break;
      default:
        errs.push(invalidValue(p.child("operator"), expr.operator, "not a valid selector operator"));
    }
    for (const m of isQualifiedName(expr.key)) errs.push(invalidValue(p.child("key"), expr.key, m));
    if (!opts.allowInvalidLabelValueInSelector) {
      values.forEach((v, j) => {
        for (const m of isValidLabelValue(v)) errs.push(invalidValue(p.child("values").index(j), v, m));
      });
    }
  });
  return errs;
}

// ---- The string syntax: upstream's lexer and recursive-descent parser, error for error. ----

const enum Tok {
  Error,
  End,
  ClosedPar,
  Comma,
  DoesNotExist,
  DoubleEquals,
  Equals,
  GreaterThan,
  Identifier,
  In,
  LessThan,
  NotEquals,
  NotIn,
  OpenPar,
}

const KEYWORDS: ReadonlyMap<string, Tok> = new Map([
  [")", Tok.ClosedPar],
  [",", Tok.Comma],
  ["!", Tok.DoesNotExist],
  ["==", Tok.DoubleEquals],
  ["=", Tok.Equals],
  [">", Tok.GreaterThan],
  ["in", Tok.In],
  ["<", Tok.LessThan],
  ["!=", Tok.NotEquals],
  ["notin", Tok.NotIn],
  ["(", Tok.OpenPar],
]);

const TOKEN_OPERATORS: ReadonlyMap<Tok, LabelOperator> = new Map([
  [Tok.In, "in"],
  [Tok.Equals, "="],
  [Tok.DoubleEquals, "=="],
  [Tok.GreaterThan, "gt"],
  [Tok.LessThan, "lt"],
  [Tok.NotIn, "notin"],
  [Tok.NotEquals, "!="],
]);

function isWhitespace(c: string): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\n";
}

function isSpecial(c: string): boolean {
  return c === "=" || c === "!" || c === "(" || c === ")" || c === "," || c === ">" || c === "<";
}

interface Item {
  tok: Tok;
  lit: string;
}

/** Splits a selector into tokens; NUL ends the input, as in upstream's byte lexer. */
function lex(s: string): Item[] {
  const items: Item[] = [];
  const n = s.indexOf("\0") >= 0 ? s.indexOf("\0") : s.length;
  let pos = 0;
  for (;;) {
    while (pos < n && isWhitespace(s[pos]!)) pos++;
    if (pos >= n) {
      items.push({ tok: Tok.End, lit: "" });
      return items;
    }
    if (isSpecial(s[pos]!)) {
      let buf = "";
      let last: Item | undefined;
      while (pos < n && isSpecial(s[pos]!)) {
        const tok = KEYWORDS.get(buf + s[pos]);
        if (tok !== undefined) last = { tok, lit: buf + s[pos] };
        else if (last) break;
        buf += s[pos++];
      }
      items.push(last ?? { tok: Tok.Error, lit: `error expected: keyword found '${buf}'` });
    } else {
      const start = pos;
      while (pos < n && !isSpecial(s[pos]!) && !isWhitespace(s[pos]!)) pos++;
      const lit = s.slice(start, pos);
      items.push({ tok: KEYWORDS.get(lit) ?? Tok.Identifier, lit });
    }
  }
}

class Parser {
  private position = 0;
  constructor(private readonly items: Item[]) {}

  /** The current token; in a values context the keywords `in`/`notin` are plain identifiers. */
  private peek(values: boolean): Item {
    const it = this.items[Math.min(this.position, this.items.length - 1)]!;
    return values && (it.tok === Tok.In || it.tok === Tok.NotIn) ? { tok: Tok.Identifier, lit: it.lit } : it;
  }

  private next(values: boolean): Item {
    const it = this.peek(values);
    this.position++;
    return it;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.peek(true);
      if (tok === Tok.End) return reqs;
      if (tok !== Tok.Identifier && tok !== Tok.DoesNotExist) {
        throw new LabelSelectorError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
      try {
        reqs.push(this.requirement());
      } catch (e) {
        if (e instanceof LabelSelectorError)
          throw new LabelSelectorError(`unable to parse requirement: ${e.message}`);
        throw e;
      }
      const after = this.next(true);
      if (after.tok === Tok.End) return reqs;
      if (after.tok !== Tok.Comma)
        throw new LabelSelectorError(`found '${after.lit}', expected: ',' or 'end of string'`);
      const t2 = this.peek(true);
      if (t2.tok !== Tok.Identifier && t2.tok !== Tok.DoesNotExist) {
        throw new LabelSelectorError(`found '${t2.lit}', expected: identifier after ','`);
      }
    }
  }

  private requirement(): Requirement {
    let notExists = false;
    let { tok, lit } = this.next(true);
    if (tok === Tok.DoesNotExist) {
      notExists = true;
      ({ tok, lit } = this.next(true));
    }
    if (tok !== Tok.Identifier) throw new LabelSelectorError(`found '${lit}', expected: identifier`);
    const keyErr = keyErrors(lit, "<nil>");
    if (keyErr) throw new LabelSelectorError(keyErr);
    const key = lit;
    const la = this.peek(true).tok;
    if (notExists) return newRequirement(key, "!", []);
    if (la === Tok.End || la === Tok.Comma) return newRequirement(key, "exists", []);

    const opItem = this.next(false);
    const op = TOKEN_OPERATORS.get(opItem.tok);
    if (!op) throw new LabelSelectorError(`found '${opItem.lit}', expected: ${BINARY_OPERATORS.join(", ")}`);
    const values = op === "in" || op === "notin" ? this.setValues() : this.exactValue();
    // Upstream collects values in a string set: deduplicated and sorted.
    return newRequirement(key, op, [...new Set(values)].sort(compareGoStrings));
  }

  private setValues(): string[] {
    const open = this.next(true);
    if (open.tok !== Tok.OpenPar) throw new LabelSelectorError(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.peek(true);
    if (tok === Tok.ClosedPar) {
      this.next(true);
      return [""];
    }
    if (tok !== Tok.Identifier && tok !== Tok.Comma) {
      throw new LabelSelectorError(`found '${lit}', expected: ',', ')' or identifier`);
    }
    const values = this.identifiers();
    if (this.next(true).tok !== Tok.ClosedPar) throw new LabelSelectorError(`found '${lit}', expected: ')'`);
    return values;
  }

  /** A comma-separated list of possibly empty identifiers, up to (not including) `)`. */
  private identifiers(): string[] {
    const values: string[] = [];
    for (;;) {
      const { tok, lit } = this.next(true);
      if (tok === Tok.Identifier) {
        values.push(lit);
        const t2 = this.peek(true);
        if (t2.tok === Tok.Comma) continue;
        if (t2.tok === Tok.ClosedPar) return values;
        throw new LabelSelectorError(`found '${t2.lit}', expected: ',' or ')'`);
      }
      if (tok !== Tok.Comma) throw new LabelSelectorError(`found '${lit}', expected: ',', or identifier`);
      if (values.length === 0) values.push("");
      const t2 = this.peek(true).tok;
      if (t2 === Tok.ClosedPar) {
        values.push("");
        return values;
      }
      if (t2 === Tok.Comma) {
        this.next(true);
        values.push("");
      }
    }
  }

  private exactValue(): string[] {
    const la = this.peek(true).tok;
    if (la === Tok.End || la === Tok.Comma) return [""];
    const { tok, lit } = this.next(true);
    if (tok !== Tok.Identifier) throw new LabelSelectorError(`found '${lit}', expected: identifier`);
    return [lit];
  }
}

/**
 * Parses the string syntax (`a=b,c!=d,e in (x,y),f notin (z),g,!h`, also `==`, `a>1`, `a<1`)
 * as upstream's `labels.Parse`. The empty string matches everything. Throws
 * {@link LabelSelectorError} with upstream's message, e.g.
 * `unable to parse requirement: found '', expected: identifier`.
 */
export function parseSelector(s: string): Selector {
  return Selector.of(new Parser(lex(s)).parse());
}
