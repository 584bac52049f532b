/**
 * @module `kites image`: the node's local image store from the command line — import
 * tarballs (`docker save` or OCI layout), list (columns like `crictl images`), remove and
 * inspect images. Works on `DIR/images` of `--data-dir` (default ~/.kites), also while an
 * agent is running (the store locks its writes).
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ImageStore } from "../runtime/images/image-store.ts";
import { parseImageRef } from "../runtime/images/reference.ts";
import type { ImageInfo } from "../runtime/types.ts";
import { flagHelp, parseFlags, type FlagSpec } from "./flags.ts";

const FLAGS: FlagSpec = {
  "data-dir": { type: "string", help: "where state lives; images are in DIR/images (default ~/.kites)" },
  help: { type: "boolean", help: "show this help" },
};

const USAGE = `Usage:
  kites image import FILE...   import docker save or OCI-layout tarballs (plain or gzip)
  kites image ls               list images
  kites image rm REF...        remove images (by name, or by image id: all its names)
  kites image inspect REF      show an image's details and config as JSON

Flags:
${flagHelp(FLAGS)}`;

/** Splits flags (with their values) from positional arguments. */
function splitArgs(args: string[]): { flags: string[]; rest: string[] } {
  const flags: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("--")) {
      rest.push(a);
      continue;
    }
    flags.push(a);
    const spec = FLAGS[a.slice(2)];
    if (!a.includes("=") && spec && spec.type !== "boolean" && i + 1 < args.length) flags.push(args[++i]!);
  }
  return { flags, rest };
}

/** Sizes as crictl prints them: decimal units, three significant digits (`2.13MB`). */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** Rows of `kites image ls`: IMAGE, TAG, IMAGE ID (13 hex digits), SIZE. */
export function imageTable(images: ImageInfo[]): string {
  const rows = [["IMAGE", "TAG", "IMAGE ID", "SIZE"]];
  for (const img of images) {
    const p = parseImageRef(img.ref);
    rows.push([
      p.repository,
      p.tag ?? "<none>",
      img.id.replace(/^sha256:/, "").slice(0, 13),
      humanSize(img.size),
    ]);
  }
  // like crictl's tabwriter: minimum width 20, padding 3
  const widths = rows[0]!.map((_, c) => Math.max(20, ...rows.map((r) => r[c]!.length + 3)));
  return rows
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join(""))
    .join("\n");
}

async function run(sub: string | undefined, rest: string[], store: ImageStore): Promise<void> {
  switch (sub) {
    case "import": {
      if (rest.length === 0) throw new Error("import needs at least one FILE");
      for (const file of rest) {
        for (const img of await store.import(resolve(file))) {
          console.log(`Imported ${img.ref} (${img.id.slice(0, 19)})`);
        }
      }
      return;
    }
    case "ls":
    case "list": {
      if (rest.length > 0) throw new Error(`ls takes no arguments (got "${rest[0]}")`);
      console.log(imageTable(await store.list()));
      return;
    }
    case "rm":
    case "rmi": {
      if (rest.length === 0) throw new Error("rm needs at least one REF");
      const missing: string[] = [];
      for (const ref of rest) {
        const img = await store.get(ref);
        if (img && (await store.remove(ref))) console.log(`Deleted: ${img.ref}`);
        else missing.push(ref);
      }
      if (missing.length > 0) throw new Error(`no such image: ${missing.join(", ")}`);
      return;
    }
    case "inspect": {
      if (rest.length !== 1) throw new Error("inspect needs exactly one REF");
      const ref = rest[0]!;
      const info = await store.get(ref);
      const config = await store.config(ref);
      if (!info || !config) throw new Error(`no such image: ${ref}`);
      console.log(JSON.stringify({ ...info, config }, null, 2));
      return;
    }
    default:
      throw new Error(sub === undefined ? "missing subcommand" : `unknown subcommand "${sub}"`);
  }
}

/** `kites image SUBCOMMAND ...`; errors go to stderr with exit code 1. */
export async function imageCommand(args: string[]): Promise<void> {
  const { flags: flagArgs, rest } = splitArgs(args);
  let flags;
  try {
    flags = parseFlags(flagArgs, FLAGS);
  } catch (e) {
    console.error(`kites image: ${(e as Error).message}\n\n${USAGE}`);
    process.exitCode = 1;
    return;
  }
  const [sub, ...subArgs] = rest;
  if (flags.help || sub === "help") {
    console.log(USAGE);
    return;
  }
  const dataDir = resolve(String(flags["data-dir"] ?? join(homedir(), ".kites")));
  const store = new ImageStore(join(dataDir, "images"));
  try {
    await run(sub, subArgs, store);
  } catch (e) {
    const msg = (e as Error).message;
    console.error(
      `kites image${sub ? ` ${sub}` : ""}: ${msg}${/subcommand|needs|takes/.test(msg) ? `\n\n${USAGE}` : ""}`,
    );
    process.exitCode = 1;
  }
}
