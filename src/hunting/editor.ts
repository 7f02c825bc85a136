import { kusto } from "./kusto.js";
import { MAX_EDITOR_QUERY } from "../schema/limits.js";
import type { KqlCompletionItem, KqlDiagnosticView, KqlEditorAnalysis, KqlToken, KqlTokenKind } from "../schema/triage-api.js";

/**
 * The Hunting page's editor support: what Microsoft's Kusto language service (the same instance and
 * hunting tables that check a query before it runs) says of a query as it is typed — the class of each
 * span for highlighting, its diagnostics, and the completions at the caret.
 */

/** Completions answered at most (after filtering by the word being typed). */
export const MAX_COMPLETIONS = 60;
/** Diagnostics answered at most. */
export const MAX_DIAGNOSTICS = 50;
export { MAX_EDITOR_QUERY };

/** Kusto.Language.Editor.ClassificationKind member → the editor's token kind. */
const TOKEN_KINDS: Record<string, KqlTokenKind> = {
  PlainText: "plain",
  Comment: "comment",
  Punctuation: "punctuation",
  Directive: "directive",
  Literal: "literal",
  StringLiteral: "string",
  Type: "type",
  Column: "column",
  Table: "table",
  Database: "database",
  Function: "function",
  Parameter: "parameter",
  Variable: "variable",
  Identifier: "identifier",
  ClientParameter: "parameter",
  QueryParameter: "parameter",
  ScalarOperator: "operator",
  MathOperator: "operator",
  QueryOperator: "queryOperator",
  Command: "keyword",
  Keyword: "keyword",
  MaterializedView: "table",
  SchemaMember: "column",
  SignatureParameter: "parameter",
  Option: "keyword",
};

/** Kusto.Language.Editor.CompletionKind member → the editor's completion kind. */
const COMPLETION_KINDS: Record<string, KqlCompletionItem["kind"]> = {
  Keyword: "keyword",
  QueryPrefix: "operator",
  TabularPrefix: "operator",
  TabularSuffix: "operator",
  CommandPrefix: "operator",
  ScalarPrefix: "keyword",
  ScalarInfix: "keyword",
  RenderChart: "chart",
  Column: "column",
  Table: "table",
  MaterialiedView: "table",
  BuiltInFunction: "function",
  LocalFunction: "function",
  DatabaseFunction: "function",
  AggregateFunction: "aggregate",
  Parameter: "parameter",
  Variable: "variable",
  Punctuation: "syntax",
  Syntax: "syntax",
  ScalarType: "keyword",
};

/** The names of a Bridge.NET enum's members by value. */
function enumNames(e: Record<string, unknown>): Map<number, string> {
  const out = new Map<number, string>();
  for (const [name, value] of Object.entries(e)) if (typeof value === "number" && !out.has(value)) out.set(value, name);
  return out;
}

let names: { classification: Map<number, string>; completion: Map<number, string>; severity: Map<string, KqlDiagnosticView["severity"]> } | undefined;

function kinds() {
  if (names) return names;
  const editor = kusto().language.Editor;
  names = {
    classification: enumNames(editor.ClassificationKind),
    completion: enumNames(editor.CompletionKind),
    severity: new Map([
      ["Error", "error"],
      ["Warning", "warning"],
      ["Suggestion", "suggestion"],
      ["Information", "information"],
    ]),
  };
  return names;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function list<T>(items: any, map: (item: any) => T | undefined, max = Infinity): T[] {
  const out: T[] = [];
  if (!items) return out;
  for (let i = 0; i < items.Count && out.length < max; i++) {
    const v = map(items.getItem(i));
    if (v !== undefined) out.push(v);
  }
  return out;
}

/**
 * Classifies, checks and (with a caret) completes a query. The completions are those whose text
 * starts with what is typed between the edit range's start and the caret (any case), in the
 * language service's order, without those that are only signs.
 */
export function analyzeForEditor(text: string, caret?: number): KqlEditorAnalysis {
  const k = kusto();
  const { classification, completion, severity } = kinds();
  const service = new k.language.Editor.KustoCodeService.$ctor1(text, k.globals);
  const classified = service.GetClassifications(0, text.length, false, true);
  const tokens = list<KqlToken>(classified?.Classifications, (r) =>
    r.Length > 0 ? { start: r.Start, length: r.Length, kind: TOKEN_KINDS[classification.get(r.Kind) ?? ""] ?? "plain" } : undefined,
  );
  const diagnostics = list<KqlDiagnosticView>(
    service.GetDiagnostics(true),
    (d) => ({
      start: d.Start,
      length: d.Length,
      severity: severity.get(String(d.Severity)) ?? "error",
      code: String(d.Code),
      message: String(d.Message),
    }),
    MAX_DIAGNOSTICS,
  );
  const out: KqlEditorAnalysis = { tokens, diagnostics };
  if (caret !== undefined) {
    // Punctuation and operator signs alone (`,`, `+`, `[`…) are no help in a list: they are typed faster than chosen.
    const options = k.language.Editor.CompletionOptions.Default.WithAutoAppendWhitespace(false).WithIncludePunctuationOnlySyntax(false);
    const info = service.GetCompletionItems(caret, options);
    const start: number = info?.EditStart ?? caret;
    const typed = text.slice(start, Math.max(start, caret)).toLowerCase();
    let matched = 0;
    const items = list<KqlCompletionItem>(info?.Items, (item) => {
      const match = String(item.MatchText ?? item.DisplayText ?? "");
      if (!match.toLowerCase().startsWith(typed) || !/[A-Za-z]/.test(match)) return undefined;
      if (++matched > MAX_COMPLETIONS) return undefined;
      return {
        label: String(item.DisplayText ?? match),
        kind: COMPLETION_KINDS[completion.get(item.Kind) ?? ""] ?? "other",
        before: String(item.BeforeText ?? match),
        after: String(item.AfterText ?? ""),
      };
    });
    out.completion = { start, length: info?.EditLength ?? 0, items, incomplete: matched > MAX_COMPLETIONS };
  }
  return out;
}
