import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { boolPtr, containerCells, DEFAULT_COLUMNS, defaultPrinter, listWithMore } from "./table.ts";

describe("shared cell formatters", () => {
  it("lays out container names and images in template order", () => {
    assert.deepEqual(
      containerCells([
        { name: "app", image: "nginx" },
        { name: "log", image: "busybox:1.36" },
      ]),
      ["app,log", "nginx,busybox:1.36"],
    );
    assert.deepEqual(containerCells(undefined), ["", ""]);
  });

  const bools: [boolean | undefined, string][] = [
    [true, "True"],
    [false, "False"],
    [undefined, "<unset>"],
  ];
  for (const [v, want] of bools) {
    it(`boolPtr(${v}) → ${want}`, () => assert.equal(boolPtr(v), want));
  }

  const lists: [string[], number, string][] = [
    [[], 0, "<unset>"],
    [["a", "b"], 2, "a,b"],
    [["a", "b", "c"], 3, "a,b,c"],
    [["a", "b", "c"], 5, "a,b,c + 2 more..."],
  ];
  for (const [list, count, want] of lists) {
    it(`listWithMore → ${want}`, () => assert.equal(listWithMore(list, count, 3), want));
  }
});

describe("default table", () => {
  it("has Name and Created At columns", () => {
    assert.deepEqual(
      DEFAULT_COLUMNS.map((c) => [c.name, c.type, c.format, c.priority]),
      [
        ["Name", "string", "name", 0],
        ["Created At", "date", "", 0],
      ],
    );
  });

  it("prints the name and the creation time in RFC 3339", () => {
    const obj = {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w", creationTimestamp: "2024-05-01T10:00:00Z" },
    };
    assert.deepEqual(defaultPrinter.cells(obj, Date.parse("2024-05-02T00:00:00Z")), [
      "w",
      "2024-05-01T10:00:00Z",
    ]);
  });
});
