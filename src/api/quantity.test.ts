import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Quantity,
  QuantityParseError,
  type QuantityFormat,
  add,
  cmp,
  isQuantity,
  newMilliQuantity,
  newQuantity,
  newScaledQuantity,
  parseQuantity,
  sub,
} from "./quantity.ts";

/** `m × 10^e` in `format`, like upstream's test helper decQuantity. */
function dec(m: bigint | number, e: number, format: QuantityFormat): Quantity {
  return new Quantity(BigInt(m), e, format);
}

const MAX_INT64 = (1n << 63n) - 1n;

describe("parseQuantity values and formats (upstream TestQuantityParse)", () => {
  const table: [string, Quantity][] = [
    ["0", dec(0, 0, "DecimalSI")],
    ["0n", dec(0, 0, "DecimalSI")],
    ["0u", dec(0, 0, "DecimalSI")],
    ["0m", dec(0, 0, "DecimalSI")],
    ["0Ki", dec(0, 0, "BinarySI")],
    ["0k", dec(0, 0, "DecimalSI")],
    ["0Mi", dec(0, 0, "BinarySI")],
    ["0M", dec(0, 0, "DecimalSI")],
    ["0Gi", dec(0, 0, "BinarySI")],
    ["0G", dec(0, 0, "DecimalSI")],
    ["0Ti", dec(0, 0, "BinarySI")],
    ["0T", dec(0, 0, "DecimalSI")],
    ["1", dec(1, 0, "DecimalSI")],
    ["1Ki", dec(1024, 0, "BinarySI")],
    ["8Ki", dec(8 * 1024, 0, "BinarySI")],
    ["7Mi", dec(7 * 1024 * 1024, 0, "BinarySI")],
    ["6Gi", dec(6n * 1024n ** 3n, 0, "BinarySI")],
    ["5Ti", dec(5n * 1024n ** 4n, 0, "BinarySI")],
    ["4Pi", dec(4n * 1024n ** 5n, 0, "BinarySI")],
    ["3Ei", dec(3n * 1024n ** 6n, 0, "BinarySI")],
    ["10Ti", dec(10n * 1024n ** 4n, 0, "BinarySI")],
    ["100Ti", dec(100n * 1024n ** 4n, 0, "BinarySI")],
    ["5n", dec(5, -9, "DecimalSI")],
    ["4u", dec(4, -6, "DecimalSI")],
    ["3m", dec(3, -3, "DecimalSI")],
    ["9", dec(9, 0, "DecimalSI")],
    ["8k", dec(8, 3, "DecimalSI")],
    ["50k", dec(5, 4, "DecimalSI")],
    ["7M", dec(7, 6, "DecimalSI")],
    ["6G", dec(6, 9, "DecimalSI")],
    ["5T", dec(5, 12, "DecimalSI")],
    ["40T", dec(4, 13, "DecimalSI")],
    ["300T", dec(3, 14, "DecimalSI")],
    ["2P", dec(2, 15, "DecimalSI")],
    ["1E", dec(1, 18, "DecimalSI")],
    ["1E-3", dec(1, -3, "DecimalExponent")],
    ["1e3", dec(1, 3, "DecimalExponent")],
    ["1E6", dec(1, 6, "DecimalExponent")],
    ["1e9", dec(1, 9, "DecimalExponent")],
    ["1E12", dec(1, 12, "DecimalExponent")],
    ["1e15", dec(1, 15, "DecimalExponent")],
    ["1E18", dec(1, 18, "DecimalExponent")],
    ["1e14", dec(1, 14, "DecimalExponent")],
    ["1e13", dec(1, 13, "DecimalExponent")],
    ["100.035k", dec(100035, 0, "DecimalSI")],
    ["0.001", dec(1, -3, "DecimalSI")],
    ["0.0005k", dec(5, -1, "DecimalSI")],
    ["0.005", dec(5, -3, "DecimalSI")],
    ["0.05", dec(5, -2, "DecimalSI")],
    ["0.5", dec(5, -1, "DecimalSI")],
    ["0.00050k", dec(5, -1, "DecimalSI")],
    ["0.00500", dec(5, -3, "DecimalSI")],
    ["0.05000", dec(5, -2, "DecimalSI")],
    ["0.50000", dec(5, -1, "DecimalSI")],
    ["0.5e0", dec(5, -1, "DecimalExponent")],
    ["0.5e-1", dec(5, -2, "DecimalExponent")],
    ["0.5e-2", dec(5, -3, "DecimalExponent")],
    ["10.035M", dec(10035, 3, "DecimalSI")],
    ["1.2e3", dec(12, 2, "DecimalExponent")],
    ["1.3E+6", dec(13, 5, "DecimalExponent")],
    ["1.40e9", dec(14, 8, "DecimalExponent")],
    ["1.53E12", dec(153, 10, "DecimalExponent")],
    ["1.6e15", dec(16, 14, "DecimalExponent")],
    ["1.7E18", dec(17, 17, "DecimalExponent")],
    ["9.01", dec(901, -2, "DecimalSI")],
    ["8.1k", dec(81, 2, "DecimalSI")],
    ["7.123456M", dec(7123456, 0, "DecimalSI")],
    ["6.987654321G", dec(6987654321, 0, "DecimalSI")],
    ["5.444T", dec(5444, 9, "DecimalSI")],
    ["40.1T", dec(401, 11, "DecimalSI")],
    ["300.2T", dec(3002, 11, "DecimalSI")],
    ["2.5P", dec(25, 14, "DecimalSI")],
    ["1.01E", dec(101, 16, "DecimalSI")],
    // Things that saturate or round.
    ["3.001n", dec(4, -9, "DecimalSI")],
    ["1.1E-9", dec(2, -9, "DecimalExponent")],
    ["0.0000000001", dec(1, -9, "DecimalSI")],
    ["0.0000000005", dec(1, -9, "DecimalSI")],
    ["0.00000000050", dec(1, -9, "DecimalSI")],
    ["0.5e-9", dec(1, -9, "DecimalExponent")],
    ["0.9n", dec(1, -9, "DecimalSI")],
    ["0.00000012345", dec(124, -9, "DecimalSI")],
    ["0.00000012354", dec(124, -9, "DecimalSI")],
    ["9Ei", dec(MAX_INT64, 0, "BinarySI")],
    ["9223372036854775807Ki", dec(MAX_INT64, 0, "BinarySI")],
    ["12E", dec(12, 18, "DecimalSI")],
    // Fractional binary.
    ["100.035Ki", dec(10243584, -2, "BinarySI")],
    ["0.5Mi", dec(0.5 * 1024 * 1024, 0, "BinarySI")],
    ["0.05Gi", dec(536870912, -1, "BinarySI")],
    ["0.025Ti", dec(274877906944, -1, "BinarySI")],
    // Things written by trolls.
    ["0.000000000001Ki", dec(2, -9, "DecimalSI")],
    [".001", dec(1, -3, "DecimalSI")],
    [".0001k", dec(100, -3, "DecimalSI")],
    ["1.", dec(1, 0, "DecimalSI")],
    ["1.G", dec(1, 9, "DecimalSI")],
    // Not capped: decimal quantities keep their value past int64.
    ["18446744073709551616", dec(18446744073709551616n, 0, "DecimalSI")],
  ];

  for (const [input, want] of table) {
    it(`${input} and its signed forms`, () => {
      const got = parseQuantity(input);
      assert.equal(got.cmp(want), 0, `${input}: got ${got}, want ${want}`);
      assert.equal(got.format, want.format);
      const negated = parseQuantity(`-${input}`);
      assert.equal(negated.cmp(want.neg()), 0, `-${input}: got ${negated}`);
      assert.equal(negated.format, want.format);
      const plus = parseQuantity(`+${input}`);
      assert.equal(plus.cmp(want), 0, `+${input}: got ${plus}`);
      assert.equal(plus.format, want.format);
    });
  }
});

