/**
 * Property: on random alerts and random KQL queries, what runHuntingQuery answers equals an in-memory
 * evaluation of the same query. Queries are generated as small structured pipelines; each is written
 * out as KQL text (which goes through the Kusto language service, the translator and the SQL of the
 * store) and evaluated here by `evaluate`, which knows nothing of the plan or the SQL.
 *
 * Reproduce a failure with the seed fast-check prints: FC_SEED=<seed> npx vitest run test/hunting/kql-property.test.ts
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc, { type Arbitrary } from "fast-check";
import { RE2JS } from "re2js";
import { startTriage, ALL_PERMISSIONS, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";

const FC_SEED = Number(process.env.FC_SEED ?? 2026_1204);
const RUNS = Number(process.env.FC_RUNS ?? 150);

type Row = Record<string, unknown>;

// ── data ──────────────────────────────────────────────────────────────────────────────────────────

const TITLES = [
  "Suspicious PowerShell download",
  "powershell.exe spawned cmd.exe",
  "Mimikatz credential theft",
  "Phishing mail: invoice.pdf",
  "Connection to C2 (203.0.113.7)",
  "Ransomware-like file encryption",
  "SUSPICIOUS sign-in from a new country",
  "Credential dumping via LSASS",
];
const CATEGORIES = ["Execution", "CredentialAccess", "InitialAccess", "CommandAndControl", "Impact"];
const SEVERITIES = ["low", "medium", "high", "informational"];
const USERS = ["alice@contoso.com", "bob@contoso.com", "Carol@Fabrikam.com"];
const FILES = ["invoice.ps1", "mimikatz.exe", "Report.PDF", "run_me.bat"];

function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The instant the data is laid out from: time predicates count from a fixed instant before it. */
const DATA_NOW = Math.floor(Date.now() / 1000) * 1000;
const T0 = new Date(DATA_NOW - 21 * 24 * 3600_000).toISOString();

function dataset(): Record<string, unknown>[] {
  const r = random(0x4b51);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  return Array.from({ length: 36 }, (_, i) => {
    const at = new Date(DATA_NOW - Math.floor(r() * 20 * 24) * 3600_000 - i * 1000).toISOString();
    const a = alert({
      device: r() < 0.7 ? deviceId() : undefined,
      user: r() < 0.6 ? pick(USERS) : undefined,
      ip: r() < 0.3 ? `203.0.113.${Math.floor(r() * 4)}` : undefined,
      title: pick(TITLES),
      severity: pick(SEVERITIES),
      category: pick(CATEGORIES),
      at,
    });
    if (r() < 0.5) {
      (a.evidence as unknown[]).push({
        "@odata.type": "#microsoft.graph.security.fileEvidence",
        createdDateTime: at,
        verdict: "suspicious",
        remediationStatus: "none",
        roles: [],
        fileDetails: { fileName: pick(FILES), fileSize: Math.floor(r() * 5000) },
      });
    }
    return a;
  });
}

// ── generated queries ─────────────────────────────────────────────────────────────────────────────

type Table = "AlertInfo" | "AlertEvidence";
const STRING_COLUMNS: Record<Table, string[]> = {
  AlertInfo: ["Title", "Severity", "Category"],
  AlertEvidence: ["Title", "EntityType", "AccountUpn", "FileName", "RemoteIP", "EvidenceRole"],
};
const WORDS = [
  "powershell",
  "PowerShell",
  "POWERSHELL",
  "suspicious",
  "Phishing",
  "credential dumping",
  "exe",
  "cmd",
  "mail",
  "credential",
  "Suspicious",
  "invoice",
  "pdf",
  "203",
  "alice",
  "contoso",
  "File",
  "User",
  "High",
  "low",
  "",
  "sign",
  "in",
];

type Pred =
  | { k: "cmp"; col: string; op: string; value: string }
  | { k: "list"; col: string; op: "in" | "!in" | "in~" | "has_any" | "has_all"; values: string[] }
  | { k: "empty"; col: string; negated: boolean }
  | { k: "num"; col: "FileSize"; op: "<" | ">=" | "=="; value: number }
  | { k: "regex"; col: string; pattern: string }
  /** Datetime arithmetic on the Timestamp column: hours since T0, or Timestamp shifted compared with an instant. */
  | { k: "time"; form: "diff" | "shift"; hours: number; op: "<" | ">=" }
  | { k: "and" | "or"; a: Pred; b: Pred }
  | { k: "not"; a: Pred };

