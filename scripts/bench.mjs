#!/usr/bin/env node
// The benchmark runner: `npm run bench -- NAME [args]` runs bench/NAME/index.ts, which prints
// its figures for a person and, as its last line, one JSON object with the same figures.
// That JSON is also saved as bench/results/NAME.json.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [name, ...args] = process.argv.slice(2);
const root = new URL("..", import.meta.url).pathname;
const list = () => readdirSync(join(root, "bench"), { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== "results").map((d) => d.name);
if (!name || !existsSync(join(root, "bench", name, "index.ts"))) {
  console.error(`usage: npm run bench -- NAME   (one of: ${list().join(", ")})`);
  process.exit(2);
}
const child = spawn(process.execPath, ["--import", "tsx", "--expose-gc", join(root, "bench", name, "index.ts"), ...args], {
  stdio: ["inherit", "pipe", "inherit"],
});
let last = "";
let tail = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  tail += chunk.toString();
  const lines = tail.split("\n");
  tail = lines.pop();
  for (const l of lines) if (l.trim()) last = l;
});
child.on("exit", (code) => {
  if (tail.trim()) last = tail;
  if (code === 0) {
    try {
      JSON.parse(last);
      mkdirSync(join(root, "bench", "results"), { recursive: true });
      writeFileSync(join(root, "bench", "results", `${name}.json`), last + "\n");
    } catch {
      console.error(`bench ${name}: the last line is not one JSON object`);
      process.exit(1);
    }
  }
  process.exit(code ?? 1);
});
