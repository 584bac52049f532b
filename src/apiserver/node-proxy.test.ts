/**
 * End to end through the API server to a node agent with real kubectl: `logs`, `exec` over
 * WebSocket (kubectl ≥ 1.30) and SPDY (kubectl 1.27), exit codes, stdin, container
 * validation. The API server is the real one; a small front server in this test routes the
 * pod streaming subresources to `proxyPodStream`/`proxyPodUpgrade` exactly as server.ts is
 * to do, and passes every other request through. The node agent serves a fake runtime whose
 * exec runs commands on the host.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect as netConnect, createServer as createNetServer } from "node:net";
import { createServer, request as httpsRequest, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isNotFound } from "../api/status-error.ts";
import type { Node, Pod } from "../api/types/core-v1.ts";
import { HostExecRuntime, startTestContainer, writeCri } from "../kubelet/server/test-fixtures.ts";
import { KubeletServer } from "../kubelet/server/kubelet-server.ts";
import { startTestApiServer } from "../testing/api-server.ts";
import { ensurePki } from "./pki.ts";
import {
  podStreamTarget,
  proxyPodStream,
  proxyPodUpgrade,
  validateContainer,
  type NodeProxyDeps,
} from "./node-proxy.ts";
import { StatusError } from "../api/status-error.ts";

const KUBECTL = "/usr/bin/kubectl";
const KUBECTL_127 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.27";

function run(
  bin: string,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

test("kubectl logs and exec through the API server to the node agent", async (t) => {
  if (!existsSync(KUBECTL)) {
    console.warn("SKIPPED: kubectl not found at /usr/bin/kubectl");
    t.skip("kubectl missing");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "kites-node-proxy-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const api = await startTestApiServer();
  t.after(() => api.stop());
  const pki = ensurePki(dir, ["127.0.0.1"]);

  // Node agent with one running container "app" that has logged two lines.
  const runtime = new HostExecRuntime();
  const uid = "0b7e5e1c-1111-4222-8333-444455556666";
  const { logPath } = await startTestContainer(runtime, join(dir, "logs"), uid, "app");
  writeCri(logPath, [
    ["2024-05-01T10:00:00.1+00:00", "stdout", "F", "hello from app"],
    ["2024-05-01T10:00:01.000000002+00:00", "stderr", "F", "second line"],
  ]);
  const pods = new Map<string, Pod>();
  const kubelet = new KubeletServer({
    runtime,
    pods: (ns, name) => pods.get(`${ns}/${name}`),
    tls: { ca: pki.caCert, cert: pki.kubeletCert, key: pki.kubeletKey },
    port: 0,
    host: "127.0.0.1",
  });
  await kubelet.start();
  t.after(() => kubelet.stop());

  const nodes = api.client.resource<Node>("", "nodes");
  const node = await nodes.create({ apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
  await nodes.updateStatus({
    ...node,
    status: {
      addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
      daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } },
    },
  });
  const podClient = api.client.resource<Pod>("", "pods");
  const pod = await podClient.create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default" },
    spec: { nodeName: "n1", containers: [{ name: "app", image: "busybox" }] },
  });
  pods.set("default/p", { ...pod, metadata: { ...pod.metadata, uid } });
  // kubectl port-forward refuses pods that are not Running.
  await podClient.updateStatus({ ...pod, status: { phase: "Running" } });

  const deps: NodeProxyDeps = {
    getPod: (ns, name) => podClient.get(ns, name),
    getNode: async (name) => {
      try {
        return await nodes.get(undefined, name);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    tls: { ca: pki.caCert, cert: pki.kubeletClientCert, key: pki.kubeletClientKey },
    sockets: new Set(),
  };
  const front = await startFront(
    api.connection.server,
    api.connection.ca,
    pki.serverCert,
    pki.serverKey,
    deps,
  );
  t.after(() => {
    for (const s of deps.sockets ?? []) s.destroy();
    return new Promise<void>((r) => front.close(() => r()));
  });
  const port = (front.address() as AddressInfo).port;
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:" +
        port +
        "', certificate-authority-data: " +
        Buffer.from(pki.caCert).toString("base64") +
        "}}]",
      "users: [{name: u, user: {token: " + api.connection.token + "}}]",
      "contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]",
      "current-context: c",
      "",
    ].join("\n"),
  );
  const k = (...args: string[]): string[] => [
    "--kubeconfig",
    kubeconfig,
    "--cache-dir",
    join(dir, "cache"),
    ...args,
  ];

  await t.test("logs, --timestamps, --tail", async () => {
    const r = await run(KUBECTL, k("logs", "p"));
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "hello from app\nsecond line\n");
    const ts = await run(KUBECTL, k("logs", "p", "--timestamps"));
    assert.equal(
      ts.stdout,
      "2024-05-01T10:00:00.100000000Z hello from app\n2024-05-01T10:00:01.000000002Z second line\n",
    );
    const tail = await run(KUBECTL, k("logs", "p", "--tail=1"));
    assert.equal(tail.stdout, "second line\n");
  });

  await t.test("logs of an unknown container: upstream's BadRequest", async () => {
    const r = await run(KUBECTL, k("logs", "p", "-c", "nope"));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /container nope is not valid for pod p/);
  });

  await t.test("logs --previous without a restart", async () => {
    const r = await run(KUBECTL, k("logs", "p", "--previous"));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /previous terminated container "app" in pod "p" not found/);
  });

  await t.test("exec over WebSocket: output and exit code", async () => {
    const r = await run(KUBECTL, k("exec", "p", "--", "sh", "-c", "echo hi; echo err >&2; exit 3"));
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, "hi\n");
    assert.match(r.stderr, /err/);
    assert.equal(kubelet.upgrades.websocket, 1, "kubectl >= 1.30 speaks WebSocket");
  });

  await t.test("exec -i over WebSocket passes stdin", async () => {
    const r = await run(KUBECTL, k("exec", "-i", "p", "--", "sh", "-c", "tr a-z A-Z"), "shout\n");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "SHOUT\n");
  });

  await t.test("exec over SPDY (kubectl 1.27)", async (st) => {
    if (!existsSync(KUBECTL_127)) {
      console.warn("SKIPPED: kubectl 1.27 not found");
      st.skip("kubectl 1.27 missing");
      return;
    }
    const r = await run(KUBECTL_127, k("exec", "p", "--", "sh", "-c", "echo hi; exit 3"));
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, "hi\n");
    assert.equal(kubelet.upgrades.spdy, 1);
    const i = await run(KUBECTL_127, k("exec", "-i", "p", "--", "sh", "-c", "tr a-z A-Z"), "spdy stdin\n");
    assert.equal(i.code, 0, i.stderr);
    assert.equal(i.stdout, "SPDY STDIN\n");
  });

  await t.test("exec exit codes with every installed kubectl 1.28-1.33", async () => {
    for (const minor of [28, 29, 30, 31, 32, 33]) {
      const bin = `/usr/lib/google-cloud-sdk/bin/kubectl.1.${minor}`;
      if (!existsSync(bin)) continue;
      const r = await run(bin, k("exec", "p", "--", "sh", "-c", `echo v${minor}; exit ${minor}`));
      assert.equal(r.code, minor, `kubectl 1.${minor}: ${r.stderr}`);
      assert.equal(r.stdout, `v${minor}\n`);
    }
  });

  await t.test("exec into an unknown container", async () => {
    const r = await run(KUBECTL, k("exec", "p", "-c", "nope", "--", "true"));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /container nope is not valid for pod p/);
  });

  await t.test("cp from the pod (exec of tar)", async () => {
    const src = join(dir, "cp-src.txt");
    writeFileSync(src, "copied bytes\n".repeat(10_000));
    const dst = join(dir, "cp-dst.txt");
    const r = await run(KUBECTL, k("cp", `p:${src}`, dst));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(dst, "utf8"), readFileSync(src, "utf8"));
  });

  await t.test("cp into the pod (tar reading stdin)", async () => {
    const src = join(dir, "cp-in.txt");
    writeFileSync(src, "uploaded\n");
    const target = join(dir, "cp-target");
    mkdirSync(target);
    const r = await run(KUBECTL, k("cp", src, `p:${target}/up.txt`));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(target, "up.txt"), "utf8"), "uploaded\n");
  });

  for (const [label, bin, transport] of [
    ["WebSocket tunnel (kubectl >= 1.31)", KUBECTL, "spdyOverWebsocket"],
    ["SPDY (kubectl 1.27)", KUBECTL_127, "spdy"],
  ] as const) {
    await t.test(`port-forward over ${label}`, async (st) => {
      if (!existsSync(bin)) {
        console.warn(`SKIPPED: ${bin} not found`);
        st.skip("kubectl missing");
        return;
      }
      const echo = createNetServer((c) => c.pipe(c));
      await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
      st.after(() => new Promise<void>((r) => echo.close(() => r())));
      const podPort = (echo.address() as AddressInfo).port;
      const before = kubelet.upgrades[transport];
      const pf = spawn(bin, k("port-forward", "pod/p", `:${podPort}`), { stdio: ["ignore", "pipe", "pipe"] });
      st.after(() => {
        pf.kill("SIGKILL");
      });
      const local = await new Promise<number>((resolve, reject) => {
        let out = "";
        pf.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        let err = "";
        pf.stderr.on("data", (d: Buffer) => (err += d.toString()));
        pf.on("exit", () => reject(new Error(`port-forward exited: ${out} ${err}`)));
      });
      for (const msg of ["first connection", "second connection"]) {
        const got = await new Promise<string>((resolve, reject) => {
          const c = netConnect(local, "127.0.0.1", () => c.write(msg));
          let buf = "";
          c.on("data", (d: Buffer) => {
            buf += d.toString();
            if (buf.length >= msg.length) {
              c.end();
              resolve(buf);
            }
          });
          c.on("error", reject);
        });
        assert.equal(got, msg);
      }
      assert.equal(kubelet.upgrades[transport], before + 1);
    });
  }

  await t.test("logs -f ends when the container exits", async () => {
    const follow = spawn(KUBECTL, k("logs", "-f", "p"), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    follow.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("second line") && !out.includes("third")) {
        writeCri(logPath, [
          ["2024-05-01T10:00:02+00:00", "stdout", "P", "third "],
          ["2024-05-01T10:00:02+00:00", "stdout", "F", "line"],
        ]);
      }
      if (out.includes("third line")) runtime.exitContainer(runtime.latest(uid, "app")!.id, 0);
    });
    const code = await new Promise<number | null>((resolve) => follow.on("close", resolve));
    assert.equal(code, 0);
    assert.equal(out, "hello from app\nsecond line\nthird line\n");
  });
});

/**
 * The routing server.ts is to do, standing in front of the real API server: pod streaming
 * subresources go to the node proxy, everything else is passed through.
 */