type ExtendFn = "strlen" | "tolower" | "toupper" | "strcat" | "extract" | "format_datetime";
type Stage =
  | { k: "where"; pred: Pred }
  | { k: "project"; cols: string[] }
  | { k: "extend"; name: string; fn: ExtendFn; col: string }
  | { k: "summarize"; by: string; aggs: ("count" | "dcount" | "countif")[]; other: string }
  | { k: "arg"; fn: "arg_max" | "arg_min"; by: string; value: string }
  | { k: "distinct"; col: string }
  | { k: "top"; n: number };

/** A join of the table with a part of the other table on AlertId, right after the table. */
interface Join {
  kind: "inner" | "innerunique" | "leftouter" | "leftanti" | "leftsemi";
  /** The other table's rows kept: those with this value in their column. */
  filter: { col: string; value: string };
  /** The other table's column brought over (inner and leftouter). */
  col: string;
}

interface Query {
  table: Table;
  join: Join | null;
  stages: Stage[];
}

/** What the other table of a join filters on and brings over. */
const JOINED: Record<Table, { filters: { col: string; values: string[] }[]; cols: string[] }> = {
  AlertInfo: { filters: [{ col: "EntityType", values: ["User", "File", "Machine", "Ip"] }], cols: ["AccountUpn", "FileName", "RemoteIP"] },
  AlertEvidence: { filters: [{ col: "Severity", values: ["High", "Low", "Medium"] }], cols: ["Category", "Severity"] },
};
const OTHER: Record<Table, Table> = { AlertInfo: "AlertEvidence", AlertEvidence: "AlertInfo" };

/** RE2 patterns (as KQL verbatim strings) the generator uses with matches regex. */
const PATTERNS = [
  String.raw`^[A-Z]`,
  String.raw`(?i)power`,
  String.raw`\d`,
  String.raw`exe$`,
  String.raw`\bmail\b`,
  String.raw`[[:upper:]]{3}`,
  String.raw`^\w+@\w+\.com$`,
  String.raw`c.m`,
  "",
];

const STRING_OPS = [
  "==",
  "!=",
  "=~",
  "!~",
  "has",
  "!has",
  "contains",
  "!contains",
  "startswith",
  "endswith",
  "!startswith",
  "!endswith",
  "has_cs",
  "contains_cs",
];

function predicate(table: Table, cols: string[]): Arbitrary<Pred> {
  const col = fc.constantFrom(...cols);
  const word = fc.constantFrom(...WORDS);
  const leaf: Arbitrary<Pred>[] = [
    fc.record({ k: fc.constant("cmp" as const), col, op: fc.constantFrom(...STRING_OPS), value: word }),
    fc.record({
      k: fc.constant("list" as const),
      col,
      op: fc.constantFrom("in" as const, "!in" as const, "in~" as const, "has_any" as const, "has_all" as const),
      values: fc.array(word, { minLength: 1, maxLength: 3 }),
    }),
    fc.record({ k: fc.constant("empty" as const), col, negated: fc.boolean() }),
  ];
  leaf.push(
    fc.record({ k: fc.constant("regex" as const), col, pattern: fc.constantFrom(...PATTERNS) }),
    fc.record({
      k: fc.constant("time" as const),
      form: fc.constantFrom("diff" as const, "shift" as const),
      hours: fc.integer({ min: 0, max: 24 * 21 }),
      op: fc.constantFrom("<" as const, ">=" as const),
    }),
  );
  if (table === "AlertEvidence")
    leaf.push(
      fc.record({
        k: fc.constant("num" as const),
        col: fc.constant("FileSize" as const),
        op: fc.constantFrom("<" as const, ">=" as const, "==" as const),
        value: fc.integer({ min: 0, max: 5000 }),
      }),
    );
  const leaves = fc.oneof(...leaf);
  return fc.oneof(
    { weight: 3, arbitrary: leaves },
    { weight: 1, arbitrary: fc.record({ k: fc.constantFrom("and" as const, "or" as const), a: leaves, b: leaves }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("not" as const), a: leaves }) },
  );
}

