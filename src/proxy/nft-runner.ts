/**
 * @module How the service proxy talks to the kernel: Debian's `nft` binary, fed one
 * transaction on stdin (`nft -f -`), so each sync is applied atomically or not at all.
 * Optionally inside a named network namespace (`ip netns exec NS nft …`), which is how
 * tests and the benchmark keep the host's tables untouched. Injectable, so unit tests of the
 * proxier can record transactions instead of running them.
 */
import { spawn } from "node:child_process";

/** Runs nft transactions (and the few read commands tests need). */
export interface NftRunner {
  /** Applies `script` (nft's command syntax, one command a line) as one transaction. */
  apply(script: string): Promise<void>;
  /** Runs `nft <args…>` and resolves with its stdout (e.g. `list table ip kites-proxy`). */
  run(args: readonly string[]): Promise<string>;
}

/** Where the nft binary runs. */
export interface NftOptions {
  /** A network namespace name (from `ip netns add`); absent: the caller's namespace. */
  netns?: string;
  /** The nft binary; `nft` on PATH by default. */
  binary?: string;
}

/** An nft command that failed: the message carries nft's own words (line and caret). */
export class NftError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = "NftError";
  }
}

/** Wraps a command so it runs in `netns` when one is given. */
export function inNetns(
  netns: string | undefined,
  file: string,
  args: readonly string[],
): [string, string[]] {
  return netns ? ["ip", ["netns", "exec", netns, file, ...args]] : [file, [...args]];
}

function exec(file: string, args: string[], input: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => reject(new NftError(`${file}: ${e.message}`, null)));
    child.on("close", (code) => {
      if (code === 0) return resolve(Buffer.concat(out).toString("utf8"));
      const text = Buffer.concat(err).toString("utf8").trim() || `exit code ${String(code)}`;
      // nft repeats the offending line with a caret line; the first few lines say enough.
      const short = text.split("\n").slice(0, 9).join("\n");
      reject(new NftError(`nft ${args.includes("-f") ? "-f -" : args.slice(-3).join(" ")}: ${short}`, code));
    });
    child.stdin.on("error", () => {
      /* reported through close */
    });
    child.stdin.end(input ?? "");
  });
}

/** The real runner: spawns `nft` (in `netns` if given) for every call. */
export function execNftRunner(opts: NftOptions = {}): NftRunner {
  const nft = opts.binary ?? "nft";
  return {
    async apply(script: string): Promise<void> {
      const [file, args] = inNetns(opts.netns, nft, ["-f", "-"]);
      await exec(file, args, script);
    },
    run(args: readonly string[]): Promise<string> {
      const [file, full] = inNetns(opts.netns, nft, args);
      return exec(file, full, undefined);
    },
  };
}
