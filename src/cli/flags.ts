/**
 * @module A small flag parser for the kites subcommands: `--name value`, `--name=value`,
 * boolean `--flag`; unknown flags are an error that names them.
 */

export interface FlagSpec {
  [name: string]: { type: "string" | "boolean" | "number"; help: string };
}

export type FlagValues = Record<string, string | boolean | number | undefined>;

/** Parses `args` against `spec`; throws an Error with a usage line on a bad flag. */
export function parseFlags(args: string[], spec: FlagSpec): FlagValues {
  const out: FlagValues = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--")) throw new Error(`unexpected argument "${a}"`);
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (!s) throw new Error(`unknown flag --${name}`);
    if (s.type === "boolean") {
      out[name] = eq < 0 ? true : a.slice(eq + 1) !== "false";
      continue;
    }
    const v = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (v === undefined) throw new Error(`flag --${name} needs a value`);
    if (s.type === "number") {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`flag --${name}: "${v}" is not a number`);
      out[name] = n;
    } else out[name] = v;
  }
  return out;
}

/** The help text of a flag spec. */
export function flagHelp(spec: FlagSpec): string {
  return Object.entries(spec)
    .map(
      ([n, s]) =>
        `  --${n}${s.type === "boolean" ? "" : ` ${s.type === "number" ? "N" : "VALUE"}`}\n      ${s.help}`,
    )
    .join("\n");
}
