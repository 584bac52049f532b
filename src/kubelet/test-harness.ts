/**
 * @module Test scaffolding for the node agent: a FakeClient, a FakeRuntime with busybox, a
 * Kubelet on a temp data dir, an event log, a controllable clock, and `waitFor`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../api/object.ts";
import type { Pod } from "../api/types/core-v1.ts";
import { FakeClient } from "../client/fake-client.ts";
import { FakeRuntime } from "../runtime/fake-runtime.ts";
import { Kubelet, type KubeletOptions } from "./kubelet.ts";
import type { Recorder } from "./recorder.ts";

/** An event as recorded in tests. */
export interface RecordedEvent {
  name: string;
  type: string;
  reason: string;
  message: string;
}

/** Everything a kubelet test needs. */
export interface Harness {
  client: FakeClient;
  runtime: FakeRuntime;
  kubelet: Kubelet;
  events: RecordedEvent[];
  clock: { now: number };
  dataDir: string;
  abort: AbortController;
  stop(): Promise<void>;
}

/** Polls `fn` until it returns a truthy value (up to `timeoutMs`); throws with `what` otherwise. */
export async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 5000,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts a kubelet on fakes. */
export async function startHarness(
  opts: Partial<KubeletOptions> & {
    objects?: KubeObject[];
    runtime?: FakeRuntime;
    client?: FakeClient;
    dataDir?: string;
  } = {},
): Promise<Harness> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "kites-kubelet-"));
  const client = opts.client ?? new FakeClient(opts.objects ?? []);
  let runtime = opts.runtime;
  if (!runtime) {
    runtime = new FakeRuntime();
    runtime.addImage("docker.io/library/busybox:latest", { cmd: ["sh"] });
  }
  const events: RecordedEvent[] = [];
  const recorder: Recorder = {
    event: (obj, type, reason, message) =>
      events.push({ name: obj.metadata.name ?? "", type, reason, message }),
  };
  const clock = { now: Date.now() };
  const abort = new AbortController();
  const kubelet = new Kubelet({
    client,
    runtime,
    nodeName: "node-1",
    nodeIP: "127.0.0.1",
    dataDir,
    recorder,
    now: () => clock.now,
    relistMs: 20,
    probeMsPerSecond: 20,
    hostResolvConf: join(dataDir, "no-resolv.conf"),
    hostHostsFile: join(dataDir, "no-hosts"),
    ...opts,
  });
  kubelet.start(abort.signal);
  await kubelet.ready;
  return {
    client,
    runtime,
    kubelet,
    events,
    clock,
    dataDir,
    abort,
    async stop() {
      abort.abort();
      await kubelet.workers.idle();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A pod bound to node-1 running busybox. */
export function testPod(name: string, spec: Partial<NonNullable<Pod["spec"]>> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      nodeName: "node-1",
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      containers: [{ name: "main", image: "busybox", imagePullPolicy: "IfNotPresent" }],
      ...spec,
    },
  };
}

/** The stored pod. */
export async function getPod(client: FakeClient, name: string): Promise<Pod> {
  return (await client.resource<Pod>("", "pods").get("default", name)) as Pod;
}
