import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, ALL_PERMISSIONS, type TestTriage } from "../support/triage.js";
import { delegatedToken } from "../support/identity.js";
import { HUNTING_TABLES } from "../../src/schema/hunting-tables.js";
import { MAX_COMPLETIONS, MAX_EDITOR_QUERY } from "../../src/hunting/editor.js";
import type { KqlEditorAnalysis } from "../../src/schema/triage-api.js";

/**
 * POST /triage/hunting/editor over real HTTP: the Kusto language service's classes, diagnostics and
 * completions for the Hunting page's editor, with the permission and roles of a hunting query, and bad
 * input refused with a Graph error.
 */

const HUNT = "ThreatHunting.Read.All";
let t: TestTriage;
let hunt: Record<string, string>;

beforeAll(async () => {
  t = await startTriage();
  hunt = await t.auth(t.tenantId, [HUNT]);
});
afterAll(async () => {
  await t.close();
});

async function analyze(body: unknown, headers = hunt): Promise<{ status: number; body: any }> {
  const r = await t.request("POST", "/triage/hunting/editor", { body, headers });
  return { status: r.status, body: r.body };
}

/** The text and kind of each token. */
function spans(query: string, a: KqlEditorAnalysis): [string, string][] {
  return a.tokens.map((tk) => [query.slice(tk.start, tk.start + tk.length), tk.kind]);
}

describe("POST /triage/hunting/editor", { timeout: 30_000 }, () => {
  it("classifies tables, columns, operators, functions, literals and comments as the language service does", async () => {
    const q = 'AlertInfo // recent\n| where Severity == "High" and Timestamp > ago(7d)\n| summarize count() by bin(Timestamp, 1d)';
    const r = await analyze({ query: q });
    expect(r.status).toBe(200);
    expect(r.body.completion).toBeUndefined();
    expect(r.body.diagnostics).toEqual([]);
    expect(spans(q, r.body)).toEqual([
      ["AlertInfo", "table"],
      ["// recent", "comment"],
      ["|", "punctuation"],
      ["where", "queryOperator"],
      ["Severity", "column"],
      ["==", "operator"],
      ['"High"', "string"],
      ["and", "operator"],
      ["Timestamp", "column"],
      [">", "operator"],
      ["ago", "function"],
      ["(", "punctuation"],
      ["7d", "literal"],
      [")", "punctuation"],
      ["|", "punctuation"],
      ["summarize", "queryOperator"],
      ["count", "function"],
      ["()", "punctuation"],
      ["by", "keyword"],
      ["bin", "function"],
      ["(", "punctuation"],
      ["Timestamp", "column"],
      [",", "punctuation"],
      ["1d", "literal"],
      [")", "punctuation"],
    ]);
  });

  it("completes every column of the table in scope from the hunting schema, and filters by the word typed", async () => {
    for (const table of HUNTING_TABLES) {
      const q = `${table.name} | where `;
      const r = await analyze({ query: q, caret: q.length });
      expect(r.status).toBe(200);
      const columns = r.body.completion.items.filter((i: any) => i.kind === "column").map((i: any) => i.label);
      expect(new Set(columns)).toEqual(new Set(table.columns.map((c) => c.name)));
      // Columns, then the functions: more than are answered.
      expect(r.body.completion).toMatchObject({ start: q.length, length: 0, incomplete: true });
      expect(r.body.completion.items).toHaveLength(MAX_COMPLETIONS);
    }
    const typed = "AlertInfo | where Sev";
    const r = await analyze({ query: typed, caret: typed.length });
    expect(r.body.completion).toMatchObject({ start: 18, length: 3, incomplete: false });
    expect(r.body.completion.items.map((i: any) => i.label)).toEqual(["Severity"]);
    // After a pipe, the query operators; a function brings its parentheses.
    const pipe = "AlertEvidence | summ";
    expect((await analyze({ query: pipe, caret: pipe.length })).body.completion.items).toEqual([
      { label: "summarize", kind: "operator", before: "summarize", after: "" },
    ]);
    const fn = "AlertInfo | where Timestamp > ag";
    const ago = (await analyze({ query: fn, caret: fn.length })).body.completion.items.find((i: any) => i.label.startsWith("ago"));
    expect(ago).toEqual({ label: "ago(timespan)", kind: "function", before: "ago(", after: ")" });
  });

  it("reports the language service's diagnostics with their ranges", async () => {
    const q = "AlertInfo\n| where NoSuchColumn == 1";
    const r = await analyze({ query: q });
    expect(r.status).toBe(200);
    expect(r.body.diagnostics).toEqual([
      {
        start: q.indexOf("NoSuchColumn"),
        length: "NoSuchColumn".length,
        severity: "error",
        code: "KS142",
        message: "The name 'NoSuchColumn' does not refer to any known column, table, variable or function.",
      },
    ]);
  });

  it("needs what a hunting query needs: the permission, and for a user a hunting role", async () => {
    const without = await t.auth(t.tenantId, ALL_PERMISSIONS);
    const denied = await analyze({ query: "AlertInfo" }, without);
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBeTruthy();
    expect((await analyze({ query: "AlertInfo" }, { authorization: "" })).status).toBe(401);
    const reader = await delegatedToken(t, t.tenantId, [HUNT], ["Security Reader"]);
    expect((await analyze({ query: "AlertInfo" }, { authorization: `Bearer ${reader}` })).status).toBe(200);
    const nobody = await delegatedToken(t, t.tenantId, [HUNT], []);
    expect((await analyze({ query: "AlertInfo" }, { authorization: `Bearer ${nobody}` })).status).toBe(403);
  });

  it("refuses bad input with a Graph error", async () => {
    const cases: [unknown, RegExp][] = [
      [[1], /must be a JSON object/],
      [{}, /'query' is required/],
      [{ query: 5 }, /'query' is required/],
      [{ query: "AlertInfo", caret: 10 }, /'caret' must be an integer from 0 to the query's length \(9\)/],
      [{ query: "AlertInfo", caret: -1 }, /'caret' must be an integer/],
      [{ query: "AlertInfo", caret: 1.5 }, /'caret' must be an integer/],
      [{ query: "AlertInfo", other: 1 }, /'other' is not a property/],
      [{ query: "x".repeat(MAX_EDITOR_QUERY + 1) }, new RegExp(`at most ${MAX_EDITOR_QUERY}`)],
    ];
    for (const [body, message] of cases) {
      const r = await analyze(body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.error.code).toBe("BadRequest");
      expect(r.body.error.message).toMatch(message);
    }
    // The longest query allowed is analyzed.
    const long = `AlertInfo | where Title has "${"a".repeat(MAX_EDITOR_QUERY - 40)}"`;
    expect(long.length).toBeLessThanOrEqual(MAX_EDITOR_QUERY);
    const ok = await analyze({ query: long, caret: long.length });
    expect(ok.status).toBe(200);
    expect(ok.body.diagnostics).toEqual([]);
  });
});
