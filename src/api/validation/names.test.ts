/** @module Tests for name and value syntax checks, including upstream's exact messages. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FieldPath, formatFieldError } from "../field-errors.ts";
import {
  isCIdentifier,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isFullyQualifiedDomainName,
  isRelaxedEnvVarName,
  isInRange,
  isQualifiedName,
  isValidCIDR,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  regexError,
  validateAnnotations,
  validateLabels,
  validatePathSegmentName,
} from "./names.ts";

const QNAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

test("regexError formats examples with upstream's spacing", () => {
  assert.equal(regexError("bad", "x+"), "bad (regex used for validation is 'x+')");
  assert.equal(
    regexError("bad", "x+", "a", "b"),
    "bad (e.g. 'a',  or 'b', regex used for validation is 'x+')",
  );
});

type Case = [input: string, expected: string[]];

const checks: Record<string, { fn: (s: string) => string[]; cases: Case[] }> = {
  isDNS1123Label: {
    fn: isDNS1123Label,
    cases: [
      ["a", []],
      ["my-name", []],
      ["123-abc", []],
      ["a".repeat(63), []],
      ["a".repeat(64), ["must be no more than 63 characters"]],
      ["My-Name", [LABEL_MSG]],
      ["-a", [LABEL_MSG]],
      ["a-", [LABEL_MSG]],
      ["", [LABEL_MSG]],
      ["a.b", ["must not contain dots"]],
      ["a_b", [LABEL_MSG]],
    ],
  },
  isDNS1123Subdomain: {
    fn: isDNS1123Subdomain,
    cases: [
      ["example.com", []],
      ["a", []],
      ["1.2.3", []],
      [`${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`, []],
      ["a".repeat(254), ["must be no more than 253 characters"]],
      ["A".repeat(254), ["must be no more than 253 characters", SUBDOMAIN_MSG]],
      ["Example.com", [SUBDOMAIN_MSG]],
      ["a..b", [SUBDOMAIN_MSG]],
      [".a", [SUBDOMAIN_MSG]],
      ["a.", [SUBDOMAIN_MSG]],
      ["", [SUBDOMAIN_MSG]],
    ],
  },
  isDNS1035Label: {
    fn: isDNS1035Label,
    cases: [
      ["my-name", []],
      ["abc-123", []],
      ["1abc", [DNS1035_MSG]],
      ["a.b", [DNS1035_MSG]],
      [`a${"b".repeat(63)}`, ["must be no more than 63 characters"]],
    ],
  },
  isQualifiedName: {
    fn: isQualifiedName,
    cases: [
      ["simple", []],
      ["MyName", []],
      ["my.name_x-y", []],
      ["example.com/MyName", []],
      ["k8s.io/a", []],
      ["a".repeat(63), []],
      ["a".repeat(64), ["name part must be no more than 63 characters"]],
      ["", ["name part must be non-empty", `name part ${QNAME_MSG}`]],
      ["/name", ["prefix part must be non-empty"]],
      ["example.com/", ["name part must be non-empty", `name part ${QNAME_MSG}`]],
      ["Example.com/name", [`prefix part ${SUBDOMAIN_MSG}`]],
      ["-name", [`name part ${QNAME_MSG}`]],
      ["na me", [`name part ${QNAME_MSG}`]],
      [
        "a/b/c",
        [
          `a qualified name ${QNAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
        ],
      ],
    ],
  },
  isValidLabelValue: {
    fn: isValidLabelValue,
    cases: [
      ["", []],
      ["MyValue", []],
      ["my_value", []],
      ["12345", []],
      ["-x", [LABEL_VALUE_MSG]],
      ["x y", [LABEL_VALUE_MSG]],
      ["a".repeat(64), ["must be no more than 63 characters"]],
    ],
  },
  isCIdentifier: {
    fn: isCIdentifier,
    cases: [
      ["my_name", []],
      ["_x1", []],
      [
        "1x",
        [
          "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')",
        ],
      ],
    ],
  },
  isEnvVarName: {
    fn: isEnvVarName,
    cases: [
      ["MY_ENV.NAME", []],
      ["my.env-name", []],
      [".x", []],
      [
        "1X",
        [
          "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
        ],
      ],
      [".", ["must not be '.'"]],
      ["..", ["must not be '..'"]],
      ["..x", ["must not start with '..'"]],
    ],
  },
  isRelaxedEnvVarName: {
    fn: isRelaxedEnvVarName,
    cases: [
      ["MY_ENV.NAME", []],
      ["1X", []],
      ["a b:c/d~", []],
      ["", ["environment variable name must be non-empty"]],
      [
        "a=b",
        ["a valid environment variable name must consist only of printable ASCII characters other than '='"],
      ],
      [
        "é",
        ["a valid environment variable name must consist only of printable ASCII characters other than '='"],
      ],
      [
        "a\nb",
        ["a valid environment variable name must consist only of printable ASCII characters other than '='"],
      ],
    ],
  },
  isConfigMapKey: {
    fn: isConfigMapKey,
    cases: [
      ["key.name", []],
      ["KEY_NAME", []],
      ["key-name", []],
      [
        "a/b",
        [
          "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        ],
      ],
      ["..", ["must not be '..'"]],
      ["..data", ["must not start with '..'"]],
      ["a".repeat(254), ["must be no more than 253 characters"]],
    ],
  },
  isValidPortName: {
    fn: isValidPortName,
    cases: [
      ["http", []],
      ["h2c-8080", []],
      ["a".repeat(16), ["must be no more than 15 characters"]],
      [
        "HTTP",
        [
          "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
          "must contain at least one letter (a-z)",
        ],
      ],
      ["8080", ["must contain at least one letter (a-z)"]],
      ["a--b", ["must not contain consecutive hyphens"]],
      ["-ab", ["must not begin or end with a hyphen"]],
      ["ab-", ["must not begin or end with a hyphen"]],
      [
        "",
        [
          "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
          "must contain at least one letter (a-z)",
        ],
      ],
    ],
  },
  isWildcardDNS1123Subdomain: {
    fn: isWildcardDNS1123Subdomain,
    cases: [
      ["*.example.com", []],
      ["*.a", []],
      [
        "*.*.example.com",
        [
          "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ],
      ],
    ],
  },
  isValidIP: {
    fn: isValidIP,
    cases: [
      ["10.9.8.7", []],
      ["010.009.008.007", []],
      ["2001:db8::ffff", []],
      ["::", []],
      ["::ffff:1.2.3.4", []],
      ["1.2.3.256", ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]],
      ["1.2.3", ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]],
      ["fe80::1%eth0", ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]],
      ["example.com", ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]],
      ["", ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]],
    ],
  },
  isValidCIDR: {
    fn: isValidCIDR,
    cases: [
      ["10.9.8.0/24", []],
      ["10.9.8.7/24", []],
      ["0.0.0.0/0", []],
      ["2001:db8::/64", []],
      ["::/128", []],
      ["10.0.0.0/33", ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]],
      ["2001:db8::/129", ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]],
      ["10.0.0.0", ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]],
      ["10.0.0.0/", ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]],
      ["10.0.0/8", ["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"]],
    ],
  },
};

for (const [name, { fn, cases }] of Object.entries(checks)) {
  test(`${name}: valid and invalid values with upstream's messages`, () => {
    for (const [input, expected] of cases)
      assert.deepEqual(fn(input), expected, `${name}(${JSON.stringify(input)})`);
  });
}

test("isValidPortNum and isInRange", () => {
  assert.deepEqual(isValidPortNum(1), []);
  assert.deepEqual(isValidPortNum(65535), []);
  assert.deepEqual(isValidPortNum(0), ["must be between 1 and 65535, inclusive"]);
  assert.deepEqual(isValidPortNum(65536), ["must be between 1 and 65535, inclusive"]);
  assert.deepEqual(isValidPortNum(80.5), ["must be between 1 and 65535, inclusive"]);
  assert.deepEqual(isInRange(5, 1, 10), []);
  assert.deepEqual(isInRange(11, 1, 10), ["must be between 1 and 10, inclusive"]);
  assert.deepEqual(isInRange(0, 1, 10), ["must be between 1 and 10, inclusive"]);
});

test("isFullyQualifiedDomainName", () => {
  const p = FieldPath.root("spec").child("host");
  assert.deepEqual(isFullyQualifiedDomainName(p, "example.com"), []);
  assert.deepEqual(isFullyQualifiedDomainName(p, "example.com."), []);
  assert.deepEqual(isFullyQualifiedDomainName(p, "").map(formatFieldError), ["spec.host: Required value"]);
  assert.deepEqual(isFullyQualifiedDomainName(p, "localhost").map(formatFieldError), [
    'spec.host: Invalid value: "localhost": should be a domain with at least two segments separated by dots',
  ]);
  assert.deepEqual(isFullyQualifiedDomainName(p, `${"a".repeat(64)}.com`).map(formatFieldError), [
    `spec.host: Invalid value: "${"a".repeat(64)}": must be no more than 63 characters`,
  ]);
  assert.equal(isFullyQualifiedDomainName(p, "Example.com")[0]?.detail, SUBDOMAIN_MSG);
});

test("validatePathSegmentName", () => {
  const table: [string, boolean, string[]][] = [
    ["ok", false, []],
    ["with:colon", false, []],
    [".", false, ["may not be '.'"]],
    ["..", false, ["may not be '..'"]],
    ["a/b", false, ["may not contain '/'"]],
    ["a%b/c", false, ["may not contain '/'", "may not contain '%'"]],
    [".", true, []],
    ["..", true, []],
    ["a/", true, ["may not contain '/'"]],
    ["a%", true, ["may not contain '%'"]],
  ];
  for (const [name, prefix, expected] of table) {
    assert.deepEqual(validatePathSegmentName(name, prefix), expected, `${name} prefix=${prefix}`);
  }
});

test("name functions mask a generateName's trailing dash", () => {
  assert.deepEqual(nameIsDNSSubdomain("web-", true), []);
  assert.deepEqual(nameIsDNSSubdomain("web-", false), [SUBDOMAIN_MSG]);
  assert.deepEqual(nameIsDNSSubdomain("Web-", true), [SUBDOMAIN_MSG]);
  assert.deepEqual(nameIsDNSLabel("web-", true), []);
  assert.deepEqual(nameIsDNSLabel("a.b-", true), ["must not contain dots"]);
  assert.deepEqual(nameIsDNS1035Label("svc-", true), []);
  assert.deepEqual(nameIsDNS1035Label("1svc-", true), [DNS1035_MSG]);
  // Upstream replaces the last two characters: "x-" masks to "a".
  assert.deepEqual(nameIsDNSLabel("x-", true), []);
  assert.deepEqual(nameIsDNSLabel("-", true), [LABEL_MSG]);
  assert.deepEqual(nameIsDNSSubdomain("ok", true), []);
});

test("validateLabels reports keys and values at the map's path", () => {
  const p = FieldPath.root("metadata").child("labels");
  assert.deepEqual(validateLabels(undefined, p), []);
  assert.deepEqual(validateLabels({ app: "web", "example.com/tier": "" }, p), []);
  assert.deepEqual(validateLabels({ "bad key": "bad value" }, p).map(formatFieldError), [
    `metadata.labels: Invalid value: "bad key": name part ${QNAME_MSG}`,
    `metadata.labels: Invalid value: "bad value": ${LABEL_VALUE_MSG}`,
  ]);
  assert.deepEqual(validateLabels({ app: "v".repeat(64) }, p).map(formatFieldError), [
    `metadata.labels: Invalid value: "${"v".repeat(64)}": must be no more than 63 characters`,
  ]);
});

test("validateAnnotations checks keys case-insensitively and the total size", () => {
  const p = FieldPath.root("metadata").child("annotations");
  assert.deepEqual(validateAnnotations({ "Example.COM/Some-Key": "any value at all: {}" }, p), []);
  assert.deepEqual(validateAnnotations({ "a b": "x" }, p).map(formatFieldError), [
    `metadata.annotations: Invalid value: "a b": name part ${QNAME_MSG}`,
  ]);
  const justFits = { k: "x".repeat(262144 - 1) };
  assert.deepEqual(validateAnnotations(justFits, p), []);
  const tooBig = { k: "x".repeat(262144) };
  const errs = validateAnnotations(tooBig, p);
  assert.equal(errs.length, 1);
  assert.equal(errs[0]?.type, "FieldValueTooLong");
  assert.equal(errs[0]?.field, "metadata.annotations");
  assert.match(formatFieldError(errs[0]!), /^metadata\.annotations: Too long: .*262144 bytes$/);
  // Size counts UTF-8 bytes, as Go's len does.
  const multibyte = { k: "é".repeat(131072) };
  assert.equal(validateAnnotations(multibyte, p).length, 1);
});
