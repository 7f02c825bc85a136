import { describe, it, expect } from "vitest";
import fc from "fast-check";
import type { CallExpr, CompareOp, FilterExpr, Literal, Operand, PathExpr } from "../../src/query/filter-ast.js";
import { ODataSyntaxError } from "../../src/odata/syntax-error.js";
import { MAX_FILTER_DEPTH, parseFilter } from "../../src/odata/parse-filter.js";

// ── helpers ─────────────────────────────────────────────────────────────────────────────────────

/** The tree without `position` fields, so expectations can be written by structure alone. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== "position")
        .map(([key, v]) => [key, strip(v)]),
    );
  }
  return value;
}

function parse(text: string): unknown {
  return strip(parseFilter(text));
}

const path = (...segments: string[]): PathExpr => ({ kind: "path", segments, position: 0 });
const lit = (literal: Literal): Operand => ({ kind: "literal", literal });
const str = (value: string): Operand => lit({ kind: "string", value });
const num = (value: number, raw = String(value)): Operand => lit({ kind: "number", value, raw });
const bool = (value: boolean): Operand => lit({ kind: "boolean", value });
const call = (name: CallExpr["name"], ...args: Operand[]): CallExpr => ({ kind: "call", name, args, position: 0 });
const cmp = (op: CompareOp, left: Operand, right: Operand): FilterExpr => ({ kind: "compare", op, left, right, position: 0 });
const eq = (left: Operand, right: Operand) => cmp("eq", left, right);
const and = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: "and", left, right });
const or = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: "or", left, right });
const not = (operand: FilterExpr): FilterExpr => ({ kind: "not", operand });
const any = (collection: PathExpr, variable: string | null, predicate: FilterExpr | null): FilterExpr => ({
  kind: "lambda",
  op: "any",
  collection,
  variable,
  predicate,
  position: 0,
});
const all = (collection: PathExpr, variable: string, predicate: FilterExpr): FilterExpr => ({
  kind: "lambda",
  op: "all",
  collection,
  variable,
  predicate,
  position: 0,
});

/** What a parse of `text` threw; fails the test if it returned a tree or threw something else. */
function syntaxErrorOf(text: string): ODataSyntaxError {
  let tree: FilterExpr;
  try {
    tree = parseFilter(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ODataSyntaxError);
    return err as ODataSyntaxError;
  }
  throw new Error(`expected a syntax error for ${JSON.stringify(text)}, got ${JSON.stringify(tree)}`);
}

/** The literal on the right of `x eq <literal>`. */
function literalOf(literalText: string): Literal {
  const tree = parseFilter(`x eq ${literalText}`);
  if (tree.kind !== "compare" || tree.right.kind !== "literal") throw new Error(`not a literal comparison: ${literalText}`);
  return tree.right.literal;
}

// ── grammar ─────────────────────────────────────────────────────────────────────────────────────

describe("parseFilter: comparisons", () => {
  it.each(["eq", "ne", "gt", "ge", "lt", "le"] as const)("parses the %s operator", (op) => {
    expect(parse(`severity ${op} 'high'`)).toEqual(strip(cmp(op, path("severity"), str("high"))));
  });

  it("accepts literals, paths and calls on either side", () => {
    expect(parse("'high' eq severity")).toEqual(strip(eq(str("high"), path("severity"))));
    expect(parse("lastUpdateDateTime gt createdDateTime")).toEqual(strip(cmp("gt", path("lastUpdateDateTime"), path("createdDateTime"))));
    expect(parse("tolower(displayName) eq toupper(title)")).toEqual(strip(eq(call("tolower", path("displayName")), call("toupper", path("title")))));
  });

  it("parses multi-segment paths and keeps the case of property names", () => {
    expect(parse("alertPolicy/Detection/Source eq 'x'")).toEqual(strip(eq(path("alertPolicy", "Detection", "Source"), str("x"))));
  });

  it("records the operator's position on the comparison and each path's start", () => {
    const tree = parseFilter("status  eq 'active'");
    expect(tree).toMatchObject({ kind: "compare", position: 8, left: { kind: "path", position: 0 } });
  });

  it("parses a bare boolean path as a boolpath", () => {
    expect(parse("isActive")).toEqual({ kind: "boolpath", path: { kind: "path", segments: ["isActive"] } });
    expect(parse("isActive and a eq 1")).toEqual(strip(and({ kind: "boolpath", path: path("isActive") }, eq(path("a"), num(1)))));
  });
});

describe("parseFilter: in", () => {
  it("parses a list of literal values", () => {
    expect(parse("status in ('active','resolved')")).toEqual({
      kind: "in",
      left: { kind: "path", segments: ["status"] },
      values: [
        { kind: "string", value: "active" },
        { kind: "string", value: "resolved" },
      ],
    });
  });

  it("accepts a single value, mixed literal kinds, and whitespace inside the list", () => {
    const tree = parseFilter("x in ( 1 , null,true , microsoft.graph.security.alertSeverity'high' )");
    expect(tree).toMatchObject({
      kind: "in",
      position: 2,
      values: [
        { kind: "number", value: 1 },
        { kind: "null" },
        { kind: "boolean", value: true },
        { kind: "enum", type: "microsoft.graph.security.alertSeverity", value: "high" },
      ],
    });
    expect(parse("x in ('a')")).toMatchObject({ values: [{ kind: "string", value: "a" }] });
  });

  it("accepts a function call on the left", () => {
    expect(parse("tolower(status) in ('active')")).toMatchObject({
      kind: "in",
      left: { kind: "call", name: "tolower" },
    });
  });
});

