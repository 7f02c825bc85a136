/** The Hunting page's model: timespans, example queries, cells as text, the chart of an answer. */
import type { Series, StackedPoint } from "./chart-data.js";
import { renderKind } from "./kql.js";

export interface HuntingResults {
  schema: { name: string; type: string }[];
  results: Record<string, unknown>[];
}

export const TIMESPANS: { value: string; label: string }[] = [
  { value: "PT1H", label: "Last hour" },
  { value: "P1D", label: "Last day" },
  { value: "P7D", label: "Last 7 days" },
  { value: "P30D", label: "Last 30 days" },
  { value: "P90D", label: "Last 90 days" },
  { value: "P180D", label: "Last 180 days" },
];
export const DEFAULT_TIMESPAN = "P7D";

export const EXAMPLES: { title: string; query: string }[] = [
  {
    title: "Latest high-severity alerts",
    query: 'AlertInfo\n| where Severity == "High"\n| project Timestamp, Title, Category, DetectionSource\n| order by Timestamp desc\n| take 50',
  },
  { title: "Alerts per day by severity", query: "AlertInfo\n| summarize Alerts = count() by bin(Timestamp, 1d), Severity\n| render columnchart" },
  {
    title: "Users in the most alerts",
    query: 'AlertEvidence\n| where EntityType == "User"\n| summarize Alerts = dcount(AlertId) by AccountUpn\n| top 10 by Alerts',
  },
  {
    title: "Files seen across alerts",
    query:
      'AlertEvidence\n| where EntityType == "File"\n| summarize Alerts = dcount(AlertId), Titles = make_set(Title) by SHA1, FileName\n| order by Alerts desc',
  },
];

const NUMERIC = new Set(["Int64", "Int32", "Double", "Decimal", "Long", "Int", "Real"]);
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];

/** A cell as text: strings as they are, null as empty, anything else as JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

export interface ChartSpec {
  title: string;
  points: StackedPoint[];
  series: Series[];
}

/** A chart when the answer is a summary over time (a datetime column and numbers) or the query asks for one. */
export function chartOf(query: string, data: HuntingResults): ChartSpec | null {
  const render = renderKind(query);
  const time = data.schema.find((c) => c.type === "DateTime");
  const numbers = data.schema.filter((c) => NUMERIC.has(c.type));
  const strings = data.schema.filter((c) => c.type === "String");
  const summarized = /\|\s*summarize\b/.test(query);
  if (!numbers.length || !data.results.length) return null;
  if (!render && !(time && summarized)) return null;
  const x = time ?? strings[0];
  if (!x) return null;
  const split = numbers.length === 1 ? strings.find((s) => s.name !== x.name) : undefined;
  const keyOf = (v: unknown) => cellText(v) || "(empty)";
  let seriesNames: string[];
  if (split) {
    const totals = new Map<string, number>();
    for (const r of data.results) totals.set(keyOf(r[split.name]), (totals.get(keyOf(r[split.name])) ?? 0) + Number(r[numbers[0]!.name] ?? 0));
    seriesNames = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
    if (seriesNames.length > COLORS.length) seriesNames = [...seriesNames.slice(0, COLORS.length - 1), "Other"];
  } else seriesNames = numbers.slice(0, COLORS.length).map((n) => n.name);
  const known = new Set(seriesNames);
  const byX = new Map<string, Record<string, number>>();
  for (const r of data.results) {
    const label = cellText(r[x.name]);
    const values = byX.get(label) ?? {};
    byX.set(label, values);
    if (split) {
      const k = known.has(keyOf(r[split.name])) ? keyOf(r[split.name]) : "Other";
      values[k] = (values[k] ?? 0) + Number(r[numbers[0]!.name] ?? 0);
    } else for (const n of seriesNames) values[n] = (values[n] ?? 0) + Number(r[n] ?? 0);
  }
  const labels = [...byX.keys()];
  if (x === time) labels.sort();
  const points = labels.map((label) => ({ label, axis: x === time ? label.slice(5, 10) : label.slice(0, 12), values: byX.get(label)! }));
  const series = seriesNames.map((key, i) => ({ key, label: key, color: COLORS[i % COLORS.length]! }));
  return { title: `${split ? `${numbers[0]!.name} by ${split.name}` : seriesNames.join(", ")} per ${x.name}`, points, series };
}
