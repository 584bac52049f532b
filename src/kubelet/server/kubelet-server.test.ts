import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:https";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { ensurePki, type ClusterPki } from "../../apiserver/pki.ts";
import type { Pod } from "../../api/types/core-v1.ts";
import {
  Channel,
  decodeChannelMessage,
  encodeChannelMessage,
  encodeCloseMessage,
} from "../../streaming/channel.ts";
import { KubeletServer } from "./kubelet-server.ts";
import { HostExecRuntime, startTestContainer, TEST_IMAGE, writeCri } from "./test-fixtures.ts";

const UID = "11111111-2222-4333-8444-555555555555";

async function setup(t: { after(fn: () => unknown): void }): Promise<{
  server: KubeletServer;
  runtime: HostExecRuntime;
  pki: ClusterPki;
  dir: string;
  pod: Pod;
}> {
  const dir = mkdtempSync(join(tmpdir(), "kites-kubelet-server-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = ensurePki(dir, ["127.0.0.1"]);
  const runtime = new HostExecRuntime();
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default", uid: UID },
    spec: {
      containers: [
        { name: "app", image: "busybox" },
        { name: "side", image: "busybox" },
      ],
    },
  };
  const server = new KubeletServer({
    runtime,
    pods: (ns, name) => (ns === "default" && name === "p" ? pod : undefined),
    tls: { ca: pki.caCert, cert: pki.kubeletCert, key: pki.kubeletKey },
    port: 0,
    host: "127.0.0.1",
    followPollMs: 20,
  });
  await server.start();
  t.after(() => server.stop());
  return { server, runtime, pki, dir, pod };
}

function get(
  port: number,
  path: string,
  pki: ClusterPki,
  withCert = true,
): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        ca: pki.caCert,
        ...(withCert ? { cert: pki.kubeletClientCert, key: pki.kubeletClientKey } : {}),
        checkServerIdentity: () => undefined,
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ code: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

test("clients without a certificate from the cluster CA are refused", async (t) => {
  const { server, pki } = await setup(t);
  assert.equal((await get(server.port, "/healthz", pki)).body, "ok");
  await assert.rejects(get(server.port, "/healthz", pki, false));
});

test("containerLogs: whole log, tail, timestamps, limitBytes, unknown pod and container", async (t) => {
  const { server, runtime, pki, dir } = await setup(t);
  const { logPath } = await startTestContainer(runtime, dir, UID, "app");
  writeCri(logPath, [
    ["2024-05-01T10:00:00Z", "stdout", "F", "one"],
    ["2024-05-01T10:00:01Z", "stderr", "P", "tw"],
    ["2024-05-01T10:00:01.5Z", "stderr", "F", "o"],
    ["2024-05-01T10:00:02Z", "stdout", "F", "three"],
  ]);
  const base = "/containerLogs/default/p/app";
  assert.deepEqual(await get(server.port, base, pki), { code: 200, body: "one\ntwo\nthree\n" });
  assert.equal((await get(server.port, `${base}?tailLines=1`, pki)).body, "three\n");
  assert.equal(
    (await get(server.port, `${base}?timestamps=true&tailLines=3`, pki)).body,
    "2024-05-01T10:00:01.000000000Z two\n2024-05-01T10:00:02.000000000Z three\n",
  );
  assert.equal((await get(server.port, `${base}?limitBytes=6`, pki)).body, "one\ntw");
  assert.equal((await get(server.port, `${base}?sinceTime=2024-05-01T10:00:02Z`, pki)).body, "three\n");
  assert.deepEqual(await get(server.port, "/containerLogs/default/nope/app", pki), {
    code: 404,
    body: 'pod "nope" in namespace "default" not found',
  });
  assert.deepEqual(await get(server.port, `/containerLogs/default/p/zzz`, pki), {
    code: 400,
    body: "container zzz is not valid for pod p",
  });
  assert.equal((await get(server.port, `${base}?tailLines=-1`, pki)).code, 400);
});

test("containerLogs: waiting to start, and --previous after a restart", async (t) => {
  const { server, runtime, pki, dir } = await setup(t);
  assert.deepEqual(await get(server.port, "/containerLogs/default/p/side", pki), {
    code: 400,
    body: 'container "side" in pod "p" is waiting to start: ContainerCreating',
  });
  const first = await startTestContainer(runtime, dir, UID, "app", 0);
  writeCri(first.logPath, [["2024-05-01T10:00:00Z", "stdout", "F", "attempt zero"]]);
  runtime.exitContainer(first.id, 1);
  const second = await startTestContainer(runtime, dir, UID, "app", 1);
  writeCri(second.logPath, [["2024-05-01T10:00:05Z", "stdout", "F", "attempt one"]]);
  assert.equal((await get(server.port, "/containerLogs/default/p/app", pki)).body, "attempt one\n");
  assert.equal(
    (await get(server.port, "/containerLogs/default/p/app?previous=true", pki)).body,
    "attempt zero\n",
  );
});

test("containerLogs follow: streams appended records and ends when the container exits", async (t) => {
  const { server, runtime, pki, dir } = await setup(t);
  const { id, logPath } = await startTestContainer(runtime, dir, UID, "app");
  writeCri(logPath, [["2024-05-01T10:00:00Z", "stdout", "F", "before"]]);
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: server.port,
        path: "/containerLogs/default/p/app?follow=true",
        ca: pki.caCert,
        cert: pki.kubeletClientCert,
        key: pki.kubeletClientKey,
        checkServerIdentity: () => undefined,
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => {
          text += d.toString();
          if (text === "before\n") writeCri(logPath, [["2024-05-01T10:00:01Z", "stdout", "F", "after"]]);
          if (text === "before\nafter\n") runtime.exitContainer(id, 0);
        });
        res.on("end", () => resolve(text));
      },
    );
    req.on("error", reject);
    req.end();
  });
  assert.equal(body, "before\nafter\n");
});