async function startFront(
  apiUrl: string,
  apiCa: string,
  cert: string,
  key: string,
  deps: NodeProxyDeps,
): Promise<Server> {
  const target = (url: string) => podStreamTarget(new URL(url, "https://x"));
  const server = createServer({ cert, key });
  server.on("request", (req, res) => {
    const tg = target(req.url ?? "/");
    if (tg) {
      proxyPodStream(req, res, tg, deps).catch((e: unknown) => {
        const err = e instanceof StatusError ? e : new StatusError(500, "InternalError", String(e));
        if (!res.headersSent) res.writeHead(err.code, { "Content-Type": "application/json" });
        res.end(JSON.stringify(err.status));
      });
      return;
    }
    const api = new URL(apiUrl);
    const up = httpsRequest(
      {
        host: api.hostname,
        port: api.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: api.host },
        ca: apiCa,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 500, r.headers);
        r.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  server.on("upgrade", (req, socket, head) => {
    const tg = target(req.url ?? "/");
    if (!tg) {
      socket.destroy();
      return;
    }
    void proxyPodUpgrade(req, socket, head, tg, deps);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return server;
}

test("container validation follows upstream's messages", () => {
  const pod = (names: string[], init: string[] = []): Pod => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web" },
    spec: { containers: names.map((name) => ({ name })), initContainers: init.map((name) => ({ name })) },
  });
  assert.equal(validateContainer("", pod(["only"])), "only");
  assert.equal(validateContainer("b", pod(["a", "b"])), "b");
  assert.throws(
    () => validateContainer("", pod(["a", "b"], ["setup"])),
    /^StatusError: a container name must be specified for pod web, choose one of: \[setup a b\]$/,
  );
  assert.throws(() => validateContainer("zz", pod(["a"])), /container zz is not valid for pod web/);
});

test("only the four pod streaming paths are targets", () => {
  const t1 = podStreamTarget(new URL("https://x/api/v1/namespaces/ns/pods/p/exec?command=ls&stdout=true"));
  assert.equal(t1?.subresource, "exec");
  assert.equal(t1?.query.get("command"), "ls");
  assert.equal(podStreamTarget(new URL("https://x/api/v1/namespaces/ns/pods/p/status")), undefined);
  assert.equal(podStreamTarget(new URL("https://x/api/v1/namespaces/ns/services/p/proxy")), undefined);
});
