import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkDocument, findJsonProblem, jsonPath, mayHoldUnstorable } from "../../src/schema/json-limits.js";

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

describe("findJsonProblem", () => {
  it("counts the value itself as level 1 and names the first container too deep", () => {
    expect(findJsonProblem(nested(3), "doc", 3)).toBeNull();
    expect(findJsonProblem(nested(4), "doc", 3)).toEqual({ kind: "depth", path: "doc.a.a.a" });
    expect(findJsonProblem([[[[]]]], "", 3)).toEqual({ kind: "depth", path: "[0][0][0]" });
  });

  it("walks 100,000 levels without overflowing the stack", () => {
    const deep = JSON.parse("[".repeat(100_000) + "]".repeat(100_000)) as unknown;
    expect(findJsonProblem(deep, "body", 64)?.kind).toBe("depth");
  });

  it("finds NUL in values and keys, and names where", () => {
    expect(findJsonProblem({ value: [{ title: "a\u0000" }] }, "", 10)).toEqual({ kind: "nul", path: "value[0].title" });
    expect(findJsonProblem({ d: { "k\u0000": 1 } }, "x", 10)).toEqual({ kind: "nul", path: 'x.d["k\\u0000"]' });
    expect(findJsonProblem("\u0000", "comment", 10)).toEqual({ kind: "nul", path: "comment" });
    expect(findJsonProblem({ ok: ["a", 1, null, true, { b: "c" }] }, "", 10)).toBeNull();
  });

  it("finds unpaired surrogates but not pairs", () => {
    expect(findJsonProblem({ a: "x\ud800" }, "", 10)).toEqual({ kind: "nul", path: "a" });
    expect(findJsonProblem({ a: "\udc00x" }, "", 10)).toEqual({ kind: "nul", path: "a" });
    expect(findJsonProblem({ a: "\ud83d\ude00 ok" }, "", 10)).toBeNull();
  });

  it("writes paths as JavaScript would read them", () => {
    expect(jsonPath("", "value")).toBe("value");
    expect(jsonPath("value", 3)).toBe("value[3]");
    expect(jsonPath("e", "@odata.type")).toBe('e["@odata.type"]');
  });
});

describe("mayHoldUnstorable", () => {
  it("flags every JSON text whose parsed value holds a NUL or an unpaired surrogate (so the walk can be skipped when it does not)", () => {
    const odd = fc.constantFrom("\u0000", "\ud800", "\udfff", "\udbff", "\ud83d\ude00", "\\u0000", "é", "\u0001");
    const text = fc.array(fc.oneof(fc.string(), odd), { maxLength: 6 }).map((parts) => parts.join(""));
    const doc = fc.dictionary(text, fc.oneof(text, fc.array(text, { maxLength: 3 }), fc.integer()), { maxKeys: 4 });
    fc.assert(
      fc.property(doc, (value) => {
        const json = JSON.stringify(value);
        if (findJsonProblem(JSON.parse(json), "", 10) !== null) expect(mayHoldUnstorable(json)).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(mayHoldUnstorable(JSON.stringify({ title: "plain", n: 1 }))).toBe(false);
    expect(mayHoldUnstorable(JSON.stringify({ title: "emoji \ud83d\ude00 pair" }))).toBe(false);
    expect(mayHoldUnstorable('{"a":"\\u0000"}')).toBe(true);
  });
});

describe("checkDocument", () => {
  it("bounds depth and size and says which", () => {
    expect(checkDocument(nested(32), "value[0].customDetails")).toBeNull();
    expect(checkDocument(nested(33), "value[0].customDetails")).toMatch(/^value\[0\]\.customDetails is nested more than 32 levels/);
    expect(checkDocument({ s: "x".repeat(70_000) }, "value[0].additionalData")).toMatch(/^value\[0\]\.additionalData is 70008 bytes/);
    expect(checkDocument({ s: "é".repeat(40_000) }, "d")).toMatch(/80008 bytes/);
  });
});
