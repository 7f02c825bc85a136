import { describe, expect, it } from "vitest";
import { applyCompletion, carryOver, completionsAt, endMarks, errorPosition, lineColumn, renderKind, segments } from "../../web/src/kql.js";
import { cellText, chartOf } from "../../web/src/hunting.js";
import { analyzeForEditor } from "../../src/hunting/editor.js";

/**
 * The Hunting page's editor helpers on the language service's real answers (the server's
 * analyzeForEditor, which POST /triage/hunting/editor returns), and its chart of an answer, without a browser.
 */

describe("KQL editor helpers", { timeout: 30_000 }, () => {
  it("cuts a query into segments that cover it exactly, classed by the language service", () => {
    const q = 'AlertInfo // latest\n| where Severity == "High" and Timestamp > ago(7d)\n| where NoSuch == 1';
    const a = analyzeForEditor(q);
    const segs = segments(q, a.tokens, a.diagnostics, null);
    expect(segs.map((s) => q.slice(s.start, s.end)).join("")).toBe(q);
    const kinds = Object.fromEntries(segs.filter((s) => s.kind).map((s) => [q.slice(s.start, s.end), s.kind]));
    expect(kinds).toMatchObject({
      AlertInfo: "table",
      "// latest": "comment",
      where: "queryOperator",
      Severity: "column",
      '"High"': "string",
      ago: "function",
      "7d": "literal",
    });
    const marked = segs.filter((s) => s.diagnostic);
    expect(marked.map((s) => q.slice(s.start, s.end))).toEqual(["NoSuch"]);
    expect(marked[0]!.diagnostic!.message).toContain("'NoSuch' does not refer to any known column");
    // A run error marks the token it falls in; past the end it is an end mark.
    const err = segments(q, a.tokens, [], q.indexOf("Severity") + 2).filter((s) => s.error);
    expect(err.map((s) => q.slice(s.start, s.end))).toEqual(["Severity"]);
    expect(endMarks(q, [], q.length)).toEqual({ diagnostic: null, error: true });
    const open = "AlertInfo | where ";
    const missing = analyzeForEditor(open).diagnostics;
    expect(missing.length).toBeGreaterThan(0);
    expect(endMarks(open, missing, null)?.diagnostic).toBe(missing.find((d) => d.start >= open.length));
  });

  it("carries an answer over an edit: tokens before and after the edit keep their text, those in it go", () => {
    const before = 'AlertInfo | where Title == "x" | take 5';
    const after = 'AlertInfo | where Severity == "x" | take 5';
    const carried = carryOver(before, after, analyzeForEditor(before));
    const texts = carried.tokens.map((t) => [after.slice(t.start, t.start + t.length), t.kind]);
    expect(texts).toEqual(
      analyzeForEditor(after)
        .tokens.map((t) => [after.slice(t.start, t.start + t.length), t.kind])
        .filter(([text]) => text !== "Severity"),
    );
  });

  it("narrows completions as a word is typed and applies one with its parentheses", () => {
    const q = "AlertInfo | where ";
    const a = analyzeForEditor(q, q.length);
    const all = completionsAt(q, a, q, q.length)!;
    expect(all.typed).toBe("");
    expect(all.items.filter((i) => i.kind === "column").map((i) => i.label)).toContain("Severity");
    // Typed since the answer: narrowed without asking again.
    const typed = `${q}Sev`;
    const narrowed = completionsAt(q, a, typed, typed.length)!;
    expect(narrowed.items.map((i) => i.label)).toEqual(["Severity"]);
    expect(applyCompletion(typed, narrowed, narrowed.items[0]!)).toEqual({ text: `${q}Severity `, caret: q.length + "Severity ".length });
    // The whole word under the caret is replaced.
    const mid = `${q}SevXYZ`;
    const inWord = completionsAt(q, a, mid, typed.length)!;
    expect(applyCompletion(mid, inWord, inWord.items[0]!).text).toBe(`${q}Severity `);
    // A function's closing parenthesis goes after the caret.
    const f = "AlertInfo | where Timestamp > ag";
    const fa = analyzeForEditor(f, f.length);
    const ago = completionsAt(f, fa, f, f.length)!;
    expect(
      applyCompletion(
        f,
        ago,
        ago.items.find((i) => i.label.startsWith("ago("))!,
      ),
    ).toEqual({
      text: "AlertInfo | where Timestamp > ago()",
      caret: "AlertInfo | where Timestamp > ago(".length,
    });
    // Nothing once the text before the range changed, a space was typed, or only the typed word is left.
    expect(completionsAt(q, a, `X${q}`, q.length + 1)).toBeNull();
    expect(completionsAt(q, a, `${q}Severity `, q.length + 9)).toBeNull();
    expect(completionsAt(q, a, `${q}Severity`, q.length + 8)).toBeNull();
  });

  it("reads Kusto's 1-based [line:position] as an offset, line and column of offsets, and the chart a query renders", () => {
    const q = "AlertInfo\n| where NoSuchColumn == 1";
    expect(errorPosition("Semantic error: … [line:position=2:9]", q)).toEqual({ line: 2, column: 9, offset: q.indexOf("NoSuchColumn") });
    expect(errorPosition("no position", q)).toBeNull();
    expect(errorPosition("[line:position=9:1]", q)).toBeNull();
    expect(lineColumn(q, q.indexOf("NoSuchColumn"))).toEqual({ line: 2, column: 9 });
    expect(lineColumn(q, 0)).toEqual({ line: 1, column: 1 });
    expect(renderKind("AlertInfo | summarize count() by Severity | render columnchart")).toBe("columnchart");
    expect(renderKind("AlertInfo | render timechart // a comment\n")).toBe("timechart");
    expect(renderKind("AlertInfo | render piechart")).toBeNull();
  });
});

