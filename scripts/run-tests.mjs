#!/usr/bin/env node
// Runs every *.test.ts under the given folders (default: src and test) with node's test
// runner, TypeScript loaded through tsx. Node 20 has no glob support in --test, so the files
// are found here.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const roots = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const extra = process.argv.slice(2).filter((a) => a.startsWith("-"));
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".test.ts")) files.push(p);
  }
}
for (const r of roots.length ? roots : ["src", "test"]) {
  try {
    walk(r);
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
  }
}
files.sort();
if (files.length === 0) {
  console.error("run-tests: no test files found");
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...extra, ...files], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