describe("parseFilter: logical operators and precedence", () => {
  const a = eq(path("a"), num(1));
  const b = eq(path("b"), num(2));
  const c = eq(path("c"), num(3));

  it("binds 'and' tighter than 'or'", () => {
    expect(parse("a eq 1 or b eq 2 and c eq 3")).toEqual(strip(or(a, and(b, c))));
    expect(parse("a eq 1 and b eq 2 or c eq 3")).toEqual(strip(or(and(a, b), c)));
  });

  it("associates 'and' and 'or' to the left", () => {
    expect(parse("a eq 1 and b eq 2 and c eq 3")).toEqual(strip(and(and(a, b), c)));
    expect(parse("a eq 1 or b eq 2 or c eq 3")).toEqual(strip(or(or(a, b), c)));
  });

  it("lets parentheses override precedence, and adds no node for them", () => {
    expect(parse("(a eq 1 or b eq 2) and c eq 3")).toEqual(strip(and(or(a, b), c)));
    expect(parse("((((a eq 1))))")).toEqual(strip(a));
  });

  it("parses 'not' both with and without parentheses", () => {
    expect(parse("not(a eq 1)")).toEqual(strip(not(a)));
    expect(parse("not (a eq 1)")).toEqual(strip(not(a)));
    expect(parse("not a eq 1")).toEqual(strip(not(a)));
    expect(parse("not not a eq 1")).toEqual(strip(not(not(a))));
  });

  it("binds 'not' to one condition, tighter than 'and' and 'or'", () => {
    expect(parse("not a eq 1 and b eq 2")).toEqual(strip(and(not(a), b)));
    expect(parse("not a eq 1 or b eq 2")).toEqual(strip(or(not(a), b)));
    expect(parse("a eq 1 and not b eq 2")).toEqual(strip(and(a, not(b))));
    expect(parse("not (a eq 1 or b eq 2)")).toEqual(strip(not(or(a, b))));
  });

  it("applies 'not' to predicates, lambdas and boolean paths", () => {
    expect(parse("not contains(title,'x')")).toEqual(strip(not({ kind: "predicate", call: call("contains", path("title"), str("x")) })));
    expect(parse("not tags/any()")).toEqual(strip(not(any(path("tags"), null, null))));
    expect(parse("not isActive")).toEqual(strip(not({ kind: "boolpath", path: path("isActive") })));
  });

  it("accepts keywords, operators and function names in any case, keeping property names as written", () => {
    expect(parse("Status EQ 'a' AND NOT(Sev Ne 'b') Or X IN (TRUE, Null)")).toEqual(
      strip(
        or(and(eq(path("Status"), str("a")), not(cmp("ne", path("Sev"), str("b")))), {
          kind: "in",
          left: path("X"),
          values: [{ kind: "boolean", value: true }, { kind: "null" }],
          position: 0,
        }),
      ),
    );
    expect(parse("StartsWith(title,'x') and Tags/ANY(t: ToLower(t) eq 'y')")).toEqual(
      strip(and({ kind: "predicate", call: call("startswith", path("title"), str("x")) }, any(path("Tags"), "t", eq(call("tolower", path("t")), str("y"))))),
    );
  });

  it("tolerates any amount of whitespace, including tabs, between tokens", () => {
    const expected = strip(and(a, any(path("tags"), "t", eq(path("t"), str("x")))));
    expect(parse("a eq 1 and tags/any(t: t eq 'x')")).toEqual(expected);
    expect(parse("  a\teq   1\t\tand  tags/any( t : t eq 'x' )  ")).toEqual(expected);
    expect(parse("(a eq 1)and(tags/any(t:t eq 'x'))")).toEqual(expected);
  });
});

describe("parseFilter: functions", () => {
  it.each(["startswith", "endswith", "contains"] as const)("parses %s as a predicate", (name) => {
    expect(parse(`${name}(displayName,'phish')`)).toEqual({
      kind: "predicate",
      call: strip(call(name, path("displayName"), str("phish"))),
    });
  });

  it("parses a predicate function compared with a boolean as a comparison", () => {
    expect(parse("startswith(title,'a') eq true")).toEqual(strip(eq(call("startswith", path("title"), str("a")), bool(true))));
    expect(parse("contains(title,'a') eq false")).toEqual(strip(eq(call("contains", path("title"), str("a")), bool(false))));
  });

  it("nests tolower and toupper inside other calls", () => {
    expect(parse("contains(tolower(title), toupper('x'))")).toEqual({
      kind: "predicate",
      call: strip(call("contains", call("tolower", path("title")), call("toupper", str("x")))),
    });
  });

  it("records the position of the function name", () => {
    expect(parseFilter("a eq 1 and  startswith(t,'x')")).toMatchObject({
      right: { kind: "predicate", call: { position: 12, args: [{ kind: "path", position: 23 }, { kind: "literal" }] } },
    });
  });
});

