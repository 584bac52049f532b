/**
 * @module The argv a container runs, from its `command`/`args` and the image's ENTRYPOINT/CMD,
 * with upstream's rules: a `command` replaces the ENTRYPOINT and drops the CMD; `args` alone
 * replace the CMD after the ENTRYPOINT; neither runs ENTRYPOINT + CMD. `$(VAR)` references
 * in command and args are expanded with the container's environment.
 */
import { expand } from "./expansion.ts";

/** Builds the final argv. `lookup` resolves `$(VAR)` in command and args. */
export function containerArgv(
  command: readonly string[] | undefined,
  args: readonly string[] | undefined,
  imageEntrypoint: readonly string[],
  imageCmd: readonly string[],
  lookup: (name: string) => string | undefined,
): string[] {
  const cmd = (command ?? []).map((s) => expand(s, lookup));
  const arg = (args ?? []).map((s) => expand(s, lookup));
  if (cmd.length > 0) return [...cmd, ...arg];
  if (arg.length > 0) return [...imageEntrypoint, ...arg];
  return [...imageEntrypoint, ...imageCmd];
}
