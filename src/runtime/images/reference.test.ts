import { test } from "node:test";
import assert from "node:assert/strict";
import { normalizeImageRef, parseImageRef } from "./reference.ts";

const D = `sha256:${"a".repeat(64)}`;

test("normalizeImageRef follows docker's rules", () => {
  const table: [string, string][] = [
    ["nginx", "docker.io/library/nginx:latest"],
    ["nginx:1.25", "docker.io/library/nginx:1.25"],
    ["foo/bar:1", "docker.io/foo/bar:1"],
    ["foo/bar/baz", "docker.io/foo/bar/baz:latest"],
    ["docker.io/nginx", "docker.io/library/nginx:latest"],
    ["index.docker.io/library/nginx", "docker.io/library/nginx:latest"],
    ["docker.io/library/busybox:latest", "docker.io/library/busybox:latest"],
    ["localhost/x", "localhost/x:latest"],
    ["localhost:5000/x", "localhost:5000/x:latest"],
    ["localhost:5000/x:v2", "localhost:5000/x:v2"],
    ["registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"],
    ["quay.io/a/b-c_d.e__f:T_1.0-x", "quay.io/a/b-c_d.e__f:T_1.0-x"],
    ["127.0.0.1:5000/app", "127.0.0.1:5000/app:latest"],
    ["[::1]:5000/app", "[::1]:5000/app:latest"],
    ["Example.com/app", "Example.com/app:latest"],
    [`x@${D}`, `docker.io/library/x@${D}`],
    [`x:1@${D}`, `docker.io/library/x:1@${D}`],
    [`localhost:5000/x@${D}`, `localhost:5000/x@${D}`],
    ["a--b", "docker.io/library/a--b:latest"],
  ];
  for (const [input, want] of table) assert.equal(normalizeImageRef(input), want, input);
});

test("normalizeImageRef refuses invalid references with a clear message", () => {
  const table: [string, RegExp][] = [
    ["", /empty/],
    ["Nginx", /must be lowercase/],
    ["foo/Bar", /must be lowercase/],
    ["nginx:", /invalid tag/],
    ["nginx:-x", /invalid tag/],
    [`nginx:${"t".repeat(129)}`, /invalid tag/],
    ["nginx@sha256:abc", /invalid sha256 digest/],
    [`nginx@md5:${"a".repeat(32)}`, /unsupported digest algorithm/],
    ["nginx@", /invalid digest/],
    ["a//b", /invalid reference format/],
    ["-a", /invalid reference format/],
    ["a_", /invalid reference format/],
    ["foo/bar baz", /invalid reference format/],
    ["bad_host:5000/x", /invalid registry host/],
    [`${"a".repeat(250)}/bbbbbbbbbbbbbbbb`, /more than 255/],
  ];
  for (const [input, re] of table) {
    assert.throws(
      () => normalizeImageRef(input),
      (e: Error) => re.test(e.message) && e.message.includes(JSON.stringify(input)),
      input,
    );
  }
});

test("parseImageRef splits domain, path, tag and digest", () => {
  assert.deepEqual(parseImageRef("localhost:5000/team/app:v1"), {
    domain: "localhost:5000",
    path: "team/app",
    repository: "localhost:5000/team/app",
    tag: "v1",
  });
  assert.deepEqual(parseImageRef(`busybox@${D}`), {
    domain: "docker.io",
    path: "library/busybox",
    repository: "docker.io/library/busybox",
    digest: D,
  });
});
