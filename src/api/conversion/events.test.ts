import { test } from "node:test";
import assert from "node:assert/strict";
import { coreToEventsV1, eventsV1ToCore } from "./events.ts";
import type { KubeObject } from "../object.ts";

const core: KubeObject = {
  apiVersion: "v1",
  kind: "Event",
  metadata: { name: "web.1", namespace: "default" },
  involvedObject: { kind: "Pod", name: "web", namespace: "default" },
  reason: "Scheduled",
  message: "Successfully assigned default/web to node-1",
  type: "Normal",
  source: { component: "default-scheduler" },
  count: 3,
  firstTimestamp: "2026-01-01T00:00:00Z",
  lastTimestamp: "2026-01-01T00:05:00Z",
  reportingComponent: "default-scheduler",
  reportingInstance: "kites",
};

test("a core Event reads as events.k8s.io/v1 and converts back unchanged", () => {
  const v1 = coreToEventsV1(core);
  assert.equal(v1.apiVersion, "events.k8s.io/v1");
  assert.equal(v1.note, core.message);
  assert.deepEqual(v1.regarding, core.involvedObject);
  assert.equal(v1.deprecatedCount, 3);
  assert.deepEqual(v1.deprecatedSource, { component: "default-scheduler" });
  assert.equal(v1.reportingController, "default-scheduler");
  assert.equal(v1.message, undefined, "core names do not leak into the v1 form");
  assert.deepEqual(eventsV1ToCore(v1), core);
});
