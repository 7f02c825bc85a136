import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { nestingDepth } from "../../src/http/json-body.js";

/** The depth of a parsed value, for comparison with the scan of its text. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === "object") return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

describe("nestingDepth", () => {
  it("counts objects and arrays, not brackets inside strings or escaped quotes", () => {
    expect(nestingDepth("1")).toBe(0);
    expect(nestingDepth('"[[{"')).toBe(0);
    expect(nestingDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(nestingDepth('["\\"[[[", "\\\\", [["]"]]]')).toBe(3);
    expect(nestingDepth('{"k\\\\":{"v":"\\\\\\"{"}}')).toBe(2);
  });

  it("stops as soon as the limit is passed", () => {
    expect(nestingDepth("[".repeat(1_000_000), 100)).toBe(101);
  });

  it("agrees with the parsed value's depth for any JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        expect(nestingDepth(JSON.stringify(value))).toBe(depthOf(value));
      }),
      { numRuns: 300 },
    );
  });
});
