/**
 * @module `kubectl port-forward` on the node agent: connects to a port inside the pod's
 * network namespace and relays bytes. Over SPDY (the `portforward.k8s.io` upgrade, also
 * tunnelled in WebSocket messages by kubectl ≥ 1.31) each forwarded connection is a pair of
 * streams — `streamtype: error` and `streamtype: data` — sharing a `requestid`; over the
 * WebSocket channel protocol every port in `?ports=` gets a data and an error channel whose
 * first message carries the port (2 bytes, little-endian).
 *
 * Reaching the pod: like upstream we dial 127.0.0.1:PORT inside the pod's netns, through
 * `nsenter --net=<netns> busybox nc 127.0.0.1 PORT -e …` (see `relay`); a
 * host-network pod is dialled on the node's loopback; when nsenter cannot be used (not root,
 * netns missing) the pod IP is dialled, which reaches every listener not bound to loopback.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { Duplex, type Readable, type Writable } from "node:stream";
import type { WebSocket } from "ws";
import { Channel, encodeChannelMessage } from "../../streaming/channel.ts";
import type { SpdySession, SpdyStream } from "../../streaming/spdy/session.ts";

/** Where a pod's ports are: its netns path ("" for host network) and IP. */
export interface PodNetwork {
  netnsPath: string;
  ip: string;
}

/** Opens a byte stream to `port` in the pod; rejects with the reason it could not. */
export type PortDialer = (port: number) => Promise<Duplex>;

function tcp(host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    s.once("connect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

/** The line the relay writes to stderr once its connection is up. */
const CONNECTED = "kites-relay-connected";

/**
 * A relay process inside the pod's network namespace, as one duplex stream: busybox `nc`
 * connects to 127.0.0.1:port and, once connected, runs a shell that announces it on stderr
 * and copies between the socket (its stdin/stdout) and our fds 3 (in) and 4 (out). So
 * success and "connection refused" are both known for certain, with no waiting.
 */
function relay(netnsPath: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    // The background copy closes fd 4, so the pod's end of the connection ends our stream.
    const script = `echo ${CONNECTED} >&2; cat <&3 4>&- & exec cat >&4`;
    const child = spawn(
      "nsenter",
      [`--net=${netnsPath}`, "busybox", "nc", "127.0.0.1", String(port), "-e", "sh", "-c", script],
      // Its own process group: the shell's background copy goes with it on destroy.
      { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"], detached: true },
    );
    const toPod = child.stdio[3] as Writable;
    const fromPod = child.stdio[4] as Readable;
    let stderr = "";
    let connected = false;
    const duplex = new Duplex({
      write(chunk: Buffer, _enc, cb) {
        toPod.write(chunk, () => cb());
      },
      final(cb) {
        toPod.end();
        cb();
      },
      read() {
        fromPod.resume();
      },
      destroy(err, cb) {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
        cb(err);
      },
    });
    toPod.on("error", () => undefined);
    fromPod.on("data", (d: Buffer) => {
      if (!duplex.push(d)) fromPod.pause();
    });
    fromPod.on("end", () => duplex.push(null));
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (!connected && stderr.includes(CONNECTED)) {
        connected = true;
        resolve(duplex);
      }
    });
    child.on("error", (e) => reject(e));
    // "close", not "exit": only then has all of nc's stderr (the reason) been read.
    child.on("close", (code) => {
      if (connected) return;
      const msg = stderr.replace(CONNECTED, "").trim().replace(/^nc: /, "");
      reject(new Error(msg || `exit ${code}`));
    });
  });
}

/** The dialer for a pod: host loopback, nsenter relay, or the pod IP (see module doc). */
export function podDialer(net: PodNetwork): PortDialer {
  if (!net.netnsPath) return (port) => tcp("127.0.0.1", port);
  const canEnter = process.getuid?.() === 0 && existsSync(net.netnsPath);
  if (canEnter) return (port) => relay(net.netnsPath, port);
  return (port) => tcp(net.ip, port);
}

/** Serves port-forward streams on a SPDY session until it closes. */
export function servePortForwardSpdy(session: SpdySession, dial: PortDialer, podDesc: string): void {
  const pending = new Map<string, { error?: SpdyStream; data?: SpdyStream }>();
  session.on("stream", (s) => {
    const type = s.header("streamtype");
    const id = s.header("requestid") || String(s.id);
    const portText = s.header("port");
    if (type !== "error" && type !== "data") {
      s.reset();
      return;
    }
    const entry = pending.get(id) ?? {};
    entry[type] = s;
    pending.set(id, entry);
    s.incoming.on("error", () => undefined);
    if (type === "error") s.incoming.resume();
    if (!entry.error || !entry.data) return;
    pending.delete(id);
    const { error, data } = entry as { error: SpdyStream; data: SpdyStream };
    const port = Number(portText);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      error.outgoing.end(Buffer.from(`invalid port: "${portText}"`));
      data.end();
      return;
    }
    dial(port).then(
      (conn) => {
        const out = data.outgoing;
        conn.pipe(out);
        data.incoming.pipe(conn);
        conn.on("error", () => out.end());
        out.on("error", () => conn.destroy());
        error.end();
      },
      (e: unknown) => {
        const msg = `error forwarding port ${port} to pod ${podDesc}: ${e instanceof Error ? e.message : String(e)}`;
        error.outgoing.end(Buffer.from(msg));
        data.end();
      },
    );
  });
}

/** Parses `?ports=80&ports=8080` (or comma-separated). */
export function parsePorts(q: URLSearchParams): number[] | string {
  const raw = q
    .getAll("ports")
    .flatMap((p) => p.split(","))
    .map((p) => p.trim())
    .filter(Boolean);
  if (raw.length === 0) return 'query parameter "port" is required';
  const ports: number[] = [];
  for (const r of raw) {
    const n = Number(r);
    if (!Number.isInteger(n) || n <= 0 || n > 65535) return `unable to parse "${r}" as a port: invalid port`;
    ports.push(n);
  }
  return ports;
}

/** Serves the WebSocket channel flavour of port-forward: one connection per port. */
export function servePortForwardWebSocket(
  ws: WebSocket,
  ports: number[],
  dial: PortDialer,
  podDesc: string,
): void {
  const conns: (Duplex | undefined)[] = [];
  const prefix = (port: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(port);
    return b;
  };
  ws.on("error", () => undefined);
  ports.forEach((port, i) => {
    ws.send(encodeChannelMessage(2 * i, prefix(port)), { binary: true });
    ws.send(encodeChannelMessage(2 * i + 1, prefix(port)), { binary: true });
    dial(port).then(
      (conn) => {
        conns[i] = conn;
        conn.on("data", (d: Buffer) => ws.send(encodeChannelMessage(2 * i, d), { binary: true }));
        conn.on("error", () => undefined);
        conn.on("close", () => {
          if (ws.readyState === ws.OPEN) ws.close(1000);
        });
      },
      (e: unknown) => {
        const msg = `error forwarding port ${port} to pod ${podDesc}: ${e instanceof Error ? e.message : String(e)}`;
        ws.send(encodeChannelMessage(2 * i + 1, msg), { binary: true });
      },
    );
  });
  ws.on("message", (raw: Buffer, isBinary: boolean) => {
    if (!isBinary || raw.length < 1) return;
    const ch = raw[0]!;
    if (ch === Channel.close || ch % 2 === 1) return;
    conns[ch / 2]?.write(raw.subarray(1));
  });
  ws.on("close", () => {
    for (const c of conns) c?.destroy();
  });
}
