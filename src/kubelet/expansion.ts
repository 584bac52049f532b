/**
 * @module `$(VAR)` expansion in env values, command and args, with upstream's rules
 * (k8s.io/kubernetes third_party/forked/golang/expansion): `$(NAME)` is replaced when NAME is
 * known and kept verbatim otherwise, `$$` escapes to a literal `$`, any other `$` is literal,
 * and an unterminated `$(` is kept as written.
 */

/** Expands `$(VAR)` references in `input` using `lookup` (undefined = unknown variable). */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  if (!input.includes("$")) return input;
  let out = "";
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (ch !== "$" || i + 1 >= input.length) {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1]!;
    if (next === "$") {
      out += "$";
      i += 2;
      continue;
    }
    if (next === "(") {
      const close = input.indexOf(")", i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const v = name === "" ? undefined : lookup(name);
      out += v ?? `$(${name})`;
      i = close + 1;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/** A lookup over a map of variables. */
export function mapLookup(vars: ReadonlyMap<string, string>): (name: string) => string | undefined {
  return (name) => vars.get(name);
}