/** The string columns a query over `table` (joined as `join` says) can use. */
function stringColumns(table: Table, join: Join | null): string[] {
  const own = STRING_COLUMNS[table];
  return join && (join.kind === "inner" || join.kind === "innerunique" || join.kind === "leftouter") ? [...own, join.col] : own;
}

const joinArb = (table: Table): Arbitrary<Join | null> => {
  const spec = JOINED[table];
  // innerunique keeps one left row per key: only deterministic where the left side has one row per AlertId.
  const kinds =
    table === "AlertInfo"
      ? (["inner", "innerunique", "leftouter", "leftanti", "leftsemi"] as const)
      : (["inner", "leftouter", "leftanti", "leftsemi"] as const);
  const join = fc.record({
    kind: fc.constantFrom(...kinds),
    filter: fc.constantFrom(...spec.filters).chain((f) => fc.constantFrom(...f.values).map((value) => ({ col: f.col, value }))),
    col: fc.constantFrom(...spec.cols),
  });
  return fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: join });
};

const queryArb: Arbitrary<Query> = fc
  .constantFrom<Table>("AlertInfo", "AlertEvidence")
  .chain((table) => joinArb(table).map((join) => ({ table, join })))
  .chain(({ table, join }) => {
    const strings = stringColumns(table, join);
    const stage: Arbitrary<Stage> = fc.oneof(
      { weight: 4, arbitrary: predicate(table, strings).map((pred) => ({ k: "where" as const, pred })) },
      {
        weight: 1,
        arbitrary: fc.record({
          k: fc.constant("extend" as const),
          name: fc.constant("X"),
          fn: fc.constantFrom<ExtendFn>("strlen", "tolower", "toupper", "strcat", "extract", "format_datetime"),
          col: fc.constantFrom(...strings),
        }),
      },
    );
    const tail: Arbitrary<Stage | null> = fc.oneof(
      fc.constant(null),
      fc.subarray(strings, { minLength: 1 }).map((cols) => ({ k: "project" as const, cols })),
      fc.record({
        k: fc.constant("summarize" as const),
        by: fc.constantFrom(...strings),
        aggs: fc.subarray(["count", "dcount", "countif"] as ("count" | "dcount" | "countif")[], { minLength: 1 }),
        other: fc.constantFrom(...strings),
      }),
      fc.record({
        k: fc.constant("arg" as const),
        fn: fc.constantFrom("arg_max" as const, "arg_min" as const),
        by: fc.constantFrom(...strings),
        value: fc.constantFrom(...DETERMINED[table]),
      }),
      fc.record({ k: fc.constant("distinct" as const), col: fc.constantFrom(...strings) }),
      fc.record({ k: fc.constant("top" as const), n: fc.integer({ min: 0, max: 8 }) }),
    );
    return fc.tuple(fc.array(stage, { maxLength: 3 }), tail).map(([stages, last]) => ({ table, join, stages: last ? [...stages, last] : stages }));
  });

/** Columns that the arg_max/arg_min key determines (one value per key), so that ties do not matter. */
const DETERMINED: Record<Table, string[]> = { AlertInfo: ["Title", "Severity", "Category"], AlertEvidence: ["EntityType", "AccountUpn", "Title"] };

/** A column unique per row of the table, so that top's and arg_max's answers are one set of rows. */
const TOP_KEY: Record<Table, string> = { AlertInfo: "AlertId", AlertEvidence: "AdditionalFields" };

/**
 * The key top sorts by: the table's unique column, and after a join that repeats left rows, that
 * column with the right row's (Ev, which the join brings over), unique again.
 */
function topKey(q: Query): { kql: string; of: (r: Row) => string } {
  const key = TOP_KEY[q.table];
  if (q.join && q.join.kind !== "leftsemi" && q.join.kind !== "leftanti" && q.table === "AlertInfo")
    return { kql: `strcat(${key}, "|", Ev)`, of: (r) => `${String(r[key])}|${String(r.Ev ?? "")}` };
  return { kql: key, of: (r) => String(r[key]) };
}
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

// ── KQL text ──────────────────────────────────────────────────────────────────────────────────────

const lit = (s: string) => JSON.stringify(s);

