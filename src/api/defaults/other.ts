/**
 * @module Defaulting for the small non-core kinds, as upstream's discovery/v1 and
 * scheduling/v1 defaulters: EndpointSlice ports get protocol TCP and an empty name,
 * PriorityClasses get preemptionPolicy PreemptLowerPriority. Lease and events.k8s.io Event
 * have no defaults upstream. Functions mutate the object they are given.
 */
import type { EndpointSlice } from "../types/discovery-v1.ts";
import type { PriorityClass } from "../types/scheduling-v1.ts";

/** EndpointSlice: each port's `protocol` TCP and `name` "" when unset. */
export function defaultEndpointSlice(obj: EndpointSlice): void {
  for (const port of obj.ports ?? []) {
    if (port.name === undefined || port.name === null) port.name = "";
    if (port.protocol === undefined || port.protocol === null) port.protocol = "TCP";
  }
}

/** PriorityClass: `preemptionPolicy` PreemptLowerPriority when unset. */
export function defaultPriorityClass(obj: PriorityClass): void {
  if (obj.preemptionPolicy === undefined || obj.preemptionPolicy === null)
    obj.preemptionPolicy = "PreemptLowerPriority";
}
