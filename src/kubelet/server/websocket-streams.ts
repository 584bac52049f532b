/**
 * @module The WebSocket side of the node agent's streaming server: accepts the upgrade with
 * the subprotocol kubectl offered (`v5.channel.k8s.io`, `v4…`, or port-forward's
 * `SPDY/3.1+portforward.k8s.io` tunnel, whose `/` the `ws` package refuses as a token — so
 * that one is negotiated under a stand-in name and the real name written back into the
 * response), and maps the channel protocol onto `CommandStreams`.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { PassThrough, Writable } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import {
  Channel,
  decodeChannelMessage,
  encodeChannelMessage,
  headerValues,
  parseTerminalSize,
  PORT_FORWARD_TUNNEL_PROTOCOL,
  type TerminalSize,
} from "../../streaming/channel.ts";
import type { CommandStreams, StreamOptions } from "./remote-command.ts";

const STAND_IN = "kites-spdy-tunnel";

/** A shared `ws` server in no-server mode; `protocols` are ours in order of preference. */
export class WebSocketUpgrader {
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 16 * 1024 * 1024,
    handleProtocols: (offered: Set<string>, req: IncomingMessage) => {
      const ours = (req as IncomingMessage & { kitesProtocols?: readonly string[] }).kitesProtocols ?? [];
      for (const p of ours) {
        const name = p === PORT_FORWARD_TUNNEL_PROTOCOL ? STAND_IN : p;
        if (offered.has(name)) return name;
      }
      return false;
    },
  });

  constructor() {
    this.wss.on("headers", (headers: string[]) => {
      for (let i = 0; i < headers.length; i++) {
        if (headers[i]!.toLowerCase() === `sec-websocket-protocol: ${STAND_IN}`)
          headers[i] = `Sec-WebSocket-Protocol: ${PORT_FORWARD_TUNNEL_PROTOCOL}`;
      }
    });
  }

  /** The subprotocols the request offers. */
  static offered(req: IncomingMessage): string[] {
    return headerValues(req.headers["sec-websocket-protocol"]);
  }

  /**
   * Completes the handshake choosing the first of `ours` the client offered; resolves with the
   * socket and the chosen protocol, or undefined when none matched (answered 400 by `ws`).
   */
  accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    ours: readonly string[],
  ): Promise<{ ws: WebSocket; protocol: string } | undefined> {
    const offered = WebSocketUpgrader.offered(req);
    if (!ours.some((p) => offered.includes(p))) {
      const body = `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(" ")}], server supports [${ours.join(" ")}]`;
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return Promise.resolve(undefined);
    }
    if (offered.includes(PORT_FORWARD_TUNNEL_PROTOCOL)) {
      req.headers["sec-websocket-protocol"] = offered
        .map((p) => (p === PORT_FORWARD_TUNNEL_PROTOCOL ? STAND_IN : p))
        .filter((p) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(p))
        .join(", ");
    }
    (req as IncomingMessage & { kitesProtocols?: readonly string[] }).kitesProtocols = ours;
    return new Promise((resolve) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const p = ws.protocol === STAND_IN ? PORT_FORWARD_TUNNEL_PROTOCOL : ws.protocol;
        resolve({ ws, protocol: p });
      });
    });
  }

  close(): void {
    this.wss.close();
  }
}

/** A writable that sends each chunk as a message on `channel`. */
function channelWriter(ws: WebSocket, channel: number): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) return cb();
      ws.send(encodeChannelMessage(channel, chunk), { binary: true }, () => cb());
    },
    // No v5 close frame on output channels: only the client half-closes (stdin); kubectl
    // logs "Unknown stream id 255" for one from the server. The exit Status ends the streams.
    final(cb) {
      cb();
    },
  });
}

/** The channel protocol on an accepted WebSocket, as `CommandStreams`. */
export function websocketCommandStreams(
  ws: WebSocket,
  protocol: string,
  opts: StreamOptions,
): CommandStreams {
  const v5 = protocol === "v5.channel.k8s.io";
  const stdin = opts.stdin ? new PassThrough() : null;
  const resizeHandlers: ((s: TerminalSize) => void)[] = [];
  const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()));
  ws.on("error", () => undefined);
  ws.on("message", (raw: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    const msg = decodeChannelMessage(raw);
    if (!msg) return;
    if (msg.closes !== undefined) {
      if (msg.closes === Channel.stdin) stdin?.end();
      return;
    }
    if (msg.channel === Channel.stdin) stdin?.write(msg.data);
    else if (msg.channel === Channel.resize) {
      const size = parseTerminalSize(msg.data.toString());
      if (size) for (const h of resizeHandlers) h(size);
    }
  });
  void closed.then(() => stdin?.end());
  return {
    stdin,
    stdout: opts.stdout ? channelWriter(ws, Channel.stdout) : null,
    stderr: opts.stderr ? channelWriter(ws, Channel.stderr) : null,
    onResize: (cb) => resizeHandlers.push(cb),
    finish(status: string) {
      if (ws.readyState !== ws.OPEN) return;
      const msg = protocol === "v4.channel.k8s.io" || v5 ? status : statusText(status);
      ws.send(encodeChannelMessage(Channel.error, msg), { binary: true }, () => ws.close(1000));
    },
    closed,
  };
}

/** Before v4 the error channel carries only the message text, and nothing on success. */
function statusText(status: string): string {
  try {
    const s = JSON.parse(status) as { status?: string; message?: string };
    return s.status === "Success" ? "" : (s.message ?? "");
  } catch {
    return status;
  }
}
