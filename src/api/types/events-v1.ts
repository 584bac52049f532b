/**
 * @module events.k8s.io/v1 kinds: Event in its newer form (`regarding`, `note`,
 * `reportingController`). Upstream stores it together with core/v1 Event.
 */
import type * as k8s from "kubernetes-types/events/v1.js";
import type { ApiObject, List } from "./meta-v1.ts";

export type { EventSeries } from "kubernetes-types/events/v1.js";

/** An events.k8s.io/v1 Event. */
export type Event = ApiObject<k8s.Event, "events.k8s.io/v1", "Event">;

/** A list of events.k8s.io/v1 Events. */
export type EventList = List<Event>;
