import assert from "node:assert/strict";
import { test } from "node:test";
import type { HTTPIngressPath, Ingress, IngressRule } from "./ingress-types.ts";
import { normalizePrefix, prefixMatches, requestHost, requestPath } from "./path-match.ts";
import { RouteTable, type BackendRef } from "./route-table.ts";

/** Handles are "ns/svc:port" strings; acquire/release counts are tracked. */
function table(): { t: RouteTable<string>; live: Map<string, number> } {
  const live = new Map<string, number>();
  const t = new RouteTable<string>({
    acquire: (r: BackendRef) => {
      const k = `${r.namespace}/${r.service}:${r.port}`;
      live.set(k, (live.get(k) ?? 0) + 1);
      return k;
    },
    release: (k) => {
      const n = (live.get(k) ?? 0) - 1;
      if (n <= 0) live.delete(k);
      else live.set(k, n);
    },
  });
  return { t, live };
}

const p = (path: string, svc: string, pathType = "Prefix", port: number | string = 80): HTTPIngressPath => ({
  path,
  pathType,
  backend: { service: { name: svc, port: typeof port === "number" ? { number: port } : { name: port } } },
});

function ing(
  name: string,
  rules: IngressRule[],
  extra: Partial<Ingress["spec"]> = {},
  created = "2024-01-01T00:00:00Z",
): Ingress {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, namespace: "default", creationTimestamp: created },
    spec: { rules, ...extra },
  };
}

const route = (t: RouteTable<string>, host: string, path: string): string | null | undefined => {
  const r = t.lookup(host, path);
  return r === undefined ? undefined : r.backend;
};

test("Prefix matches element-wise on /", () => {
  const cases: [string, string, boolean][] = [
    ["/foo", "/foo", true],
    ["/foo", "/foo/", true],
    ["/foo", "/foo/bar", true],
    ["/foo", "/foobar", false],
    ["/foo/", "/foo", true],
    ["/foo/", "/foo/bar", true],
    ["/aaa/bb", "/aaa/bbb", false],
    ["/aaa/bbb", "/aaa/bbb/ccc", true],
    ["/", "/anything/at/all", true],
    ["/", "/", true],
  ];
  for (const [prefix, path, want] of cases) {
    assert.equal(prefixMatches(normalizePrefix(prefix), path), want, `${prefix} vs ${path}`);
  }
});

test("request host and path are normalized", () => {
  assert.equal(requestHost("Foo.Example.COM:8080"), "foo.example.com");
  assert.equal(requestHost("foo.example.com."), "foo.example.com");
  assert.equal(requestHost("[::1]:80"), "[::1]");
  assert.equal(requestHost(undefined), "");
  assert.equal(requestPath("/a/b?x=1"), "/a/b");
  assert.equal(requestPath("/a/b#frag"), "/a/b");
  assert.equal(requestPath("http://h.example/x/y?z"), "/x/y");
  assert.equal(requestPath("*"), "/");
});

test("Prefix /foo routes /foo/bar but not /foobar; longest prefix wins", () => {
  const { t } = table();
  t.set(
    ing("a", [
      { host: "h.com", http: { paths: [p("/", "root"), p("/foo", "foo"), p("/foo/bar", "foobar")] } },
    ]),
  );
  assert.equal(route(t, "h.com", "/foo"), "default/foo:80");
  assert.equal(route(t, "h.com", "/foo/"), "default/foo:80");
  assert.equal(route(t, "h.com", "/foo/baz"), "default/foo:80");
  assert.equal(route(t, "h.com", "/foobar"), "default/root:80");
  assert.equal(route(t, "h.com", "/foo/bar"), "default/foobar:80");
  assert.equal(route(t, "h.com", "/foo/bar/x"), "default/foobar:80");
  assert.equal(route(t, "h.com", "/foo/barx"), "default/foo:80");
});

test("Exact matches only the exact path and beats Prefix of equal length", () => {
  const { t } = table();
  t.set(
    ing("a", [
      {
        host: "h.com",
        http: { paths: [p("/foo", "prefix"), p("/foo", "exact", "Exact"), p("/bar", "bar-exact", "Exact")] },
      },
    ]),
  );
  assert.equal(route(t, "h.com", "/foo"), "default/exact:80");
  assert.equal(route(t, "h.com", "/foo/x"), "default/prefix:80");
  assert.equal(route(t, "h.com", "/bar"), "default/bar-exact:80");
  assert.equal(route(t, "h.com", "/bar/"), undefined, "Exact /bar does not match /bar/");
  assert.equal(route(t, "h.com", "/BAR"), undefined, "matching is case-sensitive");
});

test("ImplementationSpecific behaves as Prefix", () => {
  const { t } = table();
  t.set(ing("a", [{ host: "h.com", http: { paths: [p("/app", "impl", "ImplementationSpecific")] } }]));
  assert.equal(route(t, "h.com", "/app/x"), "default/impl:80");
  assert.equal(route(t, "h.com", "/apps"), undefined);
});

test("wildcard hosts cover exactly one label; exact hosts come first", () => {
  const { t } = table();
  t.set(
    ing("a", [
      { host: "*.foo.com", http: { paths: [p("/", "wild")] } },
      { host: "bar.foo.com", http: { paths: [p("/only", "exact-host")] } },
    ]),
  );
  assert.equal(route(t, "baz.foo.com", "/"), "default/wild:80");
  assert.equal(route(t, "bar.foo.com", "/only"), "default/exact-host:80");
  assert.equal(route(t, "bar.foo.com", "/other"), "default/wild:80", "falls through to the wildcard");
  assert.equal(route(t, "foo.com", "/"), undefined);
  assert.equal(route(t, "a.baz.foo.com", "/"), undefined);
});

