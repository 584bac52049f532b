/**
 * @module The Event table, shared by core/v1 and events.k8s.io/v1 Events (upstream prints both
 * through the same internal Event): LAST SEEN TYPE REASON OBJECT MESSAGE | SUBOBJECT SOURCE
 * COUNT FIRST SEEN NAME. Times fall back from lastTimestamp to firstTimestamp to eventTime,
 * and a series' last observation wins; singleton events count 1.
 */
import type { Event as CoreEvent } from "../../api/types/core-v1.ts";
import type { Event as EventsEvent } from "../../api/types/events-v1.ts";
import type { ObjectReference } from "../../api/types/core-v1.ts";
import { parseTimestamp, timestampSince } from "./age.ts";
import { column, columns, nameColumn, printer, type TablePrinter } from "./table.ts";

/** Column definitions of the Event table. */
export const EVENT_COLUMNS = columns(
  column("Last Seen", "string", "Time since the event was last observed."),
  column("Type", "string", "Type of the event: Normal or Warning."),
  column("Reason", "string", "Short machine-readable reason for the event."),
  column("Object", "string", "The object the event is about, as kind/name."),
  column("Subobject", "string", "Part of the object the event is about (a field path).", 1),
  column("Source", "string", "Component (and host) that reported the event.", 1),
  column("Message", "string", "Human-readable description of the event."),
  column("First Seen", "string", "Time since the event was first observed.", 1),
  column("Count", "string", "Number of times the event occurred.", 1),
  nameColumn(1),
);

/** The fields of an event the table reads, in the core/v1 spelling. */
interface EventView {
  name: string;
  involved: ObjectReference | undefined;
  type: string;
  reason: string;
  message: string;
  sourceComponent: string;
  sourceHost: string;
  reportingController: string;
  reportingInstance: string;
  firstTimestamp: string | undefined;
  lastTimestamp: string | undefined;
  eventTime: string | undefined;
  count: number;
  series: { count?: number; lastObservedTime?: string } | undefined;
}

function eventCells(e: EventView, now: number): unknown[] {
  const firstSeen =
    parseTimestamp(e.firstTimestamp) !== undefined
      ? timestampSince(e.firstTimestamp, now)
      : timestampSince(e.eventTime, now);
  let lastSeen =
    parseTimestamp(e.lastTimestamp) !== undefined ? timestampSince(e.lastTimestamp, now) : firstSeen;
  let count = e.count;
  if (e.series) {
    lastSeen = timestampSince(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (count === 0) {
    count = 1;
  }
  const kind = (e.involved?.kind ?? "").toLowerCase();
  const target = e.involved?.name ? `${kind}/${e.involved.name}` : kind;
  const component = e.sourceComponent || e.reportingController;
  const instance = e.sourceHost || e.reportingInstance;
  return [
    lastSeen,
    e.type,
    e.reason,
    target,
    e.involved?.fieldPath ?? "",
    instance ? `${component}, ${instance}` : component,
    e.message.trim(),
    firstSeen,
    count,
    e.name,
  ];
}

/** Prints core/v1 Events. */
export const eventPrinter: TablePrinter = printer<CoreEvent>({
  columns: EVENT_COLUMNS,
  cells: (e, now) =>
    eventCells(
      {
        name: e.metadata.name ?? "",
        involved: e.involvedObject,
        type: e.type ?? "",
        reason: e.reason ?? "",
        message: e.message ?? "",
        sourceComponent: e.source?.component ?? "",
        sourceHost: e.source?.host ?? "",
        reportingController: e.reportingComponent ?? "",
        reportingInstance: e.reportingInstance ?? "",
        firstTimestamp: e.firstTimestamp,
        lastTimestamp: e.lastTimestamp,
        eventTime: e.eventTime,
        count: e.count ?? 0,
        series: e.series,
      },
      now,
    ),
});

/** Prints events.k8s.io/v1 Events, mapping their fields onto the core/v1 ones first. */
export const eventsV1Printer: TablePrinter = printer<EventsEvent>({
  columns: EVENT_COLUMNS,
  cells: (e, now) =>
    eventCells(
      {
        name: e.metadata.name ?? "",
        involved: e.regarding,
        type: e.type ?? "",
        reason: e.reason ?? "",
        message: e.note ?? "",
        sourceComponent: e.deprecatedSource?.component ?? "",
        sourceHost: e.deprecatedSource?.host ?? "",
        reportingController: e.reportingController ?? "",
        reportingInstance: e.reportingInstance ?? "",
        firstTimestamp: e.deprecatedFirstTimestamp,
        lastTimestamp: e.deprecatedLastTimestamp,
        eventTime: e.eventTime,
        count: e.deprecatedCount ?? 0,
        series: e.series,
      },
      now,
    ),
});
