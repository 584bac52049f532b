/**
 * @module The SPDY/3.1 side of the node agent's streaming server: answers `Upgrade: SPDY/3.1`
 * with `101 Switching Protocols` and the negotiated `X-Stream-Protocol-Version`, runs a
 * `SpdySession` on the socket, and for exec/attach gathers the streams kubectl opens (named
 * by the `streamtype` header: error, stdin, stdout, stderr, resize) into `CommandStreams`.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { headerValues, negotiate, parseTerminalSize, type TerminalSize } from "../../streaming/channel.ts";
import { SpdySession, type SpdyStream } from "../../streaming/spdy/session.ts";
import type { CommandStreams, StreamOptions } from "./remote-command.ts";

/** How long the client gets to open all streams (upstream's default creation timeout). */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

/** True when the request asks for a SPDY/3.1 upgrade. */
export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? "").toLowerCase() === "spdy/3.1";
}

/**
 * Completes the SPDY handshake choosing one of `ours`; undefined (and a 403 answer, as
 * upstream) when the client offers none of them.
 */
export function acceptSpdy(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  ours: readonly string[],
): { session: SpdySession; protocol: string } | undefined {
  const offered = headerValues(req.headers["x-stream-protocol-version"]);
  const protocol = negotiate(offered, ours);
  if (!protocol) {
    const body = `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(" ")}], server supports [${ours.join(" ")}]`;
    socket.end(
      `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    return undefined;
  }
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  const session = new SpdySession(socket);
  if (head.length) socket.unshift(head);
  return { session, protocol };
}

/**
 * Waits for the streams a command needs (error always; stdin/stdout/stderr as requested;
 * resize with a TTY from v3 on) and wraps them as `CommandStreams`. Rejects when they do not
 * all arrive within the timeout or the connection drops first.
 */
export function spdyCommandStreams(
  session: SpdySession,
  protocol: string,
  opts: StreamOptions,
  timeoutMs = STREAM_CREATION_TIMEOUT_MS,
): Promise<CommandStreams> {
  const wanted = new Set<string>(["error"]);
  if (opts.stdin) wanted.add("stdin");
  if (opts.stdout) wanted.add("stdout");
  if (opts.stderr) wanted.add("stderr");
  if (opts.tty && protocol !== "v2.channel.k8s.io" && protocol !== "channel.k8s.io") wanted.add("resize");
  const got = new Map<string, SpdyStream>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      session.close();
      reject(new Error(`timed out waiting for client to create streams (have ${[...got.keys()].join(",")})`));
    }, timeoutMs);
    const onClose = (): void => {
      cleanup();
      reject(new Error("connection closed before all streams were created"));
    };
    const onStream = (s: SpdyStream): void => {
      const type = s.header("streamtype");
      if (!type || got.has(type)) {
        s.reset();
        return;
      }
      got.set(type, s);
      // Streams the client only reads from carry nothing our way.
      if (type === "stdout" || type === "stderr" || type === "error") s.incoming.resume();
      if ([...wanted].every((w) => got.has(w))) {
        cleanup();
        resolve(wrap(session, got, protocol));
      }
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      session.off("stream", onStream);
      session.off("close", onClose);
    };
    session.on("stream", onStream);
    session.on("close", onClose);
  });
}

function wrap(session: SpdySession, got: Map<string, SpdyStream>, protocol: string): CommandStreams {
  const resizeHandlers: ((s: TerminalSize) => void)[] = [];
  const resize = got.get("resize");
  if (resize) {
    // Sizes arrive as JSON documents back to back (upstream decodes them as a JSON stream).
    let buf = "";
    resize.incoming.on("data", (d: Buffer) => {
      buf += d.toString();
      let depth = 0;
      let start = 0;
      for (let i = 0; i < buf.length; i++) {
        if (buf[i] === "{") depth++;
        else if (buf[i] === "}" && --depth === 0) {
          const size = parseTerminalSize(buf.slice(start, i + 1));
          if (size) for (const h of resizeHandlers) h(size);
          start = i + 1;
        }
      }
      buf = buf.slice(start);
    });
  }
  const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
  const error = got.get("error")!;
  return {
    stdin: got.get("stdin")?.incoming ?? null,
    stdout: got.get("stdout")?.outgoing ?? null,
    stderr: got.get("stderr")?.outgoing ?? null,
    onResize: (cb) => resizeHandlers.push(cb),
    finish(status: string) {
      const text = protocol === "v4.channel.k8s.io" ? status : legacyStatus(status);
      const ended = [...got.values()].map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.outgoing.writableFinished || s.outgoing.destroyed) return resolve();
            s.outgoing.once("close", () => resolve());
            s.outgoing.end(s === error && text ? Buffer.from(text) : undefined, () => resolve());
          }),
      );
      void Promise.all(ended).then(() => session.close());
    },
    closed,
  };
}

/** Before v4 the error stream carries only the failure message, and nothing on success. */
function legacyStatus(status: string): string {
  try {
    const s = JSON.parse(status) as { status?: string; message?: string };
    return s.status === "Success" ? "" : (s.message ?? "");
  } catch {
    return status;
  }
}