describe("parseFilter: lambdas", () => {
  it("parses any and all with a range variable", () => {
    expect(parse("customTags/any(t: t eq 'x')")).toEqual(strip(any(path("customTags"), "t", eq(path("t"), str("x")))));
    expect(parse("evidence/all(e: e/verdict eq 'malicious')")).toEqual(strip(all(path("evidence"), "e", eq(path("e", "verdict"), str("malicious")))));
  });

  it("parses any() with no arguments", () => {
    expect(parse("customTags/any()")).toEqual(strip(any(path("customTags"), null, null)));
    expect(parse("customTags/any( )")).toEqual(strip(any(path("customTags"), null, null)));
  });

  it("keeps type-cast segments as written, in the collection and in the body", () => {
    expect(parse("evidence/any(e: e/microsoft.graph.security.userEvidence/userAccount/userPrincipalName eq 'a@b.com')")).toEqual(
      strip(any(path("evidence"), "e", eq(path("e", "microsoft.graph.security.userEvidence", "userAccount", "userPrincipalName"), str("a@b.com")))),
    );
    expect(parse("alerts/microsoft.graph.security.alert/any()")).toEqual(strip(any(path("alerts", "microsoft.graph.security.alert"), null, null)));
  });

  it("parses nested lambdas and compound bodies", () => {
    expect(parse("alerts/any(a: a/evidence/any(e: e/verdict eq 'malicious' or e/remediationStatus eq 'none') and a/severity eq 'high')")).toEqual(
      strip(
        any(
          path("alerts"),
          "a",
          and(
            any(path("a", "evidence"), "e", or(eq(path("e", "verdict"), str("malicious")), eq(path("e", "remediationStatus"), str("none")))),
            eq(path("a", "severity"), str("high")),
          ),
        ),
      ),
    );
  });

  it("allows 'in', functions and 'not' inside the body", () => {
    expect(parse("tags/all(t: not (t in ('a','b')) and startswith(t,'x'))")).toMatchObject({
      kind: "lambda",
      op: "all",
      predicate: { kind: "and", left: { kind: "not", operand: { kind: "in" } }, right: { kind: "predicate" } },
    });
  });

  it("records the position of the any/all keyword and of the collection path", () => {
    expect(parseFilter("x eq 1 or tags/any()")).toMatchObject({
      right: { kind: "lambda", position: 15, collection: { position: 10 } },
    });
  });
});

describe("parseFilter: literals", () => {
  it("parses strings, unescaping doubled quotes", () => {
    expect(literalOf("'active'")).toEqual({ kind: "string", value: "active" });
    expect(literalOf("''")).toEqual({ kind: "string", value: "" });
    expect(literalOf("'O''Brien'")).toEqual({ kind: "string", value: "O'Brien" });
    expect(literalOf("''''")).toEqual({ kind: "string", value: "'" });
    expect(literalOf("'it''s ''quoted'''")).toEqual({ kind: "string", value: "it's 'quoted'" });
  });

  it("keeps everything inside a string as text: keywords, parentheses, spaces, non-ASCII", () => {
    expect(literalOf("' and or not ( ) , / : eq '")).toEqual({ kind: "string", value: " and or not ( ) , / : eq " });
    expect(literalOf("'Überweisung 🚨'")).toEqual({ kind: "string", value: "Überweisung 🚨" });
  });

  it.each([
    ["0", 0],
    ["42", 42],
    ["-7", -7],
    ["3.25", 3.25],
    ["-0.5", -0.5],
    ["1e3", 1000],
    ["1.5E-2", 0.015],
    ["-2e+2", -200],
  ])("parses the number %s, keeping the raw text", (raw, value) => {
    expect(literalOf(raw)).toEqual({ kind: "number", value, raw });
  });

  it("keeps the raw text of integers too large for a double to hold exactly", () => {
    expect(literalOf("9007199254740993")).toEqual({ kind: "number", value: 9007199254740992, raw: "9007199254740993" });
  });

  it("parses true, false and null in any case", () => {
    expect(literalOf("true")).toEqual({ kind: "boolean", value: true });
    expect(literalOf("FALSE")).toEqual({ kind: "boolean", value: false });
    expect(literalOf("Null")).toEqual({ kind: "null" });
  });

  it.each([
    ["2025-02-07T18:28:27Z", "2025-02-07T18:28:27.000Z"],
    ["2025-02-07T18:28:27.5Z", "2025-02-07T18:28:27.500Z"],
    ["2025-02-07T18:28:27.1234567Z", "2025-02-07T18:28:27.123Z"],
    ["2025-02-07T18:28:27.9999999Z", "2025-02-07T18:28:27.999Z"],
    ["2025-02-07T18:28:27+01:00", "2025-02-07T17:28:27.000Z"],
    ["2025-02-07T18:28:27.123-05:30", "2025-02-07T23:58:27.123Z"],
    ["2025-02-07T23:30:00-02:00", "2025-02-08T01:30:00.000Z"],
    ["2025-01-01T00:30:00+01:00", "2024-12-31T23:30:00.000Z"],
    ["2025-02-07T18:28Z", "2025-02-07T18:28:00.000Z"],
    ["2025-02-07t18:28:27z", "2025-02-07T18:28:27.000Z"],
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
    ["0050-06-15T12:00:00Z", "0050-06-15T12:00:00.000Z"],
  ])("parses the date-time %s and normalizes it to %s", (raw, value) => {
    expect(literalOf(raw)).toEqual({ kind: "datetime", value, raw });
  });

  it("parses a bare date as midnight UTC", () => {
    expect(literalOf("2025-02-07")).toEqual({ kind: "datetime", value: "2025-02-07T00:00:00.000Z", raw: "2025-02-07" });
  });

  it("parses unquoted GUIDs, lower-casing them, whether they start with a digit or a letter", () => {
    expect(literalOf("0f8fad5b-d9cb-469f-a165-70867728950e")).toEqual({ kind: "guid", value: "0f8fad5b-d9cb-469f-a165-70867728950e" });
    expect(literalOf("DEADBEEF-D9CB-469F-A165-70867728950E")).toEqual({ kind: "guid", value: "deadbeef-d9cb-469f-a165-70867728950e" });
    expect(literalOf("20250207-1828-2718-2828-000000000000")).toEqual({ kind: "guid", value: "20250207-1828-2718-2828-000000000000" });
  });

  it("tells GUIDs, date-times, numbers and names apart", () => {
    expect(literalOf("2025-02-07").kind).toBe("datetime");
    expect(literalOf("2025").kind).toBe("number");
    expect(literalOf("12345678-1234-1234-1234-123456789012").kind).toBe("guid");
    expect(parse("x eq deadbeef")).toEqual(strip(eq(path("x"), path("deadbeef"))));
  });

  it("parses qualified enum literals", () => {
    expect(literalOf("microsoft.graph.security.incidentStatus'active'")).toEqual({
      kind: "enum",
      type: "microsoft.graph.security.incidentStatus",
      value: "active",
    });
  });
});