test("rules without host serve every host; unknown host without default backend is a 404", () => {
  const { t } = table();
  t.set(ing("a", [{ host: "h.com", http: { paths: [p("/", "h")] } }]));
  assert.equal(route(t, "other.com", "/"), undefined);
  t.set(ing("b", [{ http: { paths: [p("/any", "any")] } }]));
  assert.equal(route(t, "other.com", "/any/x"), "default/any:80");
  assert.equal(route(t, "h.com", "/any"), "default/h:80", "the host's own rules come first");
});

test("default backend: per host first, then the oldest Ingress's", () => {
  const { t } = table();
  t.set(
    ing(
      "a",
      [{ host: "h.com", http: { paths: [p("/x", "hx")] } }],
      {
        defaultBackend: { service: { name: "h-default", port: { number: 80 } } },
      },
      "2024-01-02T00:00:00Z",
    ),
  );
  t.set(
    ing(
      "b",
      [],
      { defaultBackend: { service: { name: "global", port: { number: 8080 } } } },
      "2024-01-01T00:00:00Z",
    ),
  );
  assert.equal(route(t, "h.com", "/x"), "default/hx:80");
  assert.equal(route(t, "h.com", "/nope"), "default/h-default:80");
  assert.equal(route(t, "unknown.com", "/"), "default/global:8080");
  t.delete("default/b");
  assert.equal(route(t, "unknown.com", "/"), "default/h-default:80", "next oldest default");
  t.delete("default/a");
  assert.equal(route(t, "unknown.com", "/"), undefined);
});

test("older Ingress wins a conflicting host+path; replacing and deleting release handles", () => {
  const { t, live } = table();
  t.set(ing("new", [{ host: "h.com", http: { paths: [p("/", "new")] } }], {}, "2024-02-01T00:00:00Z"));
  t.set(
    ing(
      "old",
      [{ host: "h.com", http: { paths: [p("/", "old"), p("/o", "o")] } }],
      {},
      "2024-01-01T00:00:00Z",
    ),
  );
  assert.equal(route(t, "h.com", "/"), "default/old:80");
  assert.equal(route(t, "h.com", "/o"), "default/o:80");
  t.set(ing("old", [{ host: "other.com", http: { paths: [p("/", "old")] } }], {}, "2024-01-01T00:00:00Z"));
  assert.equal(route(t, "h.com", "/"), "default/new:80");
  assert.equal(route(t, "h.com", "/o"), "default/new:80");
  assert.equal(route(t, "other.com", "/"), "default/old:80");
  assert.deepEqual([...live.keys()].sort(), ["default/new:80", "default/old:80"]);
  t.delete("default/old");
  t.delete("default/new");
  assert.equal(live.size, 0);
  assert.equal(t.size, 0);
  assert.equal(route(t, "h.com", "/"), undefined);
});

test("backend by port name; a resource backend routes with no backend (503)", () => {
  const { t } = table();
  t.set(
    ing("a", [
      {
        host: "h.com",
        http: {
          paths: [
            p("/named", "svc", "Prefix", "http"),
            { path: "/res", pathType: "Prefix", backend: { resource: { kind: "Bucket", name: "b" } } },
          ],
        },
      },
    ]),
  );
  assert.equal(route(t, "h.com", "/named"), "default/svc:http");
  assert.equal(route(t, "h.com", "/res"), null);
});

test("TLS hosts pick the Secret by exact name then wildcard; hostless TLS covers the rule hosts", () => {
  const { t } = table();
  t.set(
    ing("a", [{ host: "a.com", http: { paths: [p("/", "a")] } }], {
      tls: [{ hosts: ["*.wild.com"], secretName: "wild-cert" }, { secretName: "a-cert" }],
    }),
  );
  t.set(ing("b", [], { tls: [{ hosts: ["x.wild.com"], secretName: "x-cert" }] }));
  assert.equal(t.tlsSecretFor("a.com"), "default/a-cert");
  assert.equal(t.tlsSecretFor("y.wild.com"), "default/wild-cert");
  assert.equal(t.tlsSecretFor("x.wild.com"), "default/x-cert");
  assert.equal(t.tlsSecretFor("deep.y.wild.com"), undefined);
  assert.equal(t.tlsSecretFor("unknown.com"), undefined);
  t.delete("default/b");
  assert.equal(t.tlsSecretFor("x.wild.com"), "default/wild-cert");
});

test("changing one Ingress among many leaves the others' hosts as they were", () => {
  const { t } = table();
  for (let i = 0; i < 2000; i++)
    t.set(ing(`i${i}`, [{ host: `h${i}.com`, http: { paths: [p("/", `s${i}`)] } }]));
  const before = t.lookup("h5.com", "/");
  t.set(ing("i7", [{ host: "h7.com", http: { paths: [p("/", "changed")] } }]));
  assert.equal(t.lookup("h5.com", "/"), before, "untouched host keeps its route objects");
  assert.equal(route(t, "h7.com", "/"), "default/changed:80");
  assert.equal(t.size, 2000);
});
