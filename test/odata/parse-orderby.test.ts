import { describe, it, expect } from "vitest";
import fc from "fast-check";
import type { OrderByItem } from "../../src/query/filter-ast.js";
import { ODataSyntaxError } from "../../src/odata/syntax-error.js";
import { parseOrderBy } from "../../src/odata/parse-orderby.js";

/** Items as `[segments joined by '/', direction]`, ignoring positions. */
function parse(text: string): [string, OrderByItem["direction"]][] {
  return parseOrderBy(text).map((item) => [item.path.segments.join("/"), item.direction]);
}

function syntaxErrorOf(text: string): ODataSyntaxError {
  let items: OrderByItem[];
  try {
    items = parseOrderBy(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ODataSyntaxError);
    return err as ODataSyntaxError;
  }
  throw new Error(`expected a syntax error for ${JSON.stringify(text)}, got ${JSON.stringify(items)}`);
}

describe("parseOrderBy", () => {
  it("parses a single property, ascending by default", () => {
    expect(parseOrderBy("createdDateTime")).toEqual([{ path: { kind: "path", segments: ["createdDateTime"], position: 0 }, direction: "asc" }]);
  });

  it("parses explicit directions in any case", () => {
    expect(parse("createdDateTime desc")).toEqual([["createdDateTime", "desc"]]);
    expect(parse("createdDateTime asc")).toEqual([["createdDateTime", "asc"]]);
    expect(parse("createdDateTime DESC")).toEqual([["createdDateTime", "desc"]]);
    expect(parse("createdDateTime Asc")).toEqual([["createdDateTime", "asc"]]);
  });

  it("parses a comma-separated list, keeping its order", () => {
    expect(parse("severity desc,createdDateTime, id asc")).toEqual([
      ["severity", "desc"],
      ["createdDateTime", "asc"],
      ["id", "asc"],
    ]);
  });

  it("parses multi-segment paths, including type casts, keeping the case of names", () => {
    expect(parseOrderBy("alertPolicy/Detection/Source desc")[0]?.path.segments).toEqual(["alertPolicy", "Detection", "Source"]);
    expect(parseOrderBy("evidence/microsoft.graph.security.userEvidence/userAccount")[0]?.path.segments).toEqual([
      "evidence",
      "microsoft.graph.security.userEvidence",
      "userAccount",
    ]);
  });

  it("tolerates whitespace between tokens and records where each path starts", () => {
    const items = parseOrderBy("  severity\tdesc ,\t createdDateTime  ");
    expect(items.map((i) => [i.path.segments[0], i.path.position, i.direction])).toEqual([
      ["severity", 2, "desc"],
      ["createdDateTime", 19, "asc"],
    ]);
  });

  it.each([
    ["", 0, ["the $orderby expression is empty"]],
    ["  ", 0, ["empty"]],
    ["severity,", 9, ["expected a property path after ','"]],
    [",severity", 0, ["expected a property path", "found ','"]],
    ["severity,,id", 9, ["found ','"]],
    ["severity descending", 9, ["expected 'asc', 'desc', ',' or the end of the expression", "found 'descending'"]],
    ["severity desc asc", 14, ["expected ',' or the end of the expression", "found 'asc'"]],
    ["severity id", 9, ["found 'id'"]],
    ["severity/", 9, ["expected a property name after '/'"]],
    ["severity//id", 9, ["found '/'"]],
    ["/severity", 0, ["found '/'"]],
    ["tolower(title) asc", 0, ["functions such as 'tolower(' are not supported in $orderby"]],
    ["a/tolower(b)", 2, ["not supported in $orderby"]],
    ["'title'", 0, ["expected a property path", "found the string 'title'"]],
    ["1 desc", 0, ["found the number 1"]],
    ["title = asc", 6, ["'='"]],
    ["title 'x", 6, ["no closing quote"]],
  ] as const)("rejects %j at position %i", (text, position, fragments) => {
    const err = syntaxErrorOf(text);
    expect(err.position).toBe(position);
    expect(err.message).toContain(`Syntax error at position ${position} in '${text}': `);
    for (const fragment of fragments) expect(err.message).toContain(fragment);
  });

  it("returns items or throws ODataSyntaxError for arbitrary strings", () => {
    const fragments = fc.constantFrom("a", "b/c", "desc", "asc", ",", "/", "(", ")", "'", " ", "\t", "1", "x.y", "-");
    const text = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.array(fragments, { maxLength: 20 }).map((parts) => parts.join("")),
    );
    fc.assert(
      fc.property(text, (t) => {
        try {
          parseOrderBy(t);
        } catch (err) {
          expect(err).toBeInstanceOf(ODataSyntaxError);
          expect((err as ODataSyntaxError).position).toBeLessThanOrEqual(t.length);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("parses printed random orderings back to the same items", () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,7}$/).filter((n) => !["asc", "desc"].includes(n.toLowerCase()));
    const segments = fc.array(fc.oneof(name, fc.constant("microsoft.graph.security.userEvidence")), { maxLength: 3 });
    const item = fc.record({
      segments: fc.tuple(name, segments).map(([first, rest]) => [first, ...rest]),
      direction: fc.constantFrom("asc", "desc", undefined),
    });
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 5 }), fc.constantFrom(",", ", ", " ,\t"), (items, comma) => {
        const text = items.map((i) => i.segments.join("/") + (i.direction ? ` ${i.direction}` : "")).join(comma);
        expect(parse(text)).toEqual(items.map((i) => [i.segments.join("/"), i.direction ?? "asc"]));
      }),
    );
  });
});
