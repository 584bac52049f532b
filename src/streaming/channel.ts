/**
 * @module The remote-command channel protocol kubectl speaks over WebSocket for exec, attach
 * and (v4-style) port-forward: every binary message starts with one byte naming the channel
 * (0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 resize); v5 adds a close message
 * (`[255, channel]`) that half-closes one channel. Also the `Status` documents written on
 * the error channel when a command ends, shared by the WebSocket and SPDY transports.
 */

/** Channel numbers of the remote-command protocol. */
export const Channel = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  error: 3,
  resize: 4,
  /** v5: `[255, n]` closes channel n. */
  close: 255,
} as const;

/** WebSocket subprotocols for exec/attach, newest first. */
export const REMOTE_COMMAND_PROTOCOLS = [
  "v5.channel.k8s.io",
  "v4.channel.k8s.io",
  "v3.channel.k8s.io",
  "v2.channel.k8s.io",
  "channel.k8s.io",
] as const;

/** The SPDY stream protocol versions for exec/attach we serve, in our order of preference. */
export const SPDY_REMOTE_COMMAND_PROTOCOLS = [
  "v4.channel.k8s.io",
  "v3.channel.k8s.io",
  "v2.channel.k8s.io",
  "channel.k8s.io",
] as const;

/** Port-forward over SPDY, and kubectl ≥ 1.31's SPDY tunnelled in WebSocket messages. */
export const PORT_FORWARD_PROTOCOL = "portforward.k8s.io";
export const PORT_FORWARD_TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io";

/** A message on channel `channel` carrying `data`. */
export function encodeChannelMessage(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  body.copy(out, 1);
  return out;
}

/** The v5 message closing `channel`. */
export function encodeCloseMessage(channel: number): Buffer {
  return Buffer.from([Channel.close, channel]);
}

/** A decoded channel message; `closes` is set for a v5 close message. */
export interface ChannelMessage {
  channel: number;
  data: Buffer;
  closes?: number;
}

/** Splits a binary message into its channel and payload (no copy). Empty messages give undefined. */
export function decodeChannelMessage(msg: Buffer): ChannelMessage | undefined {
  if (msg.length === 0) return undefined;
  const channel = msg[0]!;
  const data = msg.subarray(1);
  if (channel === Channel.close) return { channel, data, closes: data[0] ?? -1 };
  return { channel, data };
}

/** A terminal size as kubectl sends it on the resize channel/stream. */
export interface TerminalSize {
  Width: number;
  Height: number;
}

/** Parses one resize document; undefined when malformed. */
export function parseTerminalSize(text: string): TerminalSize | undefined {
  try {
    const v = JSON.parse(text) as Partial<TerminalSize>;
    if (typeof v.Width === "number" && typeof v.Height === "number")
      return { Width: v.Width, Height: v.Height };
  } catch {
    /* malformed */
  }
  return undefined;
}

/** The success Status written on the error channel when a command exits 0. */
export const SUCCESS_STATUS = '{"metadata":{},"status":"Success"}';

/**
 * The Status for a command that exited with `code` (kubectl exits with that code), or failed
 * to run at all (`error`, an internal error as upstream's kubelet reports it).
 */
export function exitStatus(argv: string[], code: number): string {
  if (code === 0) return SUCCESS_STATUS;
  return JSON.stringify({
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${argv.join(" ")}], exit code ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  });
}

/** The Status for a command that could not be run (`InternalError`, code 500). */
export function errorStatus(message: string): string {
  return JSON.stringify({
    metadata: {},
    status: "Failure",
    message: `Internal error occurred: ${message}`,
    reason: "InternalError",
    details: { causes: [{ message }] },
    code: 500,
  });
}

/**
 * Picks the protocol for a request: the first of `ours` (our preference) that the client
 * offered. Undefined when none matches.
 */
export function negotiate(offered: readonly string[], ours: readonly string[]): string | undefined {
  const set = new Set(offered.map((p) => p.trim()));
  return ours.find((p) => set.has(p));
}

/** The comma-separated values of a (possibly repeated) header. */
export function headerValues(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list
    .flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter(Boolean);
}