function predText(p: Pred): string {
  switch (p.k) {
    case "cmp":
      return `${p.col} ${p.op} ${lit(p.value)}`;
    case "list":
      return `${p.col} ${p.op} (${p.values.map(lit).join(", ")})`;
    case "empty":
      return `${p.negated ? "isnotempty" : "isempty"}(${p.col})`;
    case "num":
      return `FileSize ${p.op} ${p.value}`;
    case "regex":
      return `${p.col} matches regex @"${p.pattern}"`;
    case "time":
      return p.form === "diff" ? `(Timestamp - datetime(${T0})) / 1h ${p.op} ${p.hours}` : `Timestamp + ${p.hours}h ${p.op} datetime(${T0}) + 21d`;
    case "and":
    case "or":
      return `(${predText(p.a)}) ${p.k} (${predText(p.b)})`;
    case "not":
      return `not(${predText(p.a)})`;
  }
}

function kql(q: Query): string {
  const parts: string[] = [q.table];
  if (q.join) {
    const j = q.join;
    const kind = j.kind === "innerunique" ? "" : ` kind=${j.kind}`;
    const other = OTHER[q.table];
    const ev = q.table === "AlertInfo" ? ", Ev = AdditionalFields" : "";
    parts.push(`join${kind} (${other} | where ${j.filter.col} == ${lit(j.filter.value)} | project AlertId, ${j.col}${ev}) on AlertId`);
  }
  for (const s of q.stages) {
    switch (s.k) {
      case "where":
        parts.push(`where ${predText(s.pred)}`);
        break;
      case "project":
        parts.push(`project ${s.cols.join(", ")}`);
        break;
      case "extend":
        parts.push(`extend ${s.name} = ${extendText(s.fn, s.col)}`);
        break;
      case "summarize": {
        const aggs = s.aggs.map((a) => (a === "count" ? "N = count()" : a === "dcount" ? `D = dcount(${s.other})` : `C = countif(${s.other} has "exe")`));
        parts.push(`summarize ${aggs.join(", ")} by ${s.by}`);
        break;
      }
      case "distinct":
        parts.push(`distinct ${s.col}`);
        break;
      case "arg":
        parts.push(`summarize ${s.fn}(${TOP_KEY[q.table]}, ${s.value}) by ${s.by}`);
        break;
      case "top":
        parts.push(`top ${s.n} by ${topKey(q).kql} asc`);
        break;
    }
  }
  return parts.join("\n| ");
}

function extendText(fn: ExtendFn, col: string): string {
  switch (fn) {
    case "strcat":
      return `strcat(${col}, "-", Title)`;
    case "extract":
      return String.raw`extract(@"([a-z]+)\.([a-z]+)", 2, ${col})`;
    case "format_datetime":
      return `format_datetime(Timestamp, "yyyy-MM-dd HH:mm")`;
    default:
      return `${fn}(${col})`;
  }
}

// ── in-memory evaluation ─────────────────────────────────────────────────────────────────────────

/** KQL terms: runs of letters, digits and underscores, compared case-insensitively. */
const terms = (s: string) =>
  s
    .toLowerCase()
    .split(/[^a-z0-9_]+/)
    .filter(Boolean);
const has = (s: string, w: string) => (w === "" ? true : terms(s).includes(w.toLowerCase()));