describe("parseQuantity errors", () => {
  const regexMessage =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  const suffixMessage = "unable to parse quantity's suffix";
  const table: [string, string][] = [
    ["", regexMessage],
    ["1.1.M", regexMessage],
    ["1+1.0M", regexMessage],
    ["0.1mi", suffixMessage],
    ["0.1am", regexMessage],
    ["aoeu", regexMessage],
    [".5i", suffixMessage],
    ["1i", suffixMessage],
    ["-3.01i", suffixMessage],
    ["-3.01e-", suffixMessage],
    ["1e", suffixMessage],
    ["1ee3", suffixMessage],
    ["1e99999999999999999999", suffixMessage],
    ["Non-Numeric", regexMessage],
    [" 1", regexMessage],
    ["1 ", regexMessage],
    [".e-10", "unable to parse numeric part of quantity"],
  ];
  for (const [input, message] of table) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseQuantity(input),
        (e: unknown) => e instanceof QuantityParseError && e.message === message && e.input === input,
      );
      assert.equal(isQuantity(input), false);
    });
  }

  it("names the failure with a code", () => {
    assert.throws(() => parseQuantity("1i"), { code: "Suffix", name: "QuantityParseError" });
    assert.throws(() => parseQuantity("x"), { code: "FormatWrong" });
  });

  it("rejects non-finite numbers", () => {
    assert.throws(() => parseQuantity(Number.NaN), QuantityParseError);
    assert.throws(() => parseQuantity(Infinity), QuantityParseError);
  });
});

