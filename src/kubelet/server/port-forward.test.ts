import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { parsePorts, podDialer } from "./port-forward.ts";

test("ports parse from repeated and comma-separated values; bad ones are named", () => {
  assert.deepEqual(parsePorts(new URLSearchParams("ports=80&ports=8080,9090")), [80, 8080, 9090]);
  assert.match(String(parsePorts(new URLSearchParams("ports=x"))), /unable to parse "x" as a port/);
  assert.equal(typeof parsePorts(new URLSearchParams("")), "string");
});

test("dialling into a pod's network namespace reaches a listener bound to its loopback", async (t) => {
  if (process.getuid?.() !== 0 || !existsSync("/usr/bin/nsenter") || !existsSync("/usr/bin/busybox")) {
    console.warn("SKIPPED: needs root, nsenter and busybox to create a network namespace");
    t.skip("not root");
    return;
  }
  const ns = `kites-pf-${randomBytes(4).toString("hex")}`;
  execFileSync("ip", ["netns", "add", ns]);
  t.after(() => execFileSync("ip", ["netns", "del", ns]));
  execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
  // An echo server inside the namespace, which has only a loopback interface.
  const listener = spawn("ip", ["netns", "exec", ns, "busybox", "nc", "-ll", "-p", "7070", "-e", "cat"], {
    stdio: "ignore",
  });
  t.after(() => {
    listener.kill("SIGKILL");
  });
  const dial = podDialer({ netnsPath: `/var/run/netns/${ns}`, ip: "10.255.255.1" });
  let conn;
  for (let i = 0; i < 50 && !conn; i++) {
    conn = await dial(7070).catch(() => undefined);
    if (!conn) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(conn, "connected into the namespace");
  const echoed = new Promise<string>((resolve) => {
    let text = "";
    conn.on("data", (d: Buffer) => {
      text += d.toString();
      if (text.includes("\n")) resolve(text);
    });
  });
  conn.write("inside the pod\n");
  assert.equal(await echoed, "inside the pod\n");
  conn.destroy();
  await assert.rejects(dial(7071), /refused/i);
});
