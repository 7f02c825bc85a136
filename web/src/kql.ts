/** KQL for the Hunting page's editor: a tokenizer for highlighting, completion candidates, error positions. */

export type TokenKind = "keyword" | "function" | "string" | "number" | "comment" | "operator" | "name" | "table" | "space";

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
}

/** The tabular operators Triage's hunting supports (docs/hunting.md), offered after a pipe. */
export const OPERATORS = [
  "where",
  "filter",
  "project",
  "project-away",
  "project-keep",
  "project-rename",
  "project-reorder",
  "extend",
  "order by",
  "sort by",
  "take",
  "limit",
  "top",
  "count",
  "distinct",
  "summarize",
  "join",
  "union",
  "mv-expand",
  "render",
];

const KEYWORDS = new Set([
  ...OPERATORS.flatMap((o) => o.split(" ")),
  "let",
  "by",
  "on",
  "kind",
  "inner",
  "innerunique",
  "leftouter",
  "leftanti",
  "leftsemi",
  "asc",
  "desc",
  "nulls",
  "first",
  "last",
  "and",
  "or",
  "in",
  "has",
  "has_cs",
  "has_any",
  "has_all",
  "hasprefix",
  "hassuffix",
  "contains",
  "contains_cs",
  "startswith",
  "endswith",
  "between",
  "to",
  "true",
  "false",
  "timechart",
  "columnchart",
  "barchart",
]);

export const FUNCTIONS = [
  "ago",
  "now",
  "datetime",
  "bin",
  "floor",
  "tostring",
  "tolong",
  "toint",
  "todouble",
  "toreal",
  "tobool",
  "round",
  "tolower",
  "toupper",
  "strlen",
  "strcat",
  "substring",
  "iff",
  "iif",
  "case",
  "coalesce",
  "isempty",
  "isnotempty",
  "isnull",
  "isnotnull",
  "parse_json",
  "todynamic",
  "array_length",
  "dynamic",
  "count",
  "countif",
  "dcount",
  "dcountif",
  "min",
  "max",
  "sum",
  "avg",
  "minif",
  "maxif",
  "sumif",
  "avgif",
  "make_set",
  "make_list",
  "make_set_if",
  "make_list_if",
  "take_any",
  "arg_max",
  "arg_min",
  "not",
];
const FUNCTION_SET = new Set(FUNCTIONS);

/** Splits a query into tokens that cover it exactly (their texts joined are the query). */
export function tokenize(text: string, tables: ReadonlySet<string> = new Set()): Token[] {
  const out: Token[] = [];
  const re =
    /(\/\/[^\n]*)|("(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?)|(\d+(?:\.\d+)?(?:d|h|m|s|ms)?\b)|([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z]+)*)|(\s+)|([^\sA-Za-z0-9_"'/]+|\/)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const [t] = m;
    let kind: TokenKind;
    if (m[1]) kind = "comment";
    else if (m[2]) kind = "string";
    else if (m[3]) kind = "number";
    else if (m[4]) {
      const next = text.slice(re.lastIndex).match(/^\s*\(/);
      if (tables.has(t)) kind = "table";
      else if (next && FUNCTION_SET.has(t)) kind = "function";
      else if (KEYWORDS.has(t) || /^project-|^mv-expand$/.test(t)) kind = "keyword";
      else kind = "name";
    } else if (m[5]) kind = "space";
    else kind = "operator";
    out.push({ kind, text: t, start: m.index });
  }
  return out;
}

export interface SchemaTable {
  name: string;
  columns: { name: string; dataType?: string }[];
}

export interface Completion {
  label: string;
  kind: "operator" | "table" | "column" | "function";
  detail?: string;
}

/** The word being typed at `caret` (letters, digits, `_`, `-`) and where it starts. */
export function wordAt(text: string, caret: number): { word: string; start: number } {
  const m = /[A-Za-z_][A-Za-z0-9_-]*$/.exec(text.slice(0, caret));
  return m ? { word: m[0], start: caret - m[0].length } : { word: "", start: caret };
}

/**
 * What may complete the word at the caret: after a pipe, the operators; at the start of the query or
 * of a `let`'s value or `join (`/`union`, the tables; elsewhere the columns and functions.
 */
export function completions(text: string, caret: number, schema: SchemaTable[], max = 8): { start: number; items: Completion[] } {
  const { word, start } = wordAt(text, caret);
  if (!word) return { start, items: [] };
  const before = text.slice(0, start).replace(/\s+$/, "");
  const lower = word.toLowerCase();
  const starts = (s: string) => s.toLowerCase().startsWith(lower) && s !== word;
  let items: Completion[];
  if (before.endsWith("|")) {
    items = OPERATORS.filter(starts).map((label) => ({ label, kind: "operator" as const }));
  } else if (before === "" || /(=|\(|;|\bunion|,)$/.test(before)) {
    const tables = schema.filter((t) => starts(t.name)).map((t) => ({ label: t.name, kind: "table" as const }));
    const rest = /(=|\(|,)$/.test(before) ? columnsAndFunctions(schema, starts) : [];
    items = [...tables, ...rest];
  } else {
    items = columnsAndFunctions(schema, starts);
  }
  return { start, items: items.slice(0, max) };
}

function columnsAndFunctions(schema: SchemaTable[], starts: (s: string) => boolean): Completion[] {
  const seen = new Set<string>();
  const out: Completion[] = [];
  for (const t of schema)
    for (const c of t.columns)
      if (!seen.has(c.name) && starts(c.name)) {
        seen.add(c.name);
        out.push({ label: c.name, kind: "column", detail: c.dataType });
      }
  for (const f of FUNCTIONS) if (!seen.has(f) && starts(f)) out.push({ label: `${f}(`, kind: "function" });
  return out;
}

/** The `[line:position=L:P]` a Kusto error names, as an offset into the query (both 1-based in the message). */
export function errorPosition(message: string, text: string): { line: number; column: number; offset: number } | null {
  const m = /\[line:position=(\d+):(\d+)\]/.exec(message);
  if (!m) return null;
  const line = Number(m[1]);
  const column = Number(m[2]);
  const lines = text.split("\n");
  if (line < 1 || line > lines.length) return null;
  let offset = 0;
  for (let i = 0; i < line - 1; i++) offset += lines[i]!.length + 1;
  return { line, column, offset: Math.min(text.length, offset + Math.max(0, column - 1)) };
}

/** The chart a query asks for with `render`, if any. */
export function renderKind(text: string): "timechart" | "columnchart" | "barchart" | null {
  const m = /\|\s*render\s+(timechart|columnchart|barchart)\b[^|]*$/.exec(text.replace(/\/\/[^\n]*/g, "").trimEnd());
  return m ? (m[1] as "timechart" | "columnchart" | "barchart") : null;
}
