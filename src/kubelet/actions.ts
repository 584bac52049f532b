/**
 * @module The handlers probes and lifecycle hooks run: exec in the container, HTTP GET to the
 * pod (success 200–399), TCP connect, sleep. Each returns a result with upstream's wording of
 * what went wrong, so probe failures and hook failures read like upstream's events.
 */
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { Container, ExecAction, HTTPGetAction, TCPSocketAction } from "../api/types/core-v1.ts";
import type { ContainerRuntime } from "../runtime/types.ts";

/** The outcome of one handler run. */
export interface ActionResult {
  ok: boolean;
  /** Output or error text (probe events, hook failures). */
  output: string;
}

/** Resolves a port given as a number or a named container port. */
export function resolvePort(port: number | string | undefined, container: Container): number | undefined {
  if (typeof port === "number") return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** Runs `exec.command` in the container, killed after `timeoutMs`. */
export async function runExec(
  runtime: ContainerRuntime,
  containerId: string,
  exec: ExecAction,
  timeoutMs: number,
): Promise<ActionResult> {
  const argv = exec.command ?? [];
  try {
    const r = await runtime.execSync(containerId, argv, timeoutMs);
    const output = (r.stdout + r.stderr).trimEnd();
    if (r.exitCode === 0) return { ok: true, output };
    return {
      ok: false,
      output: output || `command ${JSON.stringify(argv.join(" "))} exited with ${r.exitCode}`,
    };
  } catch (e) {
    const msg = (e as Error).message;
    if (/timed? ?out/i.test(msg))
      return { ok: false, output: `command ${JSON.stringify(argv.join(" "))} timed out` };
    return { ok: false, output: msg };
  }
}

/** HTTP(S) GET against the pod; success is a status in 200–399. */
export function runHttpGet(
  action: HTTPGetAction,
  container: Container,
  podIP: string,
  timeoutMs: number,
): Promise<ActionResult> {
  const port = resolvePort(action.port, container);
  const scheme = (action.scheme ?? "HTTP").toLowerCase();
  const host = action.host || podIP;
  let path = action.path ?? "/";
  if (!path.startsWith("/")) path = `/${path}`;
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const url = `${scheme}://${hostPart}:${port ?? 0}${path}`;
  if (port === undefined)
    return Promise.resolve({ ok: false, output: `port ${String(action.port)} not found in container` });
  const headers: Record<string, string> = { "User-Agent": "kube-probe/1.33", Accept: "*/*" };
  for (const h of action.httpHeaders ?? []) headers[h.name] = h.value;
  return new Promise((resolveResult) => {
    const mod = scheme === "https" ? https : http;
    const req = mod.request(
      url,
      {
        method: "GET",
        headers,
        timeout: timeoutMs,
        ...(scheme === "https" ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        const code = res.statusCode ?? 0;
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          if (body.length < 10_240) body += d;
        });
        res.on("end", () => {
          if (code >= 200 && code < 400) resolveResult({ ok: true, output: body });
          else resolveResult({ ok: false, output: `HTTP probe failed with statuscode: ${code}` });
        });
        res.on("error", (e) => resolveResult({ ok: false, output: `Get "${url}": ${e.message}` }));
      },
    );
    req.on("timeout", () => {
      req.destroy(new Error("context deadline exceeded (Client.Timeout exceeded while awaiting headers)"));
    });
    req.on("error", (e) => resolveResult({ ok: false, output: `Get "${url}": ${describeNetError(e)}` }));
    req.end();
  });
}

function describeNetError(e: Error & { code?: string; address?: string; port?: number }): string {
  if (e.code === "ECONNREFUSED") return `dial tcp ${e.address}:${e.port}: connect: connection refused`;
  if (e.code === "EHOSTUNREACH") return `dial tcp ${e.address}:${e.port}: connect: no route to host`;
  return e.message;
}

/** TCP connect to the pod's port. */
export function runTcp(
  action: TCPSocketAction,
  container: Container,
  podIP: string,
  timeoutMs: number,
): Promise<ActionResult> {
  const port = resolvePort(action.port, container);
  const host = action.host || podIP;
  if (port === undefined)
    return Promise.resolve({ ok: false, output: `port ${String(action.port)} not found in container` });
  return new Promise((resolveResult) => {
    const sock = net.connect({ host, port });
    const done = (r: ActionResult): void => {
      sock.destroy();
      resolveResult(r);
    };
    sock.setTimeout(timeoutMs, () => done({ ok: false, output: `dial tcp ${host}:${port}: i/o timeout` }));
    sock.on("connect", () => done({ ok: true, output: "" }));
    sock.on("error", (e) => done({ ok: false, output: describeNetError(e) }));
  });
}

/** Waits `seconds`, or until `signal` aborts. */
export function runSleep(seconds: number, signal?: AbortSignal): Promise<ActionResult> {
  return new Promise((resolveResult) => {
    const t = setTimeout(() => resolveResult({ ok: true, output: "" }), seconds * 1000);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolveResult({ ok: true, output: "" });
    });
  });
}
