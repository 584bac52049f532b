import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiMetrics } from "./metrics.ts";

test("counts requests, buckets latencies and tracks open watches", () => {
  const m = new ApiMetrics();
  m.request("GET", "pods", 200, 0.003);
  m.request("GET", "pods", 200, 0.3);
  m.request("POST", "pods", 422, 0.02);
  m.request("WATCH", "pods", 200, 12);
  m.watch("pods", 1);
  m.watch("pods", 1);
  m.watch("pods", -1);
  const text = m.render();
  assert.match(text, /^apiserver_request_total\{code="200",resource="pods",verb="GET"\} 2$/m);
  assert.match(text, /^apiserver_request_total\{code="422",resource="pods",verb="POST"\} 1$/m);
  assert.match(
    text,
    /^apiserver_request_duration_seconds_bucket\{resource="pods",verb="GET",le="0.005"\} 1$/m,
  );
  assert.match(text, /^apiserver_request_duration_seconds_bucket\{resource="pods",verb="GET",le="0.4"\} 2$/m);
  assert.match(text, /^apiserver_request_duration_seconds_count\{resource="pods",verb="GET"\} 2$/m);
  assert.doesNotMatch(
    text,
    /duration_seconds_count\{resource="pods",verb="WATCH"\}/,
    "watches are not timed",
  );
  assert.match(text, /^apiserver_longrunning_requests\{resource="pods",verb="WATCH"\} 1$/m);
});