function test(p: Pred, row: Row): boolean {
  switch (p.k) {
    case "cmp": {
      const v = String(row[p.col] ?? "");
      const w = p.value;
      switch (p.op) {
        case "==":
          return v === w;
        case "!=":
          return v !== w;
        case "=~":
          return v.toLowerCase() === w.toLowerCase();
        case "!~":
          return v.toLowerCase() !== w.toLowerCase();
        case "has":
          return has(v, w);
        case "!has":
          return !has(v, w);
        case "has_cs":
          return w === "" || v.split(/[^A-Za-z0-9_]+/).includes(w);
        case "contains":
          return v.toLowerCase().includes(w.toLowerCase());
        case "!contains":
          return !v.toLowerCase().includes(w.toLowerCase());
        case "contains_cs":
          return v.includes(w);
        case "startswith":
          return v.toLowerCase().startsWith(w.toLowerCase());
        case "!startswith":
          return !v.toLowerCase().startsWith(w.toLowerCase());
        case "endswith":
          return v.toLowerCase().endsWith(w.toLowerCase());
        case "!endswith":
          return !v.toLowerCase().endsWith(w.toLowerCase());
      }
      throw new Error(p.op);
    }
    case "list": {
      const v = String(row[p.col] ?? "");
      switch (p.op) {
        case "in":
          return p.values.includes(v);
        case "!in":
          return !p.values.includes(v);
        case "in~":
          return p.values.some((w) => w.toLowerCase() === v.toLowerCase());
        case "has_any":
          return p.values.some((w) => has(v, w));
        case "has_all":
          return p.values.every((w) => has(v, w));
      }
      throw new Error("unknown list operator");
    }
    case "empty":
      return (row[p.col] === null || row[p.col] === "") !== p.negated;
    case "num": {
      const v = row.FileSize as number | null;
      // A comparison with null is null, which where drops.
      if (v === null) return false;
      return p.op === "<" ? v < p.value : p.op === ">=" ? v >= p.value : v === p.value;
    }
    case "regex":
      return RE2JS.compile(p.pattern)
        .matcher(String(row[p.col] ?? ""))
        .find();
    case "time": {
      const at = Date.parse(String(row.Timestamp));
      const v = p.form === "diff" ? (at - Date.parse(T0)) / 3600_000 : at + p.hours * 3600_000;
      const bound = p.form === "diff" ? p.hours : Date.parse(T0) + 21 * 24 * 3600_000;
      return p.op === "<" ? v < bound : v >= bound;
    }
    case "and":
      return test(p.a, row) && test(p.b, row);
    case "or":
      return test(p.a, row) || test(p.b, row);
    case "not":
      return !truthy(p.a, row);
  }
}

/** not() of a comparison with null is null too: only a numeric comparison can be null here. */
function truthy(p: Pred, row: Row): boolean {
  if (p.k === "num" && row.FileSize === null) return true; // not(null) is null, dropped: report "true" so not() is false
  return test(p, row);
}

function joined(q: Query, left: Row[], right: Row[]): Row[] {
  const j = q.join!;
  const others = right
    .filter((r) => r[j.filter.col] === j.filter.value)
    .map((r) => ({ AlertId: r.AlertId, [j.col]: r[j.col], ...(q.table === "AlertInfo" ? { Ev: r.AdditionalFields } : {}) }));
  const matches = (l: Row) => others.filter((o) => o.AlertId === l.AlertId);
  // The right side's columns after the left's; a name taken already gets a 1.
  const rightColumns = ["AlertId", j.col, ...(q.table === "AlertInfo" ? ["Ev"] : [])];
  const pair = (l: Row, o: Row | null) => {
    const out: Row = { ...l };
    // An unmatched row of a left outer join has empty strings on the right.
    for (const k of rightColumns) out[k in l ? `${k}1` : k] = o ? o[k] : "";
    return out;
  };
  switch (j.kind) {
    case "inner":
    case "innerunique":
      return left.flatMap((l) => matches(l).map((o) => pair(l, o)));
    case "leftouter":
      return left.flatMap((l) => {
        const m = matches(l);
        return m.length ? m.map((o) => pair(l, o)) : [pair(l, null)];
      });
    case "leftsemi":
      return left.filter((l) => matches(l).length > 0);
    case "leftanti":
      return left.filter((l) => matches(l).length === 0);
  }
}

