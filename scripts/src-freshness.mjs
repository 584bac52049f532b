// The newest modification time (ms) of the files under src/ (what a build of dist/ reads).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export function newestSource(root) {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const m = statSync(p).mtimeMs;
        if (m > newest) newest = m;
      }
    }
  };
  walk(join(root, "src"));
  return newest;
}
