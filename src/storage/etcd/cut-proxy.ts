/**
 * @module Test harness: a loopback TCP proxy in front of etcd that can lose a call's answer or
 * its request, then cut the connection, so that tests can put the driver in front of a write
 * whose outcome it does not know. In `hold-replies` mode requests still reach etcd but nothing
 * comes back; in `hold-requests` mode requests are swallowed (and kept, so the test can see
 * them go by). `cut()` destroys every open connection and goes back to plain forwarding; new
 * connections (the client's reconnect) are forwarded normally.
 */

import { connect, createServer, type Server, type Socket } from "node:net";

/** What the proxy does with the bytes of connections open when the mode was set. */
export type ProxyMode = "forward" | "hold-replies" | "hold-requests";

/** A running {@link startCutProxy}. */
export interface CutProxy {
  /** `http://127.0.0.1:<port>`: give it to `openEtcd` instead of etcd's endpoint. */
  endpoint: string;
  /** Sets how bytes are treated from now on, until `cut()`. */
  hold(mode: Exclude<ProxyMode, "forward">): void;
  /** Client-to-etcd bytes swallowed since the mode was set (`hold-requests`). */
  swallowed(): Buffer;
  /** Client-to-etcd bytes forwarded since the mode was set. */
  forwardedSinceHold(): number;
  /** Destroys every open connection and returns to plain forwarding. */
  cut(): void;
  /** Cuts and stops listening. */
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port that forwards to `target` (`http://host:port`). */
export async function startCutProxy(target: string): Promise<CutProxy> {
  const url = new URL(target);
  const pairs = new Set<[Socket, Socket]>();
  let mode: ProxyMode = "forward";
  let swallowed: Buffer[] = [];
  let forwarded = 0;

  const server: Server = createServer((client) => {
    const upstream = connect(Number(url.port), url.hostname);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.on("data", (chunk: Buffer) => {
      if (mode === "hold-requests") {
        swallowed.push(chunk);
        return;
      }
      if (mode === "hold-replies") forwarded += chunk.length;
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (mode !== "hold-replies") client.write(chunk);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;

  const cut = (): void => {
    mode = "forward";
    for (const [client, upstream] of [...pairs]) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    hold(next) {
      mode = next;
      swallowed = [];
      forwarded = 0;
    },
    swallowed: () => Buffer.concat(swallowed),
    forwardedSinceHold: () => forwarded,
    cut,
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