describe("canonical strings (upstream TestQuantityString)", () => {
  // [value, canonical, an alternate spelling that must print canonically]
  const table: [Quantity, string, string][] = [
    [dec(1024 * 1024 * 1024, 0, "BinarySI"), "1Gi", "1024Mi"],
    [dec(300 * 1024 * 1024, 0, "BinarySI"), "300Mi", "307200Ki"],
    [dec(6 * 1024, 0, "BinarySI"), "6Ki", ""],
    [dec(1001n * 1024n ** 3n, 0, "BinarySI"), "1001Gi", "1025024Mi"],
    [dec(1024n ** 4n, 0, "BinarySI"), "1Ti", "1024Gi"],
    [dec(5, 0, "BinarySI"), "5", "5000m"],
    [dec(500, -3, "BinarySI"), "500m", "0.5"],
    [dec(1, 9, "DecimalSI"), "1G", "1000M"],
    [dec(1000, 6, "DecimalSI"), "1G", "0.001T"],
    [dec(1000000, 3, "DecimalSI"), "1G", ""],
    [dec(1000000000, 0, "DecimalSI"), "1G", ""],
    [dec(1, -3, "DecimalSI"), "1m", "1000u"],
    [dec(80, -3, "DecimalSI"), "80m", ""],
    [dec(1080, -3, "DecimalSI"), "1080m", "1.08"],
    [dec(108, -2, "DecimalSI"), "1080m", "1080000000n"],
    [dec(10800, -4, "DecimalSI"), "1080m", ""],
    [dec(300, 6, "DecimalSI"), "300M", ""],
    [dec(1, 12, "DecimalSI"), "1T", ""],
    [dec(1, 18, "DecimalSI"), "1E", ""],
    [dec(1, 21, "DecimalSI"), "1e21", "1000E"],
    [dec(5, 21, "DecimalSI"), "5e21", "5000E"],
    [dec(1, 24, "DecimalSI"), "1e24", "1000000E"],
    [dec(1234567, 6, "DecimalSI"), "1234567M", ""],
    [dec(1234567, -3, "BinarySI"), "1234567m", ""],
    [dec(3, 3, "DecimalSI"), "3k", ""],
    [dec(1025, 0, "BinarySI"), "1025", ""],
    [dec(0, 0, "DecimalSI"), "0", ""],
    [dec(0, 0, "BinarySI"), "0", ""],
    [dec(1, 9, "DecimalExponent"), "1e9", ".001e12"],
    [dec(1, -3, "DecimalExponent"), "1e-3", "0.001e0"],
    [dec(1, -9, "DecimalExponent"), "1e-9", "1000e-12"],
    [dec(80, -3, "DecimalExponent"), "80e-3", ""],
    [dec(300, 6, "DecimalExponent"), "300e6", ""],
    [dec(1, 12, "DecimalExponent"), "1e12", ""],
    [dec(1, 3, "DecimalExponent"), "1e3", ""],
    [dec(3, 3, "DecimalExponent"), "3e3", ""],
    [dec(0, 0, "DecimalExponent"), "0", "00"],
    [dec(1, -9, "DecimalSI"), "1n", ""],
    [dec(80, -9, "DecimalSI"), "80n", ""],
    [dec(1080, -9, "DecimalSI"), "1080n", ""],
    [dec(108, -8, "DecimalSI"), "1080n", ""],
    [dec(10800, -10, "DecimalSI"), "1080n", ""],
    [dec(1, -6, "DecimalSI"), "1u", ""],
    [dec(80, -6, "DecimalSI"), "80u", ""],
    [dec(1080, -6, "DecimalSI"), "1080u", ""],
  ];
  for (const [q, canonical, alternate] of table) {
    it(`${canonical}`, () => {
      assert.equal(q.toString(), canonical);
      assert.equal(parseQuantity(canonical).toString(), canonical);
      if (alternate) assert.equal(parseQuantity(alternate).toString(), canonical);
      if (!q.isZero()) assert.equal(q.neg().toString(), `-${canonical}`);
    });
  }
});