describe("parseFilter: realistic Graph filters", () => {
  it.each([
    "status eq 'active' and severity in ('high','medium')",
    "createdDateTime ge 2025-01-01T00:00:00Z and createdDateTime lt 2025-02-01T00:00:00.0000000Z",
    "assignedTo eq null or assignedTo eq 'secops@contoso.com'",
    "classification eq microsoft.graph.security.alertClassification'truePositive'",
    "tenantId eq 0f8fad5b-d9cb-469f-a165-70867728950e",
    "alerts/any(a: a/evidence/any(e: e/microsoft.graph.security.deviceEvidence/deviceDnsName eq 'pc1'))",
    "not(customTags/any()) and contains(tolower(displayName), 'ransom')",
  ])("parses %s", (text) => {
    expect(() => parseFilter(text)).not.toThrow();
  });
});

// ── errors ──────────────────────────────────────────────────────────────────────────────────────

describe("parseFilter: errors", () => {
  it("formats messages as 'Syntax error at position N in <text>: <problem>.'", () => {
    const err = syntaxErrorOf("status eq 'active' and");
    expect(err.name).toBe("ODataSyntaxError");
    expect(err.position).toBe(22);
    expect(err.message).toBe("Syntax error at position 22 in 'status eq 'active' and': expected an expression after 'and'.");
  });

  it.each([
    // [filter, position, fragments the message must contain]
    ["", 0, ["empty"]],
    ["   \t ", 0, ["empty"]],
    ["x eq 'abc", 5, ["'abc", "no closing quote"]],
    ["x eq 'it''s", 5, ["no closing quote"]],
    ["status eq", 9, ["expected a value after 'eq'"]],
    ["status EQ", 9, ["after 'EQ'"]],
    ["a eq 1 or", 9, ["expected an expression after 'or'"]],
    ["not", 3, ["expected an expression after 'not'"]],
    ["a eq 1 and or b eq 2", 11, ["after 'and'", "found 'or'"]],
    ["and a eq 1", 0, ["expected an expression", "found 'and'"]],
    ["(a eq 1", 7, ["missing ')'", "'(' at position 0"]],
    ["(a eq 1 b", 8, ["expected 'and', 'or' or ')'", "found 'b'"]],
    ["a eq 1)", 6, ["')' without a matching '('"]],
    ["()", 1, ["expected an expression after '('", "found ')'"]],
    ["a eq 1 b eq 2", 7, ["expected 'and', 'or' or the end of the expression", "found 'b'"]],
    ["a eq 1 eq 2", 7, ["found 'eq'"]],
    ["a eq 1, b eq 2", 6, ["found ','"]],
    ["status 'active'", 7, ["expected an operator such as 'eq' after 'status'", "found the string 'active'"]],
    ["tolower(title)", 14, ["expected an operator such as 'eq' after 'tolower(title)'"]],
    ["'x'", 3, ["expected an operator such as 'eq' after ''x''"]],
    ["a eq b c", 7, ["found 'c'"]],
    ["x = 1", 2, ["'='", "'eq'"]],
    ["x != 1", 2, ["'!='", "'ne'"]],
    ["x >= 1", 2, ["'>='", "'ge'"]],
    ['x eq "a"', 5, ["single quotes"]],
    ["x eq 1 && y eq 2", 7, ["'&&'", "'and'"]],
    ["x eq @p", 5, ["unexpected character '@'"]],
    ["x eq \u0001", 5, ["U+0001"]],
    ["price add 5 gt 10", 6, ["'add' operator is not supported"]],
    ["x eq 1 has 2", 7, ["'has' operator is not supported"]],
  ] as const)("rejects %j at position %i", (text, position, fragments) => {
    const err = syntaxErrorOf(text);
    expect(err.position).toBe(position);
    expect(err.message).toContain(`position ${position}`);
    for (const fragment of fragments) expect(err.message).toContain(fragment);
  });

  it.each([
    ["x in ()", 6, ["'in' operator needs at least one value"]],
    ["x in ( )", 7, ["at least one value"]],
    ["x in 'a'", 5, ["expected '('", "found the string 'a'"]],
    ["x in", 4, ["expected '('"]],
    ["x in ('a',)", 10, ["expected a literal value in the 'in' list", "found ')'"]],
    ["x in ('a' 'b')", 10, ["expected ',' or ')'", "found the string 'b'"]],
    ["x in ('a'", 9, ["missing ')'", "position 5"]],
    ["x in (y)", 6, ["expected a literal value", "found 'y'"]],
  ] as const)("rejects the malformed 'in' list %j", (text, position, fragments) => {
    const err = syntaxErrorOf(text);
    expect(err.position).toBe(position);
    for (const fragment of fragments) expect(err.message).toContain(fragment);
  });

  it.each([
    ["substring(title,1) eq 'x'", 0, ["function 'substring' is not supported", "startswith, endswith, contains, tolower and toupper"]],
    ["x eq 1 and Length(title) gt 2", 11, ["function 'Length' is not supported"]],
    ["microsoft.graph.foo(x)", 0, ["'microsoft.graph.foo' is not supported"]],
    ["startswith(title)", 0, ["'startswith' takes 2 arguments, but was given 1"]],
    ["tolower(a,b) eq 'x'", 0, ["'tolower' takes 1 argument, but was given 2"]],
    ["contains() eq true", 0, ["takes 2 arguments, but was given 0"]],
    ["startswith(title,'a'", 20, ["missing ')'", "call to 'startswith'"]],
    ["startswith(title 'a')", 17, ["expected ',' or ')'", "found the string 'a'"]],
    ["startswith(title,)", 17, ["expected an argument for 'startswith'", "found ')'"]],
    ["a/b(1) eq 2", 2, ["'b(' is not supported"]],
    ["any(t: t eq 1)", 0, ["'any' must follow a collection property"]],
  ] as const)("rejects the bad function call %j", (text, position, fragments) => {
    const err = syntaxErrorOf(text);
    expect(err.position).toBe(position);
    for (const fragment of fragments) expect(err.message).toContain(fragment);
  });

  it.each([
    ["tags/all()", 9, ["'all' needs a condition", "tags/all(x: x eq 'value')"]],
    ["tags/any(t t eq 'x')", 11, ["expected ':' after the range variable 't'"]],
    ["tags/any(: t eq 'x')", 9, ["expected a range variable after 'any('", "found ':'"]],
    ["tags/any('x': t)", 9, ["expected a range variable", "found the string 'x'"]],
    ["tags/any(t:)", 11, ["expected an expression after ':'", "found ')'"]],
    ["tags/any(t: t eq 'x'", 20, ["missing ')'", "'any('"]],
    ["tags/any(t: t eq 'x' t)", 21, ["expected 'and', 'or' or ')'", "found 't'"]],
    ["a/any(x: x/b/any(x: x eq 1))", 17, ["range variable 'x' is already used"]],
    ["x eq tags/any()", 10, ["'any' is a condition and cannot be used as a value"]],
    ["contains(tags/any(), 'x')", 14, ["'any' is a condition"]],
  ] as const)("rejects the malformed lambda %j", (text, position, fragments) => {
    const err = syntaxErrorOf(text);
    expect(err.position).toBe(position);
    for (const fragment of fragments) expect(err.message).toContain(fragment);
  });

  it.each([
    ["x eq 2025-13-07", 5, ["'2025-13-07' is not a valid date-time", "month 13"]],
    ["x eq 2025-02-30", 5, ["day 30"]],
    ["x eq 2023-02-29T00:00:00Z", 5, ["day 29"]],
    ["x eq 2025-02-07T24:00:00Z", 5, ["hour 24"]],
    ["x eq 2025-02-07T18:60:00Z", 5, ["minute 60"]],
    ["x eq 2025-02-07T18:28:60Z", 5, ["second 60"]],
    ["x eq 2025-02-07T18:28:27.12345678Z", 5, ["at most 7 digits"]],
    ["x eq 2025-02-07T18:28:27+25:00", 5, ["offset +25:00"]],
    ["x eq 2025-02-07T18:28:27", 5, ["needs a time zone"]],
    ["x eq 2025-02-07T18:28:27 01:00", 5, ["%2B"]],
    ["x eq 2025-02-07T", 5, ["'2025-02-07T' is not a valid date-time"]],
    ["x eq 2025-2-7", 5, ["not a valid date-time"]],
    ["x eq 1.", 5, ["'1.' is not a valid number"]],
    ["x eq 12abc", 5, ["'12abc' is not a valid number"]],
    ["x eq 1-2", 5, ["'1-2' is not a valid number"]],
    ["x eq 1e999", 5, ["1e999 is too large"]],
    ["x eq -", 5, ["unexpected character '-'"]],
    ["x eq 0f8fad5b-d9cb-469f-a165-70867728950", 5, ["not a valid GUID"]],
    ["x eq 0f8fad5b-d9cb-469f-a165-70867728950eX", 5, ["not a valid GUID"]],
    ["x eq deadbeef-d9cb", 5, ["not a valid GUID"]],
    ["x eq datetime'2025-02-07T00:00:00'", 5, ["OData v3 syntax", "unquoted"]],
    ["x eq guid'0f8fad5b-d9cb-469f-a165-70867728950e'", 5, ["OData v3 syntax"]],
    ["x eq duration'P1D'", 5, ["duration literals are not supported"]],
    ["x eq microsoft.graph.security.incidentStatus'active", 44, ["no closing quote"]],
    ["x eq a.", 5, ["'a.' is not a valid name"]],
  ] as const)("rejects the bad literal %j", (text, position, fragments) => {
    const err = syntaxErrorOf(text);
    expect(err.position).toBe(position);
    for (const fragment of fragments) expect(err.message).toContain(fragment);
  });

  it("reports the first error in the text", () => {
    expect(syntaxErrorOf("a eq eq 'unterminated").position).toBe(5);
  });

  it("limits nesting depth", () => {
    const nested = (n: number) => "(".repeat(n) + "a eq 1" + ")".repeat(n);
    expect(() => parseFilter(nested(MAX_FILTER_DEPTH))).not.toThrow();
    const err = syntaxErrorOf(nested(MAX_FILTER_DEPTH + 1));
    expect(err.message).toMatch(/nested too deeply/);
    expect(err.position).toBe(MAX_FILTER_DEPTH);

    expect(syntaxErrorOf("not ".repeat(MAX_FILTER_DEPTH + 1) + "a").message).toMatch(/nested too deeply/);
    expect(syntaxErrorOf("tolower(".repeat(MAX_FILTER_DEPTH + 1) + "a" + ")".repeat(MAX_FILTER_DEPTH + 1) + " eq 'a'").message).toMatch(/nested too deeply/);
    let lambdas = "x eq 1";
    for (let i = MAX_FILTER_DEPTH + 1; i > 0; i--) lambdas = `c/any(v${i}: ${lambdas})`;
    expect(syntaxErrorOf(lambdas).message).toMatch(/nested too deeply/);
  });

  it("survives very deep nesting without a stack overflow", () => {
    const err = syntaxErrorOf("(".repeat(100_000) + "a eq 1" + ")".repeat(100_000));
    expect(err.message).toMatch(/nested too deeply/);
  });

  it("parses long flat chains without deep recursion", () => {
    const text = Array.from({ length: 5_000 }, (_, i) => `a eq ${i}`).join(" or ");
    expect(parseFilter(text).kind).toBe("or");
  });

  it("quotes an excerpt around the position instead of the whole text when the text is long", () => {
    const text = `displayName eq '${"x".repeat(300)}' and`;
    const err = syntaxErrorOf(text);
    expect(err.position).toBe(text.length);
    expect(err.message).toContain(`Syntax error at position ${text.length} near '…`);
    expect(err.message).toContain("' and': expected an expression after 'and'.");
    expect(err.message.length).toBeLessThan(200);
  });
});

