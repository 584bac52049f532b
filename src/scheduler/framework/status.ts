/**
 * @module The result of a scheduling plugin, as upstream's `framework.Status`: a code and the
 * reasons a user reads (`Insufficient cpu`, `node(s) had untolerated taint {…}`). Success is
 * `null` wherever a plugin returns `Status | null`, so the hot path allocates nothing when a
 * node fits.
 */

/** Upstream's status codes (Success is `null`; Wait/Pending are not used here). */
export type StatusCode = "Error" | "Unschedulable" | "UnschedulableAndUnresolvable" | "Skip";

/** A non-success plugin result. Immutable; plugins may share instances. */
export class Status {
  /** The plugin that produced it (set by the framework for diagnosis). */
  plugin: string;

  constructor(
    readonly code: StatusCode,
    readonly reasons: readonly string[],
    plugin = "",
  ) {
    this.plugin = plugin;
  }

  /** The reasons joined with ", " (upstream's `Status.Message`). */
  message(): string {
    return this.reasons.join(", ");
  }

  /** Unschedulable or UnschedulableAndUnresolvable. */
  isRejected(): boolean {
    return this.code === "Unschedulable" || this.code === "UnschedulableAndUnresolvable";
  }
}

/** An Unschedulable status with the given reasons. */
export function unschedulable(...reasons: string[]): Status {
  return new Status("Unschedulable", reasons);
}

/** An UnschedulableAndUnresolvable status (preemption cannot help on that node). */
export function unresolvable(...reasons: string[]): Status {
  return new Status("UnschedulableAndUnresolvable", reasons);
}

/** An internal error. */
export function errorStatus(message: string): Status {
  return new Status("Error", [message]);
}

/** Returned by PreFilter/PreScore to say the plugin has nothing to do for this pod. */
export const SKIP: Status = new Status("Skip", []);