describe("parse then print (upstream TestQuantityParseEmit and the brief)", () => {
  const table: [string, string][] = [
    ["1Ki", "1Ki"],
    ["1Mi", "1Mi"],
    ["1Gi", "1Gi"],
    ["1024Mi", "1Gi"],
    ["1000M", "1G"],
    [".001Ki", "1024m"],
    [".000001Ki", "1024u"],
    [".000000001Ki", "1024n"],
    [".000000000001Ki", "2n"],
    ["500m", "500m"],
    ["0.5", "500m"],
    ["1000m", "1"],
    ["1e3", "1e3"],
    ["1e4", "10e3"],
    ["1.5Gi", "1536Mi"],
    ["1.5", "1500m"],
    ["100M", "100M"],
    ["2E", "2E"],
    ["12e6", "12e6"],
    [".5", "500m"],
    ["0.1Gi", "107374182400m"],
    ["1.2345", "1234500u"],
    ["8Ei", "9223372036854775807"],
    ["2048Ki", "2Mi"],
    ["1536", "1536"],
    ["1023.5Ki", "1048064"],
    ["0.5Ki", "512"],
    ["1.1Ki", "1126400m"],
  ];
  for (const [input, want] of table) {
    it(`${input} prints ${want}`, () => {
      assert.equal(parseQuantity(input).toString(), want);
      assert.equal(parseQuantity(`-${input}`).toString(), `-${want}`);
    });
  }

  it("keeps the input text where upstream reuses it as already canonical", () => {
    // Upstream's fast path hands back the original string, sign and all.
    for (const s of ["+1", "5.", "1E3", "+1Ki", "01", "1.G"]) assert.equal(parseQuantity(s).toString(), s);
    // Forms that do not pass upstream's canonical test are recomputed.
    assert.equal(parseQuantity("+1000").toString(), "1k");
    assert.equal(parseQuantity("+1Ei").toString(), "1Ei");
    assert.equal(parseQuantity("-0").toString(), "0");
    assert.equal(parseQuantity(".").toString(), "0");
  });

  it("takes numbers as their JSON text", () => {
    assert.equal(parseQuantity(1).toString(), "1");
    assert.equal(parseQuantity(-1).toString(), "-1");
    assert.equal(parseQuantity(0.25).toString(), "250m");
    assert.equal(parseQuantity(1e21).toString(), "1e+21");
    assert.equal(parseQuantity(1e21).cmp(parseQuantity("1000E")), 0);
  });

  it("serializes to JSON as the canonical string", () => {
    assert.equal(JSON.stringify({ cpu: parseQuantity("0.5") }), '{"cpu":"500m"}');
  });

  it("handles huge exponents without expanding them", () => {
    const huge = parseQuantity("1e2000000000");
    assert.equal(huge.toString(), "100e1999999998");
    assert.equal(parseQuantity("1e1800000000").toString(), "1e1800000000");
    assert.equal(huge.cmp(parseQuantity("999999999999E")), 1);
    assert.equal(parseQuantity("1e-2000000000").toString(), "1e-9");
  });
});