// ── properties ──────────────────────────────────────────────────────────────────────────────────

/** parseFilter's contract: a tree, or an ODataSyntaxError whose position is inside the text — nothing else. */
function assertTreeOrSyntaxError(text: string): void {
  try {
    parseFilter(text);
  } catch (err) {
    if (!(err instanceof ODataSyntaxError)) throw err;
    expect(Number.isInteger(err.position)).toBe(true);
    expect(err.position).toBeGreaterThanOrEqual(0);
    expect(err.position).toBeLessThanOrEqual(text.length);
    expect(err.message).toContain(`Syntax error at position ${err.position} `);
  }
}

const VALID_FILTERS = [
  "status eq 'active' and severity in ('high','medium')",
  "createdDateTime ge 2025-02-07T18:28:27.1234567+01:00 or lastUpdateDateTime lt 2025-02-07",
  "not(assignedTo eq null) and tenantId eq 0f8fad5b-d9cb-469f-a165-70867728950e",
  "classification eq microsoft.graph.security.alertClassification'truePositive'",
  "evidence/any(e: e/microsoft.graph.security.userEvidence/userAccount/userPrincipalName eq 'a@b.com')",
  "customTags/any() and customTags/all(t: startswith(tolower(t), 'it''s'))",
  "(a eq -1.5e3 or b ne 42) and contains(title,'x') eq true",
];

