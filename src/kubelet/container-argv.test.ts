import assert from "node:assert/strict";
import { test } from "node:test";
import { containerArgv } from "./container-argv.ts";
import { expand } from "./expansion.ts";

test("argv follows upstream's command/args vs ENTRYPOINT/CMD rules", () => {
  const ep = ["/entry"];
  const cmd = ["--cmd"];
  const vars = new Map([["NAME", "world"]]);
  const look = (n: string): string | undefined => vars.get(n);
  const cases: [string, string[] | undefined, string[] | undefined, string[]][] = [
    ["neither: ENTRYPOINT + CMD", undefined, undefined, ["/entry", "--cmd"]],
    ["command only: drops ENTRYPOINT and CMD", ["/bin/sh"], undefined, ["/bin/sh"]],
    ["args only: ENTRYPOINT + args", undefined, ["a", "b"], ["/entry", "a", "b"]],
    ["both: command + args", ["/bin/echo"], ["x"], ["/bin/echo", "x"]],
    ["empty lists count as unset", [], [], ["/entry", "--cmd"]],
    [
      "expansion in command and args",
      ["echo", "$(NAME)"],
      ["$$(NAME)", "$(MISSING)"],
      ["echo", "world", "$(NAME)", "$(MISSING)"],
    ],
  ];
  for (const [name, c, a, want] of cases) assert.deepEqual(containerArgv(c, a, ep, cmd, look), want, name);
});

test("$(VAR) expansion edge cases", () => {
  const look = (n: string): string | undefined => ({ A: "1", B: "2" })[n];
  const cases: [string, string][] = [
    ["$(A)$(B)", "12"],
    ["$$", "$"],
    ["$(A", "$(A"],
    ["a$b", "a$b"],
    ["$()", "$()"],
    ["trailing $", "trailing $"],
    ["$$(A)", "$(A)"],
  ];
  for (const [input, want] of cases) assert.equal(expand(input, look), want, input);
});
