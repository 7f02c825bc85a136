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

function dataset(): Record<string, unknown>[] {
  const r = random(0x4b51);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  return Array.from({ length: 36 }, (_, i) => {
    const at = new Date(Date.now() - Math.floor(r() * 20 * 24) * 3600_000 - i * 1000).toISOString();
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
  | { k: "and" | "or"; a: Pred; b: Pred }
  | { k: "not"; a: Pred };

type Stage =
  | { k: "where"; pred: Pred }
  | { k: "project"; cols: string[] }
  | { k: "extend"; name: string; fn: "strlen" | "tolower" | "toupper" | "strcat"; col: string }
  | { k: "summarize"; by: string; aggs: ("count" | "dcount" | "countif")[]; other: string }
  | { k: "distinct"; col: string }
  | { k: "top"; n: number };

interface Query {
  table: Table;
  stages: Stage[];
}

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

const queryArb: Arbitrary<Query> = fc.constantFrom<Table>("AlertInfo", "AlertEvidence").chain((table) => {
  const strings = STRING_COLUMNS[table];
  const stage: Arbitrary<Stage> = fc.oneof(
    { weight: 4, arbitrary: predicate(table, strings).map((pred) => ({ k: "where" as const, pred })) },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant("extend" as const),
        name: fc.constant("X"),
        fn: fc.constantFrom("strlen" as const, "tolower" as const, "toupper" as const, "strcat" as const),
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
    fc.record({ k: fc.constant("distinct" as const), col: fc.constantFrom(...strings) }),
    fc.record({ k: fc.constant("top" as const), n: fc.integer({ min: 0, max: 8 }) }),
  );
  return fc.tuple(fc.array(stage, { maxLength: 3 }), tail).map(([stages, last]) => ({ table, stages: last ? [...stages, last] : stages }));
});

/** A column unique per row, so that top's answer is one set of rows. */
const TOP_KEY: Record<Table, string> = { AlertInfo: "AlertId", AlertEvidence: "AdditionalFields" };
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
    case "and":
    case "or":
      return `(${predText(p.a)}) ${p.k} (${predText(p.b)})`;
    case "not":
      return `not(${predText(p.a)})`;
  }
}

function kql(q: Query): string {
  const parts: string[] = [q.table];
  for (const s of q.stages) {
    switch (s.k) {
      case "where":
        parts.push(`where ${predText(s.pred)}`);
        break;
      case "project":
        parts.push(`project ${s.cols.join(", ")}`);
        break;
      case "extend":
        parts.push(`extend ${s.name} = ${s.fn === "strcat" ? `strcat(${s.col}, "-", Title)` : `${s.fn}(${s.col})`}`);
        break;
      case "summarize": {
        const aggs = s.aggs.map((a) => (a === "count" ? "N = count()" : a === "dcount" ? `D = dcount(${s.other})` : `C = countif(${s.other} has "exe")`));
        parts.push(`summarize ${aggs.join(", ")} by ${s.by}`);
        break;
      }
      case "distinct":
        parts.push(`distinct ${s.col}`);
        break;
      case "top":
        parts.push(`top ${s.n} by ${TOP_KEY[q.table]} asc`);
        break;
    }
  }
  return parts.join("\n| ");
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

function evaluate(q: Query, base: Row[]): Row[] {
  let rows = base.map((r) => ({ ...r }));
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
          const x = s.fn === "strlen" ? [...v].length : s.fn === "tolower" ? v.toLowerCase() : s.fn === "toupper" ? v.toUpperCase() : `${v}-${String(r.Title)}`;
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
      case "distinct":
        rows = [...new Set(rows.map((r) => String(r[s.col])))].map((v) => ({ [s.col]: v }));
        break;
      case "top":
        rows = [...rows].sort((a, b) => compare(String(a[TOP_KEY[q.table]]), String(b[TOP_KEY[q.table]]))).slice(0, s.n);
        break;
    }
  }
  return rows;
}

// ── the property ─────────────────────────────────────────────────────────────────────────────────

let t: TestTriage;
let headers: Record<string, string>;
const base: Partial<Record<Table, Row[]>> = {};

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
  it("for random pipelines of where, extend, project, summarize, distinct and top", async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(queryArb, async (q) => {
        const text = kql(q);
        const r = await hunt(text);
        expect(r.status, `${text}\n${JSON.stringify(r.body)}`).toBe(200);
        const expected = evaluate(q, base[q.table]!);
        if (expected.length) nonEmpty++;
        expect(canonical(q, r.body.results), text).toEqual(canonical(q, expected));
      }),
      { seed: FC_SEED, numRuns: RUNS },
    );
    // The generator must not only produce empty answers.
    expect(nonEmpty).toBeGreaterThan(RUNS / 3);
  });
});
