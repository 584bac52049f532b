/**
 * Root-only: the service proxy against the kernel, inside network namespaces this test
 * creates — a "node" namespace holding a bridge and the kites-proxy table, three "pod"
 * namespaces with veths to it (two run a tiny TCP server answering their name, the third is
 * the client). Nothing in the host's namespace is touched.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { setMaxListeners } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import type { Service } from "../api/types/core-v1.ts";
import type { EndpointSlice } from "../api/types/discovery-v1.ts";
import { FakeClient } from "../client/fake-client.ts";
import { InformerFactory } from "../client/informer.ts";
import { startServiceProxy, type ServiceProxy } from "./service-proxy.ts";
import { ready, slice, svc } from "./test-fixtures.ts";

const run = promisify(execFile);

const SERVER = `
import net from "node:net";
const [name, port] = process.argv.slice(2);
// On 9090 the answer also says which source address the server saw (hairpin masquerade);
// on UDP 9053 each datagram is answered with the name.
import dgram from "node:dgram";
const udp = dgram.createSocket("udp4");
udp.on("message", (_m, r) => udp.send(name, r.port, r.address));
udp.bind(9053, "0.0.0.0", () =>
  net.createServer((s) => s.end(name + "@" + s.remoteAddress + "\\n")).listen(9090, "0.0.0.0", () =>
    net.createServer((s) => s.end(name + "\\n")).listen(Number(port), "0.0.0.0", () => console.log("ready")),
  ),
);
`;

// Opens \`count\` connections one after another; prints the answers (or error codes) as JSON.
const CLIENT = `
import net from "node:net";
const [host, port, count, timeout] = process.argv.slice(2);
const one = () => new Promise((resolve) => {
  const s = net.connect({ host, port: Number(port) });
  let data = "";
  const t = setTimeout(() => { s.destroy(); resolve("TIMEOUT"); }, Number(timeout));
  s.on("data", (d) => (data += d));
  s.on("end", () => { clearTimeout(t); resolve(data.trim()); });
  s.on("error", (e) => { clearTimeout(t); resolve(e.code ?? String(e)); });
});
const out = [];
for (let i = 0; i < Number(count); i++) out.push(await one());
console.log(JSON.stringify(out));
`;

// Sends one datagram from a fixed source port; prints the answer (or TIMEOUT).
const UDP_CLIENT = `
import dgram from "node:dgram";
const [host, port, srcPort] = process.argv.slice(2);
const s = dgram.createSocket("udp4");
const t = setTimeout(() => { console.log("TIMEOUT"); s.close(); }, 3000);
s.on("message", (m) => { clearTimeout(t); console.log(m.toString()); s.close(); });
s.bind(Number(srcPort), () => s.send("q", Number(port), host));
`;

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

test("service proxy in network namespaces", async (t) => {
  if (process.getuid?.() !== 0) {
    console.warn("SKIPPED proxy-netns.test.ts: needs root (network namespaces, nftables)");
    t.skip("needs root");
    return;
  }
  try {
    await run("nft", ["--version"]);
  } catch {
    console.warn("SKIPPED proxy-netns.test.ts: nft binary missing");
    t.skip("no nft");
    return;
  }
  const id = Math.random().toString(36).slice(2, 8);
  const NODE = `kites-t-${id}-n`;
  // Another host, outside the pod CIDR, reaching the node over a veth (external traffic).
  const EXT = `kites-t-${id}-x`;
  const pods = { a: `kites-t-${id}-a`, b: `kites-t-${id}-b`, c: `kites-t-${id}-c` };
  const ips = { a: "10.244.7.2", b: "10.244.7.3", c: "10.244.7.4" };
  const dir = await mkdtemp(join(tmpdir(), "kites-proxy-"));
  const children: { kill(): boolean }[] = [];
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  let proxy: ServiceProxy | undefined;
  t.after(async () => {
    ac.abort();
    await proxy?.stop().catch(() => undefined);
    for (const c of children) c.kill();
    for (const ns of [NODE, EXT, ...Object.values(pods)])
      await run("ip", ["netns", "del", ns]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  const ip = (...args: string[]) => run("ip", args);
  await ip("netns", "add", NODE);
  for (const ns of Object.values(pods)) await ip("netns", "add", ns);
  await ip("-n", NODE, "link", "set", "lo", "up");
  await ip("-n", NODE, "link", "add", "br0", "type", "bridge");
  await ip("-n", NODE, "addr", "add", "10.244.7.1/24", "dev", "br0");
  await ip("-n", NODE, "link", "set", "br0", "up");
  // A default route, so connections to a VIP without endpoints reach the forward hook.
  await ip("-n", NODE, "link", "add", "up0", "type", "veth", "peer", "name", "up1");
  await ip("-n", NODE, "link", "set", "up1", "up");
  await ip("-n", NODE, "addr", "add", "192.168.77.1/24", "dev", "up0");
  await ip("-n", NODE, "link", "set", "up0", "up");
  await ip("-n", NODE, "route", "add", "default", "via", "192.168.77.2");
  await run("ip", ["netns", "exec", NODE, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  await ip("netns", "add", EXT);
  await ip("-n", NODE, "link", "add", "x0", "type", "veth", "peer", "name", "x1", "netns", EXT);
  await ip("-n", NODE, "addr", "add", "192.168.78.1/24", "dev", "x0");
  await ip("-n", NODE, "link", "set", "x0", "up");
  await ip("-n", EXT, "addr", "add", "192.168.78.2/24", "dev", "x1");
  await ip("-n", EXT, "link", "set", "x1", "up");
  await ip("-n", EXT, "route", "add", "default", "via", "192.168.78.1");
  for (const [k, ns] of Object.entries(pods) as [keyof typeof pods, string][]) {
    await ip("-n", NODE, "link", "add", `v${k}`, "type", "veth", "peer", "name", "eth0", "netns", ns);
    await ip("-n", NODE, "link", "set", `v${k}`, "master", "br0", "up");
    // As kubelet's hairpin-veth mode: a pod reaching itself through a VIP goes back out its own port.
    await ip("-n", NODE, "link", "set", `v${k}`, "type", "bridge_slave", "hairpin", "on");
    await ip("-n", ns, "addr", "add", `${ips[k]}/24`, "dev", "eth0");
    await ip("-n", ns, "link", "set", "eth0", "up");
    await ip("-n", ns, "link", "set", "lo", "up");
    await ip("-n", ns, "route", "add", "default", "via", "10.244.7.1");
  }
  await writeFile(join(dir, "server.mjs"), SERVER);
  await writeFile(join(dir, "client.mjs"), CLIENT);
  await writeFile(join(dir, "udp-client.mjs"), UDP_CLIENT);
  for (const k of ["a", "b"] as const) {
    const { spawn } = await import("node:child_process");
    const child = spawn(
      "ip",
      ["netns", "exec", pods[k], process.execPath, join(dir, "server.mjs"), k, "8080"],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`server ${k} exited ${String(code)}`)));
    });
  }
  const connect = async (ns: string, host: string, port: number, count: number): Promise<string[]> => {
    const { stdout } = await run("ip", [
      "netns",
      "exec",
      ns,
      process.execPath,
      join(dir, "client.mjs"),
      host,
      String(port),
      String(count),
      "3000",
    ]);
    return JSON.parse(stdout) as string[];
  };

  const both = [ready(ips.a), ready(ips.b)];
  const fake = new FakeClient([
    svc("web", {
      type: "NodePort",
      clusterIP: "10.96.0.50",
      ports: [{ port: 80, nodePort: 30080, targetPort: 8080 }],
    }),
    slice("web", [{ port: 8080 }], both),
    svc("empty", { clusterIP: "10.96.0.51", ports: [{ port: 80 }] }),
    slice("empty", [], []),
    svc("sticky", { clusterIP: "10.96.0.52", sessionAffinity: "ClientIP", ports: [{ port: 80 }] }),
    slice("sticky", [{ port: 8080 }], both),
    svc("lb", { type: "LoadBalancer", clusterIP: "10.96.0.53", ports: [{ port: 8081, nodePort: 30081 }] }),
    slice("lb", [{ port: 8080 }], both),
    svc("dns", { clusterIP: "10.96.0.55", ports: [{ port: 53, protocol: "UDP", targetPort: 9053 }] }),
    slice("dns", [{ port: 9053, protocol: "UDP" }], both),
    svc("who", { clusterIP: "10.96.0.54", ports: [{ port: 90, targetPort: 9090 }] }),
    slice("who", [{ port: 9090 }], both),
  ]);
  const informers = new InformerFactory(fake);
  proxy = await startServiceProxy({
    client: fake,
    informers,
    nodeIP: "127.0.0.1",
    podCIDR: "10.244.7.0/24",
    signal: ac.signal,
    nft: { netns: NODE },
  });
  const p = proxy.proxier;
  const synced = async () => {
    await settle();
    await p.idle();
  };

  await t.test("a ClusterIP reaches both backends over several connections", async () => {
    const got = await connect(pods.c, "10.96.0.50", 80, 16);
    assert.deepEqual([...new Set(got)].sort(), ["a", "b"], JSON.stringify(got));
  });

  await t.test("a pod reaching itself through the VIP (hairpin) is answered", async () => {
    const got = await connect(pods.a, "10.96.0.50", 80, 16);
    for (const g of got) assert.ok(g === "a" || g === "b", JSON.stringify(got));
    assert.ok(got.includes("a"), `no connection went back to the client itself: ${JSON.stringify(got)}`);
  });

  await t.test(
    "hairpin: a pod reaching itself is masqueraded, one reaching another endpoint is not",
    async () => {
      const got = await connect(pods.a, "10.96.0.54", 90, 24);
      for (const g of got) assert.ok(g === "a@10.244.7.1" || g === "b@10.244.7.2", JSON.stringify(got));
      assert.ok(got.includes("a@10.244.7.1"), JSON.stringify(got));
      assert.ok(got.includes("b@10.244.7.2"), JSON.stringify(got));
      // A pod that is not an endpoint keeps its address either way.
      const other = await connect(pods.c, "10.96.0.54", 90, 8);
      for (const g of other) assert.ok(g === "a@10.244.7.4" || g === "b@10.244.7.4", JSON.stringify(other));
    },
  );

  await t.test("UDP: an endpoint's conntrack entries are deleted when it goes away", async (st) => {
    if (
      !(await run("conntrack", ["--version"]).then(
        () => true,
        () => false,
      ))
    ) {
      console.warn("SKIPPED proxy-netns.test.ts UDP conntrack: conntrack binary missing");
      st.skip("no conntrack");
      return;
    }
    const ask = async (): Promise<string> => {
      const { stdout } = await run("ip", [
        "netns",
        "exec",
        pods.c,
        process.execPath,
        join(dir, "udp-client.mjs"),
        "10.96.0.55",
        "53",
        "40053",
      ]);
      return stdout.trim();
    };
    const first = await ask();
    assert.ok(first === "a" || first === "b", first);
    const chosen = first === "a" ? ips.a : ips.b;
    const other = first === "a" ? "b" : "a";
    const list = async (): Promise<string> =>
      (await run("ip", ["netns", "exec", NODE, "conntrack", "-L", "-p", "udp", "--orig-dst", "10.96.0.55"]))
        .stdout;
    assert.match(await list(), new RegExp(`src=${chosen.replaceAll(".", "\\.")} `));
    // Same source port again: conntrack keeps it on the same endpoint.
    assert.equal(await ask(), first);
    const s = fake
      .objects<EndpointSlice>("discovery.k8s.io", "endpointslices")
      .find((x) => x.metadata.name === "dns-abc")!;
    await fake
      .resource<EndpointSlice>("discovery.k8s.io", "endpointslices")
      .update({ ...s, endpoints: [ready(first === "a" ? ips.b : ips.a)] });
    await synced();
    assert.doesNotMatch(await list(), new RegExp(`src=${chosen.replaceAll(".", "\\.")} `));
    assert.equal(await ask(), other);
  });

  await t.test("a Service without endpoints refuses at once", async () => {
    assert.deepEqual(await connect(pods.c, "10.96.0.51", 80, 2), ["ECONNREFUSED", "ECONNREFUSED"]);
  });

  await t.test("the NodePort answers on the node's bridge address and on 127.0.0.1", async () => {
    const fromPod = await connect(pods.c, "10.244.7.1", 30080, 4);
    for (const g of fromPod) assert.ok(g === "a" || g === "b", JSON.stringify(fromPod));
    const fromNode = await connect(NODE, "127.0.0.1", 30080, 4);
    for (const g of fromNode) assert.ok(g === "a" || g === "b", JSON.stringify(fromNode));
  });

  await t.test("ClientIP affinity sticks to one backend", async () => {
    const got = await connect(pods.c, "10.96.0.52", 80, 10);
    assert.equal(new Set(got).size, 1, JSON.stringify(got));
    assert.ok(got[0] === "a" || got[0] === "b");
  });

  await t.test("a LoadBalancer gets the node address in its status and answers there", async () => {
    for (
      let i = 0;
      i < 200 && !p.appliedFor("default/lb")?.elements.has("service-ips\t127.0.0.1 . tcp . 8081");
      i++
    ) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const lb = fake.objects<Service>("", "services").find((s) => s.metadata.name === "lb")!;
    assert.deepEqual(lb.status?.loadBalancer?.ingress, [{ ip: "127.0.0.1" }]);
    const got = await connect(NODE, "127.0.0.1", 8081, 4);
    for (const g of got) assert.ok(g === "a" || g === "b", JSON.stringify(got));
  });

  await t.test("removing an endpoint stops traffic to it", async () => {
    const s = fake
      .objects<EndpointSlice>("discovery.k8s.io", "endpointslices")
      .find((x) => x.metadata.name === "web-abc")!;
    await fake
      .resource<EndpointSlice>("discovery.k8s.io", "endpointslices")
      .update({ ...s, endpoints: [ready(ips.a)] });
    await synced();
    assert.deepEqual(await connect(pods.c, "10.96.0.50", 80, 10), Array(10).fill("a"));
  });

  await t.test("stop() deletes the table and nothing else", async () => {
    const { stdout: before } = await run("ip", ["netns", "exec", NODE, "nft", "list", "tables"]);
    assert.match(before, /table ip kites-proxy/);
    await proxy!.stop();
    proxy = undefined;
    const { stdout: after } = await run("ip", ["netns", "exec", NODE, "nft", "list", "tables"]);
    assert.doesNotMatch(after, /kites-proxy/);
  });

  await t.test(
    "per-endpoint chains (flatEndpoints: false): both backends, hairpin, NodePort, affinity",
    async () => {
      const s = fake
        .objects<EndpointSlice>("discovery.k8s.io", "endpointslices")
        .find((x) => x.metadata.name === "web-abc")!;
      await fake
        .resource<EndpointSlice>("discovery.k8s.io", "endpointslices")
        .update({ ...s, endpoints: both });
      const flatAc = new AbortController();
      proxy = await startServiceProxy({
        client: fake,
        informers: new InformerFactory(fake),
        nodeIP: "127.0.0.1",
        podCIDR: "10.244.7.0/24",
        signal: flatAc.signal,
        nft: { netns: NODE },
        flatEndpoints: false,
      });
      try {
        const { stdout: table } = await run("ip", [
          "netns",
          "exec",
          NODE,
          "nft",
          "list",
          "table",
          "ip",
          "kites-proxy",
        ]);
        assert.match(table, /chain service-.*default\/web\/tcp\//);
        assert.match(table, /chain endpoint-.*default\/web\//);
        const got = await connect(pods.c, "10.96.0.50", 80, 16);
        assert.deepEqual([...new Set(got)].sort(), ["a", "b"], JSON.stringify(got));
        const hairpin = await connect(pods.a, "10.96.0.50", 80, 16);
        for (const g of hairpin) assert.ok(g === "a" || g === "b", JSON.stringify(hairpin));
        assert.ok(hairpin.includes("a"), JSON.stringify(hairpin));
        const np = await connect(NODE, "127.0.0.1", 30080, 4);
        for (const g of np) assert.ok(g === "a" || g === "b", JSON.stringify(np));
        const sticky = await connect(pods.c, "10.96.0.52", 80, 10);
        assert.equal(new Set(sticky).size, 1, JSON.stringify(sticky));
      } finally {
        flatAc.abort();
        await proxy.stop();
        proxy = undefined;
      }
    },
  );
  await t.test(
    "traffic policies Local: only this node's endpoints, source kept, drop when none",
    async () => {
      const on = (addr: string, nodeName: string) => ({ ...ready(addr), nodeName });
      const split = [on(ips.a, "n1"), on(ips.b, "n2")];
      const remoteOnly = [on(ips.b, "n2")];
      const objs = [
        svc("itp", {
          clusterIP: "10.96.0.60",
          internalTrafficPolicy: "Local",
          ports: [{ port: 90, targetPort: 9090 }],
        }),
        slice("itp", [{ port: 9090 }], split),
        svc("itp-remote", { clusterIP: "10.96.0.61", internalTrafficPolicy: "Local", ports: [{ port: 90 }] }),
        slice("itp-remote", [{ port: 9090 }], remoteOnly),
        svc("etp", {
          type: "NodePort",
          clusterIP: "10.96.0.62",
          externalTrafficPolicy: "Local",
          ports: [{ port: 90, targetPort: 9090, nodePort: 30090 }],
        }),
        slice("etp", [{ port: 9090 }], split),
        svc("etp-remote", {
          type: "NodePort",
          clusterIP: "10.96.0.63",
          externalTrafficPolicy: "Local",
          ports: [{ port: 90, targetPort: 9090, nodePort: 30091 }],
        }),
        slice("etp-remote", [{ port: 9090 }], remoteOnly),
      ];
      const local = new FakeClient(objs);
      const localAc = new AbortController();
      setMaxListeners(0, localAc.signal);
      proxy = await startServiceProxy({
        client: local,
        informers: new InformerFactory(local),
        nodeIP: "127.0.0.1",
        podCIDR: "10.244.7.0/24",
        nodeName: "n1",
        signal: localAc.signal,
        nft: { netns: NODE },
        loadBalancerStatus: false,
      });
      try {
        // internalTrafficPolicy Local: the cluster IP reaches only the local endpoint.
        assert.deepEqual(await connect(pods.c, "10.96.0.60", 90, 8), Array(8).fill("a@10.244.7.4"));
        // Endpoints only on other nodes: dropped (upstream), so the client times out.
        assert.deepEqual(await connect(pods.c, "10.96.0.61", 90, 1), ["TIMEOUT"]);
        // externalTrafficPolicy Local from another host: the local endpoint, source address kept.
        assert.deepEqual(await connect(EXT, "192.168.78.1", 30090, 8), Array(8).fill("a@192.168.78.2"));
        assert.deepEqual(await connect(EXT, "192.168.78.1", 30091, 1), ["TIMEOUT"]);
        // From a pod (short circuit): every endpoint, as cluster traffic.
        const fromPod = await connect(pods.c, "192.168.78.1", 30090, 16);
        assert.deepEqual(
          [...new Set(fromPod)].sort(),
          ["a@10.244.7.4", "b@10.244.7.4"],
          JSON.stringify(fromPod),
        );
        // The cluster IP of an ETP Local Service still reaches every endpoint.
        const viaVIP = await connect(pods.c, "10.96.0.62", 90, 16);
        assert.deepEqual(
          [...new Set(viaVIP)].sort(),
          ["a@10.244.7.4", "b@10.244.7.4"],
          JSON.stringify(viaVIP),
        );
      } finally {
        localAc.abort();
        await proxy.stop();
        proxy = undefined;
      }
    },
  );
});
