import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer, request, type IncomingHttpHeaders } from "node:http";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { test, type TestContext } from "node:test";
import { BackendPool } from "./backends.ts";
import { newProxyStats, proxyHandler } from "./proxy.ts";
import { UpstreamPool } from "./upstream-pool.ts";

/**
 * A raw TCP "pod": for every request head it reads, it answers with the next scripted
 * response, written one byte at a time when `trickle` (so the parser sees every split).
 */
async function rawPod(
  t: TestContext,
  answer: (reqHead: string, index: number) => { bytes: string; close?: boolean },
  trickle = true,
): Promise<{ port: number; connections: () => number; heads: string[] }> {
  let connections = 0;
  let index = 0;
  const heads: string[] = [];
  const server: Server = createServer((s: Socket) => {
    connections++;
    let buf = "";
    s.setEncoding("latin1");
    s.on("data", async (d: string) => {
      buf += d;
      let end: number;
      while ((end = buf.indexOf("\r\n\r\n")) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        heads.push(head);
        const { bytes, close } = answer(head, index++);
        if (trickle) {
          for (const ch of bytes) {
            s.write(ch, "latin1");
            await new Promise((r) => setImmediate(r));
          }
        } else s.write(bytes, "latin1");
        if (close) s.end();
      }
    });
    s.on("error", () => undefined);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  return { port: (server.address() as AddressInfo).port, connections: () => connections, heads };
}

/** The proxy handler over one endpoint, on an ephemeral port. */
async function proxyTo(t: TestContext, podPort: number): Promise<{ port: number; pool: UpstreamPool }> {
  const pool = new UpstreamPool(`127.0.0.1:${podPort}`);
  const backend = new BackendPool({ namespace: "default", service: "s", port: 80 }, "default/s:80");
  backend.endpoints = [{ key: `127.0.0.1:${podPort}`, host: "127.0.0.1", port: podPort, pool }];
  const server = createHttpServer(
    proxyHandler(
      { lookup: () => ({ backend, ingress: "default/i", pathType: "Prefix", path: "/" }) },
      "http",
      newProxyStats(),
    ),
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    pool.close();
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, pool };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function call(port: number, method = "GET", path = "/"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method, path, headers: { host: "h" }, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("latin1");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

test("ingress proxy: Content-Length bodies split byte by byte, connection reused", async (t) => {
  const pod = await rawPod(t, (_h, i) => ({
    bytes: `HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-N: ${i}\r\n\r\nbody-${i}`,
  }));
  const { port } = await proxyTo(t, pod.port);
  const a = await call(port);
  const b = await call(port);
  assert.deepEqual([a.status, a.body, a.headers["x-n"]], [200, "body-0", "0"]);
  assert.deepEqual([b.status, b.body], [200, "body-1"]);
  assert.equal(pod.connections(), 1);
});

test("ingress proxy: chunked bodies with extensions and trailers are decoded and re-framed", async (t) => {
  const pod = await rawPod(t, () => ({
    bytes:
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n" +
      "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n",
  }));
  const { port } = await proxyTo(t, pod.port);
  const a = await call(port);
  assert.equal(a.status, 200);
  assert.equal(a.body, "hello 0123456789");
  assert.equal(a.headers["x-a"], "b");
  assert.equal((await call(port)).body, "hello 0123456789");
  assert.equal(pod.connections(), 1, "reused after a chunked response");
});

test("ingress proxy: close-delimited bodies end with the connection, which is not reused", async (t) => {
  const pod = await rawPod(t, (_h, i) => ({
    bytes: `HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close ${i}`,
    close: true,
  }));
  const { port } = await proxyTo(t, pod.port);
  assert.equal((await call(port)).body, "until close 0");
  assert.equal((await call(port)).body, "until close 1");
  assert.equal(pod.connections(), 2);
});

test("ingress proxy: HEAD, 204 and 304 have no body; interim 1xx answers are skipped", async (t) => {
  const pod = await rawPod(t, (head) => {
    if (head.startsWith("HEAD")) return { bytes: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" };
    if (head.includes("/204")) return { bytes: "HTTP/1.1 204 No Content\r\n\r\n" };
    if (head.includes("/304")) return { bytes: 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n' };
    return {
      bytes:
        "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
    };
  });
  const { port } = await proxyTo(t, pod.port);
  const head = await call(port, "HEAD");
  assert.deepEqual([head.status, head.headers["content-length"], head.body], [200, "100", ""]);
  assert.equal((await call(port, "GET", "/204")).status, 204);
  const nm = await call(port, "GET", "/304");
  assert.deepEqual([nm.status, nm.headers.etag], [304, '"x"']);
  const hinted = await call(port, "GET", "/hints");
  assert.deepEqual([hinted.status, hinted.body], [201, "ok"]);
  // undici never reuses a connection after a HEAD (it cannot tell a body-less answer from
  // a misframed one); the other three exchanges share one connection.
  assert.equal(pod.connections(), 2);
});

test("ingress proxy: HTTP/1.0 answers are not reused; garbage is a 502", async (t) => {
  const pod = await rawPod(
    t,
    (head) =>
      head.includes("/garbage")
        ? { bytes: "SSH-2.0-OpenSSH\r\n\r\n" }
        : { bytes: "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold" },
    false,
  );
  const { port } = await proxyTo(t, pod.port);
  assert.equal((await call(port)).body, "old");
  assert.equal((await call(port)).body, "old");
  assert.equal(pod.connections(), 2, "HTTP/1.0 without keep-alive closes");
  assert.equal((await call(port, "GET", "/garbage")).status, 502);
});

test("ingress proxy: the request head carries the forwarding headers and no hop-by-hop ones", async (t) => {
  const pod = await rawPod(t, () => ({ bytes: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" }), false);
  const { port } = await proxyTo(t, pod.port);
  await new Promise<void>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/p?q=1",
        headers: {
          host: "h.example",
          "x-forwarded-for": "6.6.6.6",
          "proxy-connection": "x",
          te: "trailers",
          "x-keep": "1",
        },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on("end", resolve);
      },
    );
    req.on("error", reject);
    req.end();
  });
  const head = pod.heads[0]!;
  assert.match(head, /^GET \/p\?q=1 HTTP\/1\.1\r\n/);
  assert.match(head, /\r\nhost: h\.example\r\n/i);
  assert.match(head, /\r\nx-keep: 1\r\n/i);
  assert.match(head, /\r\nX-Forwarded-For: 127\.0\.0\.1\r\n/);
  assert.doesNotMatch(head, /6\.6\.6\.6/, "client-sent X-Forwarded-For is replaced");
  assert.doesNotMatch(head, /proxy-connection|\r\nte:/i);
  // The only Connection header is the proxy's own keep-alive one (the client sent close).
  assert.doesNotMatch(head, /\r\nconnection: (?!keep-alive\r\n)/i);
});

test("ingress proxy: a request failing on a reused connection is retried once on a fresh one", async (t) => {
  // The pod answers the first request of each connection and drops the connection on the
  // second, as a pod closing an idle keep-alive connection at the moment it is reused does.
  let connections = 0;
  let posts = 0;
  const server = createServer((s: Socket) => {
    connections++;
    let seen = 0;
    s.on("data", (d: Buffer) => {
      if (d.toString("latin1").startsWith("POST")) {
        posts++;
        s.destroy();
      } else if (++seen === 1) s.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${connections}`);
      else s.destroy();
    });
    s.on("error", () => undefined);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  const { port } = await proxyTo(t, (server.address() as AddressInfo).port);
  assert.equal((await call(port)).body, "1");
  const r = await call(port);
  assert.deepEqual([r.status, r.body], [200, "2"], "retried on a new connection");
  assert.equal(connections, 2);
  const post = await new Promise<number>((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method: "POST", path: "/", headers: { host: "h" }, agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end("body");
  });
  assert.equal(post, 502);
  assert.equal(posts, 1, "a request with a body is not retried");
});