function openWs(port: number, path: string, pki: ClusterPki, protocol: string): Promise<WebSocket> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, [protocol], {
    ca: pki.caCert,
    cert: pki.kubeletClientCert,
    key: pki.kubeletClientKey,
  });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** Collects channel output until the server closes; returns per-channel text. */
function collect(ws: WebSocket): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  ws.on("message", (raw: Buffer) => {
    const m = decodeChannelMessage(raw);
    if (m && m.closes === undefined) out.set(m.channel, (out.get(m.channel) ?? "") + m.data.toString());
  });
  return new Promise((resolve) => ws.once("close", () => resolve(out)));
}

test("exec over WebSocket v5: stdout, stderr, stdin with close, exit code in the status", async (t) => {
  const { server, runtime, pki, dir } = await setup(t);
  await startTestContainer(runtime, dir, UID, "app");
  const q = new URLSearchParams([
    ["command", "sh"],
    ["command", "-c"],
    ["command", "cat; echo oops >&2; exit 7"],
    ["stdin", "true"],
    ["stdout", "true"],
    ["stderr", "true"],
  ]);
  const ws = await openWs(server.port, `/exec/default/p/app?${q}`, pki, "v5.channel.k8s.io");
  assert.equal(ws.protocol, "v5.channel.k8s.io");
  const done = collect(ws);
  ws.send(encodeChannelMessage(Channel.stdin, "piped\n"));
  ws.send(encodeCloseMessage(Channel.stdin));
  const out = await done;
  assert.equal(out.get(Channel.stdout), "piped\n");
  assert.equal(out.get(Channel.stderr), "oops\n");
  const status = JSON.parse(out.get(Channel.error)!) as {
    reason: string;
    details: { causes: { message: string }[] };
  };
  assert.equal(status.reason, "NonZeroExitCode");
  assert.equal(status.details.causes[0]!.message, "7");
});

test("exec of a container that is not running is refused before the upgrade", async (t) => {
  const { server, runtime, pki } = await setup(t);
  runtime.addImage(TEST_IMAGE);
  await assert.rejects(
    openWs(server.port, "/exec/default/p/app?command=true&stdout=true", pki, "v5.channel.k8s.io"),
    /Unexpected server response: 500/,
  );
});

test("port-forward over the WebSocket channel protocol: port prefix, then relayed bytes", async (t) => {
  const { server, runtime, pki, dir } = await setup(t);
  await startTestContainer(runtime, dir, UID, "app");
  const echo = createNetServer((c) => c.pipe(c));
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
  t.after(() => echo.close());
  const port = (echo.address() as AddressInfo).port;
  const ws = await openWs(server.port, `/portForward/default/p?ports=${port}`, pki, "v4.channel.k8s.io");
  const frames: { channel: number; data: Buffer }[] = [];
  const echoed = new Promise<string>((resolve) => {
    ws.on("message", (raw: Buffer) => {
      const m = decodeChannelMessage(raw)!;
      frames.push(m);
      const data = frames.filter((f) => f.channel === 0).slice(1);
      const text = Buffer.concat(data.map((f) => f.data)).toString();
      if (text === "ping") resolve(text);
    });
  });
  ws.once("message", () => ws.send(encodeChannelMessage(0, "ping")));
  assert.equal(await echoed, "ping");
  assert.equal(frames[0]!.data.readUInt16LE(0), port);
  ws.close();
});

test("attach over WebSocket: the container's new output, demultiplexed, until it exits", async (t) => {
  const { server, runtime, pki, dir } = await setup(t);
  const { id, logPath } = await startTestContainer(runtime, dir, UID, "app");
  writeCri(logPath, [["2024-05-01T10:00:00Z", "stdout", "F", "old output is not replayed"]]);
  const ws = await openWs(
    server.port,
    "/attach/default/p/app?stdout=true&stderr=true",
    pki,
    "v5.channel.k8s.io",
  );
  const done = collect(ws);
  ws.once("message", () => runtime.exitContainer(id, 0));
  writeCri(logPath, [
    ["2024-05-01T10:00:01Z", "stdout", "F", "to stdout"],
    ["2024-05-01T10:00:02Z", "stderr", "F", "to stderr"],
  ]);
  const out = await done;
  assert.equal(out.get(Channel.stdout), "to stdout\n");
  assert.equal(out.get(Channel.stderr), "to stderr\n");
  assert.equal(out.get(Channel.error), '{"metadata":{},"status":"Success"}');
});
