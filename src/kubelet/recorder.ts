/**
 * @module The event sink the node agent writes to: `EventRecorder` from the client satisfies
 * it; tests pass a recording one.
 */
import type { KubeObject } from "../api/object.ts";

/** Records an event about an object (fire-and-forget). */
export interface Recorder {
  event(obj: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void;
}
