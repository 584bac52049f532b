import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { request } from "node:http";
import { test } from "node:test";
import { InformerFactory } from "../client/informer.ts";
import { startTestApiServer } from "../testing/api-server.ts";
import { startIngressController } from "./ingress-controller.ts";
import { waitFor } from "./ingress-test-support.ts";
import type { Ingress, IngressClass } from "./ingress-types.ts";

function haveOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

test("ingress controller against a real API server: IngressClass, routes, 404/503 and status over REST", async (t) => {
  if (!haveOpenssl()) return void console.warn("SKIPPED: openssl is not installed");
  const api = await startTestApiServer();
  t.after(() => api.stop());
  // The API server refuses loopback endpoint addresses (as upstream does), so the endpoint is
  // a documentation address: the test checks the route resolves to it and sends no traffic there.
  const podIP = "192.0.2.10";
  const podPort = 8080;

  const ac = new AbortController();
  const ctl = await startIngressController({
    client: api.client,
    informers: new InformerFactory(api.client),
    nodeIP: "127.0.0.1",
    httpPort: 0,
    httpsPort: 0,
    bindAddress: "127.0.0.1",
    signal: ac.signal,
  });
  t.after(async () => {
    ac.abort();
    await ctl.stop();
  });

  const cls = await api.client
    .resource<IngressClass>("networking.k8s.io", "ingressclasses")
    .get(undefined, "kites");
  assert.equal(cls.spec?.controller, "kites.io/ingress-controller");
  assert.equal(cls.metadata.annotations?.["ingressclass.kubernetes.io/is-default-class"], "true");

  await api.client.resource("", "services").create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default" },
    spec: { clusterIP: "None", ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }] },
  });
  await api.client.resource("discovery.k8s.io", "endpointslices").create({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-1", namespace: "default", labels: { "kubernetes.io/service-name": "web" } },
    addressType: "IPv4",
    ports: [{ name: "http", port: podPort, protocol: "TCP" }],
    endpoints: [
      { addresses: [podIP], conditions: { ready: true } },
      { addresses: ["192.0.2.11"], conditions: { ready: false } },
    ],
  });
  const ingresses = api.client.resource<Ingress>("networking.k8s.io", "ingresses");
  await ingresses.create({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "web", namespace: "default" },
    spec: {
      rules: [
        {
          host: "web.example.com",
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: "web", port: { name: "http" } } },
              },
            ],
          },
        },
      ],
    },
  });
  await waitFor(
    "route",
    () => (ctl.routes.lookup("web.example.com", "/")?.backend?.endpoints.length ?? 0) === 1,
  );
  assert.deepEqual(
    ctl.routes.lookup("web.example.com", "/x")?.backend?.endpoints.map((e) => e.key),
    [`${podIP}:${podPort}`],
    "port name resolved through the Service and the EndpointSlice; the unready endpoint left out",
  );
  const status = (host: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: ctl.httpPort, path: "/", headers: { host }, agent: false },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
  assert.equal(await status("unknown.example.com"), 404);
  // Marking the endpoint unready over the API empties the route: 503.
  const slices = api.client.resource("discovery.k8s.io", "endpointslices");
  const slice = await slices.get("default", "web-1");
  await slices.update({ ...slice, endpoints: [{ addresses: [podIP], conditions: { ready: false } }] });
  await waitFor(
    "endpoint unready",
    () => ctl.routes.lookup("web.example.com", "/")?.backend?.endpoints.length === 0,
  );
  assert.equal(await status("web.example.com"), 503);
  await waitFor("status over REST", async () => {
    const ing = await ingresses.get("default", "web");
    return ing.status?.loadBalancer?.ingress?.[0]?.ip === "127.0.0.1";
  });
});
