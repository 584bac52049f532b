import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Event as CoreEvent } from "../../api/types/core-v1.ts";
import type { Event as EventsEvent } from "../../api/types/events-v1.ts";
import { EVENT_COLUMNS, eventPrinter, eventsV1Printer } from "./events.ts";

const NOW = Date.parse("2024-05-01T12:00:00Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const MIN = 60_000;

function core(over: Partial<CoreEvent>): CoreEvent {
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "web.17c", namespace: "default" },
    involvedObject: { kind: "Pod", name: "web", fieldPath: "spec.containers{app}" },
    type: "Normal",
    reason: "Pulled",
    message: '  Successfully pulled image "nginx"\n',
    source: { component: "kubelet", host: "n1" },
    firstTimestamp: ago(10 * MIN),
    lastTimestamp: ago(2 * MIN),
    count: 3,
    ...over,
  };
}

describe("Event table", () => {
  it("has upstream's columns: wide ones and NAME at the end", () => {
    assert.deepEqual(
      EVENT_COLUMNS.map((c) => [c.name, c.priority, c.format]),
      [
        ["Last Seen", 0, ""],
        ["Type", 0, ""],
        ["Reason", 0, ""],
        ["Object", 0, ""],
        ["Subobject", 1, ""],
        ["Source", 1, ""],
        ["Message", 0, ""],
        ["First Seen", 1, ""],
        ["Count", 1, ""],
        ["Name", 1, "name"],
      ],
    );
  });

  it("prints a core/v1 event", () => {
    assert.deepEqual(eventPrinter.cells(core({}), NOW), [
      "2m",
      "Normal",
      "Pulled",
      "pod/web",
      "spec.containers{app}",
      "kubelet, n1",
      'Successfully pulled image "nginx"',
      "10m",
      3,
      "web.17c",
    ]);
  });

  const cases: [
    string,
    Partial<CoreEvent>,
    Partial<Record<"last" | "first" | "count" | "object" | "source", unknown>>,
  ][] = [
    ["last seen falls back to first seen", { lastTimestamp: undefined }, { last: "10m", first: "10m" }],
    [
      "first seen falls back to eventTime",
      { firstTimestamp: undefined, lastTimestamp: undefined, eventTime: ago(200_000) },
      { last: "3m20s", first: "3m20s" },
    ],
    [
      "no times at all",
      { firstTimestamp: undefined, lastTimestamp: undefined },
      { last: "<unknown>", first: "<unknown>" },
    ],
    [
      "series wins for last seen and count",
      { series: { count: 9, lastObservedTime: ago(30_000) } },
      { last: "30s", count: 9 },
    ],
    ["singleton events count 1", { count: undefined }, { count: 1 }],
    ["object without a name", { involvedObject: { kind: "Node" } }, { object: "node" }],
    [
      "reporting controller and instance stand in for source",
      { source: {}, reportingComponent: "scheduler", reportingInstance: "sched-1" },
      { source: "scheduler, sched-1" },
    ],
    ["source without host", { source: { component: "kubelet" } }, { source: "kubelet" }],
  ];
  for (const [name, over, want] of cases) {
    it(name, () => {
      const cells = eventPrinter.cells(core(over), NOW);
      if ("last" in want) assert.equal(cells[0], want.last);
      if ("object" in want) assert.equal(cells[3], want.object);
      if ("source" in want) assert.equal(cells[5], want.source);
      if ("first" in want) assert.equal(cells[7], want.first);
      if ("count" in want) assert.equal(cells[8], want.count);
    });
  }

  it("prints an events.k8s.io/v1 event through the same columns", () => {
    const e: EventsEvent = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "web.18d", namespace: "default" },
      eventTime: ago(5 * MIN),
      regarding: { kind: "Deployment", name: "web" },
      type: "Normal",
      reason: "ScalingReplicaSet",
      note: "Scaled up replica set web-7c9d to 3",
      reportingController: "deployment-controller",
      action: "Scale",
    };
    assert.deepEqual(eventsV1Printer.columns, EVENT_COLUMNS);
    assert.deepEqual(eventsV1Printer.cells(e, NOW), [
      "5m",
      "Normal",
      "ScalingReplicaSet",
      "deployment/web",
      "",
      "deployment-controller",
      "Scaled up replica set web-7c9d to 3",
      "5m",
      1,
      "web.18d",
    ]);
  });
});
