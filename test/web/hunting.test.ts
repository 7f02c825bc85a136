import { describe, expect, it } from "vitest";
import { completions, errorPosition, renderKind, tokenize } from "../../web/src/kql.js";
import { cellText, chartOf } from "../../web/src/hunting.js";

/** The Hunting page's KQL helpers and its chart of an answer, without a browser. */

const schema = [
  { name: "AlertInfo", columns: [{ name: "Timestamp" }, { name: "Title" }, { name: "Severity" }] },
  { name: "AlertEvidence", columns: [{ name: "Timestamp" }, { name: "EntityType" }] },
];

describe("KQL helpers", () => {
  it("tokenizes a query into tokens that join back to it", () => {
    const q = 'AlertInfo // latest\n| where Severity == "High" and Timestamp > ago(7d)\n| project-away Title';
    const tokens = tokenize(q, new Set(["AlertInfo"]));
    expect(tokens.map((t) => t.text).join("")).toBe(q);
    const kinds = Object.fromEntries(tokens.filter((t) => t.kind !== "space").map((t) => [t.text, t.kind]));
    expect(kinds).toMatchObject({
      AlertInfo: "table",
      "// latest": "comment",
      where: "keyword",
      '"High"': "string",
      ago: "function",
      "7d": "number",
      "project-away": "keyword",
      Title: "name",
    });
  });

  it("completes operators after a pipe, tables at the start, columns and functions elsewhere", () => {
    expect(completions("AlertInfo | su", 14, schema).items.map((i) => i.label)).toEqual(["summarize"]);
    expect(completions("Alert", 5, schema).items.map((i) => i.label)).toEqual(["AlertInfo", "AlertEvidence"]);
    expect(completions("AlertInfo | where Sev", 21, schema).items.map((i) => i.label)).toEqual(["Severity"]);
    expect(completions("AlertInfo | extend x = to", 25, schema).items.map((i) => i.label)).toContain("tostring(");
    // A word already complete offers nothing more; nothing is offered without a word.
    expect(completions("AlertInfo | where Severity", 26, schema).items).toEqual([]);
    expect(completions("AlertInfo | ", 12, schema).items).toEqual([]);
  });

  it("reads Kusto's 1-based [line:position] as an offset, and the chart a query renders", () => {
    const q = "AlertInfo\n| where NoSuchColumn == 1";
    expect(errorPosition("Semantic error: … [line:position=2:9]", q)).toEqual({ line: 2, column: 9, offset: q.indexOf("NoSuchColumn") });
    expect(errorPosition("no position", q)).toBeNull();
    expect(errorPosition("[line:position=9:1]", q)).toBeNull();
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
