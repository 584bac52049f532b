import assert from "node:assert/strict";
import { test } from "node:test";
import { parseResolvConf, withoutSelf } from "./resolv-conf.ts";

test("parseResolvConf: nameserver lines in order, comments and junk ignored", () => {
  const text = [
    "# generated",
    "search corp.example",
    "nameserver 10.0.0.2",
    "nameserver   fe80::1%eth0  ",
    "; nameserver 10.0.0.9",
    "nameserver not-an-ip",
    "nameserver 10.0.0.3 # secondary",
    "options ndots:2",
  ].join("\n");
  assert.deepEqual(parseResolvConf(text), [
    { address: "10.0.0.2", port: 53 },
    { address: "fe80::1", port: 53 },
    { address: "10.0.0.3", port: 53 },
  ]);
});

test("withoutSelf drops our own listen addresses and, for a wildcard listen, local ones", () => {
  const ups = [
    { address: "10.244.0.1", port: 53 },
    { address: "127.0.0.53", port: 53 },
    { address: "10.0.0.2", port: 53 },
  ];
  assert.deepEqual(withoutSelf(ups, [{ address: "10.244.0.1", port: 53 }]), [
    { address: "127.0.0.53", port: 53 },
    { address: "10.0.0.2", port: 53 },
  ]);
  // Another port does not loop.
  assert.equal(withoutSelf(ups, [{ address: "10.244.0.1", port: 5353 }]).length, 3);
  // A wildcard listen on 53 would receive whatever is sent to a loopback resolver.
  const wild = withoutSelf(
    [
      { address: "127.0.0.53", port: 53 },
      { address: "192.0.2.55", port: 53 },
    ],
    [{ address: "0.0.0.0", port: 53 }],
  );
  assert.deepEqual(wild, [{ address: "192.0.2.55", port: 53 }]);
});