/** Fragments that make random text look enough like OData to get deep into the parser. */
const FRAGMENTS = [
  "(",
  ")",
  ",",
  "/",
  ":",
  "'",
  "''",
  " ",
  "\t",
  "-",
  ".",
  "eq",
  "ne",
  "gt",
  "in",
  "and",
  "or",
  "not",
  "any",
  "all",
  "true",
  "null",
  "a",
  "b/c",
  "x:",
  "tolower",
  "startswith",
  "contains",
  "substring",
  "'s'",
  "1",
  "-2.5",
  "1e3",
  "2025-02-07",
  "T18:28:27",
  "Z",
  "+01:00",
  "0f8fad5b-d9cb-469f-a165-70867728950e",
  "microsoft.graph.t",
  "'v'",
];

describe("parseFilter: properties", () => {
  it("returns a tree or throws ODataSyntaxError for arbitrary strings", () => {
    fc.assert(fc.property(fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme-ascii", maxLength: 80 })), assertTreeOrSyntaxError), {
      numRuns: 2000,
    });
  });

  it("returns a tree or throws ODataSyntaxError for random sequences of OData fragments", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 30 }), fc.constantFrom("", " "), (parts, sep) =>
        assertTreeOrSyntaxError(parts.join(sep)),
      ),
      { numRuns: 3000 },
    );
  });

  it("returns a tree or throws ODataSyntaxError for mutated valid filters", () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 6 }) }),
      fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 3 })) }),
      fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...VALID_FILTERS), fc.array(mutation, { minLength: 1, maxLength: 4 }), (filter, mutations) => {
        let text = filter;
        for (const m of mutations) {
          const at = m.at % (text.length + 1);
          if (m.kind === "delete") text = text.slice(0, at) + text.slice(at + m.length);
          else if (m.kind === "insert") text = text.slice(0, at) + m.text + text.slice(at);
          else text = text.slice(0, at) + text.slice(at, at + m.length) + text.slice(at);
        }
        assertTreeOrSyntaxError(text);
      }),
      { numRuns: 3000 },
    );
  });

  it("parses every valid filter used for mutation", () => {
    for (const text of VALID_FILTERS) expect(() => parseFilter(text)).not.toThrow();
  });

  it("normalizes any date-time with any offset and fraction to the same instant in UTC", () => {
    const instant = fc.date({ min: new Date("0001-01-02T00:00:00Z"), max: new Date("9999-12-30T00:00:00Z"), noInvalidDate: true });
    fc.assert(
      fc.property(instant, fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }), fc.integer({ min: 0, max: 7 }), (date, offset, digits) => {
        // Write `date` as local time at `offset` minutes east of UTC, with `digits` fractional digits.
        const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 23); // yyyy-mm-ddThh:mm:ss.fff
        const fraction = digits === 0 ? "" : "." + (local.slice(20, 23) + "9999").slice(0, digits);
        const sign = offset < 0 ? "-" : "+";
        const abs = Math.abs(offset);
        const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
        const raw = local.slice(0, 19) + fraction + zone;

        const truncatedMillis = Number(local.slice(20, 23).slice(0, digits).padEnd(3, "0"));
        const expectedMs = date.getTime() - date.getUTCMilliseconds() + truncatedMillis;
        expect(literalOf(raw)).toEqual({ kind: "datetime", value: new Date(expectedMs).toISOString(), raw });
      }),
      { numRuns: 500 },
    );
  });

  it("parses printed random trees back to the same tree", () => {
    fc.assert(
      fc.property(filterArb, printStyleArb, (tree, style) => {
        const text = printFilter(tree, style);
        const parsed = parseFilter(text);
        expect(strip(parsed)).toEqual(strip(tree));
        checkPositions(parsed, text);
      }),
      { numRuns: 1000 },
    );
  });
});