describe("cmp", () => {
  const table: [string, string, number][] = [
    ["0", "0", 0],
    ["100m", "50m", 1],
    ["50m", "100m", -1],
    ["10000T", "100Gi", 1],
    ["1Gi", "1024Mi", 0],
    ["1k", "1e3", 0],
    ["1000m", "1", 0],
    ["-1", "1m", -1],
    ["-2", "-1", -1],
    ["0.1", "99m", 1],
    ["18446744073709551616", "18446744073709551615", 1],
  ];
  for (const [x, y, want] of table) {
    it(`${x} vs ${y}`, () => {
      assert.equal(cmp(parseQuantity(x), parseQuantity(y)), want);
      assert.equal(cmp(parseQuantity(y), parseQuantity(x)), -want || 0);
      assert.equal(parseQuantity(x).equal(parseQuantity(y)), want === 0);
    });
  }

  it("compares across scales (upstream TestQuantityCmpInt64AndDec)", () => {
    const cases: [Quantity, Quantity, number][] = [
      [dec(901, -2, "DecimalSI"), dec(901, -2, "DecimalSI"), 0],
      [dec(90, -1, "DecimalSI"), dec(901, -2, "DecimalSI"), -1],
      [dec(0, 1, "DecimalSI"), dec(0, -1, "DecimalSI"), 0],
      [dec(800, -3, "DecimalSI"), dec(79, -2, "DecimalSI"), 1],
      [dec(MAX_INT64, -16, "DecimalSI"), dec(1, 3, "DecimalSI"), -1],
      [dec(-(1n << 63n), -18, "DecimalSI"), dec(-1, 0, "DecimalSI"), -1],
      [dec(-(1n << 63n), -19, "DecimalSI"), dec(-1, 0, "DecimalSI"), 1],
      [dec(10n ** 18n, -17, "DecimalSI"), dec(1, 1, "DecimalSI"), 0],
      [dec(10n ** 18n + 1n, -17, "DecimalSI"), dec(1, 1, "DecimalSI"), 1],
      [dec(10n ** 18n - 1n, -17, "DecimalSI"), dec(1, 1, "DecimalSI"), -1],
    ];
    for (const [a, b, want] of cases) {
      assert.equal(a.cmp(b), want, `${a} vs ${b}`);
      assert.equal(b.cmp(a), -want || 0, `${b} vs ${a}`);
    }
  });
});