function evaluate(q: Query, base: Record<Table, Row[]>): Row[] {
  let rows = base[q.table].map((r) => ({ ...r }));
  if (q.join) rows = joined(q, rows, base[OTHER[q.table]]);
  for (const s of q.stages) {
    switch (s.k) {
      case "where":
        rows = rows.filter((r) => test(s.pred, r));
        break;
      case "project":
        rows = rows.map((r) => Object.fromEntries(s.cols.map((c) => [c, r[c]])));
        break;
      case "extend":
        rows = rows.map((r) => {
          const v = String(r[s.col] ?? "");
          const x = extended(s.fn, v, r);
          const out: Row = { ...r };
          delete out.X;
          return { ...out, X: x };
        });
        break;
      case "summarize": {
        const groups = new Map<string, Row[]>();
        for (const r of rows) {
          const key = String(r[s.by]);
          groups.set(key, [...(groups.get(key) ?? []), r]);
        }
        rows = [...groups.entries()].map(([key, rs]) => {
          const out: Row = { [s.by]: key };
          for (const a of s.aggs) {
            if (a === "count") out.N = rs.length;
            if (a === "dcount") out.D = new Set(rs.map((r) => r[s.other])).size;
            if (a === "countif") out.C = rs.filter((r) => has(String(r[s.other]), "exe")).length;
          }
          return out;
        });
        break;
      }
      case "arg": {
        const key = TOP_KEY[q.table];
        const best = new Map<string, Row>();
        for (const r of rows) {
          const group = String(r[s.by]);
          const had = best.get(group);
          const c = had ? compare(String(r[key]), String(had[key])) : 0;
          if (!had || (s.fn === "arg_max" ? c > 0 : c < 0)) best.set(group, r);
        }
        rows = [...best.entries()].map(([group, r]) => ({ [s.by]: group, [key]: r[key], [s.value === s.by ? `${s.value}1` : s.value]: r[s.value] }));
        break;
      }
      case "distinct":
        rows = [...new Set(rows.map((r) => String(r[s.col])))].map((v) => ({ [s.col]: v }));
        break;
      case "top": {
        const key = topKey(q).of;
        rows = [...rows].sort((a, b) => compare(key(a), key(b))).slice(0, s.n);
        break;
      }
    }
  }
  return rows;
}

function extended(fn: ExtendFn, v: string, r: Row): string | number {
  switch (fn) {
    case "strlen":
      return [...v].length;
    case "tolower":
      return v.toLowerCase();
    case "toupper":
      return v.toUpperCase();
    case "strcat":
      return `${v}-${String(r.Title)}`;
    case "extract":
      return /([a-z]+)\.([a-z]+)/.exec(v)?.[2] ?? "";
    case "format_datetime":
      return String(r.Timestamp).slice(0, 16).replace("T", " ");
  }
}

// ── the property ─────────────────────────────────────────────────────────────────────────────────

let t: TestTriage;
let headers: Record<string, string>;
const base = {} as Record<Table, Row[]>;

async function hunt(query: string): Promise<{ status: number; body: any }> {
  return t.request("POST", "/v1.0/security/runHuntingQuery", { body: { Query: query, Timespan: "P30D" }, headers });
}

beforeAll(async () => {
  t = await startTriage();
  headers = await t.auth(t.tenantId, [...ALL_PERMISSIONS, "ThreatHunting.Read.All"]);
  expect((await t.ingest(dataset())).status).toBe(200);
  for (const table of ["AlertInfo", "AlertEvidence"] as const) {
    const r = await hunt(table);
    expect(r.status).toBe(200);
    base[table] = r.body.results;
  }
  expect(base.AlertInfo!.length).toBe(36);
  expect(base.AlertEvidence!.length).toBeGreaterThan(36);
});
afterAll(async () => {
  await t.close();
});

/** Rows compared as a multiset, unless the query ends with top (then in order). */
function canonical(q: Query, rows: Row[]): string[] {
  const out = rows.map((r) =>
    JSON.stringify(
      Object.keys(r)
        .sort()
        .map((k) => [k, r[k]]),
    ),
  );
  return q.stages.at(-1)?.k === "top" ? out : out.sort();
}

describe("KQL over the store equals an in-memory evaluation", () => {
  it("for random pipelines of joins, where, extend, project, summarize, arg_max/arg_min, distinct and top", async () => {
    let nonEmpty = 0;
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(queryArb, async (q) => {
        const text = kql(q);
        for (const feature of ["join", "arg_max", "arg_min", "matches regex", "extract", "format_datetime", "datetime(", "leftouter", "leftanti"])
          if (text.includes(feature)) seen.add(feature);
        const r = await hunt(text);
        expect(r.status, `${text}\n${JSON.stringify(r.body)}`).toBe(200);
        const expected = evaluate(q, base);
        if (expected.length) nonEmpty++;
        expect(canonical(q, r.body.results), text).toEqual(canonical(q, expected));
      }),
      { seed: FC_SEED, numRuns: RUNS },
    );
    // The generator must not only produce empty answers, and must reach every part of the vocabulary it covers.
    expect(nonEmpty).toBeGreaterThan(RUNS / 3);
    expect([...seen].sort()).toEqual(["arg_max", "arg_min", "datetime(", "extract", "format_datetime", "join", "leftanti", "leftouter", "matches regex"]);
  });
});
