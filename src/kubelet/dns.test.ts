import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "../api/types/core-v1.ts";
import { formatResolvConf, parseResolvConf, podHostsFile, podResolvConf } from "./dns.ts";

const host = parseResolvConf("nameserver 192.0.2.53\nsearch corp.example\noptions edns0\n");
const cluster = { servers: ["10.96.0.10"], domain: "cluster.local" };
const pod = (spec: Partial<NonNullable<Pod["spec"]>>): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "shop" },
  spec: { containers: [], ...spec },
});

test("resolv.conf per dnsPolicy", () => {
  assert.equal(
    formatResolvConf(podResolvConf(pod({}), host, cluster)),
    "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.96.0.10\noptions ndots:5\n",
  );
  assert.equal(
    formatResolvConf(podResolvConf(pod({ dnsPolicy: "Default" }), host, cluster)),
    "search corp.example\nnameserver 192.0.2.53\noptions edns0\n",
  );
  assert.equal(
    formatResolvConf(podResolvConf(pod({ hostNetwork: true }), host, cluster)),
    "search corp.example\nnameserver 192.0.2.53\noptions edns0\n",
  );
  assert.equal(
    formatResolvConf(
      podResolvConf(
        pod({
          dnsPolicy: "None",
          dnsConfig: {
            nameservers: ["1.1.1.1"],
            searches: ["a.b"],
            options: [{ name: "ndots", value: "2" }, { name: "rotate" }],
          },
        }),
        host,
        cluster,
      ),
    ),
    "search a.b\nnameserver 1.1.1.1\noptions ndots:2 rotate\n",
  );
  const merged = podResolvConf(
    pod({ dnsConfig: { options: [{ name: "ndots", value: "1" }] } }),
    host,
    cluster,
  );
  assert.deepEqual(merged.options, ["ndots:1"]);
});

test("hosts file has the pod's IP, FQDN with subdomain, and hostAliases", () => {
  const text = podHostsFile(
    pod({ hostname: "h", subdomain: "sub", hostAliases: [{ ip: "192.0.2.7", hostnames: ["foo", "bar"] }] }),
    ["10.244.0.5"],
    "cluster.local",
    "",
  );
  assert.match(text, /^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
  assert.match(text, /\n10\.244\.0\.5\th\.sub\.shop\.svc\.cluster\.local\th\n/);
  assert.match(text, /\n# Entries added by HostAliases\.\n192\.0\.2\.7\tfoo\tbar\n$/);
  assert.match(podHostsFile(pod({}), ["10.244.0.6"], "cluster.local", ""), /\n10\.244\.0\.6\tweb\n$/);
});