describe("add and sub", () => {
  it("adds and subtracts exactly (upstream TestAdd/TestSub)", () => {
    const cases: [Quantity, Quantity, Quantity, Quantity][] = [
      // a, b, a+b, a-b
      [dec(10, 0, "DecimalSI"), dec(1, 1, "DecimalSI"), dec(20, 0, "DecimalSI"), dec(0, 0, "DecimalSI")],
      [dec(10, 0, "DecimalSI"), dec(1, 0, "BinarySI"), dec(11, 0, "DecimalSI"), dec(9, 0, "DecimalSI")],
      [dec(10, 0, "BinarySI"), dec(1, 0, "DecimalSI"), dec(11, 0, "BinarySI"), dec(9, 0, "BinarySI")],
      [dec(0, 0, "DecimalSI"), dec(50, 0, "DecimalSI"), dec(50, 0, "DecimalSI"), dec(-50, 0, "DecimalSI")],
      [dec(50, 0, "DecimalSI"), dec(0, 0, "DecimalSI"), dec(50, 0, "DecimalSI"), dec(50, 0, "DecimalSI")],
      [dec(0, 0, "DecimalSI"), dec(0, 0, "DecimalSI"), dec(0, 0, "DecimalSI"), dec(0, 0, "DecimalSI")],
    ];
    for (const [a, b, sum, diff] of cases) {
      const s = add(a, b);
      const d = sub(a, b);
      assert.equal(s.cmp(sum), 0, `${a} + ${b} = ${s}`);
      assert.equal(s.format, sum.format);
      assert.equal(d.cmp(diff), 0, `${a} - ${b} = ${d}`);
      assert.equal(d.format, diff.format);
    }
  });

  it("keeps the suffix when zero is on either side (upstream TestQuantityAddZeroPreservesSuffix)", () => {
    const zero = parseQuantity("0");
    for (const v of ["100m", "1Gi"]) {
      const q = parseQuantity(v);
      assert.equal(q.add(zero).toString(), v);
      assert.equal(zero.add(q).toString(), v);
      assert.equal(q.sub(zero).toString(), v);
      assert.equal(zero.sub(q).toString(), q.neg().toString());
    }
  });

  it("sums mixed requests like a scheduler would", () => {
    const total = ["100m", "0.25", "1", "1500m"].map((s) => parseQuantity(s)).reduce((a, b) => a.add(b));
    assert.equal(total.toString(), "2850m");
    assert.equal(total.milliValue(), 2850n);
    const mem = ["1Gi", "512Mi", "512Mi"].map((s) => parseQuantity(s)).reduce((a, b) => a.add(b));
    assert.equal(mem.toString(), "2Gi");
    assert.equal(mem.value(), 2n * 1024n ** 3n);
  });

  it("goes past int64 without wrapping (upstream TestNegAndSubAtMostNegative)", () => {
    const mostNegative = dec(-(1n << 63n), 0, "DecimalSI");
    assert.equal(mostNegative.neg().toString(), "9223372036854775808");
    assert.equal(dec(1, 0, "DecimalSI").sub(mostNegative).toString(), "9223372036854775809");
    assert.equal(
      dec(1, -3, "DecimalSI")
        .sub(dec(-(1n << 63n), -3, "DecimalSI"))
        .toString(),
      "9223372036854775809m",
    );
    assert.equal(
      dec(0, 0, "DecimalSI")
        .sub(dec(-(1n << 63n), 0, "BinarySI"))
        .toString(),
      "8Ei",
    );
    assert.equal(dec(1, 1, "DecimalSI").sub(mostNegative).toString(), "9223372036854775818");
  });

  it("negates (upstream TestQuantityNeg)", () => {
    assert.equal(dec(901, -2, "DecimalSI").neg().toString(), "-9010m");
    assert.equal(
      dec(10, 0, "BinarySI")
        .neg()
        .cmp(dec(-10, 0, "BinarySI")),
      0,
    );
    assert.equal(dec(0, 0, "DecimalSI").neg().toString(), "0");
  });
});

