/**
 * @module A thin client for the `runc` command line with kites' own state root
 * (`--root <stateDir>/runc`): state, list, start, kill, delete. Creation goes through conmon
 * (`conmon.ts`), and exec through `exec.ts`.
 */
import { CommandError, run } from "./command.ts";

/** `runc state` output. */
export interface RuncState {
  id: string;
  pid: number;
  status: "creating" | "created" | "running" | "paused" | "stopped";
  bundle: string;
  created: string;
}

/** The runc binary and root directory kites uses. */
export class Runc {
  constructor(
    readonly binary: string,
    readonly root: string,
  ) {}

  /** Global arguments (`--root`) that every runc call needs. */
  globalArgs(): string[] {
    return ["--root", this.root];
  }

  /** The container's state, or `undefined` when runc does not know it. */
  async state(id: string): Promise<RuncState | undefined> {
    try {
      const { stdout } = await run(this.binary, [...this.globalArgs(), "state", id]);
      return JSON.parse(stdout) as RuncState;
    } catch (err) {
      if (err instanceof CommandError && /does not exist|not exist/.test(err.message)) return undefined;
      throw err;
    }
  }

  /** Every container in the root. */
  async list(): Promise<RuncState[]> {
    const { stdout } = await run(this.binary, [...this.globalArgs(), "list", "--format", "json"]);
    const parsed = JSON.parse(stdout.trim() || "null") as RuncState[] | null;
    return parsed ?? [];
  }

  /** Starts a created container (runs the user process). */
  async start(id: string): Promise<void> {
    await run(this.binary, [...this.globalArgs(), "start", id]);
  }

  /** Sends `signal` to the container's init (or all processes with `all`); gone is not an error. */
  async kill(id: string, signal: string, all = false): Promise<void> {
    try {
      await run(this.binary, [...this.globalArgs(), "kill", ...(all ? ["--all"] : []), id, signal]);
    } catch (err) {
      if (
        err instanceof CommandError &&
        /not running|does not exist|process already finished/.test(err.message)
      )
        return;
      throw err;
    }
  }

  /** Deletes the container (killing it if needed); gone is not an error. */
  async delete(id: string): Promise<void> {
    try {
      await run(this.binary, [...this.globalArgs(), "delete", "--force", id]);
    } catch (err) {
      if (err instanceof CommandError && /does not exist/.test(err.message)) return;
      throw err;
    }
  }
}