// ── random trees and a printer, for the round-trip property ─────────────────────────────────────

const NOT_NAMES = new Set([
  "and",
  "or",
  "not",
  "in",
  "eq",
  "ne",
  "gt",
  "ge",
  "lt",
  "le",
  "has",
  "add",
  "sub",
  "mul",
  "div",
  "divby",
  "mod",
  "true",
  "false",
  "null",
  "any",
  "all",
]);
const nameArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,7}$/).filter((n) => !NOT_NAMES.has(n.toLowerCase()));
const typeNameArb = fc.constantFrom("microsoft.graph.security.userEvidence", "microsoft.graph.security.deviceEvidence", "Namespace.Type_2");
const segmentArb = fc.oneof({ weight: 5, arbitrary: nameArb }, { weight: 1, arbitrary: typeNameArb });
const pathArb: fc.Arbitrary<PathExpr> = fc
  .tuple(nameArb, fc.array(segmentArb, { maxLength: 3 }))
  .map(([first, rest]) => ({ kind: "path", segments: [first, ...rest], position: 0 }));

const literalArb: fc.Arbitrary<Literal> = fc.oneof(
  fc.string().map((value) => ({ kind: "string" as const, value })),
  fc
    .oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))
    .map((n) => (Object.is(n, -0) ? 0 : n))
    .map((value) => ({ kind: "number" as const, value, raw: String(value) })),
  fc.boolean().map((value) => ({ kind: "boolean" as const, value })),
  fc.constant({ kind: "null" as const }),
  fc
    .date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true })
    .map((d) => ({ kind: "datetime" as const, value: d.toISOString(), raw: d.toISOString() })),
  fc.uuid().map((value) => ({ kind: "guid" as const, value })),
  fc.tuple(typeNameArb, nameArb).map(([type, value]) => ({ kind: "enum" as const, type, value })),
);

const compareOpArb = fc.constantFrom<CompareOp>("eq", "ne", "gt", "ge", "lt", "le");

const { filter: rawFilterArb } = fc.letrec<{ filter: FilterExpr; operand: Operand; call: CallExpr }>((tie) => ({
  operand: fc.oneof(
    { maxDepth: 3, depthIdentifier: "operand" },
    pathArb,
    literalArb.map((literal): Operand => ({ kind: "literal", literal })),
    tie("call"),
  ),
  call: fc.oneof(
    fc.tuple(fc.constantFrom("tolower" as const, "toupper" as const), tie("operand")).map(([name, arg]): CallExpr => ({
      kind: "call",
      name,
      args: [arg],
      position: 0,
    })),
    fc
      .tuple(fc.constantFrom("startswith" as const, "endswith" as const, "contains" as const), tie("operand"), tie("operand"))
      .map(([name, a, b]): CallExpr => ({ kind: "call", name, args: [a, b], position: 0 })),
  ),
  filter: fc.oneof(
    { maxDepth: 4, depthIdentifier: "filter" },
    fc.tuple(compareOpArb, tie("operand"), tie("operand")).map(([op, left, right]): FilterExpr => ({ kind: "compare", op, left, right, position: 0 })),
    fc
      .tuple(tie("operand"), fc.array(literalArb, { minLength: 1, maxLength: 4 }))
      .map(([left, values]): FilterExpr => ({ kind: "in", left, values, position: 0 })),
    pathArb.map((path): FilterExpr => ({ kind: "boolpath", path })),
    fc
      .tuple(fc.constantFrom("startswith" as const, "endswith" as const, "contains" as const), tie("operand"), tie("operand"))
      .map(([name, a, b]): FilterExpr => ({ kind: "predicate", call: { kind: "call", name, args: [a, b], position: 0 } })),
    pathArb.map((collection): FilterExpr => ({ kind: "lambda", op: "any", collection, variable: null, predicate: null, position: 0 })),
    fc
      .tuple(fc.constantFrom("any" as const, "all" as const), pathArb, tie("filter"))
      .map(([op, collection, predicate]): FilterExpr => ({ kind: "lambda", op, collection, variable: "v", predicate, position: 0 })),
    fc.tuple(fc.constantFrom("and" as const, "or" as const), tie("filter"), tie("filter")).map(([kind, left, right]): FilterExpr => ({ kind, left, right })),
    tie("filter").map((operand): FilterExpr => ({ kind: "not", operand })),
  ),
}));

