/**
 * @module Conversion between core/v1 Event and events.k8s.io/v1 Event. Upstream stores both
 * as core Events under the same keys; the events.k8s.io API renames and regroups fields
 * (note ↔ message, regarding ↔ involvedObject, deprecated* ↔ the old bookkeeping fields,
 * reportingController ↔ reportingComponent). Pure functions that never mutate their input.
 */
import type { KubeObject } from "../object.ts";

/** [events.k8s.io/v1 field, core/v1 field] pairs that carry the same value. */
const RENAMES: readonly [string, string][] = [
  ["note", "message"],
  ["regarding", "involvedObject"],
  ["related", "related"],
  ["deprecatedSource", "source"],
  ["deprecatedFirstTimestamp", "firstTimestamp"],
  ["deprecatedLastTimestamp", "lastTimestamp"],
  ["deprecatedCount", "count"],
  ["reportingController", "reportingComponent"],
  ["reportingInstance", "reportingInstance"],
  ["series", "series"],
  ["action", "action"],
  ["reason", "reason"],
  ["type", "type"],
  ["eventTime", "eventTime"],
];

function convert(obj: KubeObject, apiVersion: string, from: 0 | 1): KubeObject {
  const out: KubeObject = { apiVersion, kind: "Event", metadata: structuredClone(obj.metadata) };
  const src = obj as Record<string, unknown>;
  for (const pair of RENAMES) {
    const v = src[pair[from]];
    if (v !== undefined) out[pair[1 - from]!] = structuredClone(v);
  }
  return out;
}

/** An events.k8s.io/v1 Event as the core/v1 Event it is stored as. */
export function eventsV1ToCore(obj: KubeObject): KubeObject {
  return convert(obj, "v1", 0);
}

/** A stored core/v1 Event as an events.k8s.io/v1 Event. */
export function coreToEventsV1(obj: KubeObject): KubeObject {
  return convert(obj, "events.k8s.io/v1", 1);
}