describe("value, milliValue, scaledValue", () => {
  it("rounds away from zero (upstream TestQuantityRoundUp)", () => {
    const cases: [string, number, bigint][] = [
      ["9.01", -3, 9010n],
      ["9.01", -2, 901n],
      ["9.01", -1, 91n],
      ["9.01", 0, 10n],
      ["9.01", 1, 1n],
      ["9.01", 2, 1n],
      ["-9.01", -3, -9010n],
      ["-9.01", -1, -91n],
      ["-9.01", 0, -10n],
      ["-9.01", 2, -1n],
      ["0", 0, 0n],
    ];
    for (const [s, scale, want] of cases)
      assert.equal(parseQuantity(s).scaledValue(scale), want, `${s} at ${scale}`);
  });

  it("scales between SI prefixes (upstream TestScaledValue)", () => {
    const cases: [number, number, bigint][] = [
      [-9, -9, 1n],
      [-9, -6, 1n],
      [-9, -3, 1n],
      [-9, 0, 1n],
      [-6, -9, 1000n],
      [-6, -3, 1n],
      [-3, -9, 1000000n],
      [-3, -6, 1000n],
      [0, -9, 1000000000n],
      [0, -3, 1000n],
      [0, 0, 1n],
      [2, -2, 10000n],
    ];
    for (const [from, to, want] of cases) assert.equal(newScaledQuantity(1, from).scaledValue(to), want);
  });

  it("gives millicores and bytes", () => {
    const cases: [string, bigint, bigint][] = [
      ["500m", 500n, 1n],
      ["1", 1000n, 1n],
      ["2.5", 2500n, 3n],
      ["1Gi", 1073741824000n, 1073741824n],
      ["100M", 100000000000n, 100000000n],
      ["1n", 1n, 1n],
      ["1.2345", 1235n, 2n],
      ["-1.5", -1500n, -2n],
      ["12e6", 12000000000n, 12000000n],
    ];
    for (const [s, milli, value] of cases) {
      const q = parseQuantity(s);
      assert.equal(q.milliValue(), milli, `${s} milli`);
      assert.equal(q.value(), value, `${s} value`);
    }
  });

  it("approximates as a float", () => {
    assert.equal(parseQuantity("1.5Gi").asApproximateFloat64(), 1.5 * 2 ** 30);
    assert.equal(parseQuantity("250m").asApproximateFloat64(), 0.25);
  });
});

describe("constructors", () => {
  it("newMilliQuantity (upstream TestMilliNewSet)", () => {
    const cases: [number, QuantityFormat, string][] = [
      [1, "DecimalSI", "1m"],
      [1000, "DecimalSI", "1"],
      [1234000, "DecimalSI", "1234"],
      [1024, "BinarySI", "1024m"],
      [1000000, "DecimalExponent", "1e3"],
      [1024 * 1024, "BinarySI", "1048576m"],
    ];
    for (const [v, f, want] of cases) {
      const q = newMilliQuantity(v, f);
      assert.equal(q.toString(), want);
      assert.equal(parseQuantity(want).milliValue(), BigInt(v));
    }
  });

  it("newQuantity (upstream TestNewSet)", () => {
    const cases: [number, QuantityFormat, string][] = [
      [1, "DecimalSI", "1"],
      [1000, "DecimalSI", "1k"],
      [1234000, "DecimalSI", "1234k"],
      [1024, "BinarySI", "1Ki"],
      [1000000, "DecimalExponent", "1e6"],
      [1024 * 1024, "BinarySI", "1Mi"],
    ];
    for (const [v, f, want] of cases) {
      assert.equal(newQuantity(v, f).toString(), want);
      assert.equal(parseQuantity(want).value(), BigInt(v));
    }
  });

  it("newScaledQuantity (upstream TestNewScaledSet)", () => {
    const cases: [number, number, string][] = [
      [1, -9, "1n"],
      [1000, -9, "1u"],
      [1, -6, "1u"],
      [1000, -6, "1m"],
      [1, -3, "1m"],
      [1000, -3, "1"],
      [1, 0, "1"],
      [0, -9, "0"],
      [0, 0, "0"],
    ];
    for (const [v, scale, want] of cases) {
      assert.equal(newScaledQuantity(v, scale).toString(), want);
      assert.equal(parseQuantity(want).scaledValue(scale), BigInt(v));
    }
  });

  it("rejects non-integer values", () => {
    assert.throws(() => newQuantity(1.5, "DecimalSI"), RangeError);
    assert.throws(() => newScaledQuantity(1, 0.5), RangeError);
  });
});

describe("caching", () => {
  it("returns the same immutable quantity for the same text", () => {
    assert.equal(parseQuantity("250m"), parseQuantity("250m"));
    const q = parseQuantity("1.5Gi");
    assert.equal(q.toString(), q.toString());
    assert.equal(q.milliValue(), q.milliValue());
  });

  it("recognises quantities", () => {
    assert.equal(isQuantity("1Gi"), true);
    assert.equal(isQuantity("1 Gi"), false);
  });
});