/** Range variables must not shadow each other: name them by lambda nesting depth. */
function renameVariables(tree: FilterExpr, depth = 0): FilterExpr {
  switch (tree.kind) {
    case "and":
    case "or":
      return { ...tree, left: renameVariables(tree.left, depth), right: renameVariables(tree.right, depth) };
    case "not":
      return { ...tree, operand: renameVariables(tree.operand, depth) };
    case "lambda":
      return tree.predicate === null ? tree : { ...tree, variable: `v${depth}`, predicate: renameVariables(tree.predicate, depth + 1) };
    default:
      return tree;
  }
}
const filterArb = rawFilterArb.map((tree) => renameVariables(tree));

interface PrintStyle {
  /** Whitespace between tokens. */
  ws: string;
  upperKeywords: boolean;
  /** Parenthesize only where precedence requires it, instead of around every and/or/not operand. */
  minimalParens: boolean;
  upperGuids: boolean;
}
const printStyleArb: fc.Arbitrary<PrintStyle> = fc.record({
  ws: fc.constantFrom(" ", "  ", "\t", " \t "),
  upperKeywords: fc.boolean(),
  minimalParens: fc.boolean(),
  upperGuids: fc.boolean(),
});

function printLiteral(literal: Literal, style: PrintStyle): string {
  switch (literal.kind) {
    case "string":
      return `'${literal.value.replaceAll("'", "''")}'`;
    case "number":
    case "datetime":
      return literal.raw;
    case "boolean":
      return style.upperKeywords ? String(literal.value).toUpperCase() : String(literal.value);
    case "null":
      return style.upperKeywords ? "NULL" : "null";
    case "guid":
      return style.upperGuids ? literal.value.toUpperCase() : literal.value;
    case "enum":
      return `${literal.type}'${literal.value.replaceAll("'", "''")}'`;
  }
}

function printOperand(operand: Operand, style: PrintStyle): string {
  const { ws } = style;
  switch (operand.kind) {
    case "path":
      return operand.segments.join("/");
    case "literal":
      return printLiteral(operand.literal, style);
    case "call": {
      const name = style.upperKeywords ? operand.name.toUpperCase() : operand.name;
      return `${name}(${operand.args.map((a) => printOperand(a, style)).join(`${ws},${ws}`)})`;
    }
  }
}

function printFilter(tree: FilterExpr, style: PrintStyle): string {
  const { ws } = style;
  const kw = (word: string) => (style.upperKeywords ? word.toUpperCase() : word);
  const paren = (text: string) => `(${ws}${text}${ws})`;
  switch (tree.kind) {
    case "and":
    case "or": {
      let left = printFilter(tree.left, style);
      let right = printFilter(tree.right, style);
      if (style.minimalParens) {
        // 'and' binds tighter than 'or'; both associate to the left.
        if (tree.kind === "and" && tree.left.kind === "or") left = paren(left);
        if (tree.right.kind === "or" || tree.right.kind === tree.kind) right = paren(right);
      } else {
        left = paren(left);
        right = paren(right);
      }
      return `${left}${ws}${kw(tree.kind)}${ws}${right}`;
    }
    case "not": {
      const operand = printFilter(tree.operand, style);
      const needsParens = !style.minimalParens || tree.operand.kind === "and" || tree.operand.kind === "or";
      return `${kw("not")}${ws}${needsParens ? paren(operand) : operand}`;
    }
    case "compare":
      return `${printOperand(tree.left, style)}${ws}${kw(tree.op)}${ws}${printOperand(tree.right, style)}`;
    case "in":
      return `${printOperand(tree.left, style)}${ws}${kw("in")}${ws}(${tree.values.map((v) => printLiteral(v, style)).join(`${ws},${ws}`)})`;
    case "predicate":
      return printOperand(tree.call, style);
    case "boolpath":
      return printOperand(tree.path, style);
    case "lambda": {
      const head = `${printOperand(tree.collection, style)}/${kw(tree.op)}`;
      if (tree.predicate === null) return `${head}()`;
      return `${head}(${tree.variable}${ws}:${ws}${printFilter(tree.predicate, style)})`;
    }
  }
}

/** Every recorded position points at what it names in the text. */
function checkPositions(tree: FilterExpr, text: string): void {
  const at = (position: number, word: string) => expect(text.slice(position, position + word.length).toLowerCase()).toBe(word.toLowerCase());
  const operand = (o: Operand): void => {
    if (o.kind === "path") at(o.position, o.segments[0] ?? "");
    if (o.kind === "call") {
      at(o.position, o.name);
      o.args.forEach(operand);
    }
  };
  switch (tree.kind) {
    case "and":
    case "or":
      checkPositions(tree.left, text);
      checkPositions(tree.right, text);
      break;
    case "not":
      checkPositions(tree.operand, text);
      break;
    case "compare":
      at(tree.position, tree.op);
      operand(tree.left);
      operand(tree.right);
      break;
    case "in":
      at(tree.position, "in");
      operand(tree.left);
      break;
    case "predicate":
      operand(tree.call);
      break;
    case "boolpath":
      operand(tree.path);
      break;
    case "lambda":
      at(tree.position, tree.op);
      operand(tree.collection);
      if (tree.predicate) checkPositions(tree.predicate, text);
      break;
  }
}
