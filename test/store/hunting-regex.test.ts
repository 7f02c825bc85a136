import { describe, expect, it } from "vitest";
import SQLite from "better-sqlite3";
import { checkRegex, installRegex, RegexRefused, REGEX_EXTRACT_FUNCTION, REGEX_MATCH_FUNCTION } from "../../src/store/hunting-regex.js";

describe("checkRegex", () => {
  it.each([
    [String.raw`\bmail\b`, String.raw`\ymail\y`],
    [String.raw`^\d{1,3}$`, String.raw`^[0-9]{1,3}$`],
    [String.raw`\w+\s\S`, String.raw`[0-9A-Za-z_]+[\t\n\f\r ][^\t\n\f\r ]`],
    [String.raw`a.b`, String.raw`a[^\n]b`],
    [String.raw`(?s)a.b`, String.raw`a.b`],
    [String.raw`(?im)^x\z`, String.raw`(?iw)^x\Z`],
    [String.raw`[[:alpha:]\d_-]`, String.raw`[A-Za-z0-9\_\-]`],
    [String.raw`C:\\Windows\.exe`, String.raw`C\:\\Windows\.exe`],
    [String.raw`\x41\x{20AC}`, "A€"],
    [String.raw`(?P<host>[a-z]+)\.com`, String.raw`([a-z]+)\.com`],
  ])("writes %s for PostgreSQL as %s", (pattern, postgres) => {
    expect(checkRegex(pattern, "match").postgres).toBe(postgres);
  });

  it("counts capturing groups and wraps the pattern after its flags", () => {
    expect(checkRegex(String.raw`(?i)(a)(?:b)(c)`, "extract")).toEqual({ postgres: "(?i)(a)(?:b)(c)", postgresGrouped: "(?i)((a)(?:b)(c))", groups: 2 });
  });

  it.each([
    [String.raw`(a)\1`, /invalid pattern/],
    [String.raw`(?=a)`, /invalid pattern/],
    [String.raw`\pL`, /the escape '\\p'/],
    [String.raw`a(?i)b`, /flags or a group kind/],
    [String.raw`a{256}`, /repetition count above 255/],
    ["x".repeat(1001), /longer than 1000/],
  ])("refuses %s", (pattern, reason) => {
    expect(() => checkRegex(pattern, "match")).toThrow(RegexRefused);
    expect(() => checkRegex(pattern, "match")).toThrow(reason);
  });

  it("accepts a lazy quantifier where only matching counts, not in extract()", () => {
    expect(checkRegex("a+?b", "match").postgres).toBe("a+b");
    expect(() => checkRegex("a+?b", "extract")).toThrow(/lazy quantifier/);
  });
});

describe("the SQLite functions", () => {
  it("match and extract with RE2 on a connection", () => {
    const conn = new SQLite(":memory:");
    installRegex(conn);
    const one = (sql: string, ...params: unknown[]) =>
      conn
        .prepare(sql)
        .pluck()
        .get(...params);
    expect(one(`select ${REGEX_MATCH_FUNCTION}(?, ?)`, "powershell -enc AAA", String.raw`\s-enc\s`)).toBe(1);
    expect(one(`select ${REGEX_MATCH_FUNCTION}(?, ?)`, "line1\nline2", "line1.line2")).toBe(0);
    expect(one(`select ${REGEX_MATCH_FUNCTION}(null, 'a')`)).toBeNull();
    expect(one(`select ${REGEX_EXTRACT_FUNCTION}(?, 1, ?)`, String.raw`id=(\d+)`, "x?id=42&y")).toBe("42");
    expect(one(`select ${REGEX_EXTRACT_FUNCTION}(?, 1, ?)`, String.raw`id=(\d+)`, "none")).toBeNull();
    // RE2 takes linear time: a pattern that backtracks exponentially elsewhere answers at once.
    const started = Date.now();
    expect(one(`select ${REGEX_MATCH_FUNCTION}(?, ?)`, `${"a".repeat(5000)}!`, "^(a+)+$")).toBe(0);
    expect(Date.now() - started).toBeLessThan(2000);
    conn.close();
  });
});
