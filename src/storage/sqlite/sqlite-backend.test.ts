import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storageConformance } from "../conformance.ts";
import { openBackend } from "../open.ts";

storageConformance("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kites-sqlite-"));
  const backend = await openBackend(`sqlite://${join(dir, "state.db")}`, { compactIntervalMs: 0 });
  return {
    backend,
    async cleanup() {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

storageConformance("memory", async () => {
  const backend = await openBackend("memory://", { compactIntervalMs: 0 });
  return { backend, cleanup: () => backend.close() };
});