describe("the chart of an answer", () => {
  const day = (d: number) => `2026-10-0${d}T00:00:00.000Z`;
  it("charts a summary by time, stacking one number by a string column, days in order", () => {
    const data = {
      schema: [
        { name: "Timestamp", type: "DateTime" },
        { name: "Severity", type: "String" },
        { name: "Alerts", type: "Int64" },
      ],
      results: [
        { Timestamp: day(2), Severity: "High", Alerts: 2 },
        { Timestamp: day(1), Severity: "Low", Alerts: 1 },
        { Timestamp: day(1), Severity: "High", Alerts: 3 },
      ],
    };
    const chart = chartOf("AlertInfo | summarize Alerts = count() by bin(Timestamp, 1d), Severity", data)!;
    expect(chart.series.map((s) => s.key)).toEqual(["High", "Low"]);
    expect(chart.points).toEqual([
      { label: day(1), axis: "10-01", values: { Low: 1, High: 3 } },
      { label: day(2), axis: "10-02", values: { High: 2 } },
    ]);
  });

  it("draws nothing for rows that are not a summary, unless the query renders a chart", () => {
    const data = {
      schema: [
        { name: "Title", type: "String" },
        { name: "Alerts", type: "Int64" },
      ],
      results: [{ Title: "a", Alerts: 1 }],
    };
    expect(chartOf("AlertInfo | summarize Alerts = count() by Title", data)).toBeNull();
    expect(chartOf("AlertInfo | summarize Alerts = count() by Title | render barchart", data)?.points).toEqual([
      { label: "a", axis: "a", values: { Alerts: 1 } },
    ]);
    const rows = {
      schema: [
        { name: "Timestamp", type: "DateTime" },
        { name: "FileSize", type: "Int64" },
      ],
      results: [{ Timestamp: day(1), FileSize: 5 }],
    };
    expect(chartOf("AlertEvidence | project Timestamp, FileSize", rows)).toBeNull();
  });

  it("shows cells as text: strings as they are, null empty, objects as JSON", () => {
    expect([cellText("x"), cellText(null), cellText(3), cellText(false), cellText(["T1059"])]).toEqual(["x", "", "3", "false", '["T1059"]']);
  });
});
